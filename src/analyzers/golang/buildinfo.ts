import { parseElf } from '../common/elf.js';

/**
 * Go module build information embedded in binaries (`go version -m`), from the `.go.buildinfo`
 * section: Go ≥ 1.18 stores the version and module strings inline (flag 2); older versions store
 * pointers to Go string headers. https://github.com/golang/go/blob/master/src/debug/buildinfo/buildinfo.go
 */
export interface GoBuildInfo {
  readonly goVersion: string;
  readonly path?: string;
  readonly main?: { readonly path: string; readonly version: string };
  readonly deps: readonly { readonly path: string; readonly version: string }[];
}

const MAGIC = Buffer.from('\xff Go buildinf:', 'latin1');

function uvarint(data: Buffer, at: number): [number, number] {
  let value = 0;
  let shift = 0;
  for (let i = at; i < data.length && i < at + 10; i++) {
    value += (data[i]! & 0x7f) * 2 ** shift;
    if (!(data[i]! & 0x80)) return [value, i + 1];
    shift += 7;
  }
  return [-1, at];
}

/** Parses `go version -m` text: path, mod, dep and => (replacement) lines. */
export function parseModinfo(goVersion: string, modinfo: string): GoBuildInfo {
  let path: string | undefined;
  let main: { path: string; version: string } | undefined;
  const deps: { path: string; version: string }[] = [];
  for (const line of modinfo.split('\n')) {
    const f = line.split('\t');
    if (f[0] === 'path' && f[1]) path = f[1];
    else if (f[0] === 'mod' && f[1]) main = { path: f[1], version: f[2] === '(devel)' ? '' : (f[2] ?? '') };
    else if (f[0] === 'dep' && f[1]) deps.push({ path: f[1], version: f[2] ?? '' });
    else if (f[0] === '=>' && f[1] && deps.length) deps[deps.length - 1] = { path: f[1], version: f[2] ?? '' };
  }
  return { goVersion, ...(path ? { path } : {}), ...(main ? { main } : {}), deps };
}

/** Strips the 16-byte sentinels that wrap modinfo in binaries. */
function unwrapModinfo(raw: string): string {
  return raw.length >= 33 && raw.charCodeAt(raw.length - 17) === 10 ? raw.slice(16, -16) : raw;
}

export function readGoBuildInfo(data: Buffer): GoBuildInfo | undefined {
  const elf = parseElf(data);
  if (!elf) return undefined;
  const section = elf.section('.go.buildinfo');
  // Go's linker always writes the section (since Go 1.13, the first with build info): a binary
  // with section headers but without it is not Go. Only one without section headers is searched.
  if (!section && elf.sectionCount) return undefined;
  let at = section ? section.offset : data.indexOf(MAGIC);
  if (at < 0 || at + 32 > data.length || !data.subarray(at, at + 14).equals(MAGIC)) return undefined;
  const ptrSize = data[at + 14]!;
  const flags = data[at + 15]!;
  if (flags & 2) {
    // Inline strings: two varint-prefixed strings after the 32-byte header.
    let next = at + 32;
    const strings: string[] = [];
    for (let i = 0; i < 2; i++) {
      const [length, start] = uvarint(data, next);
      if (length < 0 || start + length > data.length) return undefined;
      strings.push(data.toString('utf8', start, start + length));
      next = start + length;
    }
    return parseModinfo(strings[0]!, unwrapModinfo(strings[1]!));
  }
  if (ptrSize !== 4 && ptrSize !== 8) return undefined;
  // Pointers to Go string headers {data pointer, length}, resolved through the loaded segments.
  const readString = (pointerAt: number): string | undefined => {
    const header = elf.offsetOf(elf.readUint(pointerAt, ptrSize));
    if (header === undefined) return undefined;
    const dataAt = elf.offsetOf(elf.readUint(header, ptrSize));
    const length = elf.readUint(header + ptrSize, ptrSize);
    if (dataAt === undefined || length > 1 << 24 || dataAt + length > data.length) return undefined;
    return data.toString('utf8', dataAt, dataAt + length);
  };
  at += 16;
  const version = readString(at);
  const modinfo = readString(at + ptrSize);
  return version ? parseModinfo(version, unwrapModinfo(modinfo ?? '')) : undefined;
}
