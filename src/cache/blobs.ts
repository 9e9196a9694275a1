import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm, stat, writeFile, access } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { digestHex, type Digest } from '../core/digest.js';
import { errors, fail } from '../core/errors.js';
import type { VerifiedStore } from '../image/partial.js';

/** An in-progress blob write; see BlobCache.writer. */
export interface BlobWriter {
  readonly size: number;
  write(chunk: Uint8Array): Promise<void>;
  /** Verifies and moves the blob into place; returns its path. */
  commit(): Promise<string>;
  abort(): Promise<void>;
}

/**
 * A content-addressed blob store: `blobs/sha256/<hex>`. Writers stream into a private temporary
 * file, verify size and digest, then rename into place, so two processes pulling the same blob
 * at once both succeed and readers never see a partial blob. Readers verify digests as they read
 * (the layer walker hashes every byte it decompresses).
 */
export class BlobCache implements VerifiedStore {
  readonly root: string;

  constructor(root: string) {
    this.root = root;
  }

  /** `$XDG_CACHE_HOME/distrolens`, else `~/.cache/distrolens`. */
  static defaultRoot(env: NodeJS.ProcessEnv = process.env): string {
    return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'distrolens');
  }

  pathOf(digest: Digest): string {
    return join(this.root, 'blobs', 'sha256', digestHex(digest));
  }

  /** The path of a cached blob, or undefined. */
  async get(digest: Digest, size?: number): Promise<string | undefined> {
    const path = this.pathOf(digest);
    try {
      const info = await stat(path);
      // A wrong size means a damaged entry: drop it and fetch again.
      if (size !== undefined && info.size !== size) {
        await rm(path, { force: true });
        return undefined;
      }
      return path;
    } catch {
      return undefined;
    }
  }

  /**
   * Starts writing a blob: chunks go to a private temporary file while being hashed; commit()
   * verifies size and digest and renames the file into place, abort() removes it.
   */
  async writer(digest: Digest, expectedSize: number | undefined, what: string): Promise<BlobWriter> {
    const dir = join(this.root, 'blobs', 'sha256');
    await mkdir(dir, { recursive: true });
    const temp = join(dir, `.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
    const final = this.pathOf(digest);
    const hash = createHash('sha256');
    // A deep write buffer: the layer walk reading the download must not wait for the disk each chunk.
    const out = createWriteStream(temp, { flags: 'wx', mode: 0o644, highWaterMark: 8 * 1024 * 1024 });
    let size = 0;
    let open = true;
    const abort = async (): Promise<void> => {
      if (!open) return;
      open = false;
      out.destroy();
      await rm(temp, { force: true });
    };
    return {
      get size() {
        return size;
      },
      write: async (chunk: Uint8Array) => {
        size += chunk.length;
        if (expectedSize !== undefined && size > expectedSize) {
          await abort();
          throw errors.digestMismatch(what, `${expectedSize} bytes`, `more than ${expectedSize} bytes`);
        }
        hash.update(chunk);
        if (!out.write(chunk)) await once(out, 'drain');
      },
      commit: async () => {
        try {
          out.end();
          await once(out, 'close');
          if (expectedSize !== undefined && size < expectedSize) throw errors.truncated(what, expectedSize, size);
          const actual = `sha256:${hash.digest('hex')}`;
          if (actual !== digest) throw errors.digestMismatch(what, digest, actual);
          await rename(temp, final);
          open = false;
          return final;
        } catch (error) {
          await abort();
          throw error;
        }
      },
      abort,
    };
  }

  /** Streams a blob into the cache, verifying it; returns its path. */
  async put(
    digest: Digest,
    chunks: AsyncIterable<Uint8Array>,
    expectedSize: number | undefined,
    what: string,
  ): Promise<string> {
    const writer = await this.writer(digest, expectedSize, what);
    try {
      for await (const chunk of chunks) await writer.write(chunk);
    } catch (error) {
      await writer.abort();
      throw error;
    }
    return writer.commit();
  }

  /**
   * Re-hashes a cached blob; a blob that no longer matches its digest is removed and reported.
   * Used when a cached layer fails to decompress: a damaged cache must not fail forever.
   */
  async check(digest: Digest, what: string): Promise<void> {
    const path = await this.get(digest);
    if (!path) return;
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
    const actual = `sha256:${hash.digest('hex')}`;
    if (actual !== digest) {
      await rm(path, { force: true });
      throw fail(
        'E_DIGEST_MISMATCH',
        `${what}: the cached copy is damaged (digest ${actual}); it was removed`,
        'run the command again to download it afresh',
      );
    }
  }

  /** Stores small verified bytes (manifests, configs). */
  async putBytes(digest: Digest, bytes: Uint8Array): Promise<void> {
    await this.put(
      digest,
      (async function* () {
        yield bytes;
      })(),
      bytes.length,
      `blob ${digest}`,
    );
  }

  /** Reads a small cached blob, or undefined. */
  async readBytes(digest: Digest, limit: number): Promise<Buffer | undefined> {
    const path = await this.get(digest);
    if (!path) return undefined;
    const handle = await open(path, 'r');
    try {
      const { size } = await handle.stat();
      if (size > limit) return undefined;
      return await handle.readFile();
    } finally {
      await handle.close();
    }
  }

  async has(key: string): Promise<boolean> {
    try {
      await access(join(this.root, 'verified', key));
      return true;
    } catch {
      return false;
    }
  }

  async add(key: string): Promise<void> {
    await mkdir(join(this.root, 'verified'), { recursive: true });
    await writeFile(join(this.root, 'verified', key), '');
  }
}
