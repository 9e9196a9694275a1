import PgBoss from 'pg-boss';
import { fail } from '../core/errors.js';
import { isFinished, type Job, type JobState, type ScanQueue, type ScanRequest } from '../server/queue.js';
import type { Pool } from './database.js';

/**
 * The fleet's queue is pg-boss on the same PostgreSQL: jobs taken with SKIP LOCKED, retried with
 * backoff, one queued and one running job per manifest digest (the `stately` policy with the
 * digest as singleton key). The server only sends; `distrolens worker` processes take the jobs.
 * A send is followed by a NOTIFY so that idle workers start at once rather than at their next poll.
 */
export const SCAN_QUEUE = 'distrolens-scan';
export const NOTIFY_CHANNEL = 'distrolens_scan';
export const PGBOSS_SCHEMA = 'pgboss';

/** Retries of a job that failed for a reason that may pass (network, 429, a worker lost). */
export const RETRY_LIMIT = 6;

export function createBoss(url: string, max: number): PgBoss {
  const boss = new PgBoss({
    connectionString: url,
    schema: PGBOSS_SCHEMA,
    max,
    // Maintenance (expiry, archiving) runs often enough for a lost job to come back within a minute.
    maintenanceIntervalSeconds: 20,
    archiveCompletedAfterSeconds: 86_400,
  });
  // Connection errors surface as job retries and reconnects; nothing to crash on.
  boss.on('error', () => undefined);
  return boss;
}

/** Starts pg-boss (its own schema and migrations) and the scan queue. */
export async function startBoss(boss: PgBoss, jobTimeoutMs: number): Promise<void> {
  await boss.start();
  await boss.createQueue(SCAN_QUEUE, {
    name: SCAN_QUEUE,
    policy: 'stately',
    retryLimit: RETRY_LIMIT,
    retryDelay: 2,
    retryBackoff: true,
    // pg-boss's own budget for a running job: the scan's budget and a margin (the worker stops first).
    expireInSeconds: Math.ceil(jobTimeoutMs / 1000) + 60,
  });
}

const STATES: Record<string, JobState> = {
  created: 'queued',
  retry: 'queued',
  active: 'running',
  completed: 'done',
  cancelled: 'cancelled',
  failed: 'failed',
};

interface JobRow {
  id: string;
  state: string;
  data: ScanRequest;
  output: { scanId?: string; error?: Job['error']; code?: string; message?: string } | null;
  created_on: Date;
  phase: string | null;
  bytes: string | null;
  total: string | null;
}

function toJob(row: JobRow): Job {
  const output = row.output ?? {};
  const error =
    output.error ??
    (row.state === 'failed'
      ? {
          code: (output.code as NonNullable<Job['error']>['code'] | undefined) ?? 'E_INTERNAL',
          message: output.message ?? 'the scan failed',
        }
      : undefined);
  const state = row.state === 'completed' && output.error ? 'failed' : (STATES[row.state] ?? 'queued');
  return {
    ...row.data,
    id: row.id,
    state,
    submittedAt: row.created_on.toISOString(),
    bytes: Number(row.bytes ?? 0),
    ...(row.total ? { total: Number(row.total) } : {}),
    phase: row.phase ?? (state === 'running' ? 'starting' : state),
    ...(output.scanId ? { scanId: output.scanId } : {}),
    ...(error && state === 'failed' ? { error } : {}),
  };
}

const JOB_COLUMNS = `j.id, j.state::text AS state, j.data, j.output, j.created_on, o.phase, o.bytes, o.total`;
const FROM = (table: string) =>
  `FROM ${PGBOSS_SCHEMA}.${table} j LEFT JOIN distrolens.job_owners o ON o.job_id = j.id WHERE j.name = $1`;

export class PgBossQueue implements ScanQueue {
  constructor(
    private readonly boss: PgBoss,
    private readonly pool: Pool,
  ) {}

  async submit(request: ScanRequest): Promise<Job> {
    const id = await this.boss.send(SCAN_QUEUE, { ...request }, request.digest ? { singletonKey: request.digest } : {});
    if (!id) {
      // The digest is queued already: answer with that job.
      const { rows } = await this.pool.query<JobRow>(
        `SELECT ${JOB_COLUMNS} ${FROM('job')} AND j.singleton_key = $2 AND j.state < 'completed' ORDER BY j.created_on LIMIT 1`,
        [SCAN_QUEUE, request.digest],
      );
      if (!rows[0]) throw fail('E_BUSY', 'the scan queue refused the job', 'retry');
      return { ...toJob(rows[0]), deduplicated: true };
    }
    await this.pool.query(`NOTIFY ${NOTIFY_CHANNEL}`);
    return (await this.get(id))!;
  }

  async get(id: string): Promise<Job | undefined> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) return undefined;
    for (const table of ['job', 'archive']) {
      const { rows } = await this.pool.query<JobRow>(`SELECT ${JOB_COLUMNS} ${FROM(table)} AND j.id = $2`, [
        SCAN_QUEUE,
        id,
      ]);
      if (rows[0]) return toJob(rows[0]);
    }
    return undefined;
  }

  async list(): Promise<Job[]> {
    const { rows } = await this.pool.query<JobRow>(
      `SELECT ${JOB_COLUMNS} ${FROM('job')} ORDER BY j.created_on DESC LIMIT 200`,
      [SCAN_QUEUE],
    );
    return rows.map(toJob);
  }

  follow(id: string, listener: (job: Job) => void): () => void {
    let last = '';
    const timer = setInterval(() => {
      void this.get(id).then(
        (job) => {
          if (!job) return;
          const text = JSON.stringify(job);
          if (text !== last) listener(job);
          last = text;
          if (isFinished(job)) clearInterval(timer);
        },
        () => undefined,
      );
    }, 250);
    return () => clearInterval(timer);
  }

  async cancel(id: string): Promise<Job | undefined> {
    const job = await this.get(id);
    if (!job || isFinished(job)) return job;
    await this.boss.cancel(SCAN_QUEUE, id);
    return this.get(id);
  }

  async clearFinished(): Promise<number> {
    const { rows } = await this.pool.query<{ id: string }>(
      `SELECT id FROM ${PGBOSS_SCHEMA}.job WHERE name = $1 AND state >= 'completed'`,
      [SCAN_QUEUE],
    );
    if (rows.length)
      await this.boss.deleteJob(
        SCAN_QUEUE,
        rows.map((r) => r.id),
      );
    return rows.length;
  }

  /** Resolves when the fleet's queue holds no queued or running job. */
  async idle(): Promise<void> {
    for (;;) {
      const { rows } = await this.pool.query<{ n: string }>(
        `SELECT count(*) AS n FROM ${PGBOSS_SCHEMA}.job WHERE name = $1 AND state < 'completed'`,
        [SCAN_QUEUE],
      );
      if (Number(rows[0]?.n ?? 0) === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  async close(): Promise<void> {
    await this.boss.stop({ graceful: false, wait: true });
  }
}
