import type { ByteReader } from './bytes.js';
import { errors, fail } from '../core/errors.js';

/**
 * A streaming tar reader: ustar, POSIX pax (long names, xattrs, large sizes) and GNU long
 * name/link headers, base-256 numbers. It calls `visit` once per entry; the body of an entry can
 * be read during that call, and is skipped (seeked past, for files) otherwise. A callback rather
 * than an async generator: when headers are already buffered the loop runs without a single
 * await, which is most of the cost of walking 40,000 small entries.
 * Format: https://pubs.opengroup.org/onlinepubs/9699919799/utilities/pax.html#tag_20_92_13_06
 */
export type TarEntryType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo' | 'other';

export interface TarEntry {
  readonly name: string;
  readonly type: TarEntryType;
  readonly size: number;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly linkname: string;
  /** Extended attributes from `SCHILY.xattr.*` pax records, e.g. `security.capability`. */
  readonly xattrs?: Readonly<Record<string, string>>;
  /** Offset of the entry's body relative to the reader's start. */
  readonly offset: number;
  /** Reads the body (at most `maxBytes`, default all); only during the visit of this entry. */
  read(maxBytes?: number): Promise<Buffer>;
}

export interface TarOptions {
  /** Name used in error messages, e.g. "layer sha256:…". */
  readonly what: string;
  /** Refuses archives with more entries than this (an "absurd" archive). */
  readonly maxEntries?: number;
}

/** 10 million entries: a full Debian install has ~100k; more is an attack on memory. */
export const DEFAULT_MAX_TAR_ENTRIES = 10_000_000;
/** pax and GNU long-name headers larger than this are refused (real ones are < 1 KiB). */
const MAX_META_BYTES = 1024 * 1024;
const BLOCK = 512;
/** Bytes walked between two turns of the event loop. */
const YIELD_EVERY = 256 * 1024;

const TYPES: Record<string, TarEntryType> = {
  '0': 'file', '\0': 'file', '7': 'file', '1': 'hardlink', '2': 'symlink', '3': 'char', '4': 'block', '5': 'dir', '6': 'fifo',
};

function text(block: Buffer, start: number, length: number): string {
  const end = block.indexOf(0, start);
  return block.toString('utf8', start, end < 0 || end > start + length ? start + length : end);
}

function number(block: Buffer, start: number, length: number): number {
  if (block[start]! & 0x80) {
    // GNU base-256: big-endian two's complement in the remaining bytes.
    let value = 0;
    for (let i = start + 1; i < start + length; i++) value = value * 256 + block[i]!;
    return value;
  }
  // Octal digits, space or NUL padded on either side; parsed from bytes (hot: 5 fields × every entry).
  let value = 0;
  let i = start;
  const end = start + length;
  while (i < end && (block[i] === 0x20 || block[i] === 0x30)) i++;
  for (; i < end; i++) {
    const digit = block[i]! - 0x30;
    if (digit < 0 || digit > 7) break;
    value = value * 8 + digit;
  }
  return value;
}

/**
 * The header checksum: every byte summed, the checksum field itself counted as eight spaces.
 * Four bytes at a time, in two 16-bit lanes (128 words × 2 × 255 cannot overflow a lane).
 */
function checksumOk(block: Buffer): boolean {
  const words = new DataView(block.buffer, block.byteOffset, BLOCK);
  let lanes = 0;
  for (let i = 0; i < BLOCK; i += 4) {
    const word = words.getUint32(i, true);
    lanes += (word & 0x00ff00ff) + ((word >>> 8) & 0x00ff00ff);
  }
  let sum = (lanes & 0xffff) + (lanes >>> 16) + 8 * 0x20;
  for (let i = 148; i < 156; i++) sum -= block[i]!;
  return sum === number(block, 148, 8);
}

/** The pax keys read below; others (atime, ctime and mtime on every entry from GNU tar) are not decoded. */
const PAX_KEYS = new Set(['path', 'linkpath', 'size', 'uid', 'gid']);
const XATTR = 'SCHILY.xattr.';
const PAX_FIRST_BYTES = new Set([...PAX_KEYS, XATTR].map((key) => key.charCodeAt(0)));

/** No pax records: shared, never written. */
const NO_RECORDS: ReadonlyMap<string, string> = new Map();

function parsePax(data: Buffer, what: string): ReadonlyMap<string, string> {
  // Records are "<length> <key>=<value>\n", the length in decimal counting the whole record.
  let records: Map<string, string> | undefined;
  let at = 0;
  while (at < data.length) {
    let length = 0;
    let i = at;
    for (; i < data.length && data[i]! >= 0x30 && data[i]! <= 0x39 && i - at < 8; i++) length = length * 10 + data[i]! - 0x30;
    const end = at + length;
    if (i === at || data[i] !== 0x20 || end > data.length || end <= i + 1) throw errors.notArchive(what, 'malformed pax header');
    if (PAX_FIRST_BYTES.has(data[i + 1]!)) {
      const eq = data.indexOf(0x3d, i + 1);
      const key = eq > i + 1 && eq < end ? data.toString('latin1', i + 1, eq) : '';
      if (PAX_KEYS.has(key) || key.startsWith(XATTR)) (records ??= new Map()).set(key, data.toString('utf8', eq + 1, end - 1));
    }
    at = end;
  }
  return records ?? NO_RECORDS;
}

function isZero(block: Buffer): boolean {
  for (let i = 0; i < block.length; i++) if (block[i] !== 0) return false;
  return true;
}

/** Walks the entries of a tar archive and returns their count. The reader is not closed. */
export async function walkTar(reader: ByteReader, options: TarOptions, visit: (entry: TarEntry) => void | Promise<void>): Promise<number> {
  const { what } = options;
  const maxEntries = options.maxEntries ?? DEFAULT_MAX_TAR_ENTRIES;
  let pax = NO_RECORDS;
  let globalPax = NO_RECORDS;
  let longName: string | undefined;
  let longLink: string | undefined;
  let count = 0;

  /** A pax or long-name header's data; without a promise when it is already buffered (the usual case). */
  const readMeta = (size: number): Buffer | Promise<Buffer> => {
    if (size > MAX_META_BYTES) throw errors.notArchive(what, `extended header of ${size} bytes`);
    const buffered = reader.tryRead(size + ((BLOCK - (size % BLOCK)) % BLOCK));
    return buffered ? buffered.subarray(0, size) : readMetaAsync(size);
  };
  const readMetaAsync = async (size: number): Promise<Buffer> => {
    const data = await reader.read(size);
    if (data.length < size) throw errors.notArchive(what, 'unexpected end of archive');
    const padding = (BLOCK - (size % BLOCK)) % BLOCK;
    if (!reader.trySkip(padding)) await reader.skip(padding);
    return data;
  };

  let yieldAt = reader.position + YIELD_EVERY;
  for (;;) {
    if (reader.position >= yieldAt) {
      // Let the event loop run now and then: zlib on the thread pool waits for its completion
      // callback on this thread before it starts on the next chunk.
      yieldAt = reader.position + YIELD_EVERY;
      await new Promise(setImmediate);
    }
    const block = reader.tryRead(BLOCK) ?? (await reader.read(BLOCK));
    if (block.length === 0 && count === 0) throw errors.notArchive(what, 'empty file');
    if (block.length < BLOCK) {
      if (block.length === 0 || isZero(block)) return count; // end without the customary zero blocks
      throw errors.notArchive(what, 'unexpected end of archive');
    }
    if (isZero(block)) return count;
    if (!checksumOk(block)) throw errors.notArchive(what, count === 0 ? 'no tar header' : 'bad header checksum');

    const flag = String.fromCharCode(block[156]!);
    const headerSize = number(block, 124, 12);
    if (flag === 'x' || flag === 'g') {
      const meta = readMeta(headerSize);
      const records = parsePax(meta instanceof Promise ? await meta : meta, what);
      if (flag === 'x') pax = records;
      else globalPax = new Map([...globalPax, ...records]);
      continue;
    }
    if (flag === 'L' || flag === 'K') {
      const value = (await readMeta(headerSize)).toString('utf8').replace(/\0+$/, '');
      if (flag === 'L') longName = value;
      else longLink = value;
      continue;
    }

    if (++count > maxEntries) {
      throw fail('E_ARCHIVE_INVALID', `${what}: more than ${maxEntries} entries`, 'this is not a real image layer');
    }
    const merged = globalPax.size ? new Map([...globalPax, ...pax]) : pax;
    // POSIX ustar ("ustar\0") has a name prefix field; old GNU ("ustar ") uses those bytes otherwise.
    const posix = block[257] === 0x75 && block[262] === 0 && block[258] === 0x73 && block[259] === 0x74;
    const prefix = posix && block[345] !== 0 ? text(block, 345, 155) : '';
    const headerName = prefix ? `${prefix}/${text(block, 0, 100)}` : text(block, 0, 100);
    const name = merged.get('path') ?? longName ?? headerName;
    const linkname = merged.get('linkpath') ?? longLink ?? text(block, 157, 100);
    const paxSize = merged.get('size');
    const size = paxSize !== undefined ? Number(paxSize) : headerSize;
    if (!Number.isSafeInteger(size) || size < 0) throw errors.notArchive(what, `invalid size for ${name}`);
    let xattrs: Record<string, string> | undefined;
    if (merged.size) {
      for (const [key, value] of merged) {
        if (key.startsWith(XATTR)) (xattrs ??= {})[key.slice(XATTR.length)] = value;
      }
    }
    const type = TYPES[flag] ?? 'other';
    // Only regular files carry a body that matters; links, dirs and devices normally have size 0
    // but the body must be skipped whatever it is.
    const bodySize = type === 'hardlink' || type === 'symlink' || type === 'dir' ? (flag === '5' ? 0 : size) : size;
    const offset = reader.position;
    let consumed = 0;
    let valid = true;
    const entry: TarEntry = {
      name,
      type,
      size: type === 'file' ? size : 0,
      mode: number(block, 100, 8) & 0o7777,
      uid: merged.has('uid') ? Number(merged.get('uid')) : number(block, 108, 8),
      gid: merged.has('gid') ? Number(merged.get('gid')) : number(block, 116, 8),
      linkname,
      ...(xattrs ? { xattrs } : {}),
      offset,
      read: async (maxBytes = bodySize) => {
        if (!valid) throw fail('E_INTERNAL', `${what}: body of ${name} read after moving on`);
        if (consumed > 0) throw fail('E_INTERNAL', `${what}: body of ${name} read twice`);
        const want = Math.min(maxBytes, bodySize);
        const data = reader.tryRead(want) ?? (await reader.read(want));
        consumed = data.length;
        if (data.length < want) throw errors.notArchive(what, `unexpected end of archive in ${name}`);
        return data;
      },
    };
    pax = NO_RECORDS;
    longName = undefined;
    longLink = undefined;
    const visited = visit(entry);
    if (visited) await visited;
    valid = false;
    const rest = bodySize - consumed + ((BLOCK - (bodySize % BLOCK)) % BLOCK);
    if (!reader.trySkip(rest) && (await reader.skip(rest)) < bodySize - consumed) {
      throw errors.notArchive(what, `unexpected end of archive in ${name}`);
    }
  }
}
