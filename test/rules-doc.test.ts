import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { builtinAnalyzers } from '../src/analyzers/index.js';
import { renderRulesPage } from '../src/analyzers/rules-page.js';
import { WORKLOAD_RULES } from '../src/workloads/index.js';
import { LINT_RULE_LIST } from '../src/dockerfile/lint.js';
import { CATEGORY_CAPS, GRADES, SEVERITY_WEIGHTS, VULNERABILITY_WEIGHTS } from '../src/score/index.js';
import { BURDEN_WEIGHTS } from '../src/maintenance/assess.js';
import { REPO_ROOT } from './helpers.js';

/** docs/rules.md is generated from the code; `npm run docs:rules` (UPDATE_DOCS=1) rewrites it. */
const SCORING = [
  'score = max(0, 100 − Σ deductions). A category deducts the sum of the weights of its findings,',
  'capped so that one kind of problem cannot hide the others; known vulnerabilities deduct by their',
  'own weights (a general image carries dozens, so one CVE weighs less than one finding); the',
  'maintenance category deducts ⌊burden⌋, the maintenance burden of the report (its findings deduct',
  'nothing more):',
  '',
  `    burden = OS packages × ${BURDEN_WEIGHTS.perPackage} + non-security updates × ${BURDEN_WEIGHTS.perUpdate} + security updates × ${BURDEN_WEIGHTS.perSecurityUpdate}`,
  `             + fixable vulnerabilities × ${BURDEN_WEIGHTS.perFixable} + support points`,
  `    support points: release ended ${BURDEN_WEIGHTS.releaseEnded}, in public extended support (Debian LTS) ${BURDEN_WEIGHTS.releaseExtended},`,
  `                    ending within 180 days ${BURDEN_WEIGHTS.releaseEnding}; each runtime ended ${BURDEN_WEIGHTS.runtimeEnded}, ending ${BURDEN_WEIGHTS.runtimeEnding}`,
  '',
  "Updates are counted against the release's repository indexes when `db update` brought them;",
  'support states come from the end-of-life table (shipped, or refreshed by `db update`).',
  '',
  `- weights by severity: ${Object.entries(SEVERITY_WEIGHTS)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')}`,
  `- vulnerability weights: ${Object.entries(VULNERABILITY_WEIGHTS)
    .filter(([k]) => k !== 'info')
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')} (sum rounded)`,
  `- caps by category: ${Object.entries(CATEGORY_CAPS)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')}`,
  `- grades: ${GRADES.map(([g, min]) => `${g} ≥ ${min}`).join(', ')}`,
].join('\n');

test('docs/rules.md is the page the analyzers generate', async () => {
  const page = renderRulesPage(
    [...builtinAnalyzers.flatMap((a) => a.rules ?? []), ...LINT_RULE_LIST, ...Object.values(WORKLOAD_RULES)],
    SCORING,
  );
  const path = join(REPO_ROOT, 'docs', 'rules.md');
  if (process.env.UPDATE_DOCS) await writeFile(path, page);
  assert.equal(await readFile(path, 'utf8'), page, 'run `npm run docs:rules` and commit docs/rules.md');
  const ids = [
    ...builtinAnalyzers.flatMap((a) => a.rules ?? []),
    ...LINT_RULE_LIST,
    ...Object.values(WORKLOAD_RULES),
  ].map((r) => r.id);
  assert.equal(new Set(ids).size, ids.length, 'rule ids are unique');
});
