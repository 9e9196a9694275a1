import { join } from 'node:path';
import type { WorkloadsReport } from '../core/workloads.js';
import type { AddressInfo } from 'node:net';
import { BlobCache } from '../cache/blobs.js';
import type { VulnScanOptions } from '../scan/scan.js';
import type { OpenOptions } from '../sources/index.js';
import { checkListen, createApp } from './app.js';
import { runScanJob, type JobContext } from './job.js';
import { InProcessQueue, type JobRunner, type ScanQueue } from './queue.js';
import { Crawler, type CrawlRequest } from './crawl.js';
import { takeSnapshot } from './fleet.js';
import { rematchStored } from './rematch.js';
import { harborRoutes } from './harbor.js';
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
  /** Another storage than SQLite in dataDir (PostgreSQL: src/fleet). */
  readonly storage?: Storage;
  /** Another queue than the in-process one (pg-boss: src/fleet); it gets the job body to run. */
  readonly queue?: (run: JobRunner) => ScanQueue;
  /** Harbor's scanner API under /api/v1, for Harbor presenting this key. */
  readonly harborKey?: string;
  /** Registries crawled at start and again every `crawlEveryMs` (`--crawl`, `--crawl-every`). */
  readonly crawls?: readonly CrawlRequest[];
  readonly crawlEveryMs?: number;
  /** A fleet snapshot (the trend's points) this often; default 1 h. */
  readonly snapshotEveryMs?: number;
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
  const context: JobContext = {
    storage,
    cache: new BlobCache(options.cacheDir),
    cacheDir: options.cacheDir,
    // Every hop of every pull is checked: no request of a user reaches this machine or a
    // private network unless the operator allowed that registry by name.
    open: { ...options.open, connect: { allowHosts: options.allowRegistries ?? [] } },
    ...(options.vulnerabilities ? { vulnerabilities: options.vulnerabilities } : {}),
  };
  const run: JobRunner = (order, progress, signal) => runScanJob(order, context, progress, signal);
  const queue: ScanQueue =
    options.queue?.(run) ?? new InProcessQueue(run, options.concurrency ?? 2, undefined, options.jobTimeoutMs);
  const crawler = new Crawler({
    storage,
    queue,
    client: { connect: context.open?.connect },
    ...(options.open?.auth ? { auth: options.open.auth } : {}),
    ...(options.open?.env ? { env: options.open.env } : {}),
  });
  for (const crawl of options.crawls ?? []) crawler.start(crawl, options.crawlEveryMs);
  const vulnerabilities = options.vulnerabilities;
  const rematch = vulnerabilities ? () => rematchStored(storage, vulnerabilities) : undefined;
  // Reports stored before this database (or by a worker with an older one) are matched anew.
  const rematching = rematch?.().catch(() => undefined);
  const snapshots = setInterval(
    () => void takeSnapshot(storage).catch(() => undefined),
    options.snapshotEveryMs ?? 3_600_000,
  );
  snapshots.unref();
  const harbor = options.harborKey
    ? harborRoutes({
        apiKey: options.harborKey,
        storage,
        context,
        allowRegistries: options.allowRegistries,
        vulnDbUpdatedAt: () => vulnerabilities?.builtAt?.toISOString(),
      })
    : undefined;
  const server = createApp({
    storage,
    queue,
    ...(options.token ? { token: options.token } : {}),
    ...(options.allowRegistries ? { allowRegistries: options.allowRegistries } : {}),
    ...(options.hosts ? { hosts: options.hosts } : {}),
    ...(options.writesPerMinute ? { writesPerMinute: options.writesPerMinute } : {}),
    ...(options.workloads ? { workloads: options.workloads } : {}),
    crawler,
    ...(rematch ? { rematch } : {}),
    ...(harbor ? { routes: harbor.routes } : {}),
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
      clearInterval(snapshots);
      await crawler.close();
      await rematching;
      // The embedded queue finishes its scans; a database's queue lets its workers go on.
      await (queue.close ? queue.close() : queue.idle());
      await harbor?.idle();
      await storage.close();
    },
  };
}

export const defaultDataDir = (cacheRoot: string): string => join(cacheRoot, 'server');
