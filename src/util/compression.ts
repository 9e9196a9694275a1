import { formatBytes } from '../core/units.js';
import { createGunzip, createInflateRaw } from 'node:zlib';
import { Readable, pipeline } from 'node:stream';
import { Decompress as ZstdDecompress } from 'fzstd';
import { errors } from '../core/errors.js';
import { StreamReader, chunksOf } from './bytes.js';

/** How a blob is compressed, detected from its first bytes (media types lie often enough). */
export type Compression = 'gzip' | 'zstd' | 'xz' | 'none';

/** Recognises gzip (1f 8b), zstd (28 b5 2f fd) and xz (fd 37 7a 58 5a 00) magic numbers. */
export function detectCompression(head: Uint8Array): Compression {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  if (
    head[0] === 0xfd &&
    head[1] === 0x37 &&
    head[2] === 0x7a &&
    head[3] === 0x58 &&
    head[4] === 0x5a &&
    head[5] === 0x00
  )
    return 'xz';
  return 'none';
}

/** Limits that stop a decompression bomb before it fills memory or disk. */
export interface InflateLimits {
  /** Largest uncompressed size accepted for one blob. */
  readonly maxBytes: number;
  /** Largest uncompressed/compressed ratio, checked once `ratioFloor` bytes came out. */
  readonly maxRatio: number;
  readonly ratioFloor: number;
}

/** 32 GiB: larger than any real layer seen in the wild, far below what would hurt a CI disk. */
export const DEFAULT_MAX_LAYER_BYTES = 32 * 1024 ** 3;
/** Real layers compress 2–10×; sparse zero files reach ~100×; a bomb reaches 1000× and more. */
export const DEFAULT_MAX_RATIO = 250;
/** Below this size the ratio is not judged: small text layers can compress very well. */
export const RATIO_FLOOR_BYTES = 64 * 1024 * 1024;

export const DEFAULT_INFLATE_LIMITS: InflateLimits = {
  maxBytes: DEFAULT_MAX_LAYER_BYTES,
  maxRatio: DEFAULT_MAX_RATIO,
  ratioFloor: RATIO_FLOOR_BYTES,
};

const CHUNK = 1024 * 1024;
/**
 * zlib's output chunk; the bench floor uses it too. Each chunk is a round trip between zlib on
 * the thread pool and the main thread, but larger chunks cost memory: with four layers in flight,
 * 4 MiB chunks took peak RSS from ~175 MB to ~230 MB and were no faster.
 */
export const INFLATE_CHUNK = CHUNK;

/** Counts the bytes that pass through; the count is read by the bomb guard and by callers. */
export class ByteCounter {
  bytes = 0;
  async *count(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    for await (const chunk of source) {
      this.bytes += chunk.length;
      yield chunk;
    }
  }
}

/** Chunks zlib may produce ahead of the tar walker. */
const RUN_AHEAD = 4 * INFLATE_CHUNK;

function gunzip(source: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  // zlib works on the thread pool and may run ahead of the tar walker on the main thread instead
  // of taking turns with it.
  const inflater = createGunzip({ chunkSize: INFLATE_CHUNK });
  pipeline(Readable.from(source, { objectMode: false }), inflater, () => {});
  return chunksOf(inflater, RUN_AHEAD);
}

/** gzip header flags (RFC 1952 §2.3.1). */
const FHCRC = 0x02;
const FEXTRA = 0x04;
const FNAME = 0x08;
const FCOMMENT = 0x10;
const FRESERVED = 0xe0;

/**
 * Reads a member's header; false at the end of input or where zero padding starts (both end the
 * stream, as for zlib's gunzip).
 */
async function gzipHeader(input: StreamReader, what: string, first: boolean): Promise<boolean> {
  const header = await input.read(10);
  if (!first && (header.length === 0 || header[0] === 0)) return false;
  const corrupt = (detail: string) => errors.notArchive(what, `corrupt gzip data: ${detail}`);
  if ((header.length > 0 && header[0] !== 0x1f) || (header.length > 1 && header[1] !== 0x8b))
    throw corrupt('incorrect header check');
  if (header.length < 10) throw corrupt('unexpected end of file');
  if (header[2] !== 8) throw corrupt('unknown compression method');
  const flags = header[3]!;
  if (flags & FRESERVED) throw corrupt('unknown header flags set');
  const skip = async (n: number) => {
    if ((await input.skip(n)) < n) throw corrupt('unexpected end of file');
  };
  if (flags & FEXTRA) {
    const length = await input.read(2);
    if (length.length < 2) throw corrupt('unexpected end of file');
    await skip(length.readUInt16LE(0));
  }
  for (const flag of [FNAME, FCOMMENT]) {
    if (!(flags & flag)) continue;
    // A zero-terminated string of any length: skipped a chunk at a time, never kept.
    for (;;) {
      const chunk = await input.chunk();
      if (!chunk) throw corrupt('unexpected end of file');
      const end = chunk.indexOf(0);
      if (end >= 0) {
        input.unread(chunk.subarray(end + 1));
        break;
      }
    }
  }
  if (flags & FHCRC) await skip(2);
  return true;
}

/**
 * One raw deflate stream read from `input`, inflated on the thread pool; returns how many bytes
 * it gave. What follows it (the member's trailer, the next member) is put back in `input`. Two
 * input chunks are in flight so that zlib has the next one when it finishes a chunk.
 */
async function* inflateMember(input: StreamReader): AsyncGenerator<Uint8Array, number> {
  const inflater = createInflateRaw({ chunkSize: INFLATE_CHUNK });
  // Chunks handed to zlib whose bytes it may not all have consumed, from input offset `fedAt`.
  const fed: Buffer[] = [];
  let fedAt = 0;
  const forget = () => {
    while (fed.length && fedAt + fed[0]!.length <= inflater.bytesWritten) fedAt += fed.shift()!.length;
  };
  const pump = async () => {
    let previous: Promise<unknown> = Promise.resolve();
    while (!inflater.readableEnded && !inflater.destroyed) {
      const chunk = await input.chunk();
      if (!chunk) {
        inflater.end();
        return;
      }
      fed.push(chunk);
      const written = new Promise((resolve) => inflater.write(chunk, resolve));
      await previous;
      forget();
      previous = written;
    }
  };
  // A failure to read the input is the inflater's: the output below then ends with it.
  const pumped = pump().catch((error: Error) => inflater.destroy(error));
  let size = 0;
  for await (const chunk of chunksOf(inflater, RUN_AHEAD)) {
    size += chunk.length;
    yield chunk;
  }
  await pumped;
  forget();
  let consumed = inflater.bytesWritten - fedAt;
  const rest: Buffer[] = [];
  for (const chunk of fed) {
    if (consumed < chunk.length) rest.push(chunk.subarray(consumed));
    consumed = Math.max(0, consumed - chunk.length);
  }
  for (const chunk of rest.reverse()) input.unread(chunk);
  return size;
}

/** Members inflated raw before the rest of a stream goes to zlib's gunzip. */
const MAX_RAW_MEMBERS = 16;

/**
 * gzip without its CRC-32, for bytes that a SHA-256 digest checks anyway (a blob digest, a
 * diffID): the CRC is a second check of the same bytes, and node:zlib computes it without SIMD
 * (docs/benchmarks.md has the cost). The trailer's length is still compared. Concatenated members and trailing zero padding
 * are read as zlib's gunzip reads them.
 */
async function* gunzipUnchecked(source: AsyncIterable<Uint8Array>, what: string): AsyncGenerator<Uint8Array> {
  const input = new StreamReader(source);
  try {
    for (let members = 0; ; members++) {
      if (members === MAX_RAW_MEMBERS) {
        // Many members (BGZF writes one per 64 KiB): zlib's gunzip goes from one to the next in C,
        // this loop with a new stream each. The rest, from a member boundary, goes to it.
        const next = await input.chunk();
        if (!next || next[0] === 0) break; // the end, or zero padding
        input.unread(next);
        yield* gunzip(
          (async function* () {
            for (let chunk = await input.chunk(); chunk; chunk = await input.chunk()) yield chunk;
          })(),
        );
        return;
      }
      if (!(await gzipHeader(input, what, members === 0))) break;
      const size = yield* inflateMember(input);
      const trailer = await input.read(8);
      if (trailer.length < 8) throw errors.notArchive(what, 'corrupt gzip data: unexpected end of file');
      if (trailer.readUInt32LE(4) !== size % 2 ** 32)
        throw errors.notArchive(what, 'corrupt gzip data: incorrect length check');
    }
    await input.drain();
  } finally {
    await input.close();
  }
}

/** zstd input is fed to the decoder this much at a time: its output per push stays bounded. */
const ZSTD_FEED = 16 * 1024;

/**
 * zstd through fzstd, which decodes a whole pushed chunk synchronously: a few KB of RLE blocks
 * hold gigabytes. `check` sees every decoded block as it comes out and throws past the limits,
 * before the next one is decoded.
 */
async function* unzstd(source: AsyncIterable<Uint8Array>, check: (bytes: number) => void): AsyncGenerator<Uint8Array> {
  let out: Uint8Array[] = [];
  const decoder = new ZstdDecompress((chunk) => {
    check(chunk.length);
    out.push(chunk);
  });
  for await (const chunk of source) {
    for (let at = 0; at < chunk.length; at += ZSTD_FEED) {
      decoder.push(chunk.subarray(at, at + ZSTD_FEED));
      if (out.length) {
        const ready = out;
        out = [];
        yield* ready;
      }
    }
  }
  decoder.push(new Uint8Array(0), true);
  yield* out;
}

async function* unxz(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const web = Readable.toWeb(Readable.from(source, { objectMode: false })) as unknown as ReadableStream<Uint8Array>;
  // Loaded on demand: a WASM module that only root filesystem tarballs need. CommonJS package.
  const { default: xz } = await import('xz-decompress');
  const stream = new xz.XzReadableStream(web) as unknown as AsyncIterable<Uint8Array>;
  yield* stream;
}

/**
 * Decompresses a stream, refusing bombs. `compressed` must count the bytes fed in, so that the
 * ratio compares what came out with what went in so far.
 */
export async function* inflate(
  source: AsyncIterable<Uint8Array>,
  compression: Compression,
  what: string,
  limits: InflateLimits = DEFAULT_INFLATE_LIMITS,
  /** A SHA-256 digest checks these bytes: gzip's own CRC-32 is not computed. */
  digestChecked = false,
): AsyncGenerator<Uint8Array> {
  if (compression === 'none') {
    yield* source;
    return;
  }
  const input = new ByteCounter();
  const counted = input.count(source);
  let produced = 0;
  /** The bomb check, per output chunk: decoders that produce a chunk at a time call it before the next. */
  const check = (bytes: number): void => {
    produced += bytes;
    if (produced > limits.maxBytes) {
      throw errors.bomb(what, `decompresses to more than ${formatBytes(limits.maxBytes)}`);
    }
    if (produced > limits.ratioFloor && produced / Math.max(1, input.bytes) > limits.maxRatio) {
      throw errors.bomb(what, `decompression ratio above ${limits.maxRatio}:1`);
    }
  };
  const output =
    compression === 'gzip'
      ? digestChecked
        ? gunzipUnchecked(counted, what)
        : gunzip(counted)
      : compression === 'zstd'
        ? unzstd(counted, check)
        : unxz(counted);
  try {
    for await (const chunk of output) {
      if (compression !== 'zstd') check(chunk.length);
      yield chunk;
    }
  } catch (error) {
    if (error instanceof Error && 'code' in error && typeof error.code === 'string' && error.code.startsWith('Z_')) {
      throw errors.notArchive(what, `corrupt ${compression} data: ${error.message}`);
    }
    throw error;
  }
}

/**
 * Joins small chunks (network reads arrive in 16–64 KiB pieces) into pieces of about `size`
 * bytes: zlib then gets a few large jobs instead of thousands of small ones, each of which needs a
 * turn of the main thread. Chunks of half that size or more pass as they are (a body read into
 * 1 MiB chunks starts with one that the response head shortened).
 */
export async function* coalesce(source: AsyncIterable<Uint8Array>, size = CHUNK): AsyncGenerator<Uint8Array> {
  let parts: Uint8Array[] = [];
  let length = 0;
  for await (const chunk of source) {
    if (chunk.length >= size / 2 && length === 0) {
      yield chunk;
      continue;
    }
    parts.push(chunk);
    length += chunk.length;
    if (length >= size) {
      yield Buffer.concat(parts, length);
      parts = [];
      length = 0;
    }
  }
  if (length) yield Buffer.concat(parts, length);
}

/** Feeds every chunk into a hash as it passes. */
export async function* hashing(
  source: AsyncIterable<Uint8Array>,
  hash: { update(data: Uint8Array): unknown },
): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) {
    hash.update(chunk);
    yield chunk;
  }
}
