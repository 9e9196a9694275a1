import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { fail } from '../core/errors.js';
import type { Report } from '../core/report.js';
import { countBySeverity, type VULN_SEVERITIES } from '../core/vulnerability.js';
import { recommend } from '../recommend/index.js';
import { parseReference } from '../sources/registry/reference.js';
import { TOOL } from '../version.js';

/**
 * Where `serve` keeps reports: an asynchronous interface with two implementations, SQLite (one
 * file in the data directory, nothing to install) and PostgreSQL (src/fleet, for servers and
 * workers on many machines). Reports are stored whole (JSON) with the summary the lists, the
 * history and the fleet view need; the fleet is the set of references seen (crawled, running in
 * a cluster, listed or scanned), each pointing at a digest whose latest scan describes it.
 */
export interface StoredScan {
  readonly id: string;
  /** The image name without tag or digest: what the history groups by. */
  readonly repository: string;
  readonly reference: string;
  /** The manifest digest scanned (the content key of the fleet). */
  readonly digest?: string;
  readonly createdAt: string;
  readonly grade: string;
  readonly score: number;
  readonly classification: string;
  readonly sizeBytes: number;
  readonly packages: number;
  readonly vulnerabilities: Readonly<Record<(typeof VULN_SEVERITIES)[number], number>>;
  readonly shells?: number;
  readonly packageManagers?: number;
  readonly setuid?: number;
  /** What a move to recommend's first candidate removes (its estimate or measure of the base). */
  readonly move?: { readonly to: string; readonly bytes: number; readonly packages: number };
}

export interface SaveOptions {
  /** The job's id: a retried job stores its report once, and gets the first one's id back. */
  readonly jobKey?: string;
  /** The manifest digest the job was for (a tag's digest as the registry listed it). */
  readonly digest?: string;
  /** The vulnerability database the report was matched with (its build time), for re-matching. */
  readonly vulnDb?: string;
}

/** Where a reference of the fleet was seen. */
export type TagSource = 'crawl' | 'workload' | 'list' | 'scan';

export interface FleetTag {
  readonly reference: string;
  readonly digest: string;
  readonly source: TagSource;
  /** Seen running in a cluster or manifests (the workloads reader). */
  readonly running?: boolean;
}

/** A reference of the fleet with the latest scan of its digest (none yet: queued or failed). */
export interface FleetRow {
  readonly reference: string;
  readonly repository: string;
  readonly digest: string;
  readonly running: boolean;
  readonly scan?: StoredScan;
}

/** What one re-match of stored reports against a new vulnerability database changed. */
export interface RematchRecord {
  readonly at: string;
  readonly vulnDb: string;
  readonly scans: number;
  readonly changed: readonly {
    readonly id: string;
    readonly reference: string;
    readonly added: number;
    readonly removed: number;
  }[];
}

export interface Storage {
  saveReport(report: Report, options?: SaveOptions): Promise<StoredScan>;
  getReport(id: string): Promise<Report | undefined>;
  getScan(id: string): Promise<StoredScan | undefined>;
  /** The latest scan of every repository, with how many scans it has. */
  listImages(): Promise<(StoredScan & { readonly scans: number })[]>;
  /** The scans of one repository, oldest first. */
  history(repository: string): Promise<StoredScan[]>;
  /** Deletes one scan; false when there was none. */
  deleteScan(id: string): Promise<boolean>;
  /** The latest scan of a manifest digest. */
  findByDigest(digest: string): Promise<StoredScan | undefined>;
  /** Records references of the fleet and their digests (a reference seen again moves to its new digest). */
  recordTags(tags: readonly FleetTag[]): Promise<void>;
  fleetRows(): Promise<FleetRow[]>;
  saveSnapshot(figures: object, at?: Date): Promise<void>;
  /** Newest last. */
  snapshots(limit: number): Promise<{ readonly takenAt: string; readonly figures: unknown }[]>;
  /** Ids of scans matched with another vulnerability database than `vulnDb` (at most `limit`). */
  staleScans(vulnDb: string, limit: number): Promise<string[]>;
  /** Replaces a scan's report after a re-match (same id, same time of scan). */
  updateReport(id: string, report: Report, vulnDb: string): Promise<void>;
  saveRematch(record: RematchRecord): Promise<void>;
  lastRematch(): Promise<RematchRecord | undefined>;
  close(): Promise<void>;
}

/** `registry/name:tag@digest` → `registry/name`, as the registry reference parser reads it. */
export function repositoryOf(reference: string): string {
  const ref = parseReference(reference);
  return `${ref.registry}/${ref.repository}`;
}

export function summarize(id: string, report: Report, digest?: string): StoredScan {
  const reference = report.target.reference ?? report.target.input;
  const manifest = digest ?? report.target.manifestDigest;
  const candidate = recommend(report, TOOL).candidates[0];
  return {
    id,
    repository: repositoryOf(reference),
    reference,
    ...(manifest ? { digest: manifest } : {}),
    createdAt: report.createdAt,
    grade: report.score.grade,
    score: report.score.value,
    classification: report.os.classification,
    sizeBytes: report.size.uncompressed,
    packages: report.packages.length,
    vulnerabilities: countBySeverity(report.vulnerabilities),
    shells: report.surface.shells.length,
    packageManagers: report.surface.packageManagers.length,
    setuid: report.surface.setuid.length,
    ...(candidate
      ? {
          move: {
            to: candidate.ref,
            bytes: Math.max(0, report.size.uncompressed - candidate.base.sizeBytes),
            packages: Math.max(0, report.packages.length - candidate.base.packages),
          },
        }
      : {}),
  };
}

/**
 * SQLite's schema, by `user_version`: 1 is the first release's scans table, 2 adds the fleet
 * (content keys, tags, snapshots, re-matches). Each step runs once, in a transaction.
 */
const SQLITE_MIGRATIONS: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS scans(
  id TEXT PRIMARY KEY, repository TEXT NOT NULL, created_at TEXT NOT NULL, summary TEXT NOT NULL, report TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS scans_repository ON scans(repository, created_at);`,
  `ALTER TABLE scans ADD COLUMN job_key TEXT;
ALTER TABLE scans ADD COLUMN digest TEXT;
ALTER TABLE scans ADD COLUMN vuln_db TEXT;
CREATE UNIQUE INDEX scans_job_key ON scans(job_key);
CREATE INDEX scans_digest ON scans(digest, created_at);
CREATE TABLE tags(reference TEXT PRIMARY KEY, repository TEXT NOT NULL, digest TEXT NOT NULL, source TEXT NOT NULL,
  running INTEGER NOT NULL DEFAULT 0, seen_at TEXT NOT NULL);
CREATE INDEX tags_digest ON tags(digest);
CREATE TABLE snapshots(taken_at TEXT PRIMARY KEY, figures TEXT NOT NULL);
CREATE TABLE rematches(at TEXT PRIMARY KEY, vuln_db TEXT NOT NULL, scans INTEGER NOT NULL, changed TEXT NOT NULL);`,
];

type Row = Record<string, unknown>;
const parse = <T>(text: unknown): T => JSON.parse(String(text)) as T;

export class SqliteStorage implements Storage {
  private readonly db: Database.Database;

  constructor(dataDir: string) {
    mkdirSync(dataDir, { recursive: true });
    const Sqlite = createRequire(import.meta.url)('better-sqlite3') as typeof Database;
    this.db = new Sqlite(join(dataDir, 'distrolens.db'));
    // WAL: the UI reads while a scan's report is written.
    this.db.pragma('journal_mode = WAL');
    let version = this.db.pragma('user_version', { simple: true }) as number;
    // The first release kept its table at user_version 0.
    if (version === 0 && this.db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'scans'").get()) version = 1;
    if (version > SQLITE_MIGRATIONS.length)
      throw fail(
        'E_DATABASE',
        `${join(dataDir, 'distrolens.db')} has schema version ${version}, newer than this distrolens knows`,
        'upgrade distrolens, or give another --data directory',
      );
    SQLITE_MIGRATIONS.forEach((sql, i) => {
      if (i >= version)
        this.db.transaction(() => {
          this.db.exec(sql);
          this.db.pragma(`user_version = ${i + 1}`);
        })();
    });
  }

  async saveReport(report: Report, options: SaveOptions = {}): Promise<StoredScan> {
    if (options.jobKey) {
      const row = this.db.prepare('SELECT summary FROM scans WHERE job_key = ?').get(options.jobKey) as Row | undefined;
      if (row) return parse<StoredScan>(row.summary);
    }
    const scan = summarize(randomUUID(), report, options.digest);
    this.db
      .prepare(
        'INSERT INTO scans(id, repository, created_at, summary, report, job_key, digest, vuln_db) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(
        scan.id,
        scan.repository,
        scan.createdAt,
        JSON.stringify(scan),
        JSON.stringify(report),
        options.jobKey ?? null,
        scan.digest ?? null,
        options.vulnDb ?? null,
      );
    return scan;
  }

  async getReport(id: string): Promise<Report | undefined> {
    const row = this.db.prepare('SELECT report FROM scans WHERE id = ?').get(id) as Row | undefined;
    return row ? parse<Report>(row.report) : undefined;
  }

  async getScan(id: string): Promise<StoredScan | undefined> {
    const row = this.db.prepare('SELECT summary FROM scans WHERE id = ?').get(id) as Row | undefined;
    return row ? parse<StoredScan>(row.summary) : undefined;
  }

  async listImages(): Promise<(StoredScan & { scans: number })[]> {
    const rows = this.db
      .prepare(
        `SELECT s.summary, c.n FROM scans s JOIN (SELECT repository, max(created_at) AS latest, count(*) AS n FROM scans GROUP BY repository) c
      ON c.repository = s.repository AND c.latest = s.created_at GROUP BY s.repository ORDER BY s.repository`,
      )
      .all() as Row[];
    return rows.map((r) => ({ ...parse<StoredScan>(r.summary), scans: Number(r.n) }));
  }

  async history(repository: string): Promise<StoredScan[]> {
    return (
      this.db.prepare('SELECT summary FROM scans WHERE repository = ? ORDER BY created_at, id').all(repository) as Row[]
    ).map((r) => parse<StoredScan>(r.summary));
  }

  async deleteScan(id: string): Promise<boolean> {
    return this.db.prepare('DELETE FROM scans WHERE id = ?').run(id).changes > 0;
  }

  async findByDigest(digest: string): Promise<StoredScan | undefined> {
    const row = this.db
      .prepare('SELECT summary FROM scans WHERE digest = ? ORDER BY created_at DESC LIMIT 1')
      .get(digest) as Row | undefined;
    return row ? parse<StoredScan>(row.summary) : undefined;
  }

  async recordTags(tags: readonly FleetTag[]): Promise<void> {
    const now = new Date().toISOString();
    const upsert = this.db.prepare(
      `INSERT INTO tags(reference, repository, digest, source, running, seen_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT(reference) DO UPDATE SET digest = excluded.digest, seen_at = excluded.seen_at,
         running = max(tags.running, excluded.running)`,
    );
    this.db.transaction(() => {
      for (const t of tags)
        upsert.run(t.reference, repositoryOf(t.reference), t.digest, t.source, t.running ? 1 : 0, now);
    })();
  }

  async fleetRows(): Promise<FleetRow[]> {
    const rows = this.db
      .prepare(
        `SELECT t.reference, t.repository, t.digest, t.running,
          (SELECT summary FROM scans s WHERE s.digest = t.digest ORDER BY created_at DESC LIMIT 1) AS summary
         FROM tags t ORDER BY t.reference`,
      )
      .all() as Row[];
    return rows.map((r) => ({
      reference: String(r.reference),
      repository: String(r.repository),
      digest: String(r.digest),
      running: Boolean(r.running),
      ...(r.summary ? { scan: parse<StoredScan>(r.summary) } : {}),
    }));
  }

  async saveSnapshot(figures: object, at = new Date()): Promise<void> {
    this.db
      .prepare('INSERT OR REPLACE INTO snapshots(taken_at, figures) VALUES (?, ?)')
      .run(at.toISOString(), JSON.stringify(figures));
  }

  async snapshots(limit: number): Promise<{ takenAt: string; figures: unknown }[]> {
    const rows = this.db
      .prepare('SELECT taken_at, figures FROM snapshots ORDER BY taken_at DESC LIMIT ?')
      .all(limit) as Row[];
    return rows.reverse().map((r) => ({ takenAt: String(r.taken_at), figures: parse(r.figures) }));
  }

  async staleScans(vulnDb: string, limit: number): Promise<string[]> {
    return (
      this.db
        .prepare('SELECT id FROM scans WHERE vuln_db IS NULL OR vuln_db <> ? ORDER BY created_at LIMIT ?')
        .all(vulnDb, limit) as Row[]
    ).map((r) => String(r.id));
  }

  async updateReport(id: string, report: Report, vulnDb: string): Promise<void> {
    const old = await this.getScan(id);
    const scan = { ...summarize(id, report, old?.digest), createdAt: old?.createdAt ?? report.createdAt };
    this.db
      .prepare('UPDATE scans SET summary = ?, report = ?, vuln_db = ? WHERE id = ?')
      .run(JSON.stringify(scan), JSON.stringify(report), vulnDb, id);
  }

  async saveRematch(record: RematchRecord): Promise<void> {
    this.db
      .prepare('INSERT OR REPLACE INTO rematches(at, vuln_db, scans, changed) VALUES (?, ?, ?, ?)')
      .run(record.at, record.vulnDb, record.scans, JSON.stringify(record.changed));
  }

  async lastRematch(): Promise<RematchRecord | undefined> {
    const row = this.db.prepare('SELECT * FROM rematches ORDER BY at DESC LIMIT 1').get() as Row | undefined;
    return row
      ? { at: String(row.at), vulnDb: String(row.vuln_db), scans: Number(row.scans), changed: parse(row.changed) }
      : undefined;
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
