import type { Storage } from '../server/storage.js';
import type { JobRunner, ScanQueue } from '../server/queue.js';
import { databaseError, migrate, openPool } from './database.js';
import { createBoss, PgBossQueue, startBoss } from './queue.js';
import { PostgresStorage } from './storage.js';

export { startWorker, type RunningWorker, type WorkerOptions } from './worker.js';
export { migrate, openPool, MIGRATIONS, SCHEMA_VERSION } from './database.js';

/** What `serve --database` runs on: PostgreSQL storage and the pg-boss queue (jobs go to workers). */
export interface FleetEngine {
  readonly storage: Storage;
  readonly queue: (run: JobRunner) => ScanQueue;
  close(): Promise<void>;
}

export async function openFleetEngine(url: string, jobTimeoutMs: number): Promise<FleetEngine> {
  const pool = openPool(url);
  try {
    await migrate(pool);
    const boss = createBoss(url, 4);
    await startBoss(boss, jobTimeoutMs);
    const queue = new PgBossQueue(boss, pool);
    return {
      storage: new PostgresStorage(pool),
      // The server sends; workers run the jobs (the runner is theirs).
      queue: () => queue,
      close: async () => {
        await queue.close().catch(() => undefined);
        await pool.end();
      },
    };
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw (error as { code?: string }).code?.startsWith('E_') ? error : databaseError(url, error);
  }
}
