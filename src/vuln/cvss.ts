import type { Severity } from '../core/finding.js';

/**
 * CVSS v3.x base score from a vector (https://www.first.org/cvss/v3.1/specification-document §7),
 * and the qualitative rating. Returns undefined for vectors it cannot read.
 */
const W = {
  AV: { N: 0.85, A: 0.62, L: 0.55, P: 0.2 },
  AC: { L: 0.77, H: 0.44 },
  UI: { N: 0.85, R: 0.62 },
  CIA: { H: 0.56, L: 0.22, N: 0 },
} as const;

/** CVSS's Roundup: the smallest number with one decimal that is ≥ the input (float-safe). */
function roundup(value: number): number {
  const int = Math.round(value * 100000);
  return int % 10000 === 0 ? int / 100000 : (Math.floor(int / 10000) + 1) / 10;
}

export function cvss3Score(vector: string): number | undefined {
  const m = new Map(vector.replace(/^CVSS:3\.[01]\//, '').split('/').map((kv) => kv.split(':') as [string, string]));
  const av = W.AV[m.get('AV') as keyof typeof W.AV];
  const ac = W.AC[m.get('AC') as keyof typeof W.AC];
  const ui = W.UI[m.get('UI') as keyof typeof W.UI];
  const scope = m.get('S');
  const pr = { N: 0.85, L: scope === 'C' ? 0.68 : 0.62, H: scope === 'C' ? 0.5 : 0.27 }[m.get('PR') as 'N' | 'L' | 'H'];
  const [c, i, a] = ['C', 'I', 'A'].map((k) => W.CIA[m.get(k) as keyof typeof W.CIA]);
  if ([av, ac, ui, pr, c, i, a].some((v) => v === undefined) || (scope !== 'U' && scope !== 'C')) return undefined;
  const iss = 1 - (1 - c!) * (1 - i!) * (1 - a!);
  const impact = scope === 'U' ? 6.42 * iss : 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15;
  if (impact <= 0) return 0;
  const exploitability = 8.22 * av! * ac! * pr! * ui!;
  return roundup(Math.min(scope === 'U' ? impact + exploitability : 1.08 * (impact + exploitability), 10));
}

/** The CVSS qualitative rating (none maps to info). */
export function ratingOf(score: number): Severity {
  return score >= 9 ? 'critical' : score >= 7 ? 'high' : score >= 4 ? 'medium' : score > 0 ? 'low' : 'info';
}
