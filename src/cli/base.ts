import type { Maintenance } from '../core/maintenance.js';
import type { Report } from '../core/report.js';
import { factsOf, scanImage, toReport, type VulnScanOptions } from '../scan/scan.js';
import { openSource, resolveTag, type OpenOptions } from '../sources/index.js';

/**
 * Base image drift: the image names its base (`org.opencontainers.image.base.name`, and the digest
 * it was built on in `.base.digest`, as BuildKit writes them); where the tag points now says
 * whether the base was rebuilt since. When it was, and a vulnerability database is at hand, the
 * current base is scanned too: the image's vulnerabilities in packages the base carries that the
 * current base no longer has are what a rebuild on it fixes. Never with --offline; a registry that
 * cannot be reached leaves a warning, not an error.
 */
export async function checkBase(
  report: Report,
  open: OpenOptions,
  vulnerabilities: VulnScanOptions | undefined,
): Promise<Report> {
  const base = report.maintenance?.base;
  if (!base?.name || /@sha256:/.test(base.name)) return report;
  let currentDigest: string;
  try {
    currentDigest = await resolveTag(base.name, open);
  } catch (error) {
    return rejudge(report, report.maintenance!, {
      code: 'W_BASE_NOT_CHECKED',
      message: `the base ${base.name} could not be looked up: ${(error as Error).message}`,
    });
  }
  const drifted = base.digest !== undefined ? base.digest !== currentDigest : undefined;
  let fixes: string[] | undefined;
  if (drifted && vulnerabilities) {
    const repository = base.name.replace(/:[^/:@]+$/, '');
    const source = await openSource(`registry:${repository}@${currentDigest}`, open);
    try {
      const current = (await scanImage(source, { vulnerabilities, platform: report.target.platform })).report;
      const carried = new Set(current.packages.map((p) => `${p.type}:${p.name}`));
      const still = new Set(current.vulnerabilities.map((v) => `${v.id} ${v.package.name}`));
      fixes = [
        ...new Set(
          report.vulnerabilities
            .filter(
              (v) => carried.has(`${v.package.type}:${v.package.name}`) && !still.has(`${v.id} ${v.package.name}`),
            )
            .map((v) => v.id),
        ),
      ].sort();
    } catch {
      fixes = undefined;
    } finally {
      await source.close();
    }
  }
  return rejudge(report, {
    ...report.maintenance!,
    base: {
      ...base,
      currentDigest,
      ...(drifted !== undefined ? { drifted } : {}),
      ...(fixes ? { fixes } : {}),
    },
  });
}

function rejudge(report: Report, maintenance: Maintenance, warning?: Report['warnings'][number]): Report {
  const facts = factsOf(report);
  return toReport(
    { ...facts, maintenance, warnings: warning ? [...facts.warnings, warning] : facts.warnings },
    new Date(report.createdAt),
  );
}
