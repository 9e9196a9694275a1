import { RULES_URL, SEVERITIES, type Finding, type Rule, type Severity, type SourceFinding } from '../core/finding.js';
import { createHash } from 'node:crypto';
import { isAbsolute, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { LintReport, Report } from '../core/report.js';
import type { WorkloadsReport } from '../core/workloads.js';
import type { Vulnerability } from '../core/vulnerability.js';

/**
 * SARIF 2.1.0 for GitHub code scanning: one rule per ruleId with help and a link into the rules
 * page, levels and `security-severity` from the severity, image paths as artifact locations (the
 * layer in properties), stable partialFingerprints. Findings without a path point at the image.
 * Each vulnerability id is a rule too (as Trivy and Grype do), its results located at the
 * package database that records the affected package.
 * https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html
 * https://docs.github.com/en/code-security/code-scanning/integrating-with-code-scanning/sarif-support-for-code-scanning
 */
const LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = {
  critical: 'error',
  high: 'error',
  medium: 'warning',
  low: 'note',
  info: 'note',
};
/** GitHub maps these to critical (≥ 9), high (≥ 7), medium (≥ 4) and low. */
const SECURITY_SEVERITY: Record<Severity, string> = {
  critical: '9.5',
  high: '8.0',
  medium: '5.5',
  low: '3.0',
  info: '0.0',
};

const anchor = (id: string): string => id.replace(/[^a-z0-9-]/g, '');
const vulnSeverity = (v: Vulnerability): Severity => (v.severity === 'unknown' ? 'low' : v.severity);
const vulnScore = (v: Vulnerability): string => (v.cvss ? v.cvss.score.toFixed(1) : SECURITY_SEVERITY[vulnSeverity(v)]);

export function renderSarif(report: Report, rules: readonly Rule[]): string {
  const used = [...new Set(report.findings.map((f) => f.ruleId))].sort();
  const catalogue = new Map(rules.map((r) => [r.id, r]));
  const vulnIds = [...new Set(report.vulnerabilities.map((v) => v.id))].sort();
  const ruleIndex = new Map([...used, ...vulnIds].map((id, i) => [id, i]));
  const packageAt = (v: Vulnerability) =>
    report.packages.find(
      (p) => p.type === v.package.type && p.name === v.package.name && p.version === v.package.version,
    )?.locations[0];
  const image = report.target.reference ?? report.target.input;
  const location = (f: Finding) => {
    const uri = f.location ? f.location.path.replace(/^\//, '') : image;
    return [
      {
        physicalLocation: { artifactLocation: { uri }, region: { startLine: 1 } },
        ...(f.location ? { logicalLocations: [{ name: `layer ${f.location.layer}`, kind: 'module' }] } : {}),
      },
    ];
  };
  const sarif = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'distrolens',
            version: report.tool.version,
            informationUri: 'https://github.com/distrolens/distrolens',
            rules: [
              ...used.map((id) =>
                ruleDescriptor(
                  id,
                  catalogue.get(id),
                  catalogue.get(id)?.severity ?? worstSeverity(report.findings.filter((f) => f.ruleId === id)),
                ),
              ),
              ...vulnIds.map((id) => {
                const v = report.vulnerabilities.find((x) => x.id === id)!;
                const link = id.startsWith('CVE-')
                  ? `https://nvd.nist.gov/vuln/detail/${id}`
                  : `https://osv.dev/vulnerability/${id}`;
                return {
                  id,
                  name: id,
                  shortDescription: { text: v.summary ?? id },
                  fullDescription: { text: v.summary ?? `${id} in ${v.package.name}` },
                  help: {
                    text: `${id}${v.aliases.length ? ` (${v.aliases.join(', ')})` : ''}: ${link}`,
                    markdown: `[${id}](${link})${v.aliases.length ? ` — also ${v.aliases.join(', ')}` : ''}`,
                  },
                  helpUri: link,
                  defaultConfiguration: { level: LEVEL[vulnSeverity(v)] },
                  properties: {
                    tags: ['security', 'vulnerability', v.package.type],
                    'security-severity': vulnScore(v),
                    precision: 'very-high',
                  },
                };
              }),
            ],
          },
        },
        automationDetails: { id: `distrolens/${image}` },
        results: [
          ...report.findings.map((f) => ({
            ruleId: f.ruleId,
            ruleIndex: ruleIndex.get(f.ruleId)!,
            level: LEVEL[f.severity],
            message: { text: `${f.title}. ${f.message}` },
            locations: location(f),
            partialFingerprints: { 'distrolens/v1': f.fingerprint },
            properties: {
              severity: f.severity,
              'security-severity': SECURITY_SEVERITY[f.severity],
              ...(f.location ? { layer: f.location.layer } : {}),
            },
          })),
          ...report.vulnerabilities.map((v) => {
            const at = packageAt(v);
            return {
              ruleId: v.id,
              ruleIndex: ruleIndex.get(v.id)!,
              level: LEVEL[vulnSeverity(v)],
              message: {
                text: `${v.id} in ${v.package.name} ${v.package.version}${v.fixedVersion ? `: fixed in ${v.fixedVersion}` : ': no fix yet'}.${v.summary ? ` ${v.summary}` : ''}`,
              },
              locations: location({ ...(at ? { location: at } : {}) } as Finding),
              partialFingerprints: {
                'distrolens/v1': createHash('sha256')
                  .update([v.id, v.package.type, v.package.name, v.package.version].join('\0'))
                  .digest('hex')
                  .slice(0, 32),
              },
              properties: {
                severity: v.severity,
                'security-severity': vulnScore(v),
                ...(at ? { layer: at.layer } : {}),
              },
            };
          }),
        ],
        properties: {
          image,
          classification: report.os.classification,
          grade: report.score.grade,
          score: report.score.value,
        },
      },
    ],
  };
  return `${JSON.stringify(sarif, null, 2)}\n`;
}

/** A SARIF reportingDescriptor for a rule of distrolens (image or Dockerfile). */
function ruleDescriptor(id: string, rule: Rule | undefined, severity: Severity) {
  return {
    id,
    name: id.replace(/[/-](.)/g, (_m, c: string) => c.toUpperCase()).replace(/^./, (c) => c.toUpperCase()),
    shortDescription: { text: rule?.title ?? id },
    fullDescription: { text: rule?.rationale ?? rule?.title ?? id },
    help: {
      text:
        `${rule?.rationale ?? ''}${rule?.references.length ? ` References: ${rule.references.join(', ')}` : ''}`.trim() ||
        id,
      markdown:
        `**${rule?.title ?? id}**\n\n${rule?.rationale ?? ''}\n\n${(rule?.references ?? []).map((r) => `- ${r}`).join('\n')}`.trim(),
    },
    helpUri: `${RULES_URL}#${anchor(id)}`,
    defaultConfiguration: { level: LEVEL[severity] },
    properties: {
      tags: ['security', 'container', id.split('/')[0]!],
      'security-severity': SECURITY_SEVERITY[severity],
      precision: 'high',
    },
  };
}

/** SARIF for `lint`: Dockerfile findings located by file and line. */
export function renderLintSarif(report: LintReport, rules: readonly Rule[]): string {
  return renderSourceSarif(
    report.files.flatMap((f) => f.findings),
    { version: report.tool.version, automation: 'distrolens/lint' },
    rules,
  );
}

/**
 * SARIF for `workloads`: each container's findings (its image's, judged in the pod, and the joined
 * workload/* rules) and each Pod Security Standards violation (`pss/<check>`: high below baseline,
 * medium below restricted), located at the workload's manifest file and line.
 */
export function renderWorkloadsSarif(report: WorkloadsReport, rules: readonly Rule[], version: string): string {
  const findings: SourceFinding[] = [];
  for (const w of report.workloads) {
    const at = `${w.kind}/${w.namespace}/${w.name}`;
    const location = { path: sourceUri(w.location.file), line: w.location.line };
    for (const c of w.containers)
      for (const f of c.findings)
        findings.push({
          ...f,
          message: `${at} container ${c.name} (${c.image}): ${f.message}`,
          location,
          // The same image finding in two workloads is two alerts.
          fingerprint: createHash('sha256').update(`${at}\0${c.name}\0${f.fingerprint}`).digest('hex').slice(0, 32),
        });
    for (const v of w.podSecurity.violations) {
      const ruleId = `pss/${v.control}`;
      findings.push({
        ruleId,
        severity: v.level === 'baseline' ? 'high' : 'medium',
        title: `Pod Security Standards (${v.level}): ${v.control}`,
        message: `${at}: ${v.message}`,
        references: ['https://kubernetes.io/docs/concepts/security/pod-security-standards/'],
        location,
        fingerprint: createHash('sha256').update(`${at}\0${ruleId}`).digest('hex').slice(0, 32),
      });
    }
  }
  return renderSourceSarif(findings, { version, automation: 'distrolens/workloads' }, rules);
}

/** A manifest path as a SARIF URI: relative to the working directory when inside it, else a file URL. */
function sourceUri(file: string): string {
  const rel = relative(process.cwd(), file);
  return !isAbsolute(file) ? file : rel.startsWith('..') || isAbsolute(rel) ? pathToFileURL(file).href : rel;
}

function renderSourceSarif(
  findings: readonly SourceFinding[],
  run: { readonly version: string; readonly automation: string },
  rules: readonly Rule[],
): string {
  const used = [...new Set(findings.map((f) => f.ruleId))].sort();
  const catalogue = new Map(rules.map((r) => [r.id, r]));
  // Rules outside the catalogue (pss/*) are described by their first finding.
  const described = (id: string): Rule | undefined => {
    const known = catalogue.get(id);
    if (known) return known;
    const f = findings.find((x) => x.ruleId === id);
    return f && { id, severity: f.severity, title: f.title, rationale: f.title, references: f.references };
  };
  const sarif = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'distrolens',
            version: run.version,
            informationUri: 'https://github.com/distrolens/distrolens',
            rules: used.map((id) => ruleDescriptor(id, described(id), described(id)?.severity ?? 'info')),
          },
        },
        automationDetails: { id: run.automation },
        results: findings.map((f) => ({
          ruleId: f.ruleId,
          ruleIndex: used.indexOf(f.ruleId),
          level: LEVEL[f.severity],
          message: { text: `${f.title}. ${f.message}` },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: f.location.path },
                region: { startLine: f.location.line, ...(f.location.endLine ? { endLine: f.location.endLine } : {}) },
              },
            },
          ],
          partialFingerprints: { 'distrolens/v1': f.fingerprint },
          properties: { severity: f.severity, 'security-severity': SECURITY_SEVERITY[f.severity] },
        })),
      },
    ],
  };
  return `${JSON.stringify(sarif, null, 2)}\n`;
}

function worstSeverity(findings: readonly Finding[]): Severity {
  return SEVERITIES.find((s) => findings.some((f) => f.severity === s)) ?? 'info';
}
