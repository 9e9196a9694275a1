import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type PgBoss from 'pg-boss';
import pg from 'pg';
import { isDistrolensError, type ErrorCode } from '../core/errors.js';
import { BlobCache } from '../cache/blobs.js';
import type { VulnScanOptions } from '../scan/scan.js';
import type { OpenOptions } from '../sources/index.js';
import type { RegistryGate } from '../sources/registry/client.js';
import { parseReference } from '../sources/registry/reference.js';
import { runScanJob, type JobContext } from '../server/job.js';
import { DEFAULT_JOB_TIMEOUT_MS, jobError, type JobOrder, type ScanRequest } from '../server/queue.js';
import { sleep } from '../util/concurrency.js';
import { databaseError, migrate, openPool, type Pool } from './database.js';
import { createBoss, NOTIFY_CHANNEL, PGBOSS_SCHEMA, SCAN_QUEUE, startBoss } from './queue.js';
import { PostgresStorage } from './storage.js';

/**
 * `distrolens worker`: takes scan jobs from the fleet's pg-boss queue, on any number of machines.
 * Besides pg-boss's own guarantees (SKIP LOCKED, retries with backoff), a worker
 * - beats a heartbeat every 5 s and fails, for a retry, the jobs of any worker whose heart stopped
 *   for 30 s (a `kill -9`, a lost machine): a dead worker's job runs again within a minute,
 *   where pg-boss alone would wait for the job's whole budget;
 * - holds one of a registry's slots (a PostgreSQL advisory lock, freed with its connection) while
 *   it pulls from it: at most `registryConcurrency` pulls per registry across the fleet;
 * - shares each registry's 429 budget through PostgreSQL: when one worker is told to wait, all do;
 * - wakes on NOTIFY when the server sends a job, and takes the next job at once after one ends.
 */
export interface WorkerOptions {
  readonly database: string;
  readonly concurrency: number;
  readonly cacheDir: string;
  readonly open?: Omit<OpenOptions, 'cache' | 'onDownload' | 'signal' | 'gate'>;
  /** The vulnerability database as of now (reopened by the caller when it changes). */
  readonly vulnerabilities?: () => VulnScanOptions | undefined;
  /** Pulls at once per registry across all workers (default 4). */
  readonly registryConcurrency?: number;
  readonly jobTimeoutMs?: number;
  readonly heartbeatMs?: number;
  /** A worker whose heartbeat is older than this is dead. */
  readonly deadAfterMs?: number;
  readonly log?: (line: string) => void;
}

export interface RunningWorker {
  readonly id: string;
  /** Jobs this worker finished (done or failed for good). */
  readonly processed: () => number;
  stop(): Promise<void>;
}

/** Failures that another try may not see: retried by pg-boss. Others end the job as failed. */
const TRANSIENT: ReadonlySet<ErrorCode> = new Set([
  'E_NETWORK',
  'E_REGISTRY_RATE_LIMITED',
  'E_REGISTRY_ERROR',
  'E_TIMEOUT',
  'E_DATABASE',
  'E_BLOB_TRUNCATED',
]);
const isTransient = (error: unknown): boolean => !isDistrolensError(error) || TRANSIENT.has(error.code);

/**
 * A registry's shared 429 budget, in `distrolens.registry_budget`. What the table says is kept for
 * a second per registry (a pull makes a handful of requests; asking PostgreSQL before each one cost
 * more than the rest of a small job's queries): another worker's 429 is seen within that second,
 * this worker's own at once.
 */
export class PgRegistryGate implements RegistryGate {
  readonly #known = new Map<string, { notBefore: number; checkedAt: number }>();

  constructor(
    private readonly pool: Pool,
    private readonly freshMs = 1_000,
  ) {}

  async #notBefore(registry: string): Promise<number> {
    const known = this.#known.get(registry);
    if (known && Date.now() - known.checkedAt < this.freshMs) return known.notBefore;
    const { rows } = await this.pool.query<{ ms: number | null }>(
      `SELECT (extract(epoch FROM not_before - now()) * 1000)::float8 AS ms FROM distrolens.registry_budget WHERE registry = $1`,
      [registry],
    );
    const notBefore = Date.now() + Math.max(0, rows[0]?.ms ?? 0);
    this.#known.set(registry, { notBefore, checkedAt: Date.now() });
    return notBefore;
  }

  async wait(registry: string, signal?: AbortSignal): Promise<void> {
    for (
      let ms = (await this.#notBefore(registry)) - Date.now();
      ms > 0;
      ms = (await this.#notBefore(registry)) - Date.now()
    )
      await sleep(Math.min(ms, 5_000), signal);
  }

  async throttled(registry: string, retryAfterMs: number): Promise<void> {
    const ms = Math.min(retryAfterMs, 3_600_000);
    this.#known.set(registry, { notBefore: Date.now() + ms, checkedAt: Date.now() });
    await this.pool.query(
      `INSERT INTO distrolens.registry_budget(registry, not_before) VALUES ($1, now() + $2 * interval '1 millisecond')
       ON CONFLICT (registry) DO UPDATE SET not_before = greatest(distrolens.registry_budget.not_before, excluded.not_before)`,
      [registry, ms],
    );
  }
}

/** Takes one of `limit` slots of a registry; resolves with the release. */
async function registrySlot(pool: Pool, registry: string, limit: number, signal: AbortSignal): Promise<() => void> {
  for (let wait = 100; ; wait = Math.min(wait * 2, 2_000)) {
    const client = await pool.connect();
    // Held for the whole pull: a restart of PostgreSQL ends it (and frees the lock), which is no crash.
    const ignore = () => undefined;
    client.on('error', ignore);
    for (let slot = 0; slot < limit; slot++) {
      const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtext($1), $2) AS ok', [
        `registry:${registry}`,
        slot,
      ]);
      if (rows[0]?.ok)
        return () => {
          void client
            .query('SELECT pg_advisory_unlock(hashtext($1), $2)', [`registry:${registry}`, slot])
            .then(
              () => client.release(),
              (error: Error) => client.release(error),
            )
            .finally(() => client.off('error', ignore));
        };
    }
    client.off('error', ignore);
    client.release();
    await sleep(wait, signal);
  }
}

export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  const log = options.log ?? (() => undefined);
  const concurrency = options.concurrency;
  const timeoutMs = options.jobTimeoutMs ?? DEFAULT_JOB_TIMEOUT_MS;
  const heartbeatMs = options.heartbeatMs ?? 5_000;
  const deadAfterMs = options.deadAfterMs ?? 30_000;
  const pool = openPool(options.database, concurrency * 2 + 4);
  let boss = createBoss(options.database, concurrency + 2);
  // A worker started while PostgreSQL restarts (or before it is up) waits for it, up to a minute.
  for (let attempt = 1; ; attempt++) {
    try {
      await migrate(pool);
      await startBoss(boss, timeoutMs);
      break;
    } catch (error) {
      if (isDistrolensError(error) || attempt >= 30) {
        await pool.end().catch(() => undefined);
        throw isDistrolensError(error) ? error : databaseError(options.database, error);
      }
      await boss.stop({ graceful: false, wait: true }).catch(() => undefined);
      boss = createBoss(options.database, concurrency + 2);
      await sleep(2_000);
    }
  }
  const id = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  await pool.query(
    `INSERT INTO distrolens.workers(id, host, pid, started_at, seen_at) VALUES ($1, $2, $3, now(), now())`,
    [id, hostname(), process.pid],
  );
  // pg-boss completes and fails jobs without awaiting it: when PostgreSQL is restarting, that
  // promise rejects with nobody to catch it. Logged, not fatal: the orphan sweep above retries the job.
  const unhandled = (reason: unknown) => log(`database call failed: ${(reason as Error).message ?? String(reason)}`);
  process.on('unhandledRejection', unhandled);
  const storage = new PostgresStorage(pool);
  const cache = new BlobCache(options.cacheDir);
  const gate = new PgRegistryGate(pool);
  const stop = new AbortController();
  let processed = 0;
  const inHand = new Set<string>();

  const heartbeat = setInterval(() => {
    void (async () => {
      await pool.query('UPDATE distrolens.workers SET seen_at = now() WHERE id = $1', [id]);
      // Own rows of jobs no longer in hand (their removal was lost to a restart) make them orphans.
      await pool.query('DELETE FROM distrolens.job_owners WHERE worker_id = $1 AND NOT (job_id = ANY($2::uuid[]))', [
        id,
        [...inHand],
      ]);
      // Jobs held by workers whose heart stopped go back to the queue (pg-boss retries them).
      const { rows } = await pool.query<{ job_id: string }>(
        `DELETE FROM distrolens.job_owners o WHERE NOT EXISTS (
           SELECT 1 FROM distrolens.workers w WHERE w.id = o.worker_id AND w.seen_at > now() - $1 * interval '1 millisecond')
         RETURNING job_id`,
        [deadAfterMs],
      );
      // Jobs pg-boss holds active that no worker owns: their completion was lost (PostgreSQL
      // restarted as it was sent). Retried, they find their stored report by the job's key.
      const orphans = await pool.query<{ job_id: string }>(
        `SELECT id AS job_id FROM ${PGBOSS_SCHEMA}.job j WHERE name = $1 AND state = 'active'
           AND started_on < now() - $2 * interval '1 millisecond'
           AND NOT EXISTS (SELECT 1 FROM distrolens.job_owners o WHERE o.job_id = j.id)`,
        [SCAN_QUEUE, deadAfterMs],
      );
      for (const r of [...rows, ...orphans.rows]) {
        await boss.fail(SCAN_QUEUE, r.job_id, { code: 'E_INTERNAL', message: 'the worker running this scan stopped' });
        log(`job ${r.job_id}: its worker stopped; queued again`);
      }
      await pool.query(`DELETE FROM distrolens.workers WHERE seen_at < now() - $1 * interval '1 millisecond'`, [
        deadAfterMs * 10,
      ]);
    })().catch(() => undefined);
  }, heartbeatMs);

  // NOTIFY on every send: idle workers start at once. The listener reconnects after a restart.
  const workIds: string[] = [];
  let listener: pg.Client | undefined;
  const listen = async (): Promise<void> => {
    if (stop.signal.aborted) return;
    const client = new pg.Client({ connectionString: options.database });
    client.on('error', () => undefined);
    client.on('end', () => {
      listener = undefined;
      if (!stop.signal.aborted) setTimeout(() => void listen().catch(() => undefined), 1_000).unref();
    });
    client.on('notification', () => workIds.forEach((w) => boss.notifyWorker(w)));
    try {
      await client.connect();
      await client.query(`LISTEN ${NOTIFY_CHANNEL}`);
      listener = client;
    } catch {
      await client.end().catch(() => undefined);
    }
  };
  await listen();

  const context = (): JobContext => {
    const vulnerabilities = options.vulnerabilities?.();
    return {
      storage,
      cache,
      cacheDir: options.cacheDir,
      open: { ...options.open, gate },
      ...(vulnerabilities ? { vulnerabilities } : {}),
    };
  };

  const handle = async (job: PgBoss.Job<ScanRequest>): Promise<object> => {
    const order: JobOrder = { ...job.data, jobId: job.id };
    inHand.add(job.id);
    await pool.query(
      `INSERT INTO distrolens.job_owners(job_id, worker_id, started_at) VALUES ($1, $2, now())
       ON CONFLICT (job_id) DO UPDATE SET worker_id = excluded.worker_id, started_at = now(), phase = 'starting', bytes = 0`,
      [job.id, id],
    );
    const signal = AbortSignal.any([stop.signal, AbortSignal.timeout(timeoutMs)]);
    const release = await registrySlot(
      pool,
      parseReference(order.reference).registry,
      options.registryConcurrency ?? 4,
      signal,
    );
    let last = 0;
    try {
      const scanId = await runScanJob(
        order,
        context(),
        (phase, bytes, total) => {
          const now = Date.now();
          if (now - last < 1_000) return;
          last = now;
          void pool
            .query('UPDATE distrolens.job_owners SET phase = $2, bytes = $3, total = $4 WHERE job_id = $1', [
              job.id,
              phase,
              bytes ?? 0,
              total ?? null,
            ])
            .catch(() => undefined);
        },
        signal,
      );
      processed++;
      return { scanId };
    } catch (error) {
      // A stopping worker gives its job back: pg-boss retries it elsewhere. pg-boss stores what is
      // thrown as the job's output: a plain object keeps that to code, message and hint (no stack).
      // eslint-disable-next-line @typescript-eslint/only-throw-error
      if (isTransient(error) || stop.signal.aborted) throw jobError(error);
      processed++;
      return { error: jobError(error) };
    } finally {
      release();
      inHand.delete(job.id);
      await pool.query('DELETE FROM distrolens.job_owners WHERE job_id = $1', [job.id]).catch(() => undefined);
    }
  };

  for (let i = 0; i < concurrency; i++) {
    let workId = '';
    workId = await boss.work<ScanRequest>(SCAN_QUEUE, { batchSize: 1, pollingIntervalSeconds: 1 }, async ([job]) => {
      try {
        return job ? await handle(job) : undefined;
      } finally {
        // More work may wait: fetch again now rather than after the polling interval.
        boss.notifyWorker(workId);
      }
    });
    workIds.push(workId);
  }
  log(`distrolens worker ${id}: ${concurrency} at once`);

  return {
    id,
    processed: () => processed,
    stop: async () => {
      stop.abort();
      process.off('unhandledRejection', unhandled);
      clearInterval(heartbeat);
      await boss.stop({ graceful: true, wait: true, timeout: 10_000 }).catch(() => undefined);
      await listener?.end().catch(() => undefined);
      await pool.query('DELETE FROM distrolens.workers WHERE id = $1', [id]).catch(() => undefined);
      await pool.end();
    },
  };
}
