import { SEVERITIES } from '../core/finding.js';
import type { Report } from '../core/report.js';
import { SURFACE_CATEGORIES } from '../core/surface.js';
import { countBySeverity, VULN_SEVERITIES } from '../core/vulnerability.js';
import { formatBytes, markdownText } from './format.js';

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
