import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import type Database from 'better-sqlite3';
import { fail, isDistrolensError } from '../core/errors.js';
import { idsOf, ratingOfRecord, type Candidate, type Rating, type SourcedRecord, type VulnSource } from './match.js';
import type { OsvAffected, OsvRecord } from './osv.js';

/**
 * The local vulnerability database: one SQLite file built by `db update` and only read by scans.
 *
 *   advisories(rowid, id, source, record)     the record without its `affected` list (JSON)
 *   affected(ecosystem, name, entries)        per package, [advisory rowid, affected entry] pairs:
 *                                             one read per installed package, however many advisories
 *   ecosystems(ecosystem, advisories)         counts for `db status`
 *   ratings(id, rank, rating)                 the best rating any record gives an id or alias
 *   sources(name, location, kind, records, bytes, sha256, status)
 *   meta(key, value)                          schema version, build time
 *
 * A build writes a new file and is renamed over the old one when complete, so readers and a
 * failed update never see half a database.
 */
export const DB_SCHEMA_VERSION = 2;

/** better-sqlite3 is CommonJS and native: loaded on first use, not by every CLI start. */
let sqlite: typeof Database | undefined;
const openSqlite = (path: string, options?: Database.Options): Database.Database =>
  new (sqlite ??= createRequire(import.meta.url)('better-sqlite3') as typeof Database)(path, options);
export const DB_FILE_NAME = 'vulnerabilities.db';
const MAX_CACHED_RECORDS = 100_000;

const SCHEMA = `
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE sources(name TEXT PRIMARY KEY, location TEXT NOT NULL, kind TEXT, records INTEGER NOT NULL, bytes INTEGER, sha256 TEXT, status TEXT NOT NULL);
CREATE TABLE advisories(rowid INTEGER PRIMARY KEY, id TEXT NOT NULL, source TEXT NOT NULL, record TEXT NOT NULL);
CREATE TEMP TABLE affected_rows(ecosystem TEXT NOT NULL, name TEXT NOT NULL, advisory INTEGER NOT NULL, entry TEXT NOT NULL);
CREATE TABLE ratings(id TEXT PRIMARY KEY, rank INTEGER NOT NULL, rating TEXT NOT NULL) WITHOUT ROWID;
`;

export interface SourceStatus {
  readonly name: string;
  readonly location: string;
  readonly kind?: string;
  readonly records: number;
  readonly bytes?: number;
  readonly sha256?: string;
  /** ok, or missing (a mirror that does not carry this feed). */
  readonly status: string;
}

export interface DbStatus {
  readonly path: string;
  readonly schemaVersion: number;
  readonly builtAt: string;
  readonly advisories: number;
  readonly packages: number;
  readonly ecosystems: readonly { readonly ecosystem: string; readonly advisories: number }[];
  readonly sources: readonly SourceStatus[];
}

/** Writes a new database file; `finish()` indexes it and commits. */
export class DbBuilder {
  /** Open to the readers of other data kept in the same file (the maintenance tables). */
  readonly db: Database.Database;
  private readonly insertAdvisory: Database.Statement;
  private readonly insertAffected: Database.Statement;
  private readonly insertRating: Database.Statement;
  private readonly insertSource: Database.Statement;
  records = 0;
  /** Sources read successfully. */
  sources = 0;

  constructor(readonly path: string) {
    this.db = openSqlite(path);
    // A build is a bulk load into a file nobody reads yet: no journal, one transaction.
    this.db.pragma('journal_mode = OFF');
    this.db.pragma('synchronous = OFF');
    this.db.exec(SCHEMA);
    this.insertAdvisory = this.db.prepare('INSERT INTO advisories(id, source, record) VALUES (?, ?, ?)');
    this.insertAffected = this.db.prepare(
      'INSERT INTO affected_rows(ecosystem, name, advisory, entry) VALUES (?, ?, ?, ?)',
    );
    this.insertRating = this.db.prepare(
      'INSERT INTO ratings(id, rank, rating) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET rank = excluded.rank, rating = excluded.rating WHERE excluded.rank > ratings.rank',
    );
    this.insertSource = this.db.prepare(
      'INSERT OR REPLACE INTO sources(name, location, kind, records, bytes, sha256, status) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.db.exec('BEGIN');
  }

  /** Adds one record; withdrawn records are not stored. */
  add(record: OsvRecord, source: string): void {
    if (record.withdrawn || !record.affected?.length) return;
    const { affected, ...rest } = record;
    const rowid = this.insertAdvisory.run(record.id, source, JSON.stringify(rest)).lastInsertRowid;
    for (const entry of affected)
      this.insertAffected.run(entry.package.ecosystem, entry.package.name, rowid, JSON.stringify(entry));
    const rating = ratingOfRecord(record);
    if (rating.severity !== 'unknown') {
      const text = JSON.stringify({ ...rating, ratedBy: source });
      for (const id of idsOf(record)) this.insertRating.run(id, rating.cvss ? 2 : 1, text);
    }
    this.records++;
  }

  addSource(status: SourceStatus): void {
    if (status.status === 'ok') this.sources++;
    this.insertSource.run(
      status.name,
      status.location,
      status.kind ?? null,
      status.records,
      status.bytes ?? null,
      status.sha256 ?? null,
      status.status,
    );
  }

  finish(builtAt: Date): void {
    // Grouped per package once, here, so that a scan reads one row per installed package.
    this.db.exec(`
      CREATE TABLE affected(ecosystem TEXT NOT NULL, name TEXT NOT NULL, entries TEXT NOT NULL, PRIMARY KEY (ecosystem, name)) WITHOUT ROWID;
      INSERT INTO affected SELECT ecosystem, name, json_group_array(json_array(advisory, json(entry))) FROM affected_rows GROUP BY ecosystem, name;
      CREATE TABLE ecosystems(ecosystem TEXT PRIMARY KEY, advisories INTEGER NOT NULL);
      INSERT INTO ecosystems SELECT CASE WHEN instr(ecosystem, ':') > 0 THEN substr(ecosystem, 1, instr(ecosystem, ':') - 1) ELSE ecosystem END,
        count(DISTINCT advisory) FROM affected_rows GROUP BY 1;
      DROP TABLE affected_rows;`);
    const meta = this.db.prepare('INSERT INTO meta(key, value) VALUES (?, ?)');
    meta.run('schemaVersion', String(DB_SCHEMA_VERSION));
    meta.run('builtAt', builtAt.toISOString());
    this.db.exec('COMMIT');
    this.db.close();
  }

  abandon(): void {
    if (this.db.open) this.db.close();
  }
}

const invalid = (path: string, why: string) =>
  fail('E_VULN_DB_INVALID', `vulnerability database ${path}: ${why}`, 'rebuild it with `distrolens db update`');

/** A built database, opened read-only. */
export class VulnDb implements VulnSource {
  /** Open to the readers of other data kept in the same file (the maintenance tables). */
  readonly db: Database.Database;
  private readonly byPackage: Database.Statement<[string, string], { entries: string }>;
  private readonly byRowids: Database.Statement<[string], { rowid: number; source: string; record: string }>;
  private readonly byIds: Database.Statement<[string], { id: string; rating: string }>;
  /** Parsed records by rowid: a kernel has thousands of advisories, each parsed once per scan. */
  private readonly parsed = new Map<number, SourcedRecord>();
  readonly builtAt: Date;

  private constructor(readonly path: string) {
    try {
      this.db = openSqlite(path, { readonly: true, fileMustExist: true });
      const version = this.meta('schemaVersion');
      if (Number(version) !== DB_SCHEMA_VERSION)
        throw invalid(path, `schema version ${version ?? 'missing'}, this distrolens reads ${DB_SCHEMA_VERSION}`);
      this.builtAt = new Date(this.meta('builtAt') ?? 0);
      this.byPackage = this.db.prepare('SELECT entries FROM affected WHERE ecosystem = ? AND name = ?');
      this.byRowids = this.db.prepare(
        'SELECT rowid, source, record FROM advisories WHERE rowid IN (SELECT value FROM json_each(?))',
      );
      this.byIds = this.db.prepare('SELECT id, rating FROM ratings WHERE id IN (SELECT value FROM json_each(?))');
    } catch (error) {
      if (isDistrolensError(error)) throw error;
      throw invalid(path, (error as Error).message);
    }
  }

  /** Opens the database at `path`; undefined when there is none. */
  static open(path: string): VulnDb | undefined {
    return existsSync(path) ? new VulnDb(path) : undefined;
  }

  private meta(key: string): string | undefined {
    return (this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined)?.value;
  }

  lookup(ecosystem: string, name: string): Candidate[] {
    const row = this.byPackage.get(ecosystem, name);
    return row ? (JSON.parse(row.entries) as [number, OsvAffected][]).map(([ref, entry]) => ({ ref, entry })) : [];
  }

  records(refs: readonly number[]): Map<number, SourcedRecord> {
    // A long-lived reader (serve) keeps at most this many parsed records.
    if (this.parsed.size > MAX_CACHED_RECORDS) this.parsed.clear();
    const missing = [...new Set(refs.filter((ref) => !this.parsed.has(ref)))];
    if (missing.length) {
      for (const r of this.byRowids.all(JSON.stringify(missing)))
        this.parsed.set(r.rowid, { record: JSON.parse(r.record) as OsvRecord, source: r.source });
    }
    return new Map(refs.map((ref) => [ref, this.parsed.get(ref)!]));
  }

  ratings(ids: readonly string[]): Map<string, Rating> {
    return new Map(this.byIds.all(JSON.stringify(ids)).map((row) => [row.id, JSON.parse(row.rating) as Rating]));
  }

  status(): DbStatus {
    const count = (sql: string): number => (this.db.prepare(sql).get() as { n: number }).n;
    return {
      path: this.path,
      schemaVersion: DB_SCHEMA_VERSION,
      builtAt: this.builtAt.toISOString(),
      advisories: count('SELECT count(*) AS n FROM advisories'),
      packages: count('SELECT count(*) AS n FROM affected'),
      ecosystems: this.db.prepare('SELECT ecosystem, advisories FROM ecosystems ORDER BY ecosystem').all() as {
        ecosystem: string;
        advisories: number;
      }[],
      sources: (
        this.db
          .prepare('SELECT name, location, kind, records, bytes, sha256, status FROM sources ORDER BY name')
          .all() as Record<string, unknown>[]
      ).map((r) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== null)) as unknown as SourceStatus),
    };
  }

  close(): void {
    this.db.close();
  }
}
