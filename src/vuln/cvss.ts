import { CVSS } from '@turingpointde/cvss.js';
import type { Severity } from '../core/finding.js';
import type { Cvss } from '../core/vulnerability.js';

/**
 * CVSS base scores from vectors, v3.0, v3.1 and v4.0, through @turingpointde/cvss.js (v4's
 * score comes from FIRST's MacroVector table, which is data a library should carry, not us).
 * Undefined for vectors that are not valid.
 */
export function cvssOf(vector: string): Cvss | undefined {
  // Feeds repeat a few thousand distinct vectors across their records.
  if (!scored.has(vector)) scored.set(vector, score(vector));
  return scored.get(vector);
}

const scored = new Map<string, Cvss | undefined>();

function score(vector: string): Cvss | undefined {
  const version = /^CVSS:(3\.0|3\.1|4\.0)\//.exec(vector)?.[1];
  if (!version) return undefined;
  try {
    const score = CVSS(vector).getScore();
    return Number.isFinite(score) ? { version, vector, score } : undefined;
  } catch {
    return undefined;
  }
}

/** The CVSS qualitative rating (none maps to info). */
export function ratingOf(score: number): Severity {
  return score >= 9 ? 'critical' : score >= 7 ? 'high' : score >= 4 ? 'medium' : score > 0 ? 'low' : 'info';
}
