import { randomUUID } from 'node:crypto';
import type { Report } from '../core/report.js';
import {
  repositoryOf,
  summarize,
  type FleetRow,
  type FleetTag,
  type RematchRecord,
  type SaveOptions,
  type Storage,
  type StoredScan,
} from '../server/storage.js';
import type { Pool } from './database.js';

/**
 * The server's storage on PostgreSQL: the same interface as SQLite, shared by every server and
 * worker. Reports are jsonb; a job's key is unique, so a retried job (its worker died after
 * storing) finds its report instead of storing a second one.
 */
export class PostgresStorage implements Storage {
  constructor(private readonly pool: Pool) {}

  async saveReport(report: Report, options: SaveOptions = {}): Promise<StoredScan> {
    const scan = summarize(randomUUID(), report, options.digest);
    const { rows } = await this.pool.query<{ summary: StoredScan }>(
      `INSERT INTO distrolens.scans(id, job_key, digest, repository, reference, created_at, vuln_db, summary, report)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (job_key) DO NOTHING RETURNING summary`,
      [
        scan.id,
        options.jobKey ?? null,
        scan.digest ?? null,
        scan.repository,
        scan.reference,
        scan.createdAt,
        options.vulnDb ?? null,
        scan,
        report,
      ],
    );
    if (rows[0]) return rows[0].summary;
    const existing = await this.pool.query<{ summary: StoredScan }>(
      'SELECT summary FROM distrolens.scans WHERE job_key = $1',
      [options.jobKey],
    );
    return existing.rows[0]!.summary;
  }

  async getReport(id: string): Promise<Report | undefined> {
    if (!isUuid(id)) return undefined;
    const { rows } = await this.pool.query<{ report: Report }>('SELECT report FROM distrolens.scans WHERE id = $1', [
      id,
    ]);
    return rows[0]?.report;
  }

  async getScan(id: string): Promise<StoredScan | undefined> {
    if (!isUuid(id)) return undefined;
    const { rows } = await this.pool.query<{ summary: StoredScan }>(
      'SELECT summary FROM distrolens.scans WHERE id = $1',
      [id],
    );
    return rows[0]?.summary;
  }

  async listImages(): Promise<(StoredScan & { scans: number })[]> {
    const { rows } = await this.pool.query<{ summary: StoredScan; n: string }>(
      `SELECT DISTINCT ON (repository) summary, count(*) OVER (PARTITION BY repository) AS n
       FROM distrolens.scans ORDER BY repository, created_at DESC, id`,
    );
    return rows.map((r) => ({ ...r.summary, scans: Number(r.n) }));
  }

  async history(repository: string): Promise<StoredScan[]> {
    const { rows } = await this.pool.query<{ summary: StoredScan }>(
      'SELECT summary FROM distrolens.scans WHERE repository = $1 ORDER BY created_at, id',
      [repository],
    );
    return rows.map((r) => r.summary);
  }

  async deleteScan(id: string): Promise<boolean> {
    if (!isUuid(id)) return false;
    return ((await this.pool.query('DELETE FROM distrolens.scans WHERE id = $1', [id])).rowCount ?? 0) > 0;
  }

  async findByDigest(digest: string): Promise<StoredScan | undefined> {
    const { rows } = await this.pool.query<{ summary: StoredScan }>(
      'SELECT summary FROM distrolens.scans WHERE digest = $1 ORDER BY created_at DESC LIMIT 1',
      [digest],
    );
    return rows[0]?.summary;
  }

  async recordTags(tags: readonly FleetTag[]): Promise<void> {
    if (!tags.length) return;
    await this.pool.query(
      `INSERT INTO distrolens.tags(reference, repository, digest, source, running, seen_at)
       SELECT r, rep, d, s, run, now()
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::boolean[]) AS u(r, rep, d, s, run)
       ON CONFLICT (reference) DO UPDATE SET digest = excluded.digest, seen_at = excluded.seen_at,
         running = distrolens.tags.running OR excluded.running`,
      [
        tags.map((t) => t.reference),
        tags.map((t) => repositoryOf(t.reference)),
        tags.map((t) => t.digest),
        tags.map((t) => t.source),
        tags.map((t) => t.running ?? false),
      ],
    );
  }

  async fleetRows(): Promise<FleetRow[]> {
    const { rows } = await this.pool.query<{
      reference: string;
      repository: string;
      digest: string;
      running: boolean;
      summary: StoredScan | null;
    }>(
      `SELECT t.reference, t.repository, t.digest, t.running, s.summary
       FROM distrolens.tags t
       LEFT JOIN (SELECT DISTINCT ON (digest) digest, summary FROM distrolens.scans
                  WHERE digest IS NOT NULL ORDER BY digest, created_at DESC) s ON s.digest = t.digest
       ORDER BY t.reference`,
    );
    return rows.map((r) => ({
      reference: r.reference,
      repository: r.repository,
      digest: r.digest,
      running: r.running,
      ...(r.summary ? { scan: r.summary } : {}),
    }));
  }

  async saveSnapshot(figures: object, at = new Date()): Promise<void> {
    await this.pool.query(
      `INSERT INTO distrolens.snapshots(taken_at, figures) VALUES ($1, $2)
       ON CONFLICT (taken_at) DO UPDATE SET figures = excluded.figures`,
      [at, figures],
    );
  }

  async snapshots(limit: number): Promise<{ takenAt: string; figures: unknown }[]> {
    const { rows } = await this.pool.query<{ taken_at: Date; figures: unknown }>(
      'SELECT taken_at, figures FROM distrolens.snapshots ORDER BY taken_at DESC LIMIT $1',
      [limit],
    );
    return rows.reverse().map((r) => ({ takenAt: r.taken_at.toISOString(), figures: r.figures }));
  }

  async staleScans(vulnDb: string, limit: number): Promise<string[]> {
    const { rows } = await this.pool.query<{ id: string }>(
      `SELECT id FROM distrolens.scans WHERE vuln_db IS DISTINCT FROM $1 ORDER BY created_at LIMIT $2`,
      [vulnDb, limit],
    );
    return rows.map((r) => r.id);
  }

  async updateReport(id: string, report: Report, vulnDb: string): Promise<void> {
    const old = await this.getScan(id);
    const scan = { ...summarize(id, report, old?.digest), createdAt: old?.createdAt ?? report.createdAt };
    await this.pool.query('UPDATE distrolens.scans SET summary = $2, report = $3, vuln_db = $4 WHERE id = $1', [
      id,
      scan,
      report,
      vulnDb,
    ]);
  }

  async saveRematch(record: RematchRecord): Promise<void> {
    await this.pool.query(
      `INSERT INTO distrolens.rematches(at, vuln_db, scans, changed) VALUES ($1, $2, $3, $4)
       ON CONFLICT (at) DO NOTHING`,
      [record.at, record.vulnDb, record.scans, JSON.stringify(record.changed)],
    );
  }

  async lastRematch(): Promise<RematchRecord | undefined> {
    const { rows } = await this.pool.query<{
      at: Date;
      vuln_db: string;
      scans: number;
      changed: RematchRecord['changed'];
    }>('SELECT * FROM distrolens.rematches ORDER BY at DESC LIMIT 1');
    const r = rows[0];
    return r ? { at: r.at.toISOString(), vulnDb: r.vuln_db, scans: r.scans, changed: r.changed } : undefined;
  }

  /** The pool belongs to whoever opened it (the server or worker command). */
  async close(): Promise<void> {}
}

const isUuid = (id: string): boolean => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id);
