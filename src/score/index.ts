import type { Finding, Severity } from '../core/finding.js';
import type { Vulnerability } from '../core/vulnerability.js';

/**
 * The score: 100 minus deductions, each category capped so that one kind of problem cannot hide
 * all others. A finding deducts by severity; the package count deducts for maintenance burden.
 *
 *   deduction(category) = min(cap, Σ weight(severity) of its findings)
 *   weight: critical 50, high 15, medium 8, low 3, info 0
 *   vulnerabilities: min(40, Σ vulnWeight(severity)); vulnWeight: critical 10, high 4, medium 1,
 *     low and unknown 0.25 (a general image carries dozens of CVEs; the cap keeps them one category)
 *   maintenance: min(15, ⌊burden⌋), the burden of the report's maintenance section (packages / 10,
 *     updates, security updates, fixable vulnerabilities, support state: src/maintenance/assess.ts);
 *     its findings are what the burden counts and deduct nothing more. Without the section (a
 *     stored report of an older revision), ⌊OS package count / 10⌋ as before.
 *   score = max(0, 100 − Σ deductions); grade A ≥ 90 > B ≥ 75 > C ≥ 60 > D ≥ 40 > F
 */
export const SEVERITY_WEIGHTS: Readonly<Record<Severity, number>> = {
  critical: 50,
  high: 15,
  medium: 8,
  low: 3,
  info: 0,
};
export const VULNERABILITY_WEIGHTS: Readonly<Record<Vulnerability['severity'], number>> = {
  critical: 10,
  high: 4,
  medium: 1,
  low: 0.25,
  info: 0,
  unknown: 0.25,
};
export const CATEGORY_CAPS: Readonly<Record<string, number>> = {
  surface: 40,
  accounts: 50,
  config: 30,
  secrets: 50,
  size: 10,
  vulnerabilities: 40,
  maintenance: 15,
};
export const GRADES: readonly (readonly [string, number])[] = [
  ['A', 90],
  ['B', 75],
  ['C', 60],
  ['D', 40],
  ['F', 0],
];

export type Grade = 'A' | 'B' | 'C' | 'D' | 'F';

export interface Score {
  readonly value: number;
  readonly grade: Grade;
  /** Deduction per category, with its cap. */
  readonly categories: Readonly<Record<string, { readonly deduction: number; readonly max: number }>>;
}

/** The category of a finding is the first part of its rule id (`surface/shell` → surface). */
export const categoryOf = (finding: Finding): string => finding.ruleId.split('/')[0]!;

export function computeScore(
  findings: readonly Finding[],
  osPackages: number,
  vulnerabilities: readonly Vulnerability[] = [],
  burden?: number,
): Score {
  const raw: Record<string, number> = Object.fromEntries(Object.keys(CATEGORY_CAPS).map((c) => [c, 0]));
  for (const f of findings) {
    const category = categoryOf(f);
    if (category in raw && category !== 'maintenance') raw[category]! += SEVERITY_WEIGHTS[f.severity];
  }
  raw.maintenance = Math.floor(burden ?? osPackages / 10);
  raw.vulnerabilities! += Math.round(vulnerabilities.reduce((sum, v) => sum + VULNERABILITY_WEIGHTS[v.severity], 0));
  const categories: Record<string, { deduction: number; max: number }> = {};
  let total = 0;
  for (const [category, cap] of Object.entries(CATEGORY_CAPS)) {
    const deduction = Math.min(cap, raw[category] ?? 0);
    categories[category] = { deduction, max: cap };
    total += deduction;
  }
  const value = Math.max(0, 100 - total);
  const grade = GRADES.find(([, min]) => value >= min)![0] as Grade;
  return { value, grade, categories };
}
