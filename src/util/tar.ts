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
  '0': 'file',
  '\0': 'file',
  '7': 'file',
  '1': 'hardlink',
  '2': 'symlink',
  '3': 'char',
  '4': 'block',
  '5': 'dir',
  '6': 'fifo',
};

function text(block: Buffer, start: number, length: number): string {
  const limit = start + length;
  const end = block.indexOf(0, start);
  return block.toString('utf8', start, end < 0 || end > limit ? limit : end);
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
/** Global pax records (kept, then merged into every later entry); real archives carry none or a few. */
const MAX_GLOBAL_PAX_RECORDS = 64;

function parsePax(data: Buffer, what: string): ReadonlyMap<string, string> {
  // Records are "<length> <key>=<value>\n", the length in decimal counting the whole record.
  let records: Map<string, string> | undefined;
  let at = 0;
  while (at < data.length) {
    let length = 0;
    let i = at;
    for (; i < data.length && data[i]! >= 0x30 && data[i]! <= 0x39 && i - at < 8; i++)
      length = length * 10 + data[i]! - 0x30;
    const end = at + length;
    if (i === at || data[i] !== 0x20 || end > data.length || end <= i + 1)
      throw errors.notArchive(what, 'malformed pax header');
    if (PAX_FIRST_BYTES.has(data[i + 1]!)) {
      const eq = data.indexOf(0x3d, i + 1);
      const key = eq > i + 1 && eq < end ? data.toString('latin1', i + 1, eq) : '';
      if (PAX_KEYS.has(key) || key.startsWith(XATTR))
        (records ??= new Map()).set(key, data.toString('utf8', eq + 1, end - 1));
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
export async function walkTar(
  reader: ByteReader,
  options: TarOptions,
  visit: (entry: TarEntry) => void | Promise<void>,
): Promise<number> {
  const walk = new TarWalk(reader, options, visit);
  for (let wait = walk.step(); wait; wait = walk.step()) await wait;
  return walk.count;
}

/**
 * The walk as a state machine: `step` runs synchronously over every entry whose header is
 * buffered and returns what to wait for (more input, a visitor reading a body, a turn of the
 * event loop) once it must. The hot loop is thus a plain function, not an async one: V8 compiles
 * an async function with many awaits into a large resumable state machine, and compiles it again
 * after each deoptimisation (docs/benchmarks.md, "Why the code is shaped this way").
 */
class TarWalk {
  readonly #reader: ByteReader;
  readonly #what: string;
  readonly #maxEntries: number;
  readonly #visit: (entry: TarEntry) => void | Promise<void>;
  count = 0;
  #done = false;
  #pax = NO_RECORDS;
  #globalPax = NO_RECORDS;
  #longName: string | undefined;
  #longLink: string | undefined;
  /** A header block read by an await, handled by the next step. */
  #pending: Buffer | undefined;
  #yieldAt: number;
  /** The entry being visited (the only one whose body may be read), its body size and what was read of it. */
  #current: TarEntry | undefined;
  #bodySize = 0;
  #consumed = 0;
  /** Shared by every entry: reads the body of the entry it is called on. */
  readonly #read: TarEntry['read'];

  constructor(reader: ByteReader, options: TarOptions, visit: (entry: TarEntry) => void | Promise<void>) {
    this.#reader = reader;
    this.#what = options.what;
    this.#maxEntries = options.maxEntries ?? DEFAULT_MAX_TAR_ENTRIES;
    this.#visit = visit;
    this.#yieldAt = reader.position + YIELD_EVERY;
    const readBody = (entry: TarEntry, maxBytes?: number): Promise<Buffer> => this.#readBody(entry, maxBytes);
    this.#read = function (this: TarEntry, maxBytes?: number) {
      return readBody(this, maxBytes);
    };
  }

  /** Walks what is buffered; returns what to await before the next step, or undefined at the end. */
  step(): Promise<void> | undefined {
    const reader = this.#reader;
    while (!this.#done) {
      if (reader.position >= this.#yieldAt) {
        // Let the event loop run now and then: zlib on the thread pool waits for its completion
        // callback on this thread before it starts on the next chunk.
        this.#yieldAt = reader.position + YIELD_EVERY;
        return new Promise(setImmediate);
      }
      const block = this.#pending ?? reader.tryRead(BLOCK);
      this.#pending = undefined;
      if (!block) return reader.read(BLOCK).then((read) => void (this.#pending = read));
      const wait = this.#header(block);
      if (wait) return wait;
    }
    return undefined;
  }

  /** Handles one header block: a meta header, an entry, or the end. */
  #header(block: Buffer): Promise<void> | undefined {
    const what = this.#what;
    if (block.length < BLOCK || isZero(block)) {
      if (block.length === 0 && this.count === 0) throw errors.notArchive(what, 'empty file');
      // The end, with or without the customary zero blocks.
      if (block.length === 0 || isZero(block)) return void (this.#done = true);
      throw errors.notArchive(what, 'unexpected end of archive');
    }
    if (!checksumOk(block)) throw errors.notArchive(what, this.count === 0 ? 'no tar header' : 'bad header checksum');

    const flag = String.fromCharCode(block[156]!);
    const headerSize = number(block, 124, 12);
    if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
      if (headerSize > MAX_META_BYTES) throw errors.notArchive(what, `extended header of ${headerSize} bytes`);
      const buffered = this.#reader.tryRead(headerSize + padding(headerSize));
      if (buffered) return this.#meta(flag, buffered.subarray(0, headerSize));
      return this.#readMeta(headerSize).then((data) => this.#meta(flag, data));
    }
    if (++this.count > this.#maxEntries) {
      throw fail(
        'E_ARCHIVE_INVALID',
        `${what}: more than ${this.#maxEntries} entries`,
        'this is not a real image layer',
      );
    }
    const entry = this.#entry(block, flag, headerSize);
    this.#pax = NO_RECORDS;
    this.#longName = undefined;
    this.#longLink = undefined;
    this.#current = entry;
    this.#consumed = 0;
    const visited = this.#visit(entry);
    if (visited) return visited.then(() => this.#skipBody());
    return this.#skipBody();
  }

  #meta(flag: string, data: Buffer): undefined {
    if (flag === 'x') this.#pax = parsePax(data, this.#what);
    else if (flag === 'g') {
      // Global records apply to every later entry: a flood of them would be copied into each.
      const merged = new Map([...this.#globalPax, ...parsePax(data, this.#what)]);
      if (merged.size > MAX_GLOBAL_PAX_RECORDS)
        throw errors.notArchive(this.#what, `more than ${MAX_GLOBAL_PAX_RECORDS} global pax records`);
      this.#globalPax = merged;
    } else if (flag === 'L') this.#longName = data.toString('utf8').replace(/\0+$/, '');
    else this.#longLink = data.toString('utf8').replace(/\0+$/, '');
    return undefined;
  }

  async #readMeta(size: number): Promise<Buffer> {
    const data = await this.#reader.read(size);
    if (data.length < size) throw errors.notArchive(this.#what, 'unexpected end of archive');
    if (!this.#reader.trySkip(padding(size))) await this.#reader.skip(padding(size));
    return data;
  }

  #entry(block: Buffer, flag: string, headerSize: number): TarEntry {
    const merged = this.#globalPax.size ? new Map([...this.#globalPax, ...this.#pax]) : this.#pax;
    // POSIX ustar ("ustar\0") has a name prefix field; old GNU ("ustar ") uses those bytes otherwise.
    const posix = block[257] === 0x75 && block[262] === 0 && block[258] === 0x73 && block[259] === 0x74;
    const prefix = posix && block[345] !== 0 ? text(block, 345, 155) : '';
    const headerName = prefix ? `${prefix}/${text(block, 0, 100)}` : text(block, 0, 100);
    const name = merged.get('path') ?? this.#longName ?? headerName;
    const linkname = merged.get('linkpath') ?? this.#longLink ?? text(block, 157, 100);
    const paxSize = merged.get('size');
    const size = paxSize !== undefined ? Number(paxSize) : headerSize;
    if (!Number.isSafeInteger(size) || size < 0) throw errors.notArchive(this.#what, `invalid size for ${name}`);
    const type = TYPES[flag] ?? 'other';
    // Only regular files carry a body that matters; links, dirs and devices normally have size 0
    // but the body must be skipped whatever it is.
    this.#bodySize = type === 'hardlink' || type === 'symlink' || type === 'dir' ? (flag === '5' ? 0 : size) : size;
    const mode = number(block, 100, 8) & 0o7777;
    const uid = merged.has('uid') ? Number(merged.get('uid')) : number(block, 108, 8);
    const gid = merged.has('gid') ? Number(merged.get('gid')) : number(block, 116, 8);
    const offset = this.#reader.position;
    const fileSize = type === 'file' ? size : 0;
    const xattrs = merged.size ? xattrsOf(merged) : undefined;
    // Two literal shapes rather than a spread: every entry of a layer is built here.
    return xattrs
      ? { name, type, size: fileSize, mode, uid, gid, linkname, xattrs, offset, read: this.#read }
      : { name, type, size: fileSize, mode, uid, gid, linkname, offset, read: this.#read };
  }

  async #readBody(entry: TarEntry, maxBytes = this.#bodySize): Promise<Buffer> {
    if (!entry || entry !== this.#current)
      throw fail('E_INTERNAL', `${this.#what}: body of ${entry?.name ?? 'an entry'} read after moving on`);
    if (this.#consumed > 0) throw fail('E_INTERNAL', `${this.#what}: body of ${entry.name} read twice`);
    const want = Math.min(maxBytes, this.#bodySize);
    const data = this.#reader.tryRead(want) ?? (await this.#reader.read(want));
    this.#consumed = data.length;
    if (data.length < want) throw errors.notArchive(this.#what, `unexpected end of archive in ${entry.name}`);
    return data;
  }

  /** Moves past the rest of the current entry's body and its padding. */
  #skipBody(): Promise<void> | undefined {
    const name = this.#current!.name;
    this.#current = undefined;
    const left = this.#bodySize - this.#consumed;
    const rest = left + padding(this.#bodySize);
    if (this.#reader.trySkip(rest)) return undefined;
    return this.#reader.skip(rest).then((skipped) => {
      if (skipped < left) throw errors.notArchive(this.#what, `unexpected end of archive in ${name}`);
    });
  }
}

/** Bytes after a body of `size` bytes up to the next 512-byte block. */
function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

function xattrsOf(records: ReadonlyMap<string, string>): Record<string, string> | undefined {
  let xattrs: Record<string, string> | undefined;
  for (const [key, value] of records) {
    if (key.startsWith(XATTR)) (xattrs ??= {})[key.slice(XATTR.length)] = value;
  }
  return xattrs;
}
