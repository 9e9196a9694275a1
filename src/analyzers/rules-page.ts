import type { Rule } from './types.js';

/** Renders docs/rules.md from the rules the analyzers and `lint` declare: the page is generated, never edited. */
export function renderRulesPage(declared: readonly Rule[], scoring: string): string {
  const rules = [...declared].sort((a, b) => (a.id < b.id ? -1 : 1));
  const out = [
    '# Rules',
    '',
    '<!-- Generated from the analyzers (src/analyzers/*/index.ts), src/dockerfile/lint.ts and src/workloads/judge.ts by `npm run docs:rules`; do not edit. -->',
    '',
    'Every finding has a stable `ruleId`, a severity (which context may raise or lower, as noted), a',
    'message saying what was found, why it matters and how to fix it, and where: the path and layer',
    'in the image, or for `dockerfile/*` rules (`distrolens lint`) the file and line. `workload/*` rules',
    '(`distrolens workloads`) join a pod with its image; in SARIF, each violated Pod Security Standards',
    'check is a `pss/<check>` result (high below baseline, medium below restricted).',
    '',
    '| rule | severity | title |',
    '|---|---|---|',
    ...rules.map((r) => `| [\`${r.id}\`](#${r.id.replace(/[^a-z0-9-]/g, '')}) | ${r.severity} | ${r.title} |`),
    '',
  ];
  for (const r of rules) {
    out.push(`## ${r.id}`, '', `**${r.title}** — default severity: ${r.severity}`, '', r.rationale, '');
    if (r.references.length)
      out.push(`References: ${r.references.map((ref) => (ref.startsWith('http') ? `<${ref}>` : ref)).join(' · ')}`, '');
  }
  out.push('## Score', '', scoring, '');
  return out.join('\n');
}
