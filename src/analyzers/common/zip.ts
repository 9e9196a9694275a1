import { inflateRawSync } from 'node:zlib';

/**
 * A zip reader for jar/war/ear archives held in memory: the central directory, then each member's
 * local header and data (stored or deflated). Hostile archives are bounded: member sizes, member
 * counts and inflated bytes are capped. https://pkware.cachefly.net/webdocs/casestudies/APPNOTE.TXT
 */
export interface ZipMember {
  readonly name: string;
  readonly size: number;
  read(): Buffer | undefined;
}

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
/** Members inflated beyond this are skipped (nested jars are rarely over 64 MB). */
export const MAX_MEMBER_BYTES = 64 * 1024 * 1024;
const MAX_MEMBERS = 200_000;

export function readZip(data: Buffer): ZipMember[] | undefined {
  if (data.length < 22 || data.readUInt32LE(0) !== LOCAL) return undefined;
  let eocd = -1;
  for (let i = data.length - 22; i >= Math.max(0, data.length - 22 - 0xffff); i--) {
    if (data.readUInt32LE(i) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) return undefined;
  const count = Math.min(data.readUInt16LE(eocd + 10), MAX_MEMBERS);
  let at = data.readUInt32LE(eocd + 16);
  const members: ZipMember[] = [];
  for (let i = 0; i < count && at + 46 <= data.length && data.readUInt32LE(at) === CENTRAL; i++) {
    const method = data.readUInt16LE(at + 10);
    const compressed = data.readUInt32LE(at + 20);
    const size = data.readUInt32LE(at + 24);
    const nameLength = data.readUInt16LE(at + 28);
    const extraLength = data.readUInt16LE(at + 30);
    const commentLength = data.readUInt16LE(at + 32);
    const local = data.readUInt32LE(at + 42);
    const name = data.toString('utf8', at + 46, at + 46 + nameLength);
    at += 46 + nameLength + extraLength + commentLength;
    members.push({
      name,
      size,
      read: () => {
        if (size > MAX_MEMBER_BYTES || local + 30 > data.length || data.readUInt32LE(local) !== LOCAL) return undefined;
        const start = local + 30 + data.readUInt16LE(local + 26) + data.readUInt16LE(local + 28);
        const raw = data.subarray(start, start + compressed);
        if (method === 0) return raw;
        if (method !== 8) return undefined;
        try {
          return inflateRawSync(raw, { maxOutputLength: MAX_MEMBER_BYTES });
        } catch {
          return undefined;
        }
      },
    });
  }
  return members;
}
