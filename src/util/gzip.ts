import { once } from 'node:events';
import { availableParallelism } from 'node:os';
import { constants, crc32, createGzip, deflateRaw } from 'node:zlib';

/**
 * gzip on every core, as pigz does: the input is cut into fixed blocks, each block deflated on
 * its own (on the thread pool, several at once) and ended with a full flush, which byte-aligns it
 * and forgets the window, so the blocks joined in order are one valid deflate stream; the last
 * ends it. One gzip member, readable by any gzip reader; the same input gives the same bytes
 * (the cuts depend on the input's length only, never on how it was written). The cost of
 * forgetting the window at every block is ~0.1 % of size with 1 MiB blocks.
 */
export const GZIP_BLOCK = 1024 * 1024;

/** gzip header: deflate, no name, no time (reproducible), "fastest", OS unknown. */
const HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x04, 0xff]);

const deflateBlock = (data: Buffer, level: number, last: boolean): Promise<Buffer> =>
  new Promise((resolve, reject) =>
    deflateRaw(
      data,
      { level, chunkSize: GZIP_BLOCK, finishFlush: last ? constants.Z_FINISH : constants.Z_FULL_FLUSH },
      (error, out) => (error ? reject(error) : resolve(out)),
    ),
  );

export class ParallelGzip {
  readonly #sink: (chunk: Buffer) => Promise<void> | void;
  readonly #level: number;
  readonly #inFlight: number;
  /** Blocks being deflated, in input order; each is written once it and those before it are done. */
  readonly #queue: Promise<Buffer>[] = [];
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #crc = 0;
  #length = 0;
  #started = false;

  /** `sink` receives the gzip bytes in order; `inFlight` blocks are deflated at once. */
  constructor(sink: (chunk: Buffer) => Promise<void> | void, options: { level?: number; inFlight?: number } = {}) {
    this.#sink = sink;
    this.#level = options.level ?? 1;
    this.#inFlight = options.inFlight ?? 2 * availableParallelism();
  }

  async write(chunk: Buffer): Promise<void> {
    this.#crc = crc32(chunk, this.#crc);
    this.#length += chunk.length;
    let rest = chunk;
    while (this.#pendingBytes + rest.length >= GZIP_BLOCK) {
      const take = GZIP_BLOCK - this.#pendingBytes;
      this.#pending.push(rest.subarray(0, take));
      rest = rest.subarray(take);
      const block = Buffer.concat(this.#pending);
      this.#pending = [];
      this.#pendingBytes = 0;
      await this.#submit(block, false);
    }
    if (rest.length) {
      // Copied: the caller may reuse its buffer once write returns.
      this.#pending.push(Buffer.from(rest));
      this.#pendingBytes += rest.length;
    }
  }

  async #submit(block: Buffer, last: boolean): Promise<void> {
    if (!this.#started) {
      this.#started = true;
      await this.#sink(HEADER);
    }
    this.#queue.push(deflateBlock(block, this.#level, last));
    // A failed block is seen when it is written; until then its rejection is not unhandled.
    this.#queue[this.#queue.length - 1]!.catch(() => undefined);
    while (this.#queue.length >= (last ? 1 : this.#inFlight)) await this.#sink(await this.#queue.shift()!);
  }

  /** Deflates what is left, ends the stream and writes the trailer (CRC-32 and length mod 2³²). */
  async end(): Promise<void> {
    const block = Buffer.concat(this.#pending);
    this.#pending = [];
    this.#pendingBytes = 0;
    await this.#submit(block, true);
    const trailer = Buffer.alloc(8);
    trailer.writeUInt32LE(this.#crc >>> 0, 0);
    trailer.writeUInt32LE(this.#length % 2 ** 32, 4);
    await this.#sink(trailer);
  }
}

/** The plain twin: Node's one-thread gzip stream behind the same two calls (tests compare them). */
export function streamGzip(
  sink: (chunk: Buffer) => Promise<void> | void,
  level = 1,
): Pick<ParallelGzip, 'write' | 'end'> {
  const gzip = createGzip({ level });
  const done = (async () => {
    for await (const chunk of gzip) await sink(chunk as Buffer);
  })();
  done.catch(() => undefined);
  return {
    async write(chunk: Buffer) {
      if (!gzip.write(chunk)) await once(gzip, 'drain');
    },
    async end() {
      gzip.end();
      await done;
    },
  };
}
