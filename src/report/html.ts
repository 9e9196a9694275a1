import type { Comparison } from '../core/compare.js';
import type { FleetFigures, FleetView } from '../core/fleet.js';
import { SEVERITIES } from '../core/finding.js';
import type { Recommendation } from '../core/recommendation.js';
import type { Report } from '../core/report.js';
import { SURFACE_LABELS, SURFACE_LISTS } from '../core/surface.js';
import { countBySeverity, VULN_SEVERITIES } from '../core/vulnerability.js';
import { readinessSteps, worstFinding, type WorkloadsReport } from '../core/workloads.js';
import { formatBytes, maintenanceSummary } from './format.js';
import type { Maintenance } from '../core/maintenance.js';
import { distinctNames, MAINTENANCE_ROWS } from './compare-table.js';

/**
 * `--format html`: one self-contained file (inline CSS, inline SVG charts, a few lines of inline
 * script to filter tables; no fonts, images or scripts from elsewhere), readable on a laptop and
 * printable. Verdict first, then charts drawn from the report's numbers (each with a text
 * alternative), then searchable tables. The output depends only on the report: goldens are stable.
 */
export const escapeHtml = (text: string): string =>
  text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
const e = escapeHtml;

const STYLE = `
:root { --fg: #1b1f24; --muted: #57606a; --line: #d0d7de; --bg: #ffffff; --panel: #f6f8fa;
  --critical: #a40e26; --high: #bc4c00; --medium: #7d4e00; --low: #0969da; --info: #57606a; --unknown: #57606a;
  --ok: #1a7f37; --bar: #0969da; --bar2: #8c959f; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); margin: 0 auto; max-width: 1100px; padding: 24px; }
h1 { font-size: 1.5rem; margin: 0 0 4px; word-break: break-all; } h2 { font-size: 1.15rem; margin: 32px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
.verdict { display: flex; gap: 20px; align-items: center; background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 16px; }
.grade { font-size: 2.6rem; font-weight: 700; width: 80px; height: 80px; border-radius: 50%; display: flex; align-items: center; justify-content: center; color: #fff; flex: none; }
.grade-A { background: #1a7f37; } .grade-B { background: #4d7c0f; } .grade-C { background: #7d4e00; } .grade-D { background: #bc4c00; } .grade-F { background: #a40e26; }
.muted { color: var(--muted); } .sev { font-weight: 600; text-transform: uppercase; font-size: .8rem; }
.sev-critical { color: var(--critical); } .sev-high { color: var(--high); } .sev-medium { color: var(--medium); } .sev-low { color: var(--low); } .sev-info, .sev-unknown { color: var(--info); }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(440px, 1fr)); gap: 16px; }
figure { margin: 0; border: 1px solid var(--line); border-radius: 8px; padding: 12px; } figcaption { font-weight: 600; margin-bottom: 6px; }
svg text { font: 14px system-ui, sans-serif; fill: var(--fg); dominant-baseline: middle; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; } th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--panel); position: sticky; top: 0; } td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
code { font-size: .85rem; word-break: break-all; } code.id { word-break: normal; white-space: nowrap; }
input[type=search] { width: 100%; max-width: 420px; padding: 6px 8px; margin: 4px 0 8px; border: 1px solid var(--line); border-radius: 6px; font: inherit; }
.side { display: grid; grid-template-columns: repeat(auto-fit, minmax(260px, 1fr)); gap: 16px; }
ul.top { margin: 8px 0 0; padding-left: 20px; }
@media print { body { max-width: none; padding: 0; } input[type=search] { display: none; } th { position: static; } figure, tr { break-inside: avoid; } }
`;

/** Filters the rows of a table by the text typed in the search box before it. */
const SCRIPT = `
document.querySelectorAll('input[data-filter]').forEach(function (input) {
  var table = document.getElementById(input.getAttribute('data-filter'));
  input.addEventListener('input', function () {
    var q = input.value.toLowerCase();
    table.querySelectorAll('tbody tr').forEach(function (row) { row.hidden = q !== '' && row.textContent.toLowerCase().indexOf(q) < 0; });
  });
});
`;

export function htmlDocument(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>${e(title)}</title>
<style>${STYLE}</style>
</head>
<body>
${body}
<script>${SCRIPT}</script>
</body>
</html>
`;
}

interface Bar {
  readonly label: string;
  /** More about the bar, shown on hover (a layer's created-by command). */
  readonly detail?: string;
  /** Stacked parts, drawn in order; the sum is the bar. */
  readonly parts: readonly { readonly value: number; readonly color: string; readonly name: string }[];
}

/** A horizontal bar chart as inline SVG, with its numbers as the text alternative. */
export function barChart(
  id: string,
  caption: string,
  bars: readonly Bar[],
  format: (n: number) => string = String,
): string {
  // The label column fits the longest label (about 7.5 px a character at the chart's 13 px): labels are never clipped.
  const labelWidth = Math.max(150, Math.ceil(Math.max(0, ...bars.map((b) => b.label.length)) * 7.5) + 12);
  const width = labelWidth + 330;
  const row = 26;
  const height = Math.max(1, bars.length) * row + 8;
  const max = Math.max(1, ...bars.map((b) => b.parts.reduce((s, p) => s + p.value, 0)));
  const scale = (width - labelWidth - 90) / max;
  const desc = bars
    .map(
      (b) =>
        `${b.label}: ${b.parts.map((p) => (b.parts.length > 1 ? `${p.name} ${format(p.value)}` : format(p.value))).join(', ')}`,
    )
    .join('; ');
  const rows = bars
    .map((b, i) => {
      let x = labelWidth;
      const y = i * row + 4;
      const rects = b.parts
        .map((p) => {
          const w = Math.max(p.value > 0 ? 1 : 0, Math.round(p.value * scale));
          const rect = `<rect x="${x}" y="${y}" width="${w}" height="${row - 8}" fill="${p.color}"><title>${e(`${b.label} ${p.name}: ${format(p.value)}${b.detail ? ` — ${b.detail}` : ''}`)}</title></rect>`;
          x += w;
          return rect;
        })
        .join('');
      const total = b.parts.reduce((s, p) => s + p.value, 0);
      return `<text x="${labelWidth - 6}" y="${y + row / 2}" text-anchor="end">${e(b.label)}</text>${rects}<text x="${x + 6}" y="${y + row / 2}">${e(format(total))}</text>`;
    })
    .join('\n');
  return `<figure><figcaption id="${id}-t">${e(caption)}</figcaption>
<svg viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-labelledby="${id}-t ${id}-d"><desc id="${id}-d">${e(desc || 'no data')}</desc>
${rows}
</svg></figure>`;
}

const SEVERITY_COLORS: Record<string, string> = {
  critical: '#a40e26',
  high: '#bc4c00',
  medium: '#9a6700',
  low: '#0969da',
  info: '#8c959f',
  unknown: '#8c959f',
};

function table(
  id: string,
  caption: string,
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  numeric: readonly number[] = [],
): string {
  if (!rows.length) return `<h2>${e(caption)}</h2><p class="muted">None.</p>`;
  const th = headers.map((h, i) => `<th${numeric.includes(i) ? ' class="num"' : ''} scope="col">${e(h)}</th>`).join('');
  const body = rows
    .map((r) => `<tr>${r.map((c, i) => `<td${numeric.includes(i) ? ' class="num"' : ''}>${c}</td>`).join('')}</tr>`)
    .join('\n');
  return `<h2 id="${id}-h">${e(caption)} (${rows.length})</h2>
<input type="search" placeholder="Filter ${e(caption.toLowerCase())}…" aria-label="Filter ${e(caption.toLowerCase())}" data-filter="${id}">
<table id="${id}" aria-labelledby="${id}-h"><thead><tr>${th}</tr></thead><tbody>
${body}
</tbody></table>`;
}

const sev = (s: string): string => `<span class="sev sev-${e(s)}">${e(s)}</span>`;
const code = (s: string): string => `<code>${e(s)}</code>`;
const ident = (s: string): string => `<code class="id">${e(s)}</code>`;
const LABELS = SURFACE_LABELS;
const CATEGORIES = SURFACE_LISTS;

/** What `recommend` says, in a few lines: the base to move to, what changes, what breaks. */
function recommendationSection(r: Recommendation): string {
  if (r.alreadyMinimal)
    return `<section aria-label="Recommendation"><h2>Recommendation</h2><p>Already minimal (${e(r.current.classification)}): nothing smaller to move to.</p></section>`;
  const best = r.candidates[0];
  if (!best) return '';
  const rows = r.candidates
    .map(
      (c) =>
        `<tr><td>${code(c.ref)}</td><td>${e(c.family)}</td><td class="num">${e(formatBytes(c.base.sizeBytes))}${c.base.measured ? '' : ' <span class="muted">est.</span>'}</td><td class="num">${c.base.packages}</td><td>${e(c.base.user)}</td></tr>`,
    )
    .join('');
  return `<section aria-label="Recommendation"><h2>Recommendation</h2>
<p>The image runs <strong>${e(r.runtime ?? 'an unknown runtime')}</strong>${r.evidence.length ? ` (${e(r.evidence.join('; '))})` : ''}: move to <strong>${code(best.ref)}</strong>.</p>
<table aria-label="Candidate bases"><thead><tr><th scope="col">base</th><th scope="col">family</th><th class="num" scope="col">size</th><th class="num" scope="col">OS packages</th><th scope="col">user</th></tr></thead><tbody>
<tr><td><em>this image now</em></td><td>${e(r.current.classification)}</td><td class="num">${e(formatBytes(r.current.sizeBytes))}</td><td class="num">${r.current.packages}</td><td>${e(r.current.user)}</td></tr>
${rows}</tbody></table>
${r.breaks.length ? `<p><strong>What would break:</strong></p><ul>${r.breaks.map((b) => `<li>${e(b)}</li>`).join('')}</ul>` : ''}
<p class="muted">Debugging without a shell: ${r.debugging.map(e).join('; ')}.</p></section>`;
}

/** The body of a scan report, without the document around it (the web UI embeds it). */
/** The maintenance axis: support, age, burden in one line, then the packages behind their repository. */
function maintenanceSection(m: Maintenance): string {
  const behind = m.outdated
    ? table(
        'outdated',
        `Packages behind ${m.outdated.suites.join(', ')}`,
        ['package', 'installed', 'available', 'suite', 'security', 'days behind'],
        m.outdated.packages.map((p) => [
          code(p.name),
          code(p.installed),
          code(p.available),
          e(p.suite),
          p.security ? '<strong>security</strong>' : '',
          p.daysBehind !== undefined ? String(p.daysBehind) : '',
        ]),
        [5],
      )
    : '<p class="muted">Updates not checked: no repository index for this release (run <code>distrolens db update</code>).</p>';
  return `<section aria-label="Maintenance"><h2>Maintenance</h2><p>${e(maintenanceSummary(m))}</p>${behind}</section>`;
}

export function scanReportBody(report: Report, recommendation?: Recommendation): string {
  const t = report.target;
  const name = t.reference ?? t.input;
  const vulns = countBySeverity(report.vulnerabilities);
  const important = report.findings.filter((f) => f.severity !== 'info').slice(0, 6);
  const checked = !report.warnings.some((w) => w.code === 'W_VULN_DB_MISSING');
  const packagesByType = [...new Set(report.packages.map((p) => p.type))].sort().map((type) => ({
    label: type,
    parts: [{ value: report.packages.filter((p) => p.type === type).length, color: '#0969da', name: 'packages' }],
  }));
  const out = [
    `<header><h1>${e(name)}</h1><p class="muted">${e(report.os.prettyName ?? report.os.id)} · ${e(`${t.platform.os}/${t.platform.architecture}${t.platform.variant ? `/${t.platform.variant}` : ''}`)} · scanned ${e(report.createdAt)} by distrolens ${e(report.tool.version)}</p></header>`,
    `<section class="verdict" aria-label="Verdict"><div class="grade grade-${e(report.score.grade)}" role="img" aria-label="Grade ${e(report.score.grade)}">${e(report.score.grade)}</div><div>
<p><strong>${e(report.os.classification)}</strong> — ${e(report.os.classificationReason)}. Score ${report.score.value}/100.</p>
<p>${report.packages.length} packages · ${e(formatBytes(report.size.uncompressed))} uncompressed · ${report.size.files} files · runs as <strong>${e(t.config.user || 'root')}</strong> · ${checked ? `${report.vulnerabilities.length} known vulnerabilities (${vulns.critical} critical, ${vulns.high} high)` : 'vulnerabilities not checked (no database)'}</p>
${important.length ? `<ul class="top">${important.map((f) => `<li>${sev(f.severity)} ${e(f.title)}${f.location ? ` — ${code(f.location.path)}` : ''}</li>`).join('')}</ul>` : '<p>No findings above info.</p>'}
</div></section>`,
    recommendation ? recommendationSection(recommendation) : '',
    '<h2>Charts</h2><div class="charts">',
    barChart(
      'layers',
      'Size per layer (added, and hidden by later layers)',
      report.size.layers.map((l) => ({
        // Packages attributed to the layer that installed them; the command that made it on hover.
        label: `layer ${l.index} · ${report.packages.filter((p) => p.locations[0]?.layer === l.index).length} pkg`,
        ...(l.createdBy ? { detail: l.createdBy } : {}),
        parts: [
          { value: l.addedBytes - l.hiddenBytes, color: '#0969da', name: 'kept' },
          { value: l.hiddenBytes, color: '#cf222e', name: 'hidden later' },
        ],
      })),
      formatBytes,
    ),
    barChart(
      'surface',
      'Attack surface by category',
      CATEGORIES.map((c) => ({
        label: LABELS[c],
        parts: [{ value: report.surface[c].length, color: '#bc4c00', name: 'items' }],
      })),
    ),
    barChart('packages', 'Packages by type', packagesByType),
    barChart(
      'vulns',
      checked ? 'Vulnerabilities by severity' : 'Vulnerabilities (not checked: no database)',
      VULN_SEVERITIES.map((s) => ({
        label: s,
        parts: [{ value: vulns[s], color: SEVERITY_COLORS[s]!, name: 'vulnerabilities' }],
      })),
    ),
    '</div>',
    table(
      'findings',
      'Findings',
      ['severity', 'rule', 'where', 'what'],
      report.findings.map((f) => [
        sev(f.severity),
        ident(f.ruleId),
        f.location
          ? `${code(f.location.path)} <span class="muted">layer ${f.location.layer}</span>`
          : '<span class="muted">image config</span>',
        `<strong>${e(f.title)}</strong><br>${e(f.message)}`,
      ]),
    ),
    checked
      ? table(
          'vulnerabilities',
          'Vulnerabilities',
          ['severity', 'id', 'package', 'installed', 'fixed in', 'summary'],
          report.vulnerabilities.map((v) => [
            sev(v.severity),
            `${ident(v.id)}${v.cvss ? ` <span class="muted">CVSS ${v.cvss.score}</span>` : ''}${v.ratedBy ? ` <span class="muted">rated by ${e(v.ratedBy)}</span>` : ''}`,
            code(v.package.name),
            code(v.package.version),
            v.fixedVersion ? code(v.fixedVersion) : '<span class="muted">no fix</span>',
            e(v.summary ?? ''),
          ]),
        )
      : '<h2>Vulnerabilities</h2><p class="muted">Not checked: there is no vulnerability database (run <code>distrolens db update</code>, or scan without --offline).</p>',
    report.maintenance ? maintenanceSection(report.maintenance) : '',
    table(
      'packages',
      'Packages',
      ['type', 'name', 'version', 'licences', 'where', 'layer'],
      report.packages.map((p) => [
        e(p.type),
        code(p.name),
        code(p.version),
        e((p.licenses ?? []).join(', ')),
        code(p.locations[0]?.path ?? ''),
        String(p.locations[0]?.layer ?? ''),
      ]),
      [5],
    ),
    table(
      'files',
      'Files of interest',
      ['file', 'why', 'size', 'layer'],
      [
        ...CATEGORIES.flatMap((c) =>
          report.surface[c].map((i) => [
            code(i.path),
            e(`${LABELS[c]}${i.via ? ` (via ${i.via})` : ''}`),
            '',
            String(i.layer),
          ]),
        ),
        ...report.size.largest.map((f) => [code(f.path), 'largest files', e(formatBytes(f.size)), String(f.layer)]),
      ],
      [2, 3],
    ),
  ];
  if (report.warnings.length)
    out.push(
      `<h2>Warnings</h2><ul>${report.warnings.map((w) => `<li>${code(w.code)} ${e(w.message)}</li>`).join('')}</ul>`,
    );
  return out.join('\n');
}

export function renderScanHtml(report: Report, recommendation?: Recommendation): string {
  return htmlDocument(
    `distrolens: ${report.target.reference ?? report.target.input} — grade ${report.score.grade}`,
    scanReportBody(report, recommendation),
  );
}

/** The body of a comparison: the verdict, the images side by side, charts per measure, package changes. */
export function compareBody(c: Comparison): string {
  const names = c.images.map((i) => i.reference ?? i.input);
  const labels = distinctNames(names);
  const colors = ['#8c959f', '#0969da', '#1a7f37', '#8250df'];
  const grouped = (
    id: string,
    caption: string,
    value: (i: Comparison['images'][number]) => number,
    format?: (n: number) => string,
  ) =>
    barChart(
      id,
      caption,
      c.images.map((img, k) => ({
        label: labels[k]!,
        parts: [{ value: value(img), color: colors[k % colors.length]!, name: caption }],
      })),
      format,
    );
  const rows: [string, (i: Comparison['images'][number]) => string][] = [
    ['classification', (i) => e(i.classification)],
    ['grade', (i) => `<strong>${e(i.grade)}</strong> (${i.score})`],
    ['user', (i) => e(i.user)],
    ['uncompressed', (i) => e(formatBytes(i.size.uncompressed))],
    ['files', (i) => String(i.size.files)],
    ['packages', (i) => String(i.packages)],
    ...CATEGORIES.map(
      (k) =>
        [LABELS[k], (i: Comparison['images'][number]) => String(i.surface[k])] as [
          string,
          (i: Comparison['images'][number]) => string,
        ],
    ),
    ...SEVERITIES.filter((s) => s !== 'info').map(
      (s) =>
        [`findings ${s}`, (i: Comparison['images'][number]) => String(i.findings[s])] as [
          string,
          (i: Comparison['images'][number]) => string,
        ],
    ),
    ...VULN_SEVERITIES.map(
      (s) =>
        [`vulnerabilities ${s}`, (i: Comparison['images'][number]) => String(i.vulnerabilities[s])] as [
          string,
          (i: Comparison['images'][number]) => string,
        ],
    ),
    ...MAINTENANCE_ROWS.map(
      ([label, f]) =>
        [label, (i: Comparison['images'][number]) => e(f(i))] as [string, (i: Comparison['images'][number]) => string],
    ),
  ];
  const side = `<table id="side" aria-label="Images side by side"><thead><tr><th scope="col"></th>${names.map((n) => `<th scope="col">${code(n)}</th>`).join('')}</tr></thead><tbody>
${rows.map(([label, f]) => `<tr><th scope="row">${e(label)}</th>${c.images.map((i) => `<td>${f(i)}</td>`).join('')}</tr>`).join('\n')}
</tbody></table>`;
  const diffs = c.diffs
    .map((d, k) =>
      table(
        `changes-${k}`,
        `Package changes, ${names[k + 1]} against ${names[0]}`,
        ['change', 'package'],
        [
          ...d.packages.removed.map((p) => ['removed', code(p)]),
          ...d.packages.added.map((p) => ['added', code(p)]),
          ...d.packages.changed.map((p) => ['version', `${code(p.name)} ${code(p.from)} → ${code(p.to)}`]),
          ...d.vulnerabilities.removed.map((v) => ['vulnerability removed', code(v)]),
          ...d.vulnerabilities.added.map((v) => ['vulnerability added', code(v)]),
        ],
      ),
    )
    .join('\n');
  return [
    `<header><h1>Comparison</h1><p class="muted">${names.map(e).join(' · ')} — distrolens ${e(c.tool.version)}</p></header>`,
    `<section class="verdict" aria-label="Verdict"><div>${c.verdict
      .split('\n\n')
      .map((p) => `<p>${e(p)}</p>`)
      .join('')}</div></section>`,
    '<h2>Side by side</h2>',
    side,
    '<h2>Charts</h2><div class="charts">',
    grouped('cmp-size', 'Uncompressed size', (i) => i.size.uncompressed, formatBytes),
    grouped('cmp-packages', 'Packages', (i) => i.packages),
    grouped('cmp-surface', 'Attack surface items', (i) => CATEGORIES.reduce((s, k) => s + i.surface[k], 0)),
    grouped('cmp-vulns', 'Known vulnerabilities', (i) => Object.values(i.vulnerabilities).reduce((s, n) => s + n, 0)),
    grouped('cmp-burden', 'Maintenance burden', (i) => i.maintenance?.burden ?? 0),
    '</div>',
    diffs,
  ].join('\n');
}

export function renderCompareHtml(c: Comparison): string {
  return htmlDocument(`distrolens: ${c.images.map((i) => i.reference ?? i.input).join(' vs ')}`, compareBody(c));
}

const LEVEL_COLORS: Record<string, string> = { privileged: '#a40e26', baseline: '#9a6700', restricted: '#1a7f37' };
const CLASS_COLORS: Record<string, string> = {
  distroless: '#1a7f37',
  'distroless-debug': '#4ac26b',
  scratch: '#1a7f37',
  minimal: '#0969da',
  general: '#bc4c00',
  unknown: '#8c959f',
};

/** `workloads --format html`: the cluster or manifests at a glance, then every workload's verdict and path to restricted. */
export function workloadsBody(report: WorkloadsReport): string {
  const s = report.summary;
  const source =
    report.source.kind === 'cluster'
      ? `cluster context ${report.source.context}, ${report.source.namespaces === 'all' ? 'all namespaces' : `namespaces ${report.source.namespaces.join(', ')}`}`
      : report.source.paths.join(', ');
  const byClass =
    Object.entries(s.byClassification)
      .sort(([, a], [, b]) => b - a)
      .map(([k, n]) => `${n} on ${k} images (${Math.round((n / Math.max(1, s.containers)) * 100)} %)`)
      .join(', ') || 'no image scanned';
  const charts = [
    barChart(
      'levels',
      'Workloads by Pod Security Standards level',
      (['privileged', 'baseline', 'restricted'] as const).map((l) => ({
        label: l,
        parts: [{ value: s.byLevel[l], color: LEVEL_COLORS[l]!, name: l }],
      })),
    ),
    barChart(
      'classes',
      'Containers by image class',
      Object.entries(s.byClassification).map(([k, n]) => ({
        label: k,
        parts: [{ value: n, color: CLASS_COLORS[k] ?? '#8c959f', name: k }],
      })),
    ),
    barChart(
      'reachable',
      'Containers with at hand',
      (
        [
          ['a shell', s.reachable.shells],
          ['a package manager', s.reachable.packageManagers],
          ['a network tool', s.reachable.networkTools],
        ] as const
      ).map(([label, n]) => ({ label, parts: [{ value: n, color: '#bc4c00', name: label }] })),
    ),
  ];
  const rows = report.workloads.flatMap((w) =>
    w.containers.map((c) => {
      const worst = worstFinding({ ...w, containers: [c] });
      return [
        ident(`${w.kind}/${w.namespace}/${w.name}`),
        `<span class="sev" style="background:${LEVEL_COLORS[w.podSecurity.level]}">${e(w.podSecurity.level)}</span>`,
        `${e(c.name)} <span class="muted">${e(c.type)}</span>`,
        code(c.image),
        e(c.grade ? `${c.grade} ${c.classification ?? ''}` : 'not scanned'),
        e(String(c.effectiveUser.uid ?? c.effectiveUser.name ?? '?')),
        e(
          [
            ...(c.reachable?.shells ?? []),
            ...(c.reachable?.packageManagers ?? []),
            ...(c.reachable?.networkTools ?? []),
          ].join(' ') || '—',
        ),
        worst ? `${sev(worst.severity)} ${ident(worst.ruleId)}` : '—',
      ];
    }),
  );
  const details = report.workloads
    .map((w) => {
      const findings = w.containers.flatMap((c) =>
        c.findings
          .filter((f) => f.severity !== 'info')
          .map(
            (f) =>
              `<li>${sev(f.severity)} ${ident(f.ruleId)} <span class="muted">${e(c.name)}</span> ${e(f.message)}</li>`,
          ),
      );
      const steps = readinessSteps(w.restricted);
      if (!findings.length && !steps.length) return '';
      return `<details><summary>${ident(`${w.kind}/${w.namespace}/${w.name}`)} ${e(w.podSecurity.level)} <span class="muted">${e(w.location.file)}${w.location.line ? `:${w.location.line}` : ''}</span></summary>
${findings.length ? `<ul>${findings.join('\n')}</ul>` : ''}
${steps.length ? `<p>To reach restricted with a read-only root:</p><ul>${steps.map((x) => `<li>${e(x)}</li>`).join('')}</ul>` : ''}
</details>`;
    })
    .join('\n');
  return `<h1>distrolens workloads</h1>
<p class="verdict">${s.workloads} workload(s), ${s.containers} container(s) from ${e(source)}: ${e(byClass)}; ${s.reachable.shells} with a shell and ${s.reachable.packageManagers} with a package manager at hand; ${s.byLevel.restricted} restricted, ${s.byLevel.baseline} baseline, ${s.byLevel.privileged} privileged.</p>
${charts.join('\n')}
${table('workloads', 'Containers', ['workload', 'level', 'container', 'image', 'grade', 'user', 'at hand', 'worst finding'], rows)}
<h2>Findings and the way to restricted</h2>
${details || '<p class="muted">None.</p>'}
${report.warnings.length ? `<h2>Warnings</h2><ul>${report.warnings.map((w) => `<li>${code(w.code)} ${e(w.message)}</li>`).join('')}</ul>` : ''}`;
}

export function renderWorkloadsHtml(report: WorkloadsReport): string {
  return htmlDocument('distrolens workloads', workloadsBody(report));
}

/** A polyline of one figure over time, with its numbers as the text alternative. */
function trendChart(id: string, caption: string, points: readonly { label: string; value: number }[]): string {
  const width = 480;
  const height = 120;
  const max = Math.max(1, ...points.map((p) => p.value));
  const step = points.length > 1 ? (width - 20) / (points.length - 1) : 0;
  const xy = points.map((p, i) => `${10 + i * step},${height - 10 - (p.value / max) * (height - 30)}`).join(' ');
  const desc = points.map((p) => `${p.label}: ${p.value}`).join('; ');
  return `<figure><figcaption id="${id}-t">${e(caption)}</figcaption>
<svg viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-labelledby="${id}-t ${id}-d"><desc id="${id}-d">${e(desc || 'no data')}</desc>
${points.length > 1 ? `<polyline points="${xy}" fill="none" stroke="#0969da" stroke-width="2"/>` : `<circle cx="${xy.split(',')[0]}" cy="${xy.split(',')[1]}" r="4" fill="#0969da"/>`}<text x="10" y="12">${e(String(max))}</text>
</svg></figure>`;
}

/**
 * The fleet page: the verdict over every image and over those running, classes and grades,
 * where a move pays, the trend of each figure, then one page of images (server-side paging:
 * the page's size does not grow with the fleet).
 */
export function fleetBody(view: FleetView, pageLink: (page: number) => string): string {
  const a = view.all;
  const r = view.running;
  const figure = (f: FleetFigures) =>
    `${f.images} image(s) scanned of ${f.references} reference(s)${f.pending ? `, ${f.pending} pending` : ''}: ${Object.entries(
      f.classes,
    )
      .sort(([, x], [, y]) => y - x)
      .map(([k, n]) => `${n} ${k}`)
      .join(
        ', ',
      )}; ${f.shells} shells, ${f.packageManagers} package managers, ${f.setuid} setuid binaries, ${f.critical} critical and ${f.high} high vulnerabilities`;
  const charts = [
    barChart(
      'fleet-classes',
      'Images by class',
      Object.entries(a.classes).map(([k, n]) => ({
        label: k,
        parts: [{ value: n, color: CLASS_COLORS[k] ?? '#8c959f', name: k }],
      })),
    ),
    barChart(
      'fleet-grades',
      'Images by grade',
      ['A', 'B', 'C', 'D', 'F']
        .filter((g) => a.grades[g])
        .map((g) => ({ label: g, parts: [{ value: a.grades[g] ?? 0, color: '#0969da', name: g }] })),
    ),
  ];
  const trend = view.trend.length
    ? (
        [
          ['critical', 'Critical vulnerabilities'],
          ['shells', 'Shells'],
          ['packageManagers', 'Package managers'],
          ['images', 'Images scanned'],
        ] as const
      )
        .map(([key, caption]) =>
          trendChart(
            `trend-${key}`,
            caption,
            view.trend.map((t) => ({ label: t.takenAt, value: t.figures[key] })),
          ),
        )
        .join('\n')
    : '<p class="muted">No snapshot yet.</p>';
  const moves = view.moves.map((m) => [
    code(m.repository),
    e(m.classification),
    code(m.to),
    e(formatBytes(m.bytes)),
    e(String(m.packages)),
    e(String(m.shells)),
    e(String(m.packageManagers)),
  ]);
  const p = view.page;
  const images = p.images.map((i) => [
    i.scanId ? `<a href="/api/scans/${e(i.scanId)}/report?format=html">${code(i.reference)}</a>` : code(i.reference),
    e(i.running ? 'running' : ''),
    e(i.grade ?? 'pending'),
    e(i.classification ?? ''),
    e(i.sizeBytes !== undefined ? formatBytes(i.sizeBytes) : ''),
    e(String(i.packages ?? '')),
    e(String(i.shells ?? '')),
    e(String(i.setuid ?? '')),
    e(i.critical !== undefined ? `${i.critical}/${i.high}` : ''),
  ]);
  const pages = Math.max(1, Math.ceil(p.total / p.size));
  const nav = `<nav aria-label="pages">${p.number > 1 ? `<a rel="prev" href="${e(pageLink(p.number - 1))}">previous</a> ` : ''}page ${p.number} of ${pages}${p.number < pages ? ` <a rel="next" href="${e(pageLink(p.number + 1))}">next</a>` : ''}</nav>`;
  const rematch = view.rematch
    ? `<h2>Last vulnerability database update</h2><p>${e(view.rematch.at)}: ${view.rematch.scans} report(s) re-matched without pulling, ${view.rematch.added} vulnerabilities appeared and ${view.rematch.removed} went.</p>${
        view.rematch.changed.length
          ? `<ul>${view.rematch.changed.map((c) => `<li>${code(c.reference)} +${c.added} −${c.removed}</li>`).join('')}</ul>`
          : ''
      }`
    : '';
  return `<h1>distrolens fleet</h1>
<p class="verdict" id="fleet-all">${e(figure(a))}.</p>
<p id="fleet-running"><strong>Running:</strong> ${r.references ? e(figure(r)) : 'no image seen running (crawl a cluster or manifests)'}.</p>
<div class="charts">${charts.join('\n')}</div>
${table('moves', 'Where a move to a minimal base removes most', ['repository', 'class', 'move to', 'bytes removed (estimate)', 'packages removed', 'shells', 'package managers'], moves, [3, 4, 5, 6])}
<h2>Trend</h2><div class="charts">${trend}</div>
${rematch}
${table('images', `Images, sorted by ${p.sort}${p.filter ? `, matching ${p.filter}` : ''}, page ${p.number}`, ['reference', 'running', 'grade', 'class', 'size', 'packages', 'shells', 'setuid', 'critical/high'], images, [4, 5, 6, 7, 8])}
${nav}`;
}

export function renderFleetHtml(view: FleetView, pageLink: (page: number) => string): string {
  return htmlDocument('distrolens fleet', fleetBody(view, pageLink));
}
