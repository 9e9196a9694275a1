import pg from 'pg';
import { fail } from '../core/errors.js';
import { redactText } from '../core/redact.js';

/**
 * The fleet's PostgreSQL: one connection pool per process, and the schema distrolens keeps there
 * (schema `distrolens`; pg-boss keeps its own in `pgboss`). Migrations are numbered, applied in
 * order inside one transaction under an advisory lock (two processes starting together apply each
 * once), and a database migrated by a newer distrolens is refused rather than misread.
 */
export type Pool = pg.Pool;

/** The advisory lock key of migrations (any constant; "dl" in ASCII). */
const MIGRATION_LOCK = 0x646c;

export interface Migration {
  readonly version: number;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `
CREATE TABLE distrolens.scans(
  id uuid PRIMARY KEY,
  -- a retried job stores its report once: its key is the job's id
  job_key text UNIQUE,
  digest text,
  repository text NOT NULL,
  reference text NOT NULL,
  created_at timestamptz NOT NULL,
  vuln_db text,
  summary jsonb NOT NULL,
  report jsonb NOT NULL);
CREATE INDEX scans_repository ON distrolens.scans(repository, created_at);
CREATE INDEX scans_digest ON distrolens.scans(digest, created_at);
-- what the fleet is: every reference seen (crawled, running, listed or scanned) and its digest
CREATE TABLE distrolens.tags(
  reference text PRIMARY KEY,
  repository text NOT NULL,
  digest text NOT NULL,
  source text NOT NULL,
  running boolean NOT NULL DEFAULT false,
  seen_at timestamptz NOT NULL);
CREATE INDEX tags_digest ON distrolens.tags(digest);
CREATE TABLE distrolens.snapshots(taken_at timestamptz PRIMARY KEY, figures jsonb NOT NULL);
-- liveness of workers, and which worker holds which job (a dead worker's jobs are failed for a retry)
CREATE TABLE distrolens.workers(id text PRIMARY KEY, host text NOT NULL, pid integer NOT NULL,
  started_at timestamptz NOT NULL, seen_at timestamptz NOT NULL);
CREATE TABLE distrolens.job_owners(job_id uuid PRIMARY KEY, worker_id text NOT NULL, started_at timestamptz NOT NULL,
  phase text NOT NULL DEFAULT 'starting', bytes bigint NOT NULL DEFAULT 0, total bigint);
-- a registry's 429 budget, shared by every worker
CREATE TABLE distrolens.registry_budget(registry text PRIMARY KEY, not_before timestamptz NOT NULL);
CREATE TABLE distrolens.rematches(at timestamptz PRIMARY KEY, vuln_db text NOT NULL, scans integer NOT NULL, changed jsonb NOT NULL);
`,
  },
];

export const SCHEMA_VERSION = MIGRATIONS.at(-1)!.version;

/** A pool for `url`; connection errors of idle clients are logged, not thrown (PostgreSQL restarting). */
export function openPool(url: string, max = 10): Pool {
  if (!/^postgres(ql)?:\/\//.test(url))
    throw fail('E_USAGE', `--database takes a postgres:// URL, not ${redactText(url)}`, 'postgres://user@host:5432/db');
  const pool = new pg.Pool({ connectionString: url, max, connectionTimeoutMillis: 10_000 });
  pool.on('error', () => undefined);
  return pool;
}

/** The catalogue error for a database that cannot be reached or used. */
export function databaseError(url: string, error: unknown): Error {
  const detail = (error as { code?: string; message?: string }).code ?? (error as Error).message;
  return fail(
    'E_DATABASE',
    `cannot use the database at ${redactText(url)} (${detail})`,
    'check that PostgreSQL runs there and the user may create schemas',
  );
}

/** Applies the migrations this database lacks; refuses one migrated by a newer distrolens. */
export async function migrate(pool: Pool, migrations: readonly Migration[] = MIGRATIONS): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query('CREATE SCHEMA IF NOT EXISTS distrolens');
    await client.query(
      'CREATE TABLE IF NOT EXISTS distrolens.migrations(version integer PRIMARY KEY, applied_at timestamptz NOT NULL)',
    );
    const { rows } = await client.query<{ v: number | null }>('SELECT max(version) AS v FROM distrolens.migrations');
    const current = rows[0]?.v ?? 0;
    const latest = migrations.at(-1)?.version ?? 0;
    if (current > latest)
      throw fail(
        'E_DATABASE',
        `the database has schema version ${current}, newer than this distrolens knows (${latest})`,
        'upgrade distrolens on this machine to the version the other servers and workers run',
      );
    for (const m of migrations.filter((m) => m.version > current)) {
      await client.query(m.sql);
      await client.query('INSERT INTO distrolens.migrations(version, applied_at) VALUES ($1, now())', [m.version]);
    }
    await client.query('COMMIT');
    return latest;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
