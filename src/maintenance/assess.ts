import type {
  Maintenance,
  MaintenanceBurden,
  OutdatedPackageInfo,
  RuntimeSupport,
  SupportStatus,
} from '../core/maintenance.js';
import { isOsPackage, type Package } from '../core/package.js';
import type { ImageFacts, ReportWarning } from '../core/report.js';
import { cycleOf, eolState, type ReleaseCycle } from './eol.js';
import { outdatedPackages } from './repository.js';
import type { MaintenanceData } from './store.js';
import {
  EOL_TABLE_DATE,
  EOL_TABLE_HORIZON_DAYS,
  OS_PRODUCTS,
  PUBLIC_EXTENDED_SUPPORT,
  ROLLING_DISTRIBUTIONS,
  RUNTIME_PRODUCTS,
} from './table.js';

/** Support ending within this many days is "ending". */
export const ENDING_WITHIN_DAYS = 180;

/**
 * Maintenance burden, the one figure of the maintenance axis (docs/rules.md):
 *
 *   burden = OS packages / 10 + non-security updates / 5 + security updates
 *            + fixable vulnerabilities / 5 + support points
 *   support points: release ended 10, in public extended support 3, ending within 180 days 1;
 *                   each runtime ended 5, ending 1
 *
 * Rounded to one decimal. The score deducts min(15, ⌊burden⌋) as its `maintenance` category.
 */
export const BURDEN_WEIGHTS = {
  perPackage: 1 / 10,
  perUpdate: 1 / 5,
  perSecurityUpdate: 1,
  perFixable: 1 / 5,
  releaseEnded: 10,
  releaseExtended: 3,
  releaseEnding: 1,
  runtimeEnded: 5,
  runtimeEnding: 1,
} as const;

const DAY_MS = 86_400_000;
const days = (from: string, to: Date): number => Math.floor((to.getTime() - Date.parse(from)) / DAY_MS);

/** Where a cycle of a product stands on `today`. */
export function supportOf(product: string, cycle: ReleaseCycle | undefined, today: Date): SupportStatus {
  if (!cycle) return { product, state: 'unknown' };
  const state = eolState(cycle, today);
  const publicExtended = state.extended && PUBLIC_EXTENDED_SUPPORT.has(product);
  return {
    product,
    cycle: cycle.cycle,
    ...(cycle.codename ? { codename: cycle.codename } : {}),
    ...(cycle.eol !== undefined ? { eol: cycle.eol } : {}),
    ...(cycle.extendedEol ? { extendedEol: cycle.extendedEol } : {}),
    state: state.ended
      ? publicExtended
        ? 'extended'
        : 'ended'
      : state.days !== undefined && state.days <= ENDING_WITHIN_DAYS
        ? 'ending'
        : 'supported',
    ...(state.days !== undefined ? { days: state.days } : {}),
  };
}

/** `18.19.0+dfsg-6~deb12u2` → `18.19.0`; `v1.22.1` → `1.22.1`; `17.0.9+9` → `17.0.9`. */
const upstreamVersion = (version: string): string =>
  version
    .replace(/^\d+:/, '')
    .replace(/^v|^go/, '')
    .split(/[-+~_]/)[0]!;

/** The runtimes an image carries, from its packages: one per product and cycle. */
function runtimesOf(packages: readonly Package[]): { name: string; version: string; product: string }[] {
  const found: { name: string; version: string; product: string }[] = [];
  for (const pkg of packages) {
    let name: string | undefined;
    if (pkg.type === 'binary' && (pkg.name === 'node' || pkg.name === 'python')) name = pkg.name;
    else if (pkg.type === 'binary' && pkg.name === 'openjdk') name = 'java';
    else if (pkg.type === 'golang' && pkg.name === 'stdlib') name = 'go';
    else if (isOsPackage(pkg) && pkg.name === 'nodejs') name = 'node';
    else if (isOsPackage(pkg) && /^python3\.\d+$/.test(pkg.name)) name = 'python';
    else if (isOsPackage(pkg) && /^openjdk-?\d+(-jre|-jdk)?(-headless)?$/.test(pkg.name)) name = 'java';
    const product = name ? RUNTIME_PRODUCTS[name] : undefined;
    if (!name || !product) continue;
    const version = name === 'java' && isOsPackage(pkg) ? /\d+/.exec(pkg.name)![0] : upstreamVersion(pkg.version);
    if (!found.some((f) => f.product === product && f.version === version)) found.push({ name, version, product });
  }
  return found;
}

const isEpoch = (created: string): boolean => Date.parse(created) < Date.parse('1980-01-02T00:00:00Z');

export interface AssessOptions {
  readonly data: MaintenanceData;
  readonly now: Date;
}

/**
 * The maintenance section of an image and the warnings it carries: the end-of-life table's age,
 * and a release past its end whose "no vulnerabilities" means no more advisories.
 */
export function assessMaintenance(
  facts: Pick<ImageFacts, 'os' | 'packages' | 'vulnerabilities' | 'target' | 'evidence'>,
  options: AssessOptions,
): { maintenance: Maintenance; warnings: ReportWarning[] } {
  const { data, now } = options;
  const warnings: ReportWarning[] = [];
  const product = OS_PRODUCTS[facts.os.id];
  const table = product ? data.eol(product) : undefined;
  const release: SupportStatus = ROLLING_DISTRIBUTIONS.has(facts.os.id)
    ? { product: facts.os.id, state: 'rolling' }
    : product
      ? supportOf(product, facts.os.versionId ? cycleOf(table?.cycles ?? [], facts.os.versionId) : undefined, now)
      : { product: facts.os.id, state: 'unknown' };
  const runtimes: RuntimeSupport[] = runtimesOf(facts.packages).map(({ name, version, product }) => ({
    name,
    version,
    ...supportOf(product, cycleOf(data.eol(product)?.cycles ?? [], version), now),
  }));

  const osPackages = facts.packages.filter(isOsPackage);
  const repositoryRelease = release.state === 'rolling' ? 'rolling' : release.cycle;
  const suites = repositoryRelease ? data.suites(facts.os.id, repositoryRelease) : undefined;
  let outdated: Maintenance['outdated'];
  if (suites?.length) {
    const packages: OutdatedPackageInfo[] = outdatedPackages(
      osPackages.map((p) => ({ name: p.name, version: p.version, ...(p.source ? { source: p.source } : {}) })),
      suites,
    ).map((o) => ({ ...o, ...(o.since ? { daysBehind: Math.max(0, days(o.since, now)) } : {}) }));
    const security = packages.filter((p) => p.security).length;
    outdated = { suites: suites.map((s) => s.suite), security, other: packages.length - security, packages };
  }

  const created = facts.target.config.created;
  const newestPackage = (facts.evidence.apk as { newestBuild?: string } | undefined)?.newestBuild;
  const createdState = !created ? 'absent' : isEpoch(created) ? 'epoch' : 'dated';
  const image: Maintenance['image'] = {
    ...(createdState === 'dated' ? { created } : {}),
    ...(newestPackage ? { newestPackage } : {}),
    ...(createdState === 'dated'
      ? { ageDays: Math.max(0, days(created!, now)), ageFrom: 'config' as const }
      : newestPackage
        ? { ageDays: Math.max(0, days(newestPackage, now)), ageFrom: 'packages' as const }
        : {}),
    createdState,
  };
  if (createdState === 'dated' && newestPackage && Date.parse(newestPackage) > Date.parse(created!) + DAY_MS)
    warnings.push({
      code: 'W_IMAGE_DATE_INCONSISTENT',
      message: `the config says the image was created on ${created!.slice(0, 10)}, but it holds a package built on ${newestPackage.slice(0, 10)}: the created date is not when the image was built`,
    });

  const labels = facts.target.config.labels;
  const baseName = labels['org.opencontainers.image.base.name'];
  const baseDigest = labels['org.opencontainers.image.base.digest'];
  const base =
    baseName || baseDigest
      ? { ...(baseName ? { name: baseName } : {}), ...(baseDigest ? { digest: baseDigest } : {}) }
      : undefined;

  const w = BURDEN_WEIGHTS;
  const supportPoints =
    (release.state === 'ended'
      ? w.releaseEnded
      : release.state === 'extended'
        ? w.releaseExtended
        : release.state === 'ending'
          ? w.releaseEnding
          : 0) +
    runtimes.reduce(
      (sum, r) => sum + (r.state === 'ended' ? w.runtimeEnded : r.state === 'ending' ? w.runtimeEnding : 0),
      0,
    );
  const fixable = facts.vulnerabilities.filter((v) => v.fixedVersion).length;
  const burdenParts = {
    packages: osPackages.length,
    outdated: outdated ? outdated.security + outdated.other : 0,
    securityUpdates: outdated?.security ?? 0,
    fixable,
    support: supportPoints,
  };
  const burden: MaintenanceBurden = {
    value:
      Math.round(
        (burdenParts.packages * w.perPackage +
          (burdenParts.outdated - burdenParts.securityUpdates) * w.perUpdate +
          burdenParts.securityUpdates * w.perSecurityUpdate +
          fixable * w.perFixable +
          supportPoints) *
          10,
      ) / 10,
    ...burdenParts,
  };

  const eolSource = table?.source ?? 'shipped';
  if (eolSource === 'shipped' && days(EOL_TABLE_DATE, now) > EOL_TABLE_HORIZON_DAYS)
    warnings.push({
      code: 'W_EOL_DATA_STALE',
      message: `the end-of-life table shipped with distrolens is of ${EOL_TABLE_DATE}, ${days(EOL_TABLE_DATE, now)} days ago (horizon ${EOL_TABLE_HORIZON_DAYS}); run \`distrolens db update\` for current dates`,
    });
  if (release.state === 'ended')
    warnings.push({
      code: 'W_VULN_RELEASE_ENDED',
      message: `${facts.os.prettyName ?? `${facts.os.id} ${facts.os.versionId ?? ''}`.trim()} reached its end of life${typeof release.eol === 'string' ? ` on ${release.eol}` : ''}: the feeds stopped covering it, so vulnerabilities found since are not listed`,
    });

  return {
    maintenance: {
      release,
      runtimes,
      ...(outdated ? { outdated } : {}),
      image,
      ...(base ? { base } : {}),
      burden,
      data: { eol: eolSource, eolTableDate: EOL_TABLE_DATE, repositories: suites !== undefined },
    },
    warnings,
  };
}
