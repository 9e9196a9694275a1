import { join } from 'node:path';
import type { WorkloadsReport } from '../core/workloads.js';
import type { AddressInfo } from 'node:net';
import { BlobCache } from '../cache/blobs.js';
import type { VulnScanOptions } from '../scan/scan.js';
import type { OpenOptions } from '../sources/index.js';
import { checkListen, createApp } from './app.js';
import { runScanJob } from './job.js';
import { InProcessQueue, type ScanQueue } from './queue.js';
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
  /** Names clients reach the server by (Host header check). */
  readonly hosts?: readonly string[];
  readonly concurrency?: number;
  /** Each scan's budget (default DEFAULT_JOB_TIMEOUT_MS): past it, E_TIMEOUT. */
  readonly jobTimeoutMs?: number;
  readonly writesPerMinute?: number;
  /** Credentials and limits for pulls (as the CLI builds them). */
  readonly open?: Omit<OpenOptions, 'cache' | 'onDownload' | 'signal'>;
  readonly vulnerabilities?: VulnScanOptions;
  /** Judges the workloads the server was given, for its workloads page. */
  readonly workloads?: () => Promise<WorkloadsReport>;
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
  const context = {
    storage,
    cache: new BlobCache(options.cacheDir),
    cacheDir: options.cacheDir,
    // Every hop of every pull is checked: no request of a user reaches this machine or a
    // private network unless the operator allowed that registry by name.
    open: { ...options.open, connect: { allowHosts: options.allowRegistries ?? [] } },
    ...(options.vulnerabilities ? { vulnerabilities: options.vulnerabilities } : {}),
  };
  const queue = new InProcessQueue(
    (request, progress, signal) => runScanJob(request, context, progress, signal),
    options.concurrency ?? 2,
    undefined,
    options.jobTimeoutMs,
  );
  const server = createApp({
    storage,
    queue,
    ...(options.token ? { token: options.token } : {}),
    ...(options.allowRegistries ? { allowRegistries: options.allowRegistries } : {}),
    ...(options.hosts ? { hosts: options.hosts } : {}),
    ...(options.writesPerMinute ? { writesPerMinute: options.writesPerMinute } : {}),
    ...(options.workloads ? { workloads: options.workloads } : {}),
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
      await storage.close();
    },
  };
}

export const defaultDataDir = (cacheRoot: string): string => join(cacheRoot, 'server');
