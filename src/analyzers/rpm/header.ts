/**
 * RPM header blobs as stored in every rpmdb backend: index count and data length (big-endian),
 * 16-byte index entries (tag, type, offset, count), then the data store.
 * https://rpm-software-management.github.io/rpm/manual/format_v4.html
 */
export interface RpmHeader {
  readonly name: string;
  readonly version: string;
  readonly release: string;
  readonly epoch?: number;
  readonly arch?: string;
  readonly sourceRpm?: string;
  readonly license?: string;
  readonly vendor?: string;
  readonly files: readonly string[];
}

const TAG = {
  NAME: 1000,
  VERSION: 1001,
  RELEASE: 1002,
  EPOCH: 1003,
  LICENSE: 1014,
  VENDOR: 1011,
  ARCH: 1022,
  SOURCERPM: 1044,
  DIRINDEXES: 1116,
  BASENAMES: 1117,
  DIRNAMES: 1118,
} as const;
const TYPE = { INT32: 4, STRING: 6, STRING_ARRAY: 8, I18NSTRING: 9 } as const;
/** Bounds that no real header reaches; a blob claiming more is corrupt. */
const MAX_INDEX_ENTRIES = 0xffff;
/** A package's file paths, in all (the largest real packages list a few MB). */
const MAX_FILE_LIST_BYTES = 64 * 1024 * 1024;

export class RpmHeaderError extends Error {}

export function parseRpmHeader(blob: Uint8Array): RpmHeader {
  const view = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  if (view.length < 8) throw new RpmHeaderError('header too short');
  const il = view.readUInt32BE(0);
  const dl = view.readUInt32BE(4);
  const dataStart = 8 + il * 16;
  if (il === 0 || il > MAX_INDEX_ENTRIES || dataStart + dl > view.length)
    throw new RpmHeaderError(`bad header sizes (${il} entries, ${dl} bytes)`);
  const entries = new Map<number, { type: number; offset: number; count: number }>();
  for (let i = 0; i < il; i++) {
    const at = 8 + i * 16;
    entries.set(view.readUInt32BE(at), {
      type: view.readUInt32BE(at + 4),
      offset: view.readUInt32BE(at + 8),
      count: view.readUInt32BE(at + 12),
    });
  }
  const strings = (tag: number): string[] => {
    const e = entries.get(tag);
    if (!e || (e.type !== TYPE.STRING && e.type !== TYPE.STRING_ARRAY && e.type !== TYPE.I18NSTRING)) return [];
    const out: string[] = [];
    let at = dataStart + e.offset;
    const count = e.type === TYPE.STRING ? 1 : e.count;
    for (let i = 0; i < count && at < dataStart + dl; i++) {
      const end = view.indexOf(0, at);
      if (end < 0 || end > dataStart + dl) throw new RpmHeaderError(`unterminated string in tag ${tag}`);
      out.push(view.toString('utf8', at, end));
      at = end + 1;
    }
    return out;
  };
  const ints = (tag: number): number[] => {
    const e = entries.get(tag);
    if (!e || e.type !== TYPE.INT32) return [];
    const out: number[] = [];
    for (let i = 0; i < e.count; i++) {
      const at = dataStart + e.offset + i * 4;
      if (at + 4 > dataStart + dl) throw new RpmHeaderError(`int32 array out of bounds in tag ${tag}`);
      out.push(view.readUInt32BE(at));
    }
    return out;
  };
  const name = strings(TAG.NAME)[0];
  const version = strings(TAG.VERSION)[0];
  const release = strings(TAG.RELEASE)[0];
  if (!name || version === undefined || release === undefined)
    throw new RpmHeaderError('header without name, version or release');
  const dirs = strings(TAG.DIRNAMES);
  const bases = strings(TAG.BASENAMES);
  const indexes = ints(TAG.DIRINDEXES);
  // Directory names are shared by index: a long one named by many base names multiplies.
  let listed = 0;
  const files = bases.map((base, i) => {
    const path = `${dirs[indexes[i] ?? 0] ?? ''}${base}`;
    listed += path.length;
    if (listed > MAX_FILE_LIST_BYTES) throw new RpmHeaderError('file list larger than any package has');
    return path;
  });
  const epoch = ints(TAG.EPOCH)[0];
  const arch = strings(TAG.ARCH)[0];
  const sourceRpm = strings(TAG.SOURCERPM)[0];
  const license = strings(TAG.LICENSE)[0];
  const vendor = strings(TAG.VENDOR)[0];
  return {
    name,
    version,
    release,
    ...(epoch !== undefined ? { epoch } : {}),
    ...(arch ? { arch } : {}),
    ...(sourceRpm ? { sourceRpm } : {}),
    ...(license ? { license } : {}),
    ...(vendor ? { vendor } : {}),
    files,
  };
}
