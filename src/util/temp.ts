import { mkdtemp, rm } from 'node:fs/promises';
import { createReadStream, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { FileRangeReader } from './bytes.js';
import { ownedName, removeOnExit, sweepStale } from './cleanup.js';
import { detectCompression, inflate, type InflateLimits } from './compression.js';

const TEMP_PREFIX = 'distrolens-';
let swept = false;

/**
 * A private temporary directory, removed by close(), or by the signal handler when the process is
 * stopped; its name carries the pid, so that a run killed with -9 leaves a directory the next run
 * removes.
 */
export class TempDir {
  readonly path: string;
  readonly #unregister: () => void;
  private constructor(path: string) {
    this.path = path;
    this.#unregister = removeOnExit(path);
  }
  static async create(parent = tmpdir()): Promise<TempDir> {
    if (!swept) {
      swept = true;
      sweepStale(parent, TEMP_PREFIX);
    }
    return new TempDir(await mkdtemp(join(parent, ownedName(TEMP_PREFIX))));
  }
  async close(): Promise<void> {
    await rm(this.path, { recursive: true, force: true });
    this.#unregister();
  }
}

/** Writes a stream of chunks to a file. */
export async function writeChunks(chunks: AsyncIterable<Uint8Array>, path: string): Promise<void> {
  await pipeline(Readable.from(chunks, { objectMode: false }), createWriteStream(path, { flags: 'wx', mode: 0o600 }));
}

/** Sniffs the first bytes of a file. */
export async function fileHead(path: string, bytes = 512): Promise<Buffer> {
  const reader = new FileRangeReader(path);
  try {
    return Buffer.from(await reader.read(bytes));
  } finally {
    await reader.close();
  }
}

/**
 * Returns a path to an uncompressed copy of a possibly compressed file: the file itself when it is
 * not compressed, else a decompressed copy in `temp` (so that members can be seeked to).
 */
export async function uncompressedFile(
  path: string,
  temp: () => Promise<TempDir>,
  limits?: InflateLimits,
): Promise<string> {
  const compression = detectCompression(await fileHead(path, 8));
  if (compression === 'none') return path;
  const out = join((await temp()).path, 'archive.tar');
  await writeChunks(inflate(createReadStream(path, { highWaterMark: 1 << 20 }), compression, path, limits), out);
  return out;
}
