import type { Recommendation } from '../core/recommendation.js';
import { columns, formatBytes, truncate, wrapWords } from './format.js';

const WIDTH = 80;
const sign = (n: number): string => (n > 0 ? `+${n}` : String(n));

function rows(r: Recommendation): string[][] {
  const header = ['', 'now', ...r.candidates.map((_c, i) => `#${i + 1}`)];
  const line = (label: string, now: string, values: string[]) => [label, now, ...values];
  return [
    header,
    line(
      'size',
      formatBytes(r.current.sizeBytes),
      r.candidates.map((c) => `${formatBytes(c.base.sizeBytes)}${c.base.measured ? '' : ' (est.)'}`),
    ),
    line(
      'OS packages',
      String(r.current.packages),
      r.candidates.map((c) => `${c.base.packages} (${sign(c.base.packages - r.current.packages)})`),
    ),
    line(
      'shells',
      String(r.current.shells),
      r.candidates.map((c) => String(c.base.shells)),
    ),
    line(
      'package managers',
      String(r.current.packageManagers),
      r.candidates.map((c) => String(c.base.packageManagers)),
    ),
    line(
      'packages behind',
      r.current.outdated !== undefined
        ? `${r.current.outdated} (${r.current.securityUpdates} security)`
        : 'not checked',
      r.candidates.map((c) =>
        c.base.outdated !== undefined ? `${c.base.outdated} (${c.base.securityUpdates} security)` : '—',
      ),
    ),
    line(
      'maintenance burden',
      r.current.burden !== undefined ? String(r.current.burden) : '—',
      r.candidates.map((c) => (c.base.burden !== undefined ? String(c.base.burden) : '—')),
    ),
    line(
      'user',
      r.current.user,
      r.candidates.map((c) => c.base.user),
    ),
  ];
}

/** "Maintenance: 9 OS packages to keep current instead of 101, and the 14 behind now (3 security updates) go." */
export function maintenanceRemoved(r: Recommendation): string | undefined {
  const best = r.candidates[0];
  if (r.alreadyMinimal || !best || best.base.packages >= r.current.packages) return undefined;
  const behind = r.current.outdated
    ? `; the ${r.current.outdated} behind now (${r.current.securityUpdates} security update(s)) leave with the packages they belong to${best.base.measured && best.base.outdated !== undefined ? ` (${best.base.outdated} behind on the base)` : ''}`
    : '';
  return `Maintenance: ${best.base.packages} OS package(s) to keep current instead of ${r.current.packages}${behind}.`;
}

/** The human view of `recommend`: the answer first, then the comparison, what breaks, how to debug. */
export function renderRecommendTable(r: Recommendation): string {
  const out: string[] = [];
  if (r.alreadyMinimal) {
    out.push(`${r.image} is already minimal (${r.current.classification}): no shell or package manager to remove.`);
  } else if (!r.candidates.length) {
    out.push(
      `${r.image}: no base in the catalogue fits (runtime ${r.runtime ?? 'unknown'}, needs ${r.needs.join(', ')}).`,
    );
  } else {
    out.push(
      ...wrapWords(
        `${r.image} (${r.current.classification}) runs ${r.runtime ?? 'an unknown runtime'}: use ${r.candidates[0]!.ref}.`,
        WIDTH,
      ),
    );
  }
  if (r.evidence.length)
    out.push(...wrapWords(`Because: ${r.evidence.join('; ')}.`, WIDTH - 2).map((l, i) => (i ? `  ${l}` : l)));
  if (r.needs.length) out.push(`Needs: ${r.needs.join(', ')}`);
  const maintenance = maintenanceRemoved(r);
  if (maintenance) out.push(...wrapWords(maintenance, WIDTH));
  if (r.candidates.length) {
    out.push('', 'Candidates, smallest first (the base alone; "est." = estimated):');
    r.candidates.forEach((c, i) => out.push(truncate(`  #${i + 1} ${c.ref} (${c.family}, ${c.runtime})`, WIDTH)));
    out.push('', columns(rows(r)));
    for (const c of r.candidates)
      for (const note of c.notes)
        out.push(...wrapWords(`${c.ref}: ${note}`, WIDTH - 2).map((l, i) => `${i ? '    ' : '  - '}${l}`));
  }
  if (r.breaks.length) {
    out.push('', 'What would break:');
    for (const b of r.breaks) out.push(...wrapWords(b, WIDTH - 4).map((l, i) => `${i ? '    ' : '  - '}${l}`));
  }
  out.push('', 'Debugging without a shell:');
  for (const d of r.debugging) out.push(...wrapWords(d, WIDTH - 4).map((l, i) => `${i ? '    ' : '  - '}${l}`));
  return `${out.join('\n')}\n`;
}

export function renderRecommendMarkdown(r: Recommendation): string {
  const cell = (t: string) => t.replace(/\|/g, '\\|');
  const out = [`### distrolens recommend: \`${cell(r.image)}\``, ''];
  if (r.alreadyMinimal) out.push(`Already minimal (**${r.current.classification}**).`, '');
  else if (r.candidates.length)
    out.push(`Runs **${r.runtime ?? 'unknown'}**: use **\`${r.candidates[0]!.ref}\`**.`, '');
  if (r.evidence.length) out.push(`Because: ${r.evidence.map(cell).join('; ')}.`, '');
  const maintenance = maintenanceRemoved(r);
  if (maintenance) out.push(cell(maintenance), '');
  if (r.candidates.length) {
    const table = rows(r);
    out.push(...r.candidates.map((c, i) => `${i + 1}. \`${cell(c.ref)}\` (${c.family}, ${c.runtime})`), '');
    out.push(
      `| ${table[0]!.map(cell).join(' | ')} |`,
      `|${table[0]!.map(() => '---').join('|')}|`,
      ...table.slice(1).map((row) => `| ${row.map(cell).join(' | ')} |`),
      '',
    );
  }
  if (r.breaks.length) out.push('**What would break**', '', ...r.breaks.map((b) => `- ${cell(b)}`), '');
  out.push('**Debugging**', '', ...r.debugging.map((d) => `- ${cell(d)}`), '');
  return out.join('\n');
}
