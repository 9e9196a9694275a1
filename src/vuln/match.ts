import type { Severity } from '../core/finding.js';
import type { Cvss, Vulnerability } from '../core/vulnerability.js';
import type { Package } from '../core/package.js';
import { cvssOf, ratingOf } from './cvss.js';
import { normalizeName } from './feeds.js';
import { isAffected, type OsvAffected, type OsvRecord } from './osv.js';

export interface OsContext {
  readonly id: string;
  readonly versionId?: string;
}

/** One record's entry for a package, as a source returns it; the record itself comes from records(). */
export interface Candidate {
  readonly entry: OsvAffected;
  /** Which record: a key for records(). */
  readonly ref: number;
}

/** A record and the feed it came from. */
export interface SourcedRecord {
  readonly record: OsvRecord;
  readonly source: string;
}

/** Where matching finds records: the SQLite database, or records in memory (tests). */
export interface VulnSource {
  lookup(ecosystem: string, name: string): readonly Candidate[];
  /**
   * The records some candidates name, in one batch. Matching asks only for the entries that
   * affect the installed version: reading and parsing records is most of a match's cost.
   */
  records(refs: readonly number[]): ReadonlyMap<number, SourcedRecord>;
  /** The ratings some record gives these ids or aliases, for records that carry none themselves (one batch per scan). */
  ratings?(ids: readonly string[]): ReadonlyMap<string, Rating>;
}

export interface Rating {
  readonly severity: Severity | 'unknown';
  readonly cvss?: Cvss;
  /** The feed whose record gave the rating, when it is borrowed by another feed's record. */
  readonly ratedBy?: string;
}

/** An in-memory source over a list of records. */
export function memorySource(records: readonly OsvRecord[], source = 'osv'): VulnSource {
  const index = new Map<string, Candidate[]>();
  const ratings = new Map<string, Rating>();
  records.forEach((record, ref) => {
    if (record.withdrawn) return;
    const rating = ratingOfRecord(record);
    // As the database does: the best rating any record gives an id, a vector over a word.
    if (rating.severity !== 'unknown')
      for (const id of idsOf(record)) ratings.set(id, best(ratings.get(id), { ...rating, ratedBy: source }));
    for (const entry of record.affected ?? []) {
      const key = `${entry.package.ecosystem}\0${entry.package.name}`;
      const list = index.get(key);
      if (list) list.push({ entry, ref });
      else index.set(key, [{ entry, ref }]);
    }
  });
  return {
    lookup: (ecosystem, name) => index.get(`${ecosystem}\0${name}`) ?? [],
    records: (refs) => new Map(refs.map((ref) => [ref, { record: records[ref]!, source }])),
    ratings: (ids) => new Map(ids.flatMap((id) => (ratings.has(id) ? [[id, ratings.get(id)!] as const] : []))),
  };
}

/** The OSV ecosystem a package's advisories are filed under, and the name they use for it. */
export function ecosystemOf(p: Package, os: OsContext): { ecosystem: string; name: string } | undefined {
  const major = /^(\d+)/.exec(os.versionId ?? '')?.[1];
  switch (p.type) {
    case 'apk': {
      if (os.id === 'wolfi') return { ecosystem: 'Wolfi', name: p.name };
      if (os.id === 'chainguard') return { ecosystem: 'Chainguard', name: p.name };
      const minor = /^(\d+\.\d+)/.exec(os.versionId ?? '')?.[1];
      return minor ? { ecosystem: `Alpine:v${minor}`, name: p.source ?? p.name } : undefined;
    }
    case 'deb':
      // Debian's and Ubuntu's advisories name source packages (glibc, not libc6).
      if (os.id === 'ubuntu')
        return os.versionId ? { ecosystem: `Ubuntu:${os.versionId}`, name: p.source ?? p.name } : undefined;
      return major ? { ecosystem: `Debian:${major}`, name: p.source ?? p.name } : undefined;
    case 'rpm': {
      const family = ({ rhel: 'Red Hat', rocky: 'Rocky Linux', almalinux: 'AlmaLinux' } as Record<string, string>)[
        os.id
      ];
      return family && major ? { ecosystem: `${family}:${major}`, name: p.name } : undefined;
    }
    case 'npm':
      return { ecosystem: 'npm', name: p.name };
    case 'pypi':
      return { ecosystem: 'PyPI', name: normalizeName('PyPI', p.name) };
    case 'golang':
      return { ecosystem: 'Go', name: p.name };
    case 'maven':
      return { ecosystem: 'Maven', name: p.name };
    case 'cargo':
      return { ecosystem: 'crates.io', name: p.name };
    case 'gem':
      return { ecosystem: 'RubyGems', name: p.name };
    case 'nuget':
      return { ecosystem: 'NuGet', name: p.name };
    default:
      return undefined;
  }
}

/** The version advisories compare: Debian ranges are in source versions (a binNMU adds +bN). */
const comparedVersion = (p: Package): string => (p.type === 'deb' ? (p.sourceVersion ?? p.version) : p.version);

/** Ratings by record: a record matching several packages is rated once. */
const ratings = new WeakMap<OsvRecord, Rating>();

export function ratingOfRecord(record: OsvRecord): Rating {
  let rating = ratings.get(record);
  if (!rating) ratings.set(record, (rating = rate(record)));
  return rating;
}

function rate(record: OsvRecord): Rating {
  // The newest CVSS version the record carries: v4 over v3 when both are there.
  const rated = (record.severity ?? [])
    .filter((s) => s.type === 'CVSS_V4' || s.type === 'CVSS_V3')
    .map((s) => cvssOf(s.score))
    .filter((c): c is Cvss => c !== undefined)
    .sort((a, b) => (a.version < b.version ? 1 : -1))[0];
  if (rated) return { severity: ratingOf(rated.score), cvss: rated };
  // The feed's own word: GHSA's database_specific.severity, Ubuntu's priority as a severity entry.
  const word = (
    record.database_specific?.severity ?? record.severity?.find((s) => s.type === 'Ubuntu')?.score
  )?.toLowerCase();
  return { severity: word ? (FEED_WORDS[word] ?? 'unknown') : 'unknown' };
}

/** Feeds' own severity words, as the report's severities. */
const FEED_WORDS: Readonly<Record<string, Severity>> = {
  critical: 'critical',
  high: 'high',
  important: 'high',
  moderate: 'medium',
  medium: 'medium',
  low: 'low',
  negligible: 'low',
};

/** Every name a record goes by: its id, aliases and upstream ids. */
export const idsOf = (r: OsvRecord): string[] => [r.id, ...(r.aliases ?? []), ...(r.upstream ?? [])];

/** The id a vulnerability is known by across feeds: its CVE when it has one. */
const canonicalId = (r: OsvRecord): string =>
  r.id.startsWith('CVE-') ? r.id : (idsOf(r).find((a) => a.startsWith('CVE-')) ?? r.id);

/** The more specific of two ratings: a CVSS vector over a feed's word, any word over unknown. */
function best(a: Rating | undefined, b: Rating): Rating {
  if (!a) return b;
  const rank = (r: Rating) => (r.cvss ? 2 : r.severity !== 'unknown' ? 1 : 0);
  return rank(b) > rank(a) ? b : a;
}

export interface MatchOptions {
  /** Drop vulnerabilities no fixed version is known for (--ignore-unfixed). */
  readonly ignoreUnfixed?: boolean;
}

export interface MatchResult {
  readonly vulnerabilities: Vulnerability[];
  /** Records whose GIT ranges could not be evaluated against a package version. */
  readonly skippedGit: number;
}

/**
 * Matches installed packages against a source. Withdrawn records are skipped; a CVE reported by
 * several records (a DSA and the CVE itself) is one vulnerability per package, aliases merged,
 * the most specific rating kept (a CVSS vector over a feed's word, a record's own over a borrowed one).
 */
export function matchPackages(
  packages: readonly Package[],
  os: OsContext,
  source: VulnSource,
  options: MatchOptions = {},
): MatchResult {
  const found = new Map<string, Vulnerability>();
  let skippedGit = 0;
  for (const p of packages) {
    const eco = ecosystemOf(p, os);
    if (!eco) continue;
    const version = comparedVersion(p);
    // Versions first, records after: only the records of entries that matter are read.
    const judged = source
      .lookup(eco.ecosystem, eco.name)
      .map((candidate) => ({ candidate, result: isAffected(candidate.entry, version) }))
      .filter(({ result }) => result.affected || result.skippedGit);
    const records = judged.length
      ? source.records(judged.map(({ candidate }) => candidate.ref))
      : new Map<number, SourcedRecord>();
    for (const { candidate, result } of judged) {
      const { record, source: feed } = records.get(candidate.ref)!;
      if (record.withdrawn) continue;
      if (result.skippedGit) skippedGit++;
      if (!result.affected) continue;
      const id = canonicalId(record);
      const key = `${id}\0${p.type}\0${p.name}\0${p.version}`;
      const known = found.get(key);
      const aliases = [...new Set([...(known?.aliases ?? []), ...idsOf(record)].filter((a) => a !== id))].sort();
      const rating = best(known, ratingOfRecord(record));
      const fixedVersion = known?.fixedVersion ?? result.fixed;
      const summary = known?.summary ?? record.summary;
      found.set(key, {
        id,
        aliases,
        package: { type: p.type, name: p.name, version: p.version },
        ...(fixedVersion ? { fixedVersion } : {}),
        severity: rating.severity,
        ...(rating.cvss ? { cvss: rating.cvss } : {}),
        ...(summary ? { summary } : {}),
        source:
          known && known.source !== feed ? [...new Set([...known.source.split(','), feed])].sort().join(',') : feed,
      });
    }
  }
  // Vulnerabilities no matching record rates borrow the rating another record gives their id.
  const unrated = [...found.values()].filter((v) => v.severity === 'unknown').map((v) => v.id);
  const borrowed = unrated.length ? source.ratings?.([...new Set(unrated)]) : undefined;
  const vulnerabilities = [...found.values()]
    .map((v) => {
      const rating = v.severity === 'unknown' ? borrowed?.get(v.id) : undefined;
      return rating
        ? {
            ...v,
            severity: rating.severity,
            ...(rating.cvss ? { cvss: rating.cvss } : {}),
            ...(rating.ratedBy ? { ratedBy: rating.ratedBy } : {}),
          }
        : v;
    })
    .filter((v) => !options.ignoreUnfixed || v.fixedVersion !== undefined)
    .sort((a, b) =>
      a.id < b.id
        ? -1
        : a.id > b.id
          ? 1
          : a.package.name < b.package.name
            ? -1
            : a.package.name > b.package.name
              ? 1
              : 0,
    );
  return { vulnerabilities, skippedGit };
}
