import { formatBytes } from '../core/units.js';
import { loadYaml } from '../util/yaml.js';
import { fail } from '../core/errors.js';
import { SEVERITIES, type Finding, type Severity } from '../core/finding.js';
import type { Report } from '../core/report.js';
import type { WorkloadsReport } from '../core/workloads.js';
import { SURFACE_LISTS } from '../core/surface.js';
import type { Vulnerability } from '../core/vulnerability.js';

/**
 * The gate a team keeps in its repository (`--policy distrolens.yaml`): minimum grade, forbidden
 * surface categories, non-root, maximum size, maximum finding and vulnerability severity, allowed
 * registries, and accepted findings and vulnerabilities with a reason and an expiry date (expired
 * acceptances fail again).
 */
export interface Acceptance {
  /** A rule id (surface/shell) or a vulnerability id or alias (CVE-2021-23337); one of the two. */
  readonly rule?: string;
  readonly vulnerability?: string;
  /** Limits a vulnerability's acceptance to one package name. */
  readonly package?: string;
  /** Limits the acceptance to one path; absent: every finding of the rule. */
  readonly path?: string;
  readonly reason: string;
  /** YYYY-MM-DD; the acceptance stops applying after this day. */
  readonly expires?: string;
}

export interface Policy {
  readonly minGrade?: 'A' | 'B' | 'C' | 'D' | 'F';
  readonly forbid?: readonly string[];
  readonly nonRoot?: boolean;
  readonly maxSizeBytes?: number;
  /** The most severe finding or vulnerability allowed (e.g. medium: high and critical fail). */
  readonly maxSeverity?: Severity;
  readonly allowedRegistries?: readonly string[];
  /** Prefixes the image's base (label org.opencontainers.image.base.name) must start with. */
  readonly allowedBases?: readonly string[];
  readonly accept?: readonly Acceptance[];
  /** Rule ids that fail the gate whatever their severity (e.g. workload/escape-path). */
  readonly forbidRules?: readonly string[];
  /** `workloads`: the Pod Security Standards level every workload must meet. */
  readonly minPodSecurity?: 'baseline' | 'restricted';
  /** Most packages allowed behind their security suite (0: every security update applied). */
  readonly maxOutdatedSecurity?: number;
  /** Fail an image whose release (or a runtime) is past its end of life. */
  readonly forbidEol?: boolean;
  /** Oldest image allowed, in days since its config's `created`. */
  readonly maxImageAgeDays?: number;
}

export interface Violation {
  readonly check: string;
  readonly message: string;
}

export interface Verdict {
  readonly pass: boolean;
  readonly violations: readonly Violation[];
  /** Findings an unexpired acceptance covers. */
  readonly accepted: readonly { readonly finding: Finding; readonly reason: string }[];
  /** Vulnerabilities an unexpired acceptance covers. */
  readonly acceptedVulnerabilities: readonly { readonly vulnerability: Vulnerability; readonly reason: string }[];
}

const GRADES = ['A', 'B', 'C', 'D', 'F'] as const;
const FORBIDDABLE: readonly string[] = SURFACE_LISTS;
const KEYS = [
  'version',
  'minGrade',
  'forbid',
  'nonRoot',
  'maxSize',
  'maxSeverity',
  'allowedRegistries',
  'allowedBases',
  'accept',
  'forbidRules',
  'minPodSecurity',
  'maxOutdatedSecurity',
  'forbidEol',
  'maxImageAgeDays',
];
const RULE_ID = /^[a-z]+\/[a-zA-Z0-9_-]+$/;
const PSS_LEVELS = ['privileged', 'baseline', 'restricted'] as const;
/** The OCI annotation/label that names the base image (BuildKit and most builders set it). */
const BASE_LABEL = 'org.opencontainers.image.base.name';

const invalid = (file: string, where: string, why: string) =>
  fail(
    'E_POLICY_INVALID',
    `${file}: ${where}: ${why}`,
    'the policy format, with every key, is in docs/ci.md under "Policy files"',
  );

/** "200MB", "1.5 GB", "52428800" → bytes (decimal units, as image sizes are reported). */
function parseSize(value: unknown, file: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB)?$/i.exec(String(value).trim());
  if (!m) throw invalid(file, 'maxSize', `${JSON.stringify(value)} is not a size (e.g. 200MB)`);
  return Math.round(
    Number(m[1]) * ({ B: 1, KB: 1e3, MB: 1e6, GB: 1e9 } as Record<string, number>)[(m[2] ?? 'B').toUpperCase()]!,
  );
}

/** Parses and validates a policy file's text; every mistake is reported with where it is. */
export function parsePolicy(text: string, file = 'policy'): Policy {
  let doc: unknown;
  try {
    doc = loadYaml().parse(text);
  } catch (error) {
    const where =
      error instanceof loadYaml().YAMLParseError && error.linePos ? `line ${error.linePos[0].line}` : 'YAML';
    throw invalid(file, where, (error as Error).message.split('\n')[0]!);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc))
    throw invalid(file, 'top level', 'expected a mapping of settings');
  const d = doc as Record<string, unknown>;
  for (const key of Object.keys(d))
    if (!KEYS.includes(key)) throw invalid(file, key, `unknown setting (known: ${KEYS.join(', ')})`);
  if (d.version !== undefined && d.version !== 1) throw invalid(file, 'version', 'only version 1 exists');
  const policy: { -readonly [K in keyof Policy]: Policy[K] } = {};
  if (d.minGrade !== undefined) {
    if (!GRADES.includes(d.minGrade as never)) throw invalid(file, 'minGrade', `must be one of ${GRADES.join(', ')}`);
    policy.minGrade = d.minGrade as NonNullable<Policy['minGrade']>;
  }
  if (d.forbid !== undefined) {
    if (!Array.isArray(d.forbid)) throw invalid(file, 'forbid', 'must be a list');
    d.forbid.forEach((c, i) => {
      if (!FORBIDDABLE.includes(c as string))
        throw invalid(file, `forbid[${i}]`, `${JSON.stringify(c)} is not one of ${FORBIDDABLE.join(', ')}`);
    });
    policy.forbid = d.forbid as string[];
  }
  if (d.nonRoot !== undefined) {
    if (typeof d.nonRoot !== 'boolean') throw invalid(file, 'nonRoot', 'must be true or false');
    policy.nonRoot = d.nonRoot;
  }
  if (d.maxSize !== undefined) policy.maxSizeBytes = parseSize(d.maxSize, file);
  if (d.maxSeverity !== undefined) {
    if (!SEVERITIES.includes(d.maxSeverity as Severity))
      throw invalid(file, 'maxSeverity', `must be one of ${SEVERITIES.join(', ')}`);
    policy.maxSeverity = d.maxSeverity as Severity;
  }
  if (d.allowedRegistries !== undefined) {
    if (!Array.isArray(d.allowedRegistries) || d.allowedRegistries.some((r) => typeof r !== 'string'))
      throw invalid(file, 'allowedRegistries', 'must be a list of registry hosts');
    policy.allowedRegistries = d.allowedRegistries as string[];
  }
  if (d.allowedBases !== undefined) {
    if (!Array.isArray(d.allowedBases) || d.allowedBases.some((r) => typeof r !== 'string'))
      throw invalid(file, 'allowedBases', 'must be a list of image name prefixes');
    policy.allowedBases = d.allowedBases as string[];
  }
  if (d.forbidRules !== undefined) {
    if (!Array.isArray(d.forbidRules) || d.forbidRules.some((r) => typeof r !== 'string' || !RULE_ID.test(r)))
      throw invalid(file, 'forbidRules', 'must be a list of rule ids such as workload/escape-path');
    policy.forbidRules = d.forbidRules as string[];
  }
  if (d.minPodSecurity !== undefined) {
    if (d.minPodSecurity !== 'baseline' && d.minPodSecurity !== 'restricted')
      throw invalid(file, 'minPodSecurity', 'must be baseline or restricted');
    policy.minPodSecurity = d.minPodSecurity;
  }
  for (const key of ['maxOutdatedSecurity', 'maxImageAgeDays'] as const) {
    if (d[key] === undefined) continue;
    if (typeof d[key] !== 'number' || !Number.isInteger(d[key]) || d[key] < 0)
      throw invalid(file, key, 'must be a whole number, 0 or more');
    policy[key] = d[key];
  }
  if (d.forbidEol !== undefined) {
    if (typeof d.forbidEol !== 'boolean') throw invalid(file, 'forbidEol', 'must be true or false');
    policy.forbidEol = d.forbidEol;
  }
  if (d.accept !== undefined) {
    if (!Array.isArray(d.accept)) throw invalid(file, 'accept', 'must be a list');
    policy.accept = d.accept.map((a, i) => {
      const where = `accept[${i}]`;
      if (!a || typeof a !== 'object')
        throw invalid(file, where, 'must be a mapping with rule (or vulnerability), reason and expires');
      const e = a as Record<string, unknown>;
      if ((e.rule === undefined) === (e.vulnerability === undefined))
        throw invalid(file, where, 'give either rule (a rule id) or vulnerability (a CVE or advisory id)');
      if (e.rule !== undefined && (typeof e.rule !== 'string' || !RULE_ID.test(e.rule)))
        throw invalid(file, `${where}.rule`, 'must be a rule id such as surface/shell');
      if (
        e.vulnerability !== undefined &&
        (typeof e.vulnerability !== 'string' || !/^[A-Za-z]+-[\w.:-]+$/.test(e.vulnerability))
      ) {
        throw invalid(
          file,
          `${where}.vulnerability`,
          'must be an advisory id such as CVE-2021-23337 or GHSA-35jh-r3h4-6jhm',
        );
      }
      if (e.package !== undefined && (typeof e.package !== 'string' || e.vulnerability === undefined))
        throw invalid(file, `${where}.package`, 'must be a package name, with vulnerability');
      if (typeof e.reason !== 'string' || !e.reason.trim())
        throw invalid(file, `${where}.reason`, 'say why the finding is accepted');
      const expires = e.expires instanceof Date ? e.expires.toISOString().slice(0, 10) : e.expires;
      if (
        expires !== undefined &&
        (typeof expires !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(expires) || Number.isNaN(Date.parse(expires)))
      ) {
        throw invalid(file, `${where}.expires`, 'must be a date, YYYY-MM-DD');
      }
      if (e.path !== undefined && typeof e.path !== 'string')
        throw invalid(file, `${where}.path`, 'must be an image path');
      return {
        ...(typeof e.rule === 'string' ? { rule: e.rule } : {}),
        ...(typeof e.vulnerability === 'string' ? { vulnerability: e.vulnerability } : {}),
        ...(typeof e.package === 'string' ? { package: e.package } : {}),
        reason: e.reason,
        ...(typeof e.path === 'string' ? { path: e.path } : {}),
        ...(expires ? { expires: expires } : {}),
      };
    });
  }
  return policy;
}

/** Applies a policy to a report; `today` is injected for reproducible expiry checks. */
/** The live acceptance among matching ones; an expired one is a violation of its own. */
function acceptanceIn(violations: Violation[], day: string) {
  return (matches: readonly Acceptance[], what: string): Acceptance | undefined => {
    const live = matches.find((a) => !a.expires || a.expires >= day);
    const expired = matches.find((a) => a.expires && a.expires < day);
    if (!live && expired)
      violations.push({
        check: 'accept',
        message: `the acceptance of ${what} expired on ${expired.expires} (${expired.reason})`,
      });
    return live;
  };
}

/** Splits findings into accepted and open ones, then applies forbidRules and maxSeverity to the open ones. */
function checkFindings(
  findings: readonly Finding[],
  policy: Policy,
  violations: Violation[],
  day: string,
): { accepted: { finding: Finding; reason: string }[]; open: Finding[] } {
  const acceptance = acceptanceIn(violations, day);
  const accepted: { finding: Finding; reason: string }[] = [];
  const open: Finding[] = [];
  for (const f of findings) {
    const matches = (policy.accept ?? []).filter(
      (a) => a.rule === f.ruleId && (a.path === undefined || a.path === f.location?.path),
    );
    const live = acceptance(matches, `${f.ruleId}${f.location ? ` at ${f.location.path}` : ''}`);
    if (live) accepted.push({ finding: f, reason: live.reason });
    else open.push(f);
  }
  const forbidden = [...new Set(open.filter((f) => policy.forbidRules?.includes(f.ruleId)).map((f) => f.ruleId))];
  if (forbidden.length)
    violations.push({ check: 'forbidRules', message: `forbidden rule(s) found: ${forbidden.sort().join(', ')}` });
  if (policy.maxSeverity) {
    const limit = SEVERITIES.indexOf(policy.maxSeverity);
    const over = open.filter((f) => SEVERITIES.indexOf(f.severity) < limit);
    if (over.length)
      violations.push({
        check: 'maxSeverity',
        message: `${over.length} finding(s) above ${policy.maxSeverity}: ${[...new Set(over.map((f) => f.ruleId))].sort().join(', ')}`,
      });
  }
  return { accepted, open };
}

export function evaluatePolicy(report: Report, policy: Policy, today: Date = new Date()): Verdict {
  const violations: Violation[] = [];
  const day = today.toISOString().slice(0, 10);
  const acceptance = acceptanceIn(violations, day);
  const { accepted } = checkFindings(report.findings, policy, violations, day);
  const acceptedVulnerabilities: { vulnerability: Vulnerability; reason: string }[] = [];
  const openVulnerabilities: Vulnerability[] = [];
  for (const v of report.vulnerabilities) {
    const matches = (policy.accept ?? []).filter(
      (a) =>
        a.vulnerability !== undefined &&
        (a.vulnerability === v.id || v.aliases.includes(a.vulnerability)) &&
        (a.package === undefined || a.package === v.package.name),
    );
    const live = acceptance(matches, `${v.id} in ${v.package.name}`);
    if (live) acceptedVulnerabilities.push({ vulnerability: v, reason: live.reason });
    else openVulnerabilities.push(v);
  }
  if (
    policy.minGrade &&
    GRADES.indexOf(report.score.grade as (typeof GRADES)[number]) > GRADES.indexOf(policy.minGrade)
  ) {
    violations.push({
      check: 'minGrade',
      message: `grade ${report.score.grade} is below the minimum ${policy.minGrade}`,
    });
  }
  for (const category of policy.forbid ?? []) {
    const items = report.surface[category as keyof Report['surface']] as readonly { path: string }[];
    const live = items.filter((i) => !accepted.some((a) => a.finding.location?.path === i.path));
    if (live.length)
      violations.push({
        check: 'forbid',
        message: `${category} are forbidden: ${live
          .slice(0, 5)
          .map((i) => i.path)
          .join(', ')}${live.length > 5 ? ` and ${live.length - 5} more` : ''}`,
      });
  }
  const user = report.target.config.user.split(':')[0];
  if (
    policy.nonRoot &&
    report.findings.some((f) => f.ruleId === 'config/runs-as-root') &&
    !accepted.some((a) => a.finding.ruleId === 'config/runs-as-root')
  ) {
    violations.push({ check: 'nonRoot', message: `the image runs as ${user || 'root (no USER)'}` });
  }
  if (policy.maxSizeBytes !== undefined && report.size.uncompressed > policy.maxSizeBytes) {
    violations.push({
      check: 'maxSize',
      message: `${formatBytes(report.size.uncompressed)} uncompressed, over the ${formatBytes(policy.maxSizeBytes)} maximum`,
    });
  }
  if (policy.maxSeverity) {
    const limit = SEVERITIES.indexOf(policy.maxSeverity);
    const vulns = openVulnerabilities.filter((v) => v.severity !== 'unknown' && SEVERITIES.indexOf(v.severity) < limit);
    if (vulns.length)
      violations.push({
        check: 'maxSeverity',
        message: `${countVulns(vulns.length)} above ${policy.maxSeverity}: ${summarizeVulns(vulns)}`,
      });
  }
  if (policy.allowedRegistries && report.target.source === 'registry') {
    const registry = (report.target.reference ?? report.target.input).replace(/^registry:/, '').split('/')[0]!;
    if (!policy.allowedRegistries.includes(registry))
      violations.push({
        check: 'allowedRegistries',
        message: `${registry} is not an allowed registry (${policy.allowedRegistries.join(', ')})`,
      });
  }
  if (policy.allowedBases) {
    const base = report.target.config.labels[BASE_LABEL];
    if (!base)
      violations.push({
        check: 'allowedBases',
        message: `the base image is unknown: the image has no ${BASE_LABEL} label`,
      });
    else if (!policy.allowedBases.some((prefix) => base.startsWith(prefix)))
      violations.push({
        check: 'allowedBases',
        message: `base ${base} is not allowed (${policy.allowedBases.join(', ')})`,
      });
  }
  checkMaintenance(report, policy, violations);
  return { pass: violations.length === 0, violations, accepted, acceptedVulnerabilities };
}

/** maxOutdatedSecurity, forbidEol, maxImageAgeDays: the maintenance section against the policy. */
function checkMaintenance(report: Report, policy: Policy, violations: Violation[]): void {
  const m = report.maintenance;
  if (policy.maxOutdatedSecurity !== undefined) {
    if (!m?.outdated)
      violations.push({
        check: 'maxOutdatedSecurity',
        message: 'the packages were not checked against their repository: run `distrolens db update` first',
      });
    else if (m.outdated.security > policy.maxOutdatedSecurity) {
      const names = m.outdated.packages
        .filter((p) => p.security)
        .map((p) => `${p.name} ${p.installed} → ${p.available}`);
      violations.push({
        check: 'maxOutdatedSecurity',
        message: `${m.outdated.security} package(s) behind their security updates (at most ${policy.maxOutdatedSecurity}): ${names.slice(0, 5).join(', ')}${names.length > 5 ? ` and ${names.length - 5} more` : ''}`,
      });
    }
  }
  if (policy.forbidEol && m) {
    const ended = [
      ...(m.release.state === 'ended' ? [`${m.release.product} ${m.release.cycle ?? ''}`.trim()] : []),
      ...m.runtimes.filter((r) => r.state === 'ended').map((r) => `${r.name} ${r.version}`),
    ];
    if (ended.length) violations.push({ check: 'forbidEol', message: `past its end of life: ${ended.join(', ')}` });
  }
  if (
    policy.maxImageAgeDays !== undefined &&
    m?.image.ageDays !== undefined &&
    m.image.ageDays > policy.maxImageAgeDays
  )
    violations.push({
      check: 'maxImageAgeDays',
      message: `built ${m.image.ageDays} days ago (at most ${policy.maxImageAgeDays})`,
    });
}

/**
 * The policy applied to `distrolens workloads`: minPodSecurity per workload, forbidRules,
 * maxSeverity and acceptances over every container's findings, nonRoot on the effective user,
 * minGrade and allowedRegistries on each image. Image-only keys (forbid, maxSize, allowedBases)
 * belong to `scan`.
 */
export function evaluateWorkloadsPolicy(report: WorkloadsReport, policy: Policy, today: Date = new Date()): Verdict {
  const violations: Violation[] = [];
  const day = today.toISOString().slice(0, 10);
  if (policy.minPodSecurity) {
    const min = PSS_LEVELS.indexOf(policy.minPodSecurity);
    const below = report.workloads.filter((w) => PSS_LEVELS.indexOf(w.podSecurity.level) < min);
    if (below.length)
      violations.push({
        check: 'minPodSecurity',
        message: `${below.length} workload(s) below ${policy.minPodSecurity}: ${below.map((w) => `${w.kind}/${w.namespace}/${w.name} (${w.podSecurity.level})`).join(', ')}`,
      });
  }
  const { accepted } = checkFindings(
    report.workloads.flatMap((w) => w.containers.flatMap((c) => c.findings)),
    policy,
    violations,
    day,
  );
  if (policy.nonRoot) {
    const root = report.workloads.flatMap((w) =>
      w.containers.filter((c) => c.effectiveUser.uid === 0).map((c) => `${w.kind}/${w.namespace}/${w.name} ${c.name}`),
    );
    if (root.length) violations.push({ check: 'nonRoot', message: `running as root: ${root.join(', ')}` });
  }
  for (const image of report.images) {
    if (policy.minGrade && image.grade && GRADES.indexOf(image.grade as never) > GRADES.indexOf(policy.minGrade))
      violations.push({
        check: 'minGrade',
        message: `${image.image}: grade ${image.grade} is below the minimum ${policy.minGrade}`,
      });
    // As Docker reads a reference: the first component names a registry only with a dot, a port or localhost.
    const [first = '', ...rest] = image.image.split('/');
    const registry = rest.length && (/[.:]/.test(first) || first === 'localhost') ? first : 'docker.io';
    if (policy.allowedRegistries && !policy.allowedRegistries.includes(registry))
      violations.push({
        check: 'allowedRegistries',
        message: `${image.image}: ${registry} is not an allowed registry (${policy.allowedRegistries.join(', ')})`,
      });
  }
  return { pass: violations.length === 0, violations, accepted, acceptedVulnerabilities: [] };
}

export const countVulns = (n: number): string => `${n} vulnerabilit${n === 1 ? 'y' : 'ies'}`;

/** "CVE-1 (musl), CVE-2 (openssl) and 3 more": the first few, for one gate line. */
export function summarizeVulns(vulns: readonly Vulnerability[], shown = 5): string {
  const ids = [...new Set(vulns.map((v) => `${v.id} (${v.package.name})`))];
  return `${ids.slice(0, shown).join(', ')}${ids.length > shown ? ` and ${ids.length - shown} more` : ''}`;
}
