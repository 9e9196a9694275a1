import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { checkPodSecurity, levelOf } from './pss.js';
import { REALDATA } from '../../test/helpers.js';

/**
 * Conformance with Kubernetes' own Pod Security Standards fixtures: every `pass/` pod is allowed
 * at its level and version, every `fail/` pod is denied and names the check its file is named after.
 */
const ROOT = join(REALDATA, 'k8s/pod-security-admission');

for (const level of ['baseline', 'restricted'] as const) {
  for (const version of readdirSync(join(ROOT, level))) {
    test(`Pod Security Standards ${level} ${version}: Kubernetes' golden pass and fail fixtures`, () => {
      const wrong: string[] = [];
      let read = 0;
      for (const outcome of ['pass', 'fail'] as const) {
        for (const file of readdirSync(join(ROOT, level, version, outcome)).sort()) {
          read++;
          const pod = parse(readFileSync(join(ROOT, level, version, outcome, file), 'utf8')) as {
            metadata?: object;
            spec?: object;
          };
          const violations = checkPodSecurity(
            (pod.metadata ?? {}) as Record<string, unknown>,
            (pod.spec ?? {}) as Record<string, unknown>,
          );
          const atLevel = violations.filter((v) => level === 'restricted' || v.level === 'baseline');
          const check = file.replace(/\d*\.yaml$/, '');
          if (outcome === 'pass' && atLevel.length)
            wrong.push(`${outcome}/${file}: ${atLevel.map((v) => v.control).join(', ')}`);
          if (outcome === 'fail' && !atLevel.some((v) => v.control.toLowerCase() === check))
            wrong.push(`${outcome}/${file}: got ${atLevel.map((v) => v.control).join(', ') || 'nothing'}`);
          if (outcome === 'pass') assert.ok(levelOf(violations) === 'restricted' || level === 'baseline');
        }
      }
      assert.ok(read > 20, `${read} fixtures read`);
      assert.deepEqual(wrong, []);
    });
  }
}
