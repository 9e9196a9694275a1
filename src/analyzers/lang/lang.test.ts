import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parsePythonMetadata } from './python.js';
import { npmLicenses } from './npm.js';
import { REALDATA } from '../../../test/helpers.js';

test('Python core metadata: names, versions and licences as trivy reads them', async () => {
  const dir = join(REALDATA, 'pkgdb/python/trivy');
  const expected = JSON.parse(await readFile(join(dir, 'expected.json'), 'utf8')) as Record<
    string,
    { name: string; version: string; licenses: string[] }
  >;
  for (const [file, want] of Object.entries(expected)) {
    if (file.startsWith('_')) continue;
    assert.deepEqual(parsePythonMetadata(await readFile(join(dir, file), 'utf8')), want, file);
  }
});

test('npm licences: string, object, legacy array', () => {
  assert.deepEqual(npmLicenses({ license: 'MIT' }), ['MIT']);
  assert.deepEqual(npmLicenses({ license: { type: 'ISC', url: 'x' } }), ['ISC']);
  assert.deepEqual(npmLicenses({ licenses: [{ type: 'MIT' }, { type: 'Apache-2.0' }] }), ['MIT', 'Apache-2.0']);
  assert.deepEqual(npmLicenses({}), []);
});
