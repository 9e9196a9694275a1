import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareApk } from './apk.js';
import { compareRpm } from './rpm.js';

type Row = [string, '<' | '=' | '>', string];

function check(name: string, compare: (a: string, b: string) => number, rows: Row[]): void {
  for (const [a, op, b] of rows) {
    const c = Math.sign(compare(a, b));
    assert.equal(c, op === '<' ? -1 : op === '=' ? 0 : 1, `${name}: ${a} ${op} ${b}`);
    assert.equal(Math.sign(compare(b, a)), -c || 0, `${name}: ${b} against ${a} is the reverse`);
  }
}

test('apk versions: suffixes, letters, -rN (the fixes of the Alpine secdb)', () => {
  check('apk', compareApk, [
    ['1.1.20-r4', '<', '1.1.20-r5'],
    ['1.1.1b-r1', '<', '1.1.1d-r0'],
    ['1.1.1d-r0', '<', '1.1.1d-r2'],
    ['1.2.5-r0', '<', '1.2.5-r1'],
    ['1.0_alpha', '<', '1.0_beta'],
    ['1.0_beta2', '<', '1.0_beta10'],
    ['1.0_rc1', '<', '1.0'],
    ['1.0', '<', '1.0_p1'],
    ['1.0_p1', '<', '1.0_p2'],
    ['1.0', '<', '1.0a'],
    ['1.0a', '<', '1.0b'],
    ['1.29.3-r10', '>', '1.29.3-r9'],
    ['2.10', '>', '2.9'],
    ['1.0', '<', '1.0.1'],
    ['1.2.11-r1', '=', '1.2.11-r1'],
    ['1.0_git20200101', '>', '1.0'],
    ['20190108-r0', '<', '20191127-r0'],
    ['3.3.2-r0', '>', '3.3.1-r9'],
  ]);
});

test('rpm versions: rpmvercmp with ~, ^, epochs and releases', () => {
  check('rpm', compareRpm, [
    ['7.76.0-6.cm2', '<', '7.76.0-7.cm2'],
    ['1.0', '<', '1.1'],
    ['1.0a', '>', '1.0'],
    ['1.0', '>', '1.0~rc1'],
    ['1.0~rc1', '<', '1.0~rc2'],
    ['1.0^git1', '>', '1.0'],
    ['1.0^git1', '<', '1.0.1'],
    ['1:1.0', '>', '2.0'],
    ['0:1.0-1', '=', '1.0-1'],
    ['2.32.1-42.el8_8', '>', '2.32.1-42.el8'],
    ['1.0-1', '=', '1.0'],
    ['1.010', '=', '1.10'],
    ['1.a', '<', '1.1'],
    ['5.5p1', '<', '5.5p10'],
    ['1.0.0', '>', '1.0'],
  ]);
});

test('SemVer (npm, Go, crates): pre-releases, numeric identifiers, Go pseudo-versions', async () => {
  const { compareSemver } = await import('./semver.js');
  check('semver', compareSemver, [
    ['4.17.20', '<', '4.17.21'],
    ['1.0.0-alpha', '<', '1.0.0'],
    ['1.0.0-alpha', '<', '1.0.0-alpha.1'],
    ['1.0.0-alpha.1', '<', '1.0.0-alpha.beta'],
    ['1.0.0-beta.2', '<', '1.0.0-beta.11'],
    ['1.0.0-rc.1', '<', '1.0.0'],
    ['1.0.0+build.1', '=', '1.0.0'],
    ['v1.15.2', '=', '1.15.2'],
    ['v0.0.0-20210121072130-637058cfe492', '<', 'v0.0.0-20210121094942-22b2f8951d46'],
    ['v0.0.0-20200804184101-5ec99f83aff1', '<', 'v0.1.0'],
    ['10.0.0', '>', '9.9.9'],
    ['0.0.8', '>', '0.0.7'],
    ['1.2', '=', '1.2.0'],
  ]);
});

test('PEP 440 (PyPI): dev, pre, post, epochs, normalised spellings', async () => {
  const { comparePep440 } = await import('./pep440.js');
  check('pep440', comparePep440, [
    ['1.0.dev1', '<', '1.0a1'],
    ['1.0a1', '<', '1.0b1'],
    ['1.0b1', '<', '1.0rc1'],
    ['1.0rc1', '<', '1.0'],
    ['1.0', '<', '1.0.post1'],
    ['1.0', '=', '1.0.0'],
    ['1.0-1', '=', '1.0.post1'],
    ['1.0alpha1', '=', '1.0a1'],
    ['1.0c1', '=', '1.0rc1'],
    ['1!0.1', '>', '2.0'],
    ['2.14.2', '>', '2.14.1'],
    ['3.12.1', '<', '3.12.10'],
    ['1.0a1.dev1', '<', '1.0a1'],
    ['1.0.post1.dev1', '<', '1.0.post1'],
    ['1.0+local.1', '>', '1.0'],
  ]);
});

test('Maven versions: ComparableVersion qualifiers, sub-lists and trailing nulls', async () => {
  const { compareMaven } = await import('./maven.js');
  // Each list is in ascending order (the order Maven's own documentation and tests give).
  const ascending = (list: string[]): Row[] => list.slice(1).map((v, i) => [list[i]!, '<', v]);
  check('maven', compareMaven, [
    ...ascending([
      '1-alpha2snapshot',
      '1-alpha2',
      '1-alpha-123',
      '1-beta-2',
      '1-beta123',
      '1-m2',
      '1-m11',
      '1-rc',
      '1-cr2',
      '1-rc123',
      '1-SNAPSHOT',
      '1',
      '1-sp',
      '1-sp2',
      '1-sp123',
      '1-abc',
      '1-def',
      '1-pom-1',
      '1-1-snapshot',
      '1-1',
      '1-2',
      '1-123',
    ]),
    ...ascending([
      '2.0',
      '2-1',
      '2.0.a',
      '2.0.0.a',
      '2.0.2',
      '2.0.123',
      '2.1.0',
      '2.1-a',
      '2.1b',
      '2.1-c',
      '2.1-1',
      '2.1.0.1',
      '2.2',
      '2.123',
      '11.a2',
      '11.a11',
      '11.b2',
      '11.b11',
      '11.m2',
      '11.m11',
      '11',
      '11.a',
      '11b',
      '11c',
      '11m',
    ]),
    ['1', '=', '1.0'],
    ['1', '=', '1.0.0'],
    ['1.0', '=', '1-0'],
    ['1', '=', '1-ga'],
    ['1', '=', '1.final'],
    ['1.0-release', '=', '1'],
    ['1a1', '=', '1-alpha-1'],
    ['1cr', '=', '1rc'],
    ['2.12.6.1', '>', '2.12.6'],
    ['2.9.10.6', '<', '2.9.10.7'],
    ['2.9.10.8', '<', '2.10.0'],
    ['5.3.18', '<', '5.3.20'],
    ['2.17.0', '>', '2.17.0-rc1'],
    ['1.0-SNAPSHOT', '<', '1.0'],
    ['0010', '=', '10'],
  ]);
});
