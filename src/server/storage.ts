import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import type { Report } from '../core/report.js';
import { countBySeverity, type VULN_SEVERITIES } from '../core/vulnerability.js';
import { parseReference } from '../sources/registry/reference.js';

/**
 * Where `serve` keeps reports: an asynchronous interface, so that PostgreSQL can follow, and its
 * SQLite implementation (one file in the data directory, nothing to install). Reports are stored
 * whole (JSON) with the few columns the lists and the history need.
 */
export interface StoredScan {
  readonly id: string;
  /** The image name without tag or digest: what the history groups by. */
  readonly repository: string;
  readonly reference: string;
  readonly createdAt: string;
  readonly grade: string;
  readonly score: number;
  readonly classification: string;
  readonly sizeBytes: number;
  readonly packages: number;
  readonly vulnerabilities: Readonly<Record<(typeof VULN_SEVERITIES)[number], number>>;
}

export interface Storage {
  saveReport(report: Report): Promise<StoredScan>;
  getReport(id: string): Promise<Report | undefined>;
  getScan(id: string): Promise<StoredScan | undefined>;
  /** The latest scan of every repository, with how many scans it has. */
  listImages(): Promise<(StoredScan & { readonly scans: number })[]>;
  /** The scans of one repository, oldest first. */
  history(repository: string): Promise<StoredScan[]>;
  /** Deletes one scan; false when there was none. */
  deleteScan(id: string): Promise<boolean>;
  close(): Promise<void>;
}

/** `registry/name:tag@digest` → `registry/name`, as the registry reference parser reads it. */
export function repositoryOf(reference: string): string {
  const ref = parseReference(reference);
  return `${ref.registry}/${ref.repository}`;
}

export function summarize(id: string, report: Report): StoredScan {
  const reference = report.target.reference ?? report.target.input;
  return {
    id,
    repository: repositoryOf(reference),
    reference,
    createdAt: report.createdAt,
    grade: report.score.grade,
    score: report.score.value,
    classification: report.os.classification,
    sizeBytes: report.size.uncompressed,
    packages: report.packages.length,
    vulnerabilities: countBySeverity(report.vulnerabilities),
  };
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS scans(
  id TEXT PRIMARY KEY, repository TEXT NOT NULL, created_at TEXT NOT NULL, summary TEXT NOT NULL, report TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS scans_repository ON scans(repository, created_at);
`;

export class SqliteStorage implements Storage {
  private readonly db: Database.Database;

  constructor(dataDir: string) {
    mkdirSync(dataDir, { recursive: true });
    const Sqlite = createRequire(import.meta.url)('better-sqlite3') as typeof Database;
    this.db = new Sqlite(join(dataDir, 'distrolens.db'));
    // WAL: the UI reads while a scan's report is written.
    this.db.pragma('journal_mode = WAL');
    this.db.exec(SCHEMA);
  }

  async saveReport(report: Report): Promise<StoredScan> {
    const scan = summarize(randomUUID(), report);
    this.db
      .prepare('INSERT INTO scans(id, repository, created_at, summary, report) VALUES (?, ?, ?, ?, ?)')
      .run(scan.id, scan.repository, scan.createdAt, JSON.stringify(scan), JSON.stringify(report));
    return scan;
  }

  async getReport(id: string): Promise<Report | undefined> {
    const row = this.db.prepare('SELECT report FROM scans WHERE id = ?').get(id) as { report: string } | undefined;
    return row ? (JSON.parse(row.report) as Report) : undefined;
  }

  async getScan(id: string): Promise<StoredScan | undefined> {
    const row = this.db.prepare('SELECT summary FROM scans WHERE id = ?').get(id) as { summary: string } | undefined;
    return row ? (JSON.parse(row.summary) as StoredScan) : undefined;
  }

  async listImages(): Promise<(StoredScan & { scans: number })[]> {
    const rows = this.db
      .prepare(
        `SELECT s.summary, c.n FROM scans s JOIN (SELECT repository, max(created_at) AS latest, count(*) AS n FROM scans GROUP BY repository) c
      ON c.repository = s.repository AND c.latest = s.created_at GROUP BY s.repository ORDER BY s.repository`,
      )
      .all() as { summary: string; n: number }[];
    return rows.map((r) => ({ ...(JSON.parse(r.summary) as StoredScan), scans: r.n }));
  }

  async history(repository: string): Promise<StoredScan[]> {
    return (
      this.db.prepare('SELECT summary FROM scans WHERE repository = ? ORDER BY created_at, id').all(repository) as {
        summary: string;
      }[]
    ).map((r) => JSON.parse(r.summary) as StoredScan);
  }

  async deleteScan(id: string): Promise<boolean> {
    return this.db.prepare('DELETE FROM scans WHERE id = ?').run(id).changes > 0;
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
