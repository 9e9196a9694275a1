import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { crc32, inflateRawSync } from 'node:zlib';

/**
 * A zip reader (https://pkware.cachefly.net/webdocs/casestudies/APPNOTE.TXT) over random access:
 * a buffer (a jar found in a layer) or a file (an OSV export of several hundred MB, read member
 * by member so memory stays at one member). Reads the central directory (zip64 included), then
 * each member's local header and data, stored or deflated, with its CRC-32 checked. Hostile
 * archives are bounded: member count and inflated bytes are capped.
 */
export interface ZipMember {
  readonly name: string;
  readonly size: number;
  /** The member's bytes; undefined when over the limit, not stored/deflated, or corrupt. */
  read(): Buffer | undefined;
}

/** Positional reads from what holds the archive. */
interface RandomAccess {
  readonly size: number;
  read(position: number, length: number): Buffer;
}

const EOCD = 0x06054b50;
const EOCD64 = 0x06064b50;
const EOCD64_LOCATOR = 0x07064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const ZIP64_EXTRA = 0x0001;
/** Members inflated beyond this are skipped (nested jars and OSV records are far smaller). */
export const MAX_MEMBER_BYTES = 64 * 1024 * 1024;
export const MAX_MEMBERS = 2_000_000;

const bufferAccess = (data: Buffer): RandomAccess => ({
  size: data.length,
  read: (at, length) => data.subarray(at, at + length),
});

/** Sizes and offset from a zip64 extra field, for the fields the central record left at 0xffffffff. */
function zip64(extra: Buffer, fields: { size: number; compressed: number; local: number }): typeof fields {
  for (let at = 0; at + 4 <= extra.length; at += 4 + extra.readUInt16LE(at + 2)) {
    if (extra.readUInt16LE(at) !== ZIP64_EXTRA) continue;
    let p = at + 4;
    const next = (): number => {
      const value = Number(extra.readBigUInt64LE(p));
      p += 8;
      return value;
    };
    return {
      size: fields.size === 0xffffffff ? next() : fields.size,
      compressed: fields.compressed === 0xffffffff ? next() : fields.compressed,
      local: fields.local === 0xffffffff ? next() : fields.local,
    };
  }
  return fields;
}

function members(access: RandomAccess, verify: boolean): ZipMember[] | undefined {
  if (access.size < 22 || access.read(0, 4).readUInt32LE(0) !== LOCAL) return undefined;
  const tailLength = Math.min(access.size, 22 + 0xffff + 20);
  const tail = access.read(access.size - tailLength, tailLength);
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) return undefined;
  let count = tail.readUInt16LE(eocd + 10);
  let directory = tail.readUInt32LE(eocd + 16);
  let directorySize = tail.readUInt32LE(eocd + 12);
  if (eocd >= 20 && tail.readUInt32LE(eocd - 20) === EOCD64_LOCATOR) {
    const at = Number(tail.readBigUInt64LE(eocd - 20 + 8));
    const record = access.read(at, 56);
    if (record.length === 56 && record.readUInt32LE(0) === EOCD64) {
      count = Number(record.readBigUInt64LE(32));
      directorySize = Number(record.readBigUInt64LE(40));
      directory = Number(record.readBigUInt64LE(48));
    }
  }
  if (count > MAX_MEMBERS || directory + directorySize > access.size) return undefined;
  const central = access.read(directory, directorySize);
  const out: ZipMember[] = [];
  /** Where each member's local header and data lie: members that overlap are refused below. */
  const spans: [number, number][] = [];
  let at = 0;
  for (let i = 0; i < count && at + 46 <= central.length && central.readUInt32LE(at) === CENTRAL; i++) {
    const method = central.readUInt16LE(at + 10);
    const crc = central.readUInt32LE(at + 16);
    const nameLength = central.readUInt16LE(at + 28);
    const extraLength = central.readUInt16LE(at + 30);
    const commentLength = central.readUInt16LE(at + 32);
    const name = central.toString('utf8', at + 46, at + 46 + nameLength);
    const { size, compressed, local } = zip64(
      central.subarray(at + 46 + nameLength, at + 46 + nameLength + extraLength),
      {
        compressed: central.readUInt32LE(at + 20),
        size: central.readUInt32LE(at + 24),
        local: central.readUInt32LE(at + 42),
      },
    );
    at += 46 + nameLength + extraLength + commentLength;
    spans.push([local, local + 30 + compressed]);
    out.push({
      name,
      size,
      read: () => {
        if (size > MAX_MEMBER_BYTES || local + 30 > access.size) return undefined;
        const header = access.read(local, 30);
        if (header.readUInt32LE(0) !== LOCAL) return undefined;
        const raw = access.read(local + 30 + header.readUInt16LE(26) + header.readUInt16LE(28), compressed);
        let data: Buffer;
        try {
          if (method === 0) data = raw;
          else if (method === 8) data = inflateRawSync(raw, { maxOutputLength: MAX_MEMBER_BYTES });
          else return undefined;
        } catch {
          return undefined;
        }
        return data.length !== size || (verify && crc32(data) !== crc) ? undefined : data;
      },
    });
  }
  // Members whose data overlap (many entries naming the same deflated bytes) multiply what one
  // archive inflates to; no zip writer produces them.
  spans.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) if (spans[i]![0] < spans[i - 1]![1]) return undefined;
  return out;
}

/** The members of a zip held in memory; undefined when it is not a zip. */
export const readZip = (data: Buffer, verify = false): ZipMember[] | undefined => members(bufferAccess(data), verify);

/**
 * Opens a zip file and passes its members (CRCs checked) to `use`; the file is closed afterwards.
 * Undefined when the file is not a zip.
 */
export function withZipFile<T>(path: string, use: (members: ZipMember[]) => T): T | undefined {
  const fd = openSync(path, 'r');
  try {
    const access: RandomAccess = {
      size: fstatSync(fd).size,
      read: (position, length) => {
        const buffer = Buffer.allocUnsafe(length);
        const got = readSync(fd, buffer, 0, length, position);
        return buffer.subarray(0, got);
      },
    };
    const list = members(access, true);
    return list ? use(list) : undefined;
  } finally {
    closeSync(fd);
  }
}
