import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { parsePolicy } from '../src/policy/index.js';
import { REPO_ROOT } from './helpers.js';

/** The copy-paste examples in docs/ci.md parse, and use only options the CLI has. */
test('docs/ci.md: the policy is valid, the workflows parse and call real options', async () => {
  const text = await readFile(join(REPO_ROOT, 'docs', 'ci.md'), 'utf8');
  const blocks = [...text.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
  assert.equal(blocks.length, 3);
  const policy = parsePolicy(blocks[0]!, 'docs/ci.md policy');
  assert.equal(policy.minGrade, 'B');
  assert.ok(
    policy.accept?.some((a) => a.vulnerability?.startsWith('CVE-') && a.package),
    'a vulnerability acceptance',
  );
  const github = parse(blocks[1]!) as { jobs: Record<string, { steps: { run?: string; uses?: string }[] }> };
  const gitlab = parse(blocks[2]!) as Record<string, { script: string[] }>;
  const commands = [
    ...Object.values(github.jobs).flatMap((j) => j.steps.map((s) => s.run ?? '')),
    ...gitlab.distrolens!.script,
  ].filter((c) => c.includes('distrolens scan'));
  assert.equal(commands.length, 2);
  const { IMAGE_FLAGS } = await import('../src/cli/options.js');
  for (const command of commands) {
    for (const flag of command.match(/--[a-z-]+/g) ?? []) {
      if (flag === '--yes') continue; // npx's own
      assert.ok(flag.slice(2) in IMAGE_FLAGS, `${flag} is an option of distrolens scan`);
    }
  }
  assert.ok(Object.values(github.jobs)[0]!.steps.some((s) => s.uses?.startsWith('github/codeql-action/upload-sarif')));
});
