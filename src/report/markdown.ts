import { SEVERITIES } from '../core/finding.js';
import type { Report } from '../core/report.js';
import { readinessSteps, worstFinding, type WorkloadsReport } from '../core/workloads.js';
import { SURFACE_CATEGORIES } from '../core/surface.js';
import { countBySeverity, VULN_SEVERITIES } from '../core/vulnerability.js';
import { formatBytes, maintenanceSummary, markdownText } from './format.js';

const cell = markdownText;

/** Markdown for pull-request comments and $GITHUB_STEP_SUMMARY: the verdict, then collapsible details. */
export function renderMarkdown(report: Report): string {
  const t = report.target;
  const counts = SEVERITIES.map((s) => [s, report.findings.filter((f) => f.severity === s).length] as const).filter(
    ([, n]) => n > 0,
  );
  const out = [
    `### distrolens: \`${cell(t.reference ?? t.input)}\` — grade **${report.score.grade}** (${report.score.value}/100)`,
    '',
    `**${report.os.classification}** — ${cell(report.os.classificationReason)}. ${report.packages.length} packages, ${formatBytes(report.size.uncompressed)} uncompressed, user \`${t.config.user || 'root'}\`.`,
    '',
    `Findings: ${counts.length ? counts.map(([s, n]) => `${n} ${s}`).join(', ') : 'none'}.`,
    '',
  ];
  const vulns = report.vulnerabilities;
  const vulnCounts = countBySeverity(vulns);
  if (vulns.length)
    out.push(
      `Vulnerabilities: ${VULN_SEVERITIES.filter((s) => vulnCounts[s])
        .map((s) => `${vulnCounts[s]} ${s}`)
        .join(', ')} (${vulns.filter((v) => v.fixedVersion).length} with a fix).`,
      '',
    );
  else if (!report.warnings.some((w) => w.code === 'W_VULN_DB_MISSING')) out.push('Vulnerabilities: none known.', '');
  if (report.maintenance) out.push(`Maintenance: ${markdownText(maintenanceSummary(report.maintenance))}.`, '');
  const surface = [...SURFACE_CATEGORIES, 'setuid', 'setgid'] as const;
  const present = surface.filter((k) => report.surface[k].length);
  out.push('| surface | found |', '|---|---|');
  for (const key of surface)
    out.push(
      `| ${key} | ${report.surface[key].length ? cell([...new Set(report.surface[key].map((i) => i.name))].join(', ')) : '—'} |`,
    );
  out.push('');
  if (!present.length) out.push('No shell, package manager, network tools or setuid files.', '');
  const important = report.findings.filter((f) => f.severity !== 'info');
  if (important.length) {
    out.push('<details><summary>Findings</summary>', '', '| severity | rule | where | what |', '|---|---|---|---|');
    for (const f of important)
      out.push(
        `| ${f.severity} | \`${f.ruleId}\` | ${f.location ? `\`${cell(f.location.path)}\` (layer ${f.location.layer})` : 'image config'} | ${cell(f.title)} |`,
      );
    out.push('', '</details>', '');
  }
  if (vulns.length) {
    out.push(
      '<details><summary>Vulnerabilities</summary>',
      '',
      '| severity | id | package | installed | fixed in |',
      '|---|---|---|---|---|',
    );
    for (const v of vulns)
      out.push(
        `| ${v.severity} | ${cell(v.id)} | ${cell(v.package.name)} | ${cell(v.package.version)} | ${cell(v.fixedVersion ?? '—')} |`,
      );
    out.push('', '</details>', '');
  }
  out.push(
    '<details><summary>Size by layer</summary>',
    '',
    '| layer | adds | hidden later | created by |',
    '|---|---|---|---|',
  );
  for (const l of report.size.layers)
    out.push(
      `| ${l.index} | ${formatBytes(l.addedBytes)} | ${formatBytes(l.hiddenBytes)} | ${cell((l.createdBy ?? '').slice(0, 80))} |`,
    );
  out.push(
    '',
    `Efficiency ${(report.size.efficiency * 100).toFixed(1)} %, ${formatBytes(report.size.wastedBytes)} wasted.`,
    '',
    '</details>',
    '',
  );
  return `${out.join('\n')}`;
}

/** Markdown for `workloads`: the verdict per workload, then each one's findings and the way to restricted. */
export function renderWorkloadsMarkdown(report: WorkloadsReport): string {
  const s = report.summary;
  const classes = Object.entries(s.byClassification)
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
  const out = [
    `### distrolens workloads: ${s.workloads} workload(s), ${s.containers} container(s)`,
    '',
    `Pod Security Standards: ${(['restricted', 'baseline', 'privileged'] as const).map((l) => `${s.byLevel[l]} ${l}`).join(', ')}. Containers by image: ${classes || 'not scanned'}. Findings: ${
      SEVERITIES.filter((v) => s.findingsBySeverity[v])
        .map((v) => `${s.findingsBySeverity[v]} ${v}`)
        .join(', ') || 'none'
    }.`,
    '',
    '| workload | level | user | image | worst finding |',
    '|---|---|---|---|---|',
  ];
  for (const w of report.workloads) {
    const worst = worstFinding(w);
    out.push(
      `| \`${cell(`${w.kind}/${w.namespace}/${w.name}`)}\` | ${w.podSecurity.level} | ${cell(
        [...new Set(w.containers.map((c) => String(c.effectiveUser.uid ?? c.effectiveUser.name ?? '?')))].join(', '),
      )} | ${cell([...new Set(w.containers.map((c) => (c.grade ? `${c.grade} ${c.classification}` : 'not scanned')))].join(', '))} | ${
        worst ? `${worst.severity} \`${worst.ruleId}\`` : '—'
      } |`,
    );
  }
  for (const w of report.workloads) {
    const findings = w.containers.flatMap((c) =>
      c.findings.filter((f) => f.severity !== 'info').map((f) => ({ c, f })),
    );
    const steps = readinessSteps(w.restricted);
    if (!findings.length && !steps.length) continue;
    out.push(
      '',
      `<details><summary><code>${cell(`${w.kind}/${w.namespace}/${w.name}`)}</code> (${w.podSecurity.level}, ${cell(w.location.file)}:${w.location.line})</summary>`,
      '',
    );
    for (const { c, f } of findings)
      out.push(`- **${f.severity}** \`${f.ruleId}\` (${cell(c.name)}): ${cell(f.message)}`);
    if (steps.length)
      out.push('', 'To reach restricted with a read-only root:', '', ...steps.map((x) => `- ${cell(x)}`));
    out.push('', '</details>');
  }
  return `${out.join('\n')}\n`;
}
