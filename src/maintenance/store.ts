import { open, readFile, stat } from 'node:fs/promises';
import type Database from 'better-sqlite3';
import type { DbBuilder, VulnDb } from '../vuln/db.js';
import type { DataReader } from '../vuln/update.js';
import type { FeedSource } from '../vuln/feeds.js';
import { compareApk } from '../vuln/versions/apk.js';
import { compareDpkg } from '../vuln/versions/dpkg.js';
import type { ReleaseCycle } from './eol.js';
import {
  identifyIndex,
  readIndex,
  recognizeIndex,
  type Lookup,
  type ReadIndex,
  type RepoPackage,
  type SuiteIdentity,
  type SuiteIndex,
} from './repository.js';
import { EOL_SOURCES, OS_PRODUCTS, readEolFile, shippedEol, suiteOf } from './table.js';

/**
 * The maintenance data in the local database, beside the vulnerability feeds and built by the same
 * atomic `db update`: end-of-life tables (newer than the shipped ones, per product) and the
 * distribution repositories' indexes, reduced to the newest version per package of each suite.
 *
 *   eol(product, cycles, source)                                   cycles as JSON
 *   repo_suites(distro, release, suite, format, security, indexed_at, packages, source)
 *   repo_packages(distro, release, suite, name, version, source, published)
 *   repo_sources(distro, release, suite, source, version)            newest per source package
 *
 * A database built before these tables existed has none: scans then say the repositories were
 * not checked.
 */
const TABLES = `
CREATE TABLE IF NOT EXISTS eol(product TEXT PRIMARY KEY, cycles TEXT NOT NULL, source TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS repo_suites(distro TEXT NOT NULL, release TEXT NOT NULL, suite TEXT NOT NULL, format TEXT NOT NULL,
  security INTEGER NOT NULL, indexed_at TEXT, packages INTEGER NOT NULL, source TEXT NOT NULL, PRIMARY KEY (distro, release, suite)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS repo_packages(distro TEXT NOT NULL, release TEXT NOT NULL, suite TEXT NOT NULL, name TEXT NOT NULL,
  version TEXT NOT NULL, source TEXT, published TEXT, PRIMARY KEY (distro, release, name, suite)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS repo_sources(distro TEXT NOT NULL, release TEXT NOT NULL, suite TEXT NOT NULL, source TEXT NOT NULL,
  version TEXT NOT NULL, PRIMARY KEY (distro, release, source, suite)) WITHOUT ROWID;
`;

/** Where the public indexes are: the mirrors' own names, as the vulnerability feeds' are. */
export const DEBIAN_MIRROR = 'https://deb.debian.org/debian';
export const DEBIAN_SECURITY_MIRROR = 'https://security.debian.org/debian-security';
export const UBUNTU_MIRROR = 'http://archive.ubuntu.com/ubuntu';
export const UBUNTU_SECURITY_MIRROR = 'http://security.ubuntu.com/ubuntu';
export const ALPINE_MIRROR = 'https://dl-cdn.alpinelinux.org/alpine';
export const WOLFI_MIRROR = 'https://packages.wolfi.dev/os';
export const DEBIAN_SUITES = ['bookworm', 'trixie'] as const;
export const UBUNTU_SUITES = ['jammy', 'noble'] as const;
export const ALPINE_RELEASES = ['v3.19', 'v3.20', 'v3.21', 'v3.22'] as const;

/** One suite's `Release` (for its date) and main `Packages.xz`, named as on the mirror. */
const aptSuite = (prefix: string, mirror: string, suite: string): FeedSource[] => [
  { name: `${prefix}/dists/${suite}/Release`, url: `${mirror}/dists/${suite}/Release` },
  {
    name: `${prefix}/dists/${suite}/main/binary-amd64/Packages.xz`,
    url: `${mirror}/dists/${suite}/main/binary-amd64/Packages.xz`,
  },
];

/** The repository indexes `db update` fetches by default (amd64 / x86_64, main components). */
export const REPOSITORY_SOURCES: readonly FeedSource[] = [
  ...DEBIAN_SUITES.flatMap((s) => [
    ...aptSuite('debian', DEBIAN_MIRROR, s),
    ...aptSuite('debian', DEBIAN_MIRROR, `${s}-updates`),
    ...aptSuite('debian-security', DEBIAN_SECURITY_MIRROR, `${s}-security`),
  ]),
  ...UBUNTU_SUITES.flatMap((s) => [
    ...aptSuite('ubuntu', UBUNTU_MIRROR, s),
    ...aptSuite('ubuntu', UBUNTU_MIRROR, `${s}-updates`),
    ...aptSuite('ubuntu-security', UBUNTU_SECURITY_MIRROR, `${s}-security`),
  ]),
  ...ALPINE_RELEASES.flatMap((r) =>
    ['main', 'community'].map((repo) => ({
      name: `alpine/${r}/${repo}/x86_64/APKINDEX.tar.gz`,
      url: `${ALPINE_MIRROR}/${r}/${repo}/x86_64/APKINDEX.tar.gz`,
    })),
  ),
  { name: 'wolfi/x86_64/APKINDEX.tar.gz', url: `${WOLFI_MIRROR}/x86_64/APKINDEX.tar.gz` },
];

/** Everything maintenance adds to `db update`'s default sources. */
export const MAINTENANCE_SOURCES: readonly FeedSource[] = [...EOL_SOURCES, ...REPOSITORY_SOURCES];

/** The maintenance sources one image needs: the end-of-life files, its release's indexes. */
export function maintenanceSourcesFor(os: { readonly id: string; readonly versionId?: string }): string[] {
  const cycle = os.versionId?.split('.').slice(0, 2).join('.');
  const names = EOL_SOURCES.map((s) => s.name);
  const product = OS_PRODUCTS[os.id];
  const suite =
    product && cycle
      ? shippedEol()
          .get(product)
          ?.find((c) => c.cycle === cycle.split('.')[0] || c.cycle === cycle)
      : undefined;
  const codename = suite ? suiteOf(suite) : undefined;
  for (const source of REPOSITORY_SOURCES) {
    const path = source.name.split('/');
    if (codename && path[0]!.startsWith(os.id) && path[2]?.split('-')[0] === codename) names.push(source.name);
    if (os.id === 'alpine' && cycle && path[0] === 'alpine' && path[1] === `v${cycle}`) names.push(source.name);
    if (os.id === 'wolfi' && path[0] === 'wolfi') names.push(source.name);
  }
  return names.sort();
}

/** `Release` / `InRelease` of an apt suite: its codename-suite and `Date:`. */
function readRelease(text: string): { suite: string; date: string } | undefined {
  const head = text.slice(0, 8192);
  const suite = /^Codename: (\S+)$/m.exec(head)?.[1];
  const date = /^Date: (.+)$/m.exec(head)?.[1];
  if (!suite || !date || !/^(Origin|Label|Suite): /m.test(head)) return undefined;
  const parsed = new Date(date);
  return Number.isNaN(parsed.getTime()) ? undefined : { suite, date: parsed.toISOString() };
}

/** Compressed bytes that might hold an index (gzip, xz, zstd magic). */
const compressed = (bytes: Buffer): boolean =>
  (bytes[0] === 0x1f && bytes[1] === 0x8b) ||
  (bytes[0] === 0xfd && bytes.toString('latin1', 1, 6) === '7zXZ\0') ||
  bytes.readUInt32LE(0) === 0xfd2fb528;

/** An index read during an update, with its name and the file's date. */
interface ReadFile {
  readonly name: string;
  readonly index: ReadIndex;
  readonly mtime: string;
}

/** What a file starts with rules out a zip or a JSON document, the vulnerability feeds' formats. */
async function mightBeOurs(path: string): Promise<boolean> {
  const file = await open(path, 'r');
  try {
    const head = Buffer.alloc(8);
    const { bytesRead } = await file.read(head, 0, 8, 0);
    const start = head.subarray(0, bytesRead).toString('latin1').trimStart();
    return bytesRead >= 4 && !start.startsWith('PK\x03\x04') && !start.startsWith('{') && !start.startsWith('[');
  } finally {
    await file.close();
  }
}

/** Reads end-of-life files, repository indexes and apt Release files during `db update`. */
export class MaintenanceReader implements DataReader {
  readonly #eol = new Map<string, { cycles: readonly ReleaseCycle[]; source: string }>();
  readonly #indexes: ReadFile[] = [];
  readonly #released = new Map<string, string>();
  /** Indexes whose release could not be told (the caller warns). */
  readonly unidentified: string[] = [];

  async read(path: string, name: string): Promise<{ kind: string; records: number } | undefined> {
    // The feeds' zips and JSON documents (hundreds of MB) are not ours: told from their first bytes.
    if (!(await mightBeOurs(path))) return undefined;
    const bytes = await readFile(path);
    if (bytes.length < 4) return undefined;
    const isCompressed = compressed(bytes);
    if (!isCompressed) {
      const text = bytes.toString('utf8');
      const eol = readEolFile(text, name);
      if (eol) {
        this.#eol.set(eol.product, { cycles: eol.cycles, source: name });
        return { kind: 'eol', records: eol.cycles.length };
      }
      const release = readRelease(text);
      if (release) {
        this.#released.set(release.suite, release.date);
        return { kind: 'apt-release', records: 0 };
      }
      if (!recognizeIndex(text)) return undefined;
    }
    let index: ReadIndex;
    try {
      index = await readIndex(bytes, name);
    } catch (error) {
      // A compressed file that is not an index is someone else's (a feed); a broken index is an error.
      if (isCompressed && /not a Packages or APKINDEX|no APKINDEX member/.test((error as Error).message))
        return undefined;
      throw error;
    }
    this.#indexes.push({ name, index, mtime: (await stat(path)).mtime.toISOString() });
    return { kind: index.format, records: index.packages.size };
  }

  finish(builder: DbBuilder): void {
    const db = builder.db;
    db.exec(TABLES);
    const putEol = db.prepare('INSERT OR REPLACE INTO eol(product, cycles, source) VALUES (?, ?, ?)');
    for (const [product, { cycles, source }] of this.#eol) putEol.run(product, JSON.stringify(cycles), source);
    // Suites name releases by codename: the end-of-life table (shipped, then what this update read) says which.
    const codenames = new Map<string, { distro: string; release: string }>();
    for (const distro of ['debian', 'ubuntu']) {
      const cycles = this.#eol.get(distro)?.cycles ?? shippedEol().get(distro) ?? [];
      for (const cycle of cycles) {
        const suite = suiteOf(cycle);
        if (suite) codenames.set(suite, { distro, release: cycle.cycle });
      }
    }
    // Several files of one suite (components, architectures) merge: the newest version wins.
    const suites = new Map<string, { identity: SuiteIdentity; format: string; indexes: ReadFile[] }>();
    for (const entry of this.#indexes) {
      const identity = identifyIndex(entry.name, entry.index, codenames);
      if (!identity) {
        this.unidentified.push(entry.name);
        continue;
      }
      const key = `${identity.distro}\0${identity.release}\0${identity.suite}`;
      const known = suites.get(key) ?? { identity, format: entry.index.format, indexes: [] };
      known.indexes.push(entry);
      suites.set(key, known);
    }
    const putSuite = db.prepare(
      'INSERT OR REPLACE INTO repo_suites(distro, release, suite, format, security, indexed_at, packages, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const putPackage = db.prepare(
      'INSERT OR REPLACE INTO repo_packages(distro, release, suite, name, version, source, published) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    const putSource = db.prepare(
      'INSERT OR REPLACE INTO repo_sources(distro, release, suite, source, version) VALUES (?, ?, ?, ?, ?)',
    );
    for (const { identity, format, indexes } of suites.values()) {
      const compare = format === 'apkindex' ? compareApk : compareDpkg;
      const packages = new Map<string, RepoPackage>();
      const sources = new Map<string, string>();
      for (const { index } of indexes) {
        for (const [name, pkg] of index.packages) {
          const known = packages.get(name);
          if (!known || compare(pkg.version, known.version) > 0) packages.set(name, pkg);
        }
        for (const [source, version] of index.sources) {
          const known = sources.get(source);
          if (!known || compare(version, known) > 0) sources.set(source, version);
        }
      }
      const { distro, release, suite, security } = identity;
      const indexedAt = this.#released.get(suite) ?? indexes.map((i) => i.mtime).sort()[0];
      putSuite.run(
        distro,
        release,
        suite,
        format,
        security ? 1 : 0,
        indexedAt ?? null,
        packages.size,
        indexes.map((i) => i.name).join(' '),
      );
      for (const pkg of packages.values())
        putPackage.run(distro, release, suite, pkg.name, pkg.version, pkg.source ?? null, pkg.published ?? null);
      for (const [source, version] of sources) putSource.run(distro, release, suite, source, version);
    }
  }
}

/** A release's suites as the database holds them, and the end-of-life tables it carries. */
export interface MaintenanceData {
  /** The product's cycles: the database's copy when it has one, else the shipped table. */
  eol(product: string): { cycles: readonly ReleaseCycle[]; source: 'database' | 'shipped' } | undefined;
  /** The release's suites (empty when the database has no index for it); undefined: no repository data at all. */
  suites(distro: string, release: string): SuiteIndex[] | undefined;
}

/** The shipped end-of-life table alone: what a scan without a database reads. */
export const SHIPPED_ONLY: MaintenanceData = {
  eol: (product) => {
    const cycles = shippedEol().get(product);
    return cycles ? { cycles, source: 'shipped' } : undefined;
  },
  suites: () => undefined,
};

const hasTable = (db: Database.Database, name: string): boolean =>
  db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;

/** The maintenance data of an opened vulnerability database (its tables read on demand). */
export function maintenanceData(vulnDb: VulnDb): MaintenanceData {
  const db = vulnDb.db;
  if (!hasTable(db, 'eol') || !hasTable(db, 'repo_suites')) return SHIPPED_ONLY;
  const eolOf = db.prepare<[string], { cycles: string }>('SELECT cycles FROM eol WHERE product = ?');
  const suitesOf = db.prepare<
    [string, string],
    { suite: string; format: string; security: number; indexed_at: string | null }
  >('SELECT suite, format, security, indexed_at FROM repo_suites WHERE distro = ? AND release = ? ORDER BY suite');
  const anySuite = db.prepare('SELECT 1 FROM repo_suites LIMIT 1');
  const packageOf = db.prepare<
    [string, string, string, string],
    { version: string; source: string | null; published: string | null }
  >('SELECT version, source, published FROM repo_packages WHERE distro = ? AND release = ? AND suite = ? AND name = ?');
  const sourceOf = db.prepare<[string, string, string, string], { version: string }>(
    'SELECT version FROM repo_sources WHERE distro = ? AND release = ? AND suite = ? AND source = ?',
  );
  const parsed = new Map<string, readonly ReleaseCycle[]>();
  return {
    eol(product) {
      if (!parsed.has(product)) {
        const row = eolOf.get(product);
        if (row) parsed.set(product, JSON.parse(row.cycles) as ReleaseCycle[]);
      }
      const cycles = parsed.get(product);
      return cycles ? { cycles, source: 'database' } : SHIPPED_ONLY.eol(product);
    },
    suites(distro, release) {
      if (!anySuite.get()) return undefined;
      return suitesOf.all(distro, release).map((row) => {
        const packages: Lookup<RepoPackage> = {
          get: (name) => {
            const r = packageOf.get(distro, release, row.suite, name);
            return r
              ? {
                  name,
                  version: r.version,
                  ...(r.source ? { source: r.source } : {}),
                  ...(r.published ? { published: r.published } : {}),
                }
              : undefined;
          },
        };
        const sources: Lookup<string> = {
          get: (name) => sourceOf.get(distro, release, row.suite, name)?.version,
        };
        return {
          format: row.format as SuiteIndex['format'],
          suite: row.suite,
          security: row.security === 1,
          packages,
          sources,
          ...(row.indexed_at ? { indexedAt: row.indexed_at } : {}),
        };
      });
    },
  };
}
