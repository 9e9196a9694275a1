import { formatBytes } from '../../core/units.js';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { purl, type Package } from '../../core/package.js';
import type { ReportWarning } from '../../core/report.js';
import { distroQualifier } from '../common/distro.js';
import type { Analyzer, AnalyzerInput, AnalyzerOutput } from '../types.js';
import { bdbValues } from './bdb.js';
import { ndbValues } from './ndb.js';
import { parseRpmHeader, type RpmHeader } from './header.js';

/** rpm's databases: SQLite (rpm ≥ 4.16), Berkeley DB `Packages`, NDB `Packages.db`; both locations. */
export const RPM_DBS = [
  '/var/lib/rpm/rpmdb.sqlite',
  '/var/lib/rpm/Packages',
  '/var/lib/rpm/Packages.db',
  '/usr/lib/sysimage/rpm/rpmdb.sqlite',
  '/usr/lib/sysimage/rpm/Packages',
  '/usr/lib/sysimage/rpm/Packages.db',
];
/** Package databases of large RHEL images reach 100+ MB; read them whole, up to this. */
export const MAX_RPMDB_BYTES = 256 * 1024 * 1024;
/** Packages in one database; the largest real images install a few thousand. */
const MAX_RPM_PACKAGES = 100_000;

/**
 * Reads the header blobs of an rpmdb.sqlite through SQLite itself (better-sqlite3), from a private
 * copy: with its write-ahead log beside it when the image has one (rpm leaves recent writes there).
 */
async function sqliteValues(bytes: Buffer, wal: Buffer | undefined): Promise<Buffer[]> {
  const dir = await mkdtemp(join(tmpdir(), 'distrolens-rpmdb-'));
  try {
    const file = join(dir, 'rpmdb.sqlite');
    await writeFile(file, bytes, { mode: 0o600 });
    if (wal) await writeFile(`${file}-wal`, wal, { mode: 0o600 });
    // better-sqlite3 is CommonJS; loaded when an image actually has an rpm database.
    const Database = createRequire(import.meta.url)('better-sqlite3') as new (
      path: string,
      options: { readonly: boolean; fileMustExist: boolean },
    ) => {
      prepare(sql: string): { all(...params: unknown[]): unknown[]; iterate(): IterableIterator<{ blob: Buffer }> };
      close(): void;
    };
    // Not read-only: replaying a WAL needs to write the private copy's shared-memory index.
    const db = new Database(file, { readonly: false, fileMustExist: true });
    try {
      // Packages must be a plain table: a view (or a virtual table) named so runs whatever query
      // it holds, recursive ones without end.
      const kind = db.prepare("SELECT type, sql FROM sqlite_master WHERE name = 'Packages'").all() as {
        type: string;
        sql: string | null;
      }[];
      if (kind.length !== 1 || kind[0]!.type !== 'table' || /^\s*create\s+virtual/i.test(kind[0]!.sql ?? ''))
        throw new Error('Packages is not a table');
      const blobs: Buffer[] = [];
      for (const row of db.prepare('SELECT blob FROM Packages').iterate()) {
        if (!Buffer.isBuffer(row.blob)) continue;
        blobs.push(row.blob);
        if (blobs.length > MAX_RPM_PACKAGES) throw new Error(`more than ${MAX_RPM_PACKAGES} packages`);
      }
      return blobs;
    } finally {
      db.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The header blobs of a database file, by its backend (the path's name says which). */
export function rpmdbBlobs(path: string, data: Buffer, wal?: Buffer): Promise<Buffer[]> | Buffer[] {
  return path.endsWith('.sqlite') ? sqliteValues(data, wal) : path.endsWith('.db') ? ndbValues(data) : bdbValues(data);
}

/**
 * The layer where each package (name@version) first appears, over every version of the database
 * the layers wrote: a package belongs to the layer that installed it, not to the last one that
 * rewrote the database. A version that cannot be read is skipped.
 */
async function firstLayersOf(fs: AnalyzerInput['fs'], resolved: string, path: string): Promise<Map<string, number>> {
  const first = new Map<string, number>();
  const earlier = fs
    .hiddenFiles()
    .filter(({ entry }) => entry.path === resolved)
    .sort((a, b) => a.entry.layer - b.entry.layer);
  for (const { entry } of earlier) {
    const data = fs.hiddenContent(entry)?.data;
    if (!data) continue;
    try {
      for (const blob of await rpmdbBlobs(path, data)) {
        try {
          const h = parseRpmHeader(blob);
          const key = `${h.name}@${h.epoch ? `${h.epoch}:` : ''}${h.version}-${h.release}`;
          if (!first.has(key)) first.set(key, entry.layer);
        } catch {
          // an unreadable header of an old version says nothing
        }
      }
    } catch {
      // an unreadable old version says nothing
    }
  }
  return first;
}

/** `curl-7.76.0-6.cm2.src.rpm` → `curl`. */
export function sourceName(sourceRpm: string): string | undefined {
  return /^(.+)-[^-]+-[^-]+\.(?:no)?src\.rpm$/.exec(sourceRpm)?.[1];
}

export const rpmAnalyzer = {
  id: 'rpm',
  version: 2,
  // A database larger than the limit is not read at all (a sparse 100 GB file would be read to
  // the limit for nothing); the analysis says it was skipped.
  reads: (path: string, size: number) =>
    size <= MAX_RPMDB_BYTES && RPM_DBS.includes(path.endsWith('-wal') ? path.slice(0, -'-wal'.length) : path)
      ? MAX_RPMDB_BYTES
      : false,
  async analyze({ fs, os }: AnalyzerInput): Promise<AnalyzerOutput> {
    const packages: Package[] = [];
    const warnings: ReportWarning[] = [];
    const seen = new Set<string>();
    for (const path of RPM_DBS) {
      const entry = fs.stat(path);
      const content = fs.content(path);
      if (entry?.type === 'file' && entry.size > MAX_RPMDB_BYTES && !seen.has(entry.path)) {
        seen.add(entry.path);
        warnings.push({
          code: 'W_RPMDB_UNREADABLE',
          message: `${path} is ${formatBytes(entry.size)}, over the ${formatBytes(MAX_RPMDB_BYTES)} limit: not read`,
        });
        continue;
      }
      if (!entry || !content || seen.has(entry.path)) continue;
      seen.add(entry.path);
      let blobs: Buffer[];
      try {
        blobs = await rpmdbBlobs(path, content.data, fs.content(`${path}-wal`)?.data);
      } catch (error) {
        // A corrupt database is a warning in the report; the rest of the scan goes on.
        warnings.push({ code: 'W_RPMDB_UNREADABLE', message: `${path}: ${(error as Error).message}` });
        continue;
      }
      const headers: RpmHeader[] = [];
      let bad = 0;
      for (const blob of blobs) {
        try {
          headers.push(parseRpmHeader(blob));
        } catch {
          bad++;
        }
      }
      if (bad)
        warnings.push({ code: 'W_RPMDB_PARTIAL', message: `${path}: ${bad} package header(s) could not be read` });
      const distro = distroQualifier(os);
      const installedIn = await firstLayersOf(fs, entry.path, path);
      for (const h of headers) {
        if (h.name === 'gpg-pubkey') continue; // imported signing keys, not software
        const version = `${h.epoch ? `${h.epoch}:` : ''}${h.version}-${h.release}`;
        const source = h.sourceRpm ? sourceName(h.sourceRpm) : undefined;
        packages.push({
          type: 'rpm',
          name: h.name,
          version,
          ...(h.arch ? { arch: h.arch } : {}),
          ...(source ? { source, sourceVersion: `${h.version}-${h.release}` } : {}),
          ...(h.license ? { licenses: [h.license] } : {}),
          purl: purl('rpm', os.id === 'unknown' ? undefined : os.id, h.name, `${h.version}-${h.release}`, {
            arch: h.arch,
            epoch: h.epoch ? String(h.epoch) : undefined,
            distro,
          }),
          locations: [{ path: entry.path, layer: installedIn.get(`${h.name}@${version}`) ?? entry.layer }],
          files: h.files,
        });
      }
    }
    return { packages, warnings };
  },
} satisfies Analyzer;
