import { createWriteStream, type WriteStream } from 'node:fs';

/**
 * A new file written a chunk at a time, with bounded memory: a write waits while 8 MiB are queued.
 * An error of the file (a full disk) is thrown by the next write or by close().
 */
export class FileSink {
  readonly #out: WriteStream;
  #error: Error | undefined;
  /** Bytes written so far. */
  position = 0;

  constructor(path: string) {
    this.#out = createWriteStream(path, { flags: 'wx', mode: 0o600, highWaterMark: 8 * 1024 * 1024 });
    this.#out.on('error', (error) => (this.#error ??= error));
  }

  #check(): void {
    if (this.#error) throw this.#error;
  }

  async write(chunk: Uint8Array): Promise<void> {
    this.#check();
    this.position += chunk.length;
    if (this.#out.write(chunk)) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        this.#out.off('drain', done).off('error', done).off('close', done);
        resolve();
      };
      this.#out.on('drain', done).on('error', done).on('close', done);
    });
    this.#check();
  }

  /** The chunks of `source`, each written here before it is passed on. */
  async *tee(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    for await (const chunk of source) {
      await this.write(chunk);
      yield chunk;
    }
  }

  async close(): Promise<void> {
    if (!this.#error) await new Promise<void>((resolve) => this.#out.end(resolve));
    this.#check();
  }

  /** Stops writing (after a failure); the caller removes the file. */
  destroy(): void {
    this.#out.destroy();
  }
}
