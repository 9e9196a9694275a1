import { compareApk } from './versions/apk.js';
import { compareDpkg } from './versions/dpkg.js';
import { compareMaven } from './versions/maven.js';
import { comparePep440 } from './versions/pep440.js';
import { compareRpm } from './versions/rpm.js';
import { compareSemver } from './versions/semver.js';

/**
 * OSV records (https://ossf.github.io/osv-schema/) reduced to what matching needs, and the check
 * whether a version is affected: explicit `versions`, or ECOSYSTEM/SEMVER `ranges` whose events
 * (introduced, fixed, last_affected, limit) are evaluated in the ecosystem's own version order.
 * GIT ranges cannot be evaluated against a package version and are skipped (reported by callers).
 */
export interface OsvEvent {
  readonly introduced?: string;
  readonly fixed?: string;
  readonly last_affected?: string;
  readonly limit?: string;
}

export interface OsvAffected {
  readonly package: { readonly ecosystem: string; readonly name: string; readonly purl?: string };
  readonly ranges?: readonly { readonly type: string; readonly events: readonly OsvEvent[] }[];
  readonly versions?: readonly string[];
}

export interface OsvRecord {
  readonly id: string;
  readonly aliases?: readonly string[];
  /** Upstream advisories a distro record derives from (OSV 1.7), e.g. the CVE behind ALPINE-CVE-…. */
  readonly upstream?: readonly string[];
  readonly summary?: string;
  readonly withdrawn?: string;
  readonly modified?: string;
  readonly affected?: readonly OsvAffected[];
  readonly severity?: readonly { readonly type: string; readonly score: string }[];
  readonly database_specific?: { readonly severity?: string };
}

/** The version order of an OSV ecosystem ("Alpine:v3.9" → Alpine). */
export function comparatorFor(ecosystem: string): (a: string, b: string) => number {
  const base = ecosystem.split(':')[0]!.toLowerCase();
  if (base === 'alpine' || base === 'wolfi' || base === 'chainguard') return compareApk;
  if (base === 'debian' || base === 'ubuntu') return compareDpkg;
  if (['red hat', 'rocky linux', 'almalinux', 'suse', 'opensuse', 'mageia'].includes(base)) return compareRpm;
  if (base === 'pypi') return comparePep440;
  if (base === 'maven') return compareMaven;
  return compareSemver;
}

export interface AffectedResult {
  readonly affected: boolean;
  /** The first fixed version above the installed one, when the range names one. */
  readonly fixed?: string;
  /** True when a GIT range had to be skipped. */
  readonly skippedGit?: boolean;
}

/** Whether `version` is affected by one `affected` entry of a record. */
export function isAffected(entry: OsvAffected, version: string): AffectedResult {
  const cmp = comparatorFor(entry.package.ecosystem);
  if (entry.versions?.includes(version)) {
    // Listed explicitly; the ranges may still say which version fixed it.
    const fixed = (entry.ranges ?? [])
      .filter((r) => r.type !== 'GIT')
      .flatMap((r) => r.events)
      .map((e) => e.fixed)
      .filter((f): f is string => f !== undefined && cmp(version, f) < 0)
      .sort(cmp)[0];
    return { affected: true, ...(fixed ? { fixed } : {}) };
  }
  let skippedGit = false;
  for (const range of entry.ranges ?? []) {
    if (range.type === 'GIT') {
      skippedGit = true;
      continue;
    }
    // Events sorted by version; walk them, tracking whether the installed version is inside.
    const events = [...range.events].sort((x, y) => {
      const vx = x.introduced ?? x.fixed ?? x.last_affected ?? x.limit ?? '0';
      const vy = y.introduced ?? y.fixed ?? y.last_affected ?? y.limit ?? '0';
      return vx === '0' ? -1 : vy === '0' ? 1 : cmp(vx, vy);
    });
    let inside = false;
    for (const e of events) {
      if (e.introduced !== undefined && (e.introduced === '0' || cmp(version, e.introduced) >= 0)) inside = true;
      else if (e.fixed !== undefined && cmp(version, e.fixed) >= 0) inside = false;
      else if (e.last_affected !== undefined && cmp(version, e.last_affected) > 0) inside = false;
      else if (e.limit !== undefined && cmp(version, e.limit) >= 0) inside = false;
    }
    if (inside) {
      const fixed = events.find((e) => e.fixed !== undefined && cmp(version, e.fixed) < 0)?.fixed;
      return { affected: true, ...(fixed ? { fixed } : {}) };
    }
  }
  return { affected: false, ...(skippedGit ? { skippedGit } : {}) };
}
