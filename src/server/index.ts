import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { BlobCache } from '../cache/blobs.js';
import { scanImage, type VulnScanOptions } from '../scan/scan.js';
import { openSource, type OpenOptions } from '../sources/index.js';
import { checkListen, createApp } from './app.js';
import { ScanQueue } from './queue.js';
import { SqliteStorage, type Storage } from './storage.js';

/**
 * `serve`: storage, the scan queue and the HTTP app wired together. Scans pull from registries
 * through the shared blob cache and use the vulnerability database when one is given.
 */
export interface ServeOptions {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  /** Blob and layer caches (shared with the CLI). */
  readonly cacheDir: string;
  readonly token?: string;
  readonly allowRegistries?: readonly string[];
  readonly concurrency?: number;
  readonly writesPerMinute?: number;
  /** Credentials and limits for pulls (as the CLI builds them). */
  readonly open?: Omit<OpenOptions, 'cache' | 'onDownload'>;
  readonly vulnerabilities?: VulnScanOptions;
  /** Another storage than SQLite in dataDir (PostgreSQL later; tests). */
  readonly storage?: Storage;
}

export interface RunningServer {
  readonly url: string;
  readonly queue: ScanQueue;
  readonly storage: Storage;
  close(): Promise<void>;
}

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  checkListen(options.host, options.token);
  const storage = options.storage ?? new SqliteStorage(options.dataDir);
  const cache = new BlobCache(options.cacheDir);
  const queue = new ScanQueue(async (job, progress) => {
    const downloads = new Map<string, { bytes: number; total: number }>();
    const source = await openSource(`registry:${job.reference}`, {
      ...options.open,
      cache,
      onDownload: (digest, bytes, total) => {
        downloads.set(digest, { bytes, total });
        let sum = 0;
        let all = 0;
        for (const d of downloads.values()) {
          sum += d.bytes;
          all += d.total;
        }
        progress('pulling', sum, all);
      },
    });
    try {
      progress('reading');
      const { report } = await scanImage(source, {
        cacheDir: options.cacheDir,
        ...(options.vulnerabilities ? { vulnerabilities: options.vulnerabilities } : {}),
        onBytes: (layer, bytes) => progress(`reading layer ${layer.index}`, bytes, layer.compressedSize),
      });
      progress('storing');
      return storage.saveReport(report).id;
    } finally {
      await source.close();
    }
  }, options.concurrency ?? 2);
  const server = createApp({
    storage, queue,
    ...(options.token ? { token: options.token } : {}),
    ...(options.allowRegistries ? { allowRegistries: options.allowRegistries } : {}),
    ...(options.writesPerMinute ? { writesPerMinute: options.writesPerMinute } : {}),
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    queue,
    storage,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await queue.idle();
      storage.close();
    },
  };
}

export const defaultDataDir = (cacheRoot: string): string => join(cacheRoot, 'server');
