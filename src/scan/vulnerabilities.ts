import type { ImageFacts, ReportWarning } from '../core/report.js';
import { matchPackages, type VulnSource } from '../vuln/match.js';
import { sortWarnings } from './assemble.js';

export interface VulnScanOptions {
  readonly source: VulnSource;
  /** Drop vulnerabilities with no known fix (--ignore-unfixed). */
  readonly ignoreUnfixed?: boolean;
  /** When the database was built, and how old it may be before the report warns. */
  readonly builtAt?: Date;
  readonly maxAgeDays?: number;
}

/**
 * Adds known vulnerabilities to an image's facts. Done on every scan, after the (cached)
 * analysis, so that a database update shows up without re-reading the image.
 */
export function withVulnerabilities<F extends ImageFacts>(
  facts: F,
  options: VulnScanOptions | undefined,
  now: () => Date,
): F {
  const warnings: ReportWarning[] = [];
  if (!options) {
    warnings.push({
      code: 'W_VULN_DB_MISSING',
      message: 'no vulnerability database: vulnerabilities were not checked; run `distrolens db update`',
    });
    return { ...facts, warnings: sortWarnings([...facts.warnings, ...warnings]) };
  }
  const { vulnerabilities, skippedGit } = matchPackages(facts.packages, facts.os, options.source, {
    ignoreUnfixed: options.ignoreUnfixed ?? false,
  });
  if (skippedGit)
    warnings.push({
      code: 'W_VULN_GIT_RANGES',
      message: `${skippedGit} advisory range(s) are given as git commits and cannot be compared with package versions; they were skipped`,
    });
  if (options.builtAt && options.maxAgeDays !== undefined) {
    const age = (now().getTime() - options.builtAt.getTime()) / 86_400_000;
    if (age > options.maxAgeDays) {
      warnings.push({
        code: 'W_VULN_DB_STALE',
        message: `the vulnerability database is ${Math.floor(age)} days old (limit ${options.maxAgeDays}); run \`distrolens db update\``,
      });
    }
  }
  return { ...facts, vulnerabilities, warnings: sortWarnings([...facts.warnings, ...warnings]) };
}
