import type { Finding } from '../../core/finding.js';
import type { Maintenance, SupportStatus } from '../../core/maintenance.js';
import { finding, type Analyzer, type JudgeInput, type Rule } from '../types.js';

/** An image older than this (from its config's `created`) gets a finding. */
export const MAX_IMAGE_AGE_DAYS = 180;

export const MAINTENANCE_RULES = {
  releaseEnded: {
    id: 'maintenance/release-ended',
    severity: 'high',
    title: 'Distribution release past its end of life',
    rationale:
      'No security fixes are published for the release any more, and vulnerability feeds stop listing new advisories for it: a scan that finds no vulnerabilities says nothing (Alpine 3.9 and 3.10, Ubuntu 18.04 without Ubuntu Pro). Move to a supported release or a distroless image rebuilt daily.',
    references: ['https://endoflife.date', 'CIS Docker Benchmark 4.3: do not install unnecessary packages'],
  },
  releaseExtended: {
    id: 'maintenance/release-extended',
    severity: 'medium',
    title: 'Distribution release in extended support only',
    rationale:
      'Standard security support ended; the release still gets fixes from its extended support (Debian LTS) for fewer packages and until a near date. Plan the move to the next release.',
    references: ['https://wiki.debian.org/LTS', 'https://endoflife.date'],
  },
  releaseEnding: {
    id: 'maintenance/release-ending',
    severity: 'low',
    title: 'Distribution release reaches its end of life within 180 days',
    rationale: 'Security support ends soon; after that date fixes stop. Schedule the upgrade now.',
    references: ['https://endoflife.date'],
  },
  runtimeEnded: {
    id: 'maintenance/runtime-ended',
    severity: 'high',
    title: 'Language runtime past its end of life',
    rationale:
      'The runtime (Node.js, Python, Java, Go) no longer gets security releases: vulnerabilities found in it stay open. Move to a supported version.',
    references: ['https://endoflife.date'],
  },
  runtimeEnding: {
    id: 'maintenance/runtime-ending',
    severity: 'low',
    title: 'Language runtime reaches its end of life within 180 days',
    rationale: 'The runtime stops getting security releases soon.',
    references: ['https://endoflife.date'],
  },
  securityUpdates: {
    id: 'maintenance/security-updates',
    severity: 'high',
    title: 'Packages behind their security updates',
    rationale:
      "The release's security suite offers newer versions of installed packages: the image was built before the fixes or never rebuilt. Rebuild it (apt-get upgrade / apk upgrade in the build, or a fresh base).",
    references: ['https://www.debian.org/security/', 'CIS Docker Benchmark 4.7'],
  },
  outdated: {
    id: 'maintenance/outdated-packages',
    severity: 'low',
    title: 'Packages behind their repository',
    rationale:
      'Newer versions of installed packages are in the release: each is an update the image will need. Fewer packages (a distroless base) means fewer to keep current.',
    references: ['CIS Docker Benchmark 4.7'],
  },
  imageAge: {
    id: 'maintenance/image-age',
    severity: 'low',
    title: 'Image not rebuilt for more than 180 days',
    rationale:
      'An image is only as current as its last build: fixes published since are not in it. Rebuild regularly (distroless and Chainguard images are rebuilt daily).',
    references: ['CIS Docker Benchmark 4.7'],
  },
  baseDrift: {
    id: 'maintenance/base-drift',
    severity: 'medium',
    title: 'The base image tag moved on',
    rationale:
      'The image names its base (org.opencontainers.image.base.* labels) and that tag now points at another digest: the base has been rebuilt, usually with fixes, and this image has not.',
    references: ['https://github.com/opencontainers/image-spec/blob/main/annotations.md'],
  },
} as const satisfies Record<string, Rule>;

const ends = (s: SupportStatus): string =>
  typeof s.eol === 'string' ? (s.days !== undefined && s.days < 0 ? `ended on ${s.eol}` : `ends on ${s.eol}`) : 'ended';

/** The findings of an image's maintenance section (computed by the scan, judged here). */
export function judgeMaintenance(maintenance: Maintenance | undefined, os?: { prettyName?: string }): Finding[] {
  if (!maintenance) return [];
  const out: Finding[] = [];
  const r = MAINTENANCE_RULES;
  const { release } = maintenance;
  const name =
    os?.prettyName ??
    `${release.product} ${release.cycle ?? ''}${release.codename ? ` (${release.codename})` : ''}`.trim();
  if (release.state === 'ended')
    out.push(
      finding(r.releaseEnded, {
        message: `${name}: security support ${ends(release)}${release.extendedEol ? `; extended support (until ${release.extendedEol}) is not available to this image` : ''}. Vulnerability feeds no longer cover it: "no vulnerabilities" means "no advisories". Move to a supported release.`,
        key: name,
      }),
    );
  else if (release.state === 'extended')
    out.push(
      finding(r.releaseExtended, {
        message: `${name}: standard security support ${ends(release)}; extended support publishes fixes until ${release.extendedEol}. Move to the next release before then.`,
        key: name,
      }),
    );
  else if (release.state === 'ending')
    out.push(finding(r.releaseEnding, { message: `${name}: security support ${ends(release)}.`, key: name }));
  for (const runtime of maintenance.runtimes) {
    const label = `${runtime.name} ${runtime.version} (${runtime.product} ${runtime.cycle ?? ''})`.replace(' )', ')');
    if (runtime.state === 'ended')
      out.push(
        finding(r.runtimeEnded, {
          message: `${label}: support ${ends(runtime)}. Move to a supported version.`,
          key: label,
        }),
      );
    else if (runtime.state === 'ending')
      out.push(finding(r.runtimeEnding, { message: `${label}: support ${ends(runtime)}.`, key: label }));
  }
  const outdated = maintenance.outdated;
  if (outdated?.security) {
    const names = outdated.packages.filter((p) => p.security).map((p) => `${p.name} ${p.installed} → ${p.available}`);
    out.push(
      finding(r.securityUpdates, {
        message: `${outdated.security} package(s) have updates in ${outdated.suites.filter((s) => /security/.test(s)).join(', ') || 'the security suite'}: ${names.slice(0, 8).join(', ')}${names.length > 8 ? ` and ${names.length - 8} more` : ''}. Rebuild the image.`,
        key: names.join(','),
      }),
    );
  }
  if (outdated?.other)
    out.push(
      finding(r.outdated, {
        message: `${outdated.other} package(s) are behind ${outdated.suites.join(', ')} (not security updates): ${outdated.packages
          .filter((p) => !p.security)
          .slice(0, 8)
          .map((p) => `${p.name} ${p.installed} → ${p.available}`)
          .join(', ')}${outdated.other > 8 ? ` and ${outdated.other - 8} more` : ''}.`,
        key: String(outdated.other),
      }),
    );
  const { image } = maintenance;
  if (image.ageDays !== undefined && image.ageDays > MAX_IMAGE_AGE_DAYS)
    out.push(
      finding(r.imageAge, {
        message:
          image.ageFrom === 'packages'
            ? `The config gives no build date (${image.createdState === 'epoch' ? 'the epoch: a reproducible build' : 'none'}), and the newest package in the image was built on ${image.newestPackage!.slice(0, 10)}, ${image.ageDays} days ago: nothing in it is newer. Rebuild it to take the fixes published since.`
            : `The image was built on ${image.created!.slice(0, 10)}, ${image.ageDays} days ago. Rebuild it to take the fixes published since.`,
        key: image.created ?? image.newestPackage!,
      }),
    );
  const base = maintenance.base;
  if (base?.drifted)
    out.push(
      finding(r.baseDrift, {
        message: `The base ${base.name ?? ''} was ${base.digest ?? 'another digest'} when this image was built; the tag now points at ${base.currentDigest}. Rebuild on the current base${base.fixes?.length ? `: it no longer has ${base.fixes.length} of this image's vulnerabilities (${base.fixes.slice(0, 6).join(', ')}${base.fixes.length > 6 ? ', …' : ''})` : ''}.`,
        key: `${base.name}@${base.currentDigest}`,
      }),
    );
  return out;
}

/**
 * Maintenance has no files to read: its facts are computed by the scan from the packages, the
 * config and the local data (end-of-life tables, repository indexes). This analyzer carries the
 * rules and judges the section.
 */
export const maintenanceAnalyzer = {
  id: 'maintenance',
  version: 1,
  rules: Object.values(MAINTENANCE_RULES),
  analyze: () => ({}),
  judge: (_evidence: unknown, { facts }: JudgeInput) => judgeMaintenance(facts.maintenance, facts.os),
} satisfies Analyzer;
