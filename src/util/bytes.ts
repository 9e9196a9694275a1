import { open, type FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';

/**
 * Sequential byte readers for the tar walker. Two implementations: one over an async stream of
 * chunks (decompressed layers, downloads) and one over a file range that seeks past what nobody
 * asked for (uncompressed layers on disk), which is what keeps a metadata-only walk cheap.
 */
export interface ByteReader {
  /** Bytes consumed so far, relative to the start of the reader. */
  readonly position: number;
  /** Reads up to n bytes; fewer only at the end of input. */
  read(n: number): Promise<Buffer>;
  /** Reads n bytes without waiting when they are already buffered; undefined otherwise. */
  tryRead(n: number): Buffer | undefined;
  /** Skips n bytes without waiting when possible; false when the caller must await skip(). */
  trySkip(n: number): boolean;
  /** Skips up to n bytes and returns how many were skipped. */
  skip(n: number): Promise<number>;
  /** Consumes the rest of the input (so that hashing wrappers see every byte). */
  drain(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Reads from an async iterable of chunks, e.g. a gunzip stream. The first chunk is read from an
 * offset rather than re-sliced: skipping allocates nothing and a read at most one view.
 */
export class StreamReader implements ByteReader {
  #iterator: AsyncIterator<Uint8Array>;
  #chunks: Buffer[] = [];
  /** Bytes of #chunks[0] already consumed. */
  #offset = 0;
  /** Unconsumed bytes in #chunks. */
  #buffered = 0;
  #done = false;
  position = 0;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.#iterator = source[Symbol.asyncIterator]();
  }

  async #fill(n: number): Promise<void> {
    while (this.#buffered < n && !this.#done) {
      const next = await this.#iterator.next();
      if (next.done) {
        this.#done = true;
        break;
      }
      if (next.value.length === 0) continue;
      const chunk = Buffer.isBuffer(next.value)
        ? next.value
        : Buffer.from(next.value.buffer, next.value.byteOffset, next.value.length);
      this.#chunks.push(chunk);
      this.#buffered += chunk.length;
    }
  }

  tryRead(n: number): Buffer | undefined {
    return this.#buffered >= n ? this.#take(n) : undefined;
  }

  /** The rest of the current chunk, or the next one, as it is (no copy); undefined at the end. */
  async chunk(): Promise<Buffer | undefined> {
    await this.#fill(1);
    const first = this.#chunks[0];
    return first ? this.#take(first.length - this.#offset) : undefined;
  }

  /** Puts bytes taken with chunk() back in front of the rest. */
  unread(bytes: Buffer): void {
    if (bytes.length === 0) return;
    if (this.#offset > 0) {
      this.#chunks[0] = this.#chunks[0]!.subarray(this.#offset);
      this.#offset = 0;
    }
    this.#chunks.unshift(bytes);
    this.#buffered += bytes.length;
    this.position -= bytes.length;
  }

  trySkip(n: number): boolean {
    if (this.#buffered < n) return false;
    this.#drop(n);
    return true;
  }

  async read(n: number): Promise<Buffer> {
    await this.#fill(n);
    return this.#take(Math.min(n, this.#buffered));
  }

  #take(take: number): Buffer {
    const first = this.#chunks[0];
    const start = this.#offset;
    if (first && first.length - start >= take) {
      this.#drop(take);
      return first.subarray(start, start + take);
    }
    const out = Buffer.allocUnsafe(take);
    let filled = 0;
    while (filled < take) {
      const chunk = this.#chunks[0]!;
      const part = Math.min(chunk.length - this.#offset, take - filled);
      chunk.copy(out, filled, this.#offset, this.#offset + part);
      filled += part;
      this.#drop(part);
    }
    return out;
  }

  /** Drops up to n buffered bytes; returns how many. */
  #drop(n: number): number {
    let left = n;
    while (left > 0 && this.#chunks.length) {
      const rest = this.#chunks[0]!.length - this.#offset;
      if (rest <= left) {
        this.#chunks.shift();
        this.#offset = 0;
        left -= rest;
        this.#buffered -= rest;
      } else {
        this.#offset += left;
        this.#buffered -= left;
        left = 0;
      }
    }
    this.position += n - left;
    return n - left;
  }

  async skip(n: number): Promise<number> {
    let skipped = this.#drop(n);
    while (skipped < n && !this.#done) {
      await this.#fill(1);
      if (this.#buffered === 0) break;
      skipped += this.#drop(n - skipped);
    }
    return skipped;
  }

  async drain(): Promise<void> {
    while (!this.#done) await this.skip(1 << 20);
    await this.skip(this.#buffered);
  }

  async close(): Promise<void> {
    if (!this.#done) {
      this.#done = true;
      await this.#iterator.return?.();
    }
  }
}

const READ_AHEAD = 256 * 1024;

/** Reads a byte range of a file, seeking instead of reading when asked to skip. */
export class FileRangeReader implements ByteReader {
  #handle: FileHandle | undefined;
  readonly #path: string;
  readonly #start: number;
  readonly #end: number;
  #buffer = Buffer.alloc(0);
  #bufferStart = 0;
  position = 0;

  constructor(path: string, start = 0, length = Number.POSITIVE_INFINITY) {
    this.#path = path;
    this.#start = start;
    this.#end = start + length;
  }

  async #file(): Promise<FileHandle> {
    this.#handle ??= await open(this.#path, 'r');
    return this.#handle;
  }

  tryRead(n: number): Buffer | undefined {
    const want = Math.max(0, Math.min(n, this.#end - this.#start - this.position));
    const offsetInBuffer = this.position - this.#bufferStart;
    if (offsetInBuffer >= 0 && offsetInBuffer + want <= this.#buffer.length) {
      this.position += want;
      return this.#buffer.subarray(offsetInBuffer, offsetInBuffer + want);
    }
    return undefined;
  }

  trySkip(n: number): boolean {
    if (n > this.#end - this.#start - this.position) return false; // let skip() report the shortfall
    this.position += n;
    return true;
  }

  async read(n: number): Promise<Buffer> {
    const buffered = this.tryRead(n);
    if (buffered) return buffered;
    const want = Math.max(0, Math.min(n, this.#end - this.#start - this.position));
    const size = Math.min(Math.max(want, READ_AHEAD), this.#end - this.#start - this.position);
    const buffer = Buffer.allocUnsafe(size);
    const { bytesRead } = await (await this.#file()).read(buffer, 0, size, this.#start + this.position);
    this.#buffer = buffer.subarray(0, bytesRead);
    this.#bufferStart = this.position;
    const got = Math.min(want, bytesRead);
    this.position += got;
    return this.#buffer.subarray(0, got);
  }

  async skip(n: number): Promise<number> {
    const step = Math.max(0, Math.min(n, this.#end - this.#start - this.position));
    this.position += step;
    return step;
  }

  async drain(): Promise<void> {
    this.position = Math.max(this.position, this.#end - this.#start);
  }

  async close(): Promise<void> {
    await this.#handle?.close();
    this.#handle = undefined;
  }
}

/**
 * Chunks handed from a producer that pushes (stream events, socket reads) to a consumer that
 * iterates, with at most `runAhead` bytes waiting: past that the producer is paused, and resumed
 * as chunks are taken. The end, once pushed, wins over a later failure.
 */
export class ChunkQueue {
  readonly #queue: Uint8Array[] = [];
  #queued = 0;
  #ended = false;
  #failure: { error: unknown } | undefined;
  #wake: (() => void) | undefined;

  constructor(
    private readonly flow: { pause(): unknown; resume(): unknown; isPaused(): boolean },
    private readonly runAhead = 4 * 1024 * 1024,
  ) {}

  push(chunk: Uint8Array): void {
    this.#queue.push(chunk);
    this.#queued += chunk.length;
    if (this.#queued >= this.runAhead) this.flow.pause();
    this.#wake?.();
  }

  end(): void {
    this.#ended = true;
    this.#wake?.();
  }

  fail(error: unknown): void {
    if (!this.#ended) this.#failure ??= { error };
    this.#wake?.();
  }

  async *chunks(): AsyncGenerator<Uint8Array> {
    for (;;) {
      const chunk = this.#queue.shift();
      if (chunk) {
        this.#queued -= chunk.length;
        if (this.#queued < this.runAhead && this.flow.isPaused() && !this.#ended) this.flow.resume();
        yield chunk;
      } else if (this.#failure) {
        throw this.#failure.error;
      } else if (this.#ended) {
        return;
      } else {
        await new Promise<void>((resolve) => (this.#wake = resolve));
        this.#wake = undefined;
      }
    }
  }
}

/**
 * Yields a readable's chunks one by one, as they were pushed. A stream's own async iterator
 * reads everything buffered at once, which copies the chunks into a new buffer whenever the
 * producer ran ahead (zlib faster than the tar walker, a socket faster than the disk). At most
 * `runAhead` bytes wait in the queue; the readable is paused beyond that.
 */
export async function* chunksOf(readable: Readable, runAhead?: number): AsyncGenerator<Uint8Array> {
  const queue = new ChunkQueue(readable, runAhead);
  readable.on('data', (chunk: Uint8Array) => queue.push(chunk));
  readable.on('end', () => queue.end());
  readable.on('error', (error) => queue.fail(error));
  try {
    yield* queue.chunks();
  } finally {
    readable.destroy();
  }
}
