import type { Comparison } from '../core/compare.js';
import { columns, formatBytes, markdownText, wrapWords } from './format.js';

type Row = [string, (i: Comparison['images'][number]) => string];

/** The maintenance axis, side by side ('—' for a report without it). */
export const MAINTENANCE_ROWS: Row[] = [
  [
    'support',
    ({ maintenance: m }) =>
      m ? `${m.release}: ${m.support}${typeof m.eol === 'string' ? ` (end ${m.eol})` : ''}` : '—',
  ],
  ['packages behind', ({ maintenance: m }) => (m?.outdated !== undefined ? String(m.outdated) : 'not checked')],
  [
    'security updates',
    ({ maintenance: m }) => (m?.securityUpdates !== undefined ? String(m.securityUpdates) : 'not checked'),
  ],
  ['image age', ({ maintenance: m }) => (m?.ageDays !== undefined ? `${m.ageDays} days` : '—')],
  ['maintenance burden', ({ maintenance: m }) => (m ? String(m.burden) : '—')],
];

const ROWS: Row[] = [
  ['classification', (i) => i.classification],
  ['grade', (i) => `${i.grade} (${i.score})`],
  ['user', (i) => i.user],
  ['compressed', (i) => formatBytes(i.size.compressed)],
  ['uncompressed', (i) => formatBytes(i.size.uncompressed)],
  ['files', (i) => String(i.size.files)],
  ['packages', (i) => String(i.packages)],
  ['shells', (i) => String(i.surface.shells)],
  ['package managers', (i) => String(i.surface.packageManagers)],
  ['network tools', (i) => String(i.surface.networkTools)],
  ['interpreters', (i) => String(i.surface.interpreters)],
  ['build tools', (i) => String(i.surface.buildTools)],
  ['privilege tools', (i) => String(i.surface.privilegeTools)],
  ['setuid', (i) => String(i.surface.setuid)],
  ['critical/high', (i) => `${i.findings.critical}/${i.findings.high}`],
  ['medium/low', (i) => `${i.findings.medium}/${i.findings.low}`],
  ['vulns crit/high', (i) => `${i.vulnerabilities.critical}/${i.vulnerabilities.high}`],
  ['vulns all', (i) => String(Object.values(i.vulnerabilities).reduce((a, b) => a + b, 0))],
  ...MAINTENANCE_ROWS,
];

/** Wraps a paragraph to 80 columns at word boundaries: never cut. */
const wrap = (text: string): string => wrapWords(text, 80).join('\n');

/**
 * Column headers: the shortest suffixes (by path segment) that tell the images apart —
 * `debian:12-slim` and `base-debian12`, not two cut registry prefixes.
 */
export function distinctNames(names: readonly string[]): string[] {
  const parts = names.map((n) => n.split('/'));
  const longest = Math.max(...parts.map((p) => p.length));
  for (let k = 1; k <= longest; k++) {
    const suffixes = parts.map((p) => p.slice(-k).join('/'));
    if (new Set(suffixes).size === suffixes.length) return suffixes;
  }
  return [...names];
}

export function renderCompareTable(c: Comparison): string {
  const header = ['', ...distinctNames(c.images.map((i) => i.reference ?? i.input))];
  const out = [
    c.verdict.split('\n\n').map(wrap).join('\n\n'),
    '',
    columns([header, ...ROWS.map(([label, get]) => [label, ...c.images.map(get)])]),
  ];
  c.diffs.forEach((d, n) => {
    const name = c.images[n + 1]!.reference ?? c.images[n + 1]!.input;
    out.push(
      '',
      wrap(
        `Packages in ${name} vs ${c.images[0]!.reference ?? c.images[0]!.input}: ${d.packages.added.length} added, ${d.packages.removed.length} removed, ${d.packages.changed.length} changed`,
      ),
    );
    for (const ch of d.packages.changed.slice(0, 10)) out.push(`  ${ch.name} ${ch.from} → ${ch.to}`);
    if (d.packages.changed.length > 10) out.push(`  … and ${d.packages.changed.length - 10} more`);
  });
  return `${out.join('\n')}\n`;
}

export function renderCompareMarkdown(c: Comparison): string {
  const cell = markdownText;
  const out = [
    '### distrolens compare',
    '',
    c.verdict,
    '',
    `| | ${c.images.map((i) => `\`${cell(i.reference ?? i.input)}\``).join(' | ')} |`,
    `|---|${c.images.map(() => '---').join('|')}|`,
  ];
  for (const [label, get] of ROWS) out.push(`| ${label} | ${c.images.map((i) => cell(get(i))).join(' | ')} |`);
  c.diffs.forEach((d, n) => {
    out.push(
      '',
      `<details><summary>Package changes: ${cell(c.images[n + 1]!.reference ?? c.images[n + 1]!.input)}</summary>`,
      '',
    );
    for (const p of d.packages.added) out.push(`- added \`${cell(p)}\``);
    for (const p of d.packages.removed) out.push(`- removed \`${cell(p)}\``);
    for (const ch of d.packages.changed) out.push(`- \`${cell(ch.name)}\` ${cell(ch.from)} → ${cell(ch.to)}`);
    out.push('', '</details>');
  });
  return `${out.join('\n')}\n`;
}
