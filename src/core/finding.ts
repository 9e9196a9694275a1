import { createHash } from 'node:crypto';

/** Severity of a finding or vulnerability, most severe first. */
export type Severity = 'critical' | 'high' | 'medium' | 'low' | 'info';
export const SEVERITIES: readonly Severity[] = ['critical', 'high', 'medium', 'low', 'info'];

/** Where a finding was seen: an image path and the layer that last wrote it. */
export interface Location {
  readonly path: string;
  readonly layer: number;
}

export interface Finding {
  /** Stable, `<area>/<rule>`, e.g. `accounts/empty-password`. */
  readonly ruleId: string;
  readonly severity: Severity;
  /** One line, no trailing period. */
  readonly title: string;
  /** What, why it matters, how to fix it. */
  readonly message: string;
  readonly location?: Location;
  /** CVE ids, CIS Docker Benchmark controls, incident write-ups. */
  readonly references: readonly string[];
  /** Stable across runs: derived from the rule, the location and the key evidence, never a secret. */
  readonly fingerprint: string;
}

/** A fingerprint from the parts that identify a finding (not its wording, not its severity). */
export function fingerprint(ruleId: string, ...parts: readonly (string | number | undefined)[]): string {
  return createHash('sha256')
    .update([ruleId, ...parts.map((p) => String(p ?? ''))].join('\0'))
    .digest('hex')
    .slice(0, 32);
}

/** Sort order of findings: severity, rule, path. */
export function compareFindings(a: Finding, b: Finding): number {
  return (
    SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity) ||
    (a.ruleId < b.ruleId ? -1 : a.ruleId > b.ruleId ? 1 : 0) ||
    ((a.location?.path ?? '') < (b.location?.path ?? '')
      ? -1
      : (a.location?.path ?? '') > (b.location?.path ?? '')
        ? 1
        : 0) ||
    (a.fingerprint < b.fingerprint ? -1 : a.fingerprint > b.fingerprint ? 1 : 0)
  );
}

/** A rule an analyzer can report, documented in docs/rules.md and in SARIF (generated from these). */
export interface Rule {
  readonly id: string;
  readonly severity: Severity;
  readonly title: string;
  /** Why it matters. */
  readonly rationale: string;
  readonly references: readonly string[];
}

/** Where each rule is documented. */
export const RULES_URL = 'https://github.com/distrolens/distrolens/blob/main/docs/rules.md';

/** Where a finding in a source file is: a Dockerfile and its lines. */
export interface SourceLocation {
  readonly path: string;
  readonly line: number;
  readonly endLine?: number;
}

/** A finding in a Dockerfile: the shape of an image finding, located by line. */
export type SourceFinding = Omit<Finding, 'location'> & { readonly location: SourceLocation };
