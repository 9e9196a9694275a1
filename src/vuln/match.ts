import type { Severity } from '../core/finding.js';
import type { Package } from '../core/package.js';
import { cvss3Score, ratingOf } from './cvss.js';
import { isAffected, type OsvRecord } from './osv.js';

/** A known vulnerability of an installed package. */
export interface Vulnerability {
  readonly id: string;
  readonly aliases: readonly string[];
  readonly package: { readonly type: Package['type']; readonly name: string; readonly version: string };
  readonly fixedVersion?: string;
  /** From a CVSS v3 vector when the record has one, else the feed's own rating; unknown otherwise. */
  readonly severity: Severity | 'unknown';
  readonly source: string;
}

export interface OsContext {
  readonly id: string;
  readonly versionId?: string;
}

/** The OSV ecosystem a package's advisories are filed under, and the name they use for it. */
export function ecosystemOf(p: Package, os: OsContext): { ecosystem: string; name: string } | undefined {
  switch (p.type) {
    case 'apk': {
      if (os.id === 'wolfi') return { ecosystem: 'Wolfi', name: p.name };
      if (os.id === 'chainguard') return { ecosystem: 'Chainguard', name: p.name };
      const minor = /^(\d+\.\d+)/.exec(os.versionId ?? '')?.[1];
      return minor ? { ecosystem: `Alpine:v${minor}`, name: p.source ?? p.name } : undefined;
    }
    case 'deb': {
      // Debian's advisories name source packages (glibc, not libc6).
      const major = /^(\d+)/.exec(os.versionId ?? '')?.[1];
      if (os.id === 'ubuntu') return os.versionId ? { ecosystem: `Ubuntu:${os.versionId}`, name: p.source ?? p.name } : undefined;
      return major ? { ecosystem: `Debian:${major}`, name: p.source ?? p.name } : undefined;
    }
    case 'npm': return { ecosystem: 'npm', name: p.name };
    case 'pypi': return { ecosystem: 'PyPI', name: p.name.toLowerCase().replace(/[-_.]+/g, '-') };
    case 'golang': return { ecosystem: 'Go', name: p.name };
    case 'maven': return { ecosystem: 'Maven', name: p.name };
    case 'cargo': return { ecosystem: 'crates.io', name: p.name };
    default: return undefined;
  }
}

function severityOf(record: OsvRecord): Severity | 'unknown' {
  const v3 = record.severity?.find((s) => s.type === 'CVSS_V3');
  const score = v3 ? cvss3Score(v3.score) : undefined;
  if (score !== undefined) return ratingOf(score);
  const rated = record.database_specific?.severity?.toLowerCase();
  if (rated === 'moderate') return 'medium';
  return rated === 'critical' || rated === 'high' || rated === 'medium' || rated === 'low' ? rated : 'unknown';
}

/** The id a vulnerability is known by across feeds: its CVE when it has one. */
const canonicalId = (r: OsvRecord): string =>
  (r.id.startsWith('CVE-') ? r.id : [...(r.aliases ?? []), ...(r.upstream ?? [])].find((a) => a.startsWith('CVE-')) ?? r.id);

/**
 * Matches installed packages against records. Withdrawn records are skipped; a CVE reported by
 * several records (a DSA and the CVE itself) is one vulnerability per package, aliases merged.
 */
export function matchPackages(packages: readonly Package[], os: OsContext, records: readonly OsvRecord[], source = 'osv'): Vulnerability[] {
  const index = new Map<string, { record: OsvRecord; entry: NonNullable<OsvRecord['affected']>[number] }[]>();
  for (const record of records) {
    if (record.withdrawn) continue;
    for (const entry of record.affected ?? []) {
      const key = `${entry.package.ecosystem}\0${entry.package.name}`;
      const list = index.get(key);
      if (list) list.push({ record, entry });
      else index.set(key, [{ record, entry }]);
    }
  }
  const found = new Map<string, Vulnerability>();
  for (const p of packages) {
    const eco = ecosystemOf(p, os);
    if (!eco) continue;
    for (const { record, entry } of index.get(`${eco.ecosystem}\0${eco.name}`) ?? []) {
      const result = isAffected(entry, p.version);
      if (!result.affected) continue;
      const id = canonicalId(record);
      const key = `${id}\0${p.type}\0${p.name}\0${p.version}`;
      const known = found.get(key);
      const aliases = [...new Set([...(known?.aliases ?? []), record.id, ...(record.aliases ?? []), ...(record.upstream ?? [])].filter((a) => a !== id))].sort();
      const severity = known && known.severity !== 'unknown' ? known.severity : severityOf(record);
      found.set(key, {
        id, aliases, package: { type: p.type, name: p.name, version: p.version },
        ...(known?.fixedVersion ?? result.fixed ? { fixedVersion: known?.fixedVersion ?? result.fixed } : {}),
        severity, source,
      });
    }
  }
  return [...found.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : a.package.name < b.package.name ? -1 : 1));
}
