import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, dirname, resolve } from 'node:path';
import { REPO_ROOT } from './helpers.js';

/**
 * Imports point one way through the pipeline (STYLE.md rule 2). Each folder of src/ is a layer;
 * a layer may import only the layers listed for it. Sources never import each other.
 */
const ALLOWED: Record<string, readonly string[]> = {
  core: [],
  util: ['core'],
  image: ['core', 'util'],
  cache: ['core', 'util', 'image'],
  sources: ['core', 'util', 'image', 'cache'],
  fs: ['core', 'util', 'image'],
  analyzers: ['core', 'util', 'image', 'fs'],
  score: ['core'],
  judge: ['core', 'analyzers', 'score'],
  workloads: ['core', 'util', 'judge'],
  policy: ['core', 'util'],
  maintenance: ['core', 'util', 'vuln'],
  minimize: ['core', 'util', 'image', 'fs', 'analyzers', 'sources', 'scan', 'version'],
  vuln: ['core', 'util'],
  report: ['core'],
  recommend: ['core'],
  dockerfile: ['core', 'recommend'],
  server: ['core', 'util', 'image', 'cache', 'sources', 'scan', 'report', 'vuln', 'recommend', 'version'],
  fleet: ['core', 'util', 'cache', 'sources', 'scan', 'server'],
  scan: ['core', 'util', 'image', 'fs', 'cache', 'analyzers', 'judge', 'score', 'vuln', 'maintenance', 'version'],
  cli: [
    'core',
    'util',
    'image',
    'cache',
    'sources',
    'scan',
    'report',
    'policy',
    'vuln',
    'dockerfile',
    'recommend',
    'server',
    'workloads',
    'fleet',
    'maintenance',
    'minimize',
    'version',
  ],
  index: ['*'],
  version: [],
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory()
      ? files(path)
      : path.endsWith('.ts') && !path.endsWith('.test.ts')
        ? [path]
        : [];
  });
}

const layerOf = (file: string): string =>
  relative(join(REPO_ROOT, 'src'), file)
    .split('/')[0]!
    .replace(/\.[jt]s$/, '');

test('imports in src/ follow the pipeline', () => {
  const wrong: string[] = [];
  for (const file of files(join(REPO_ROOT, 'src'))) {
    const from = layerOf(file);
    const allowed = ALLOWED[from];
    assert.ok(allowed, `src/${from} is not in the layer table of this test`);
    const source = readFileSync(file, 'utf8');
    for (const match of source.matchAll(/^(?:import|export)[^'"]*from\s+['"](\.[^'"]+)['"]/gm)) {
      const target = resolve(dirname(file), match[1]!);
      if (!target.startsWith(join(REPO_ROOT, 'src'))) {
        wrong.push(`${relative(REPO_ROOT, file)} imports outside src: ${match[1]}`);
        continue;
      }
      const to = layerOf(target);
      if (to === from) {
        // Within sources/ and analyzers/, each folder stands alone; only index.ts knows them all,
        // and analyzers share code through analyzers/common/ only.
        if (from === 'sources' || from === 'analyzers') {
          const own = relative(join(REPO_ROOT, 'src', from), file).split('/');
          const their = relative(join(REPO_ROOT, 'src', from), target).split('/');
          const shared = their.length === 1 || their[0] === 'common';
          if (own.length > 1 && !shared && own[0] !== their[0])
            wrong.push(`${relative(REPO_ROOT, file)} imports sibling ${match[1]}`);
        }
        continue;
      }
      if (!allowed.includes('*') && !allowed.includes(to))
        wrong.push(`${relative(REPO_ROOT, file)} (${from}) imports ${to}: ${match[1]}`);
    }
  }
  assert.deepEqual(wrong, []);
});
