import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { compareDpkg } from './dpkg.js';

test('dpkg versions: the hard cases', () => {
  const rows: [string, '<' | '=' | '>', string][] = [
    ['1.0', '<', '1.1'],
    ['1.0', '=', '1.0'],
    ['1.0', '=', '1.00'],
    ['1:1.0', '>', '2.0'],
    ['0:1.0', '=', '1.0'],
    ['1.0~rc1', '<', '1.0'],
    ['1.0~~', '<', '1.0~'],
    ['1.0~rc1', '<', '1.0~rc2'],
    ['1.0', '<', '1.0+b1'],
    ['1.0', '<', '1.0a'],
    ['1.0a', '<', '1.0b'],
    ['1.0-1', '<', '1.0-2'],
    ['1.0-1', '<', '1.0-1ubuntu1'],
    ['1.0-10', '>', '1.0-9'],
    ['2.36-9+deb12u4', '>', '2.36-9+deb12u3'],
    ['1:1.2.11.dfsg-0ubuntu2', '>', '1.2.11.dfsg-0ubuntu2'],
    ['3.0.15-1~deb12u1', '<', '3.0.15-1'],
    ['1.18.26', '>', '1.18.25'],
    ['2021a-0+deb9u4', '>', '2021a-0+deb9u3'],
    ['1.2.3', '=', '1.2.3-0'],
    ['10', '>', '9'],
    ['1.0.0', '>', '1.0'],
    ['a', '<', 'b'],
    ['1.0-1.1', '>', '1.0-1'],
    ['99999999999999999999', '<', '100000000000000000000'],
  ];
  for (const [a, op, b] of rows) {
    const c = Math.sign(compareDpkg(a, b));
    assert.equal(c, op === '<' ? -1 : op === '=' ? 0 : 1, `${a} ${op} ${b}`);
    assert.equal(Math.sign(compareDpkg(b, a)), -c || 0, `${b} vs ${a} is the reverse`);
  }
});

const hasDpkg = spawnSync('dpkg', ['--version']).status === 0;

test(
  'dpkg versions agree with dpkg --compare-versions on generated pairs',
  { skip: hasDpkg ? false : 'dpkg not installed' },
  () => {
    // A deterministic generator of tricky versions: epochs, tildes, letters, pluses, zero padding.
    let seed = 42;
    const rand = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    const pieces = ['0', '1', '2', '9', '10', '01', 'a', 'b', 'z', '~', '~rc', '+', '.', 'dfsg', '+b1', '~~', 'A'];
    const upstream = () =>
      `${rand(10)}${Array.from({ length: 1 + rand(4) }, () => pieces[rand(pieces.length)]).join('')}`.replace(/-/g, '');
    const version = () =>
      `${rand(4) === 0 ? `${rand(3)}:` : ''}${upstream()}${rand(2) ? `-${rand(5)}${rand(2) ? `+deb${rand(12)}u${rand(3)}` : ''}` : ''}`;
    const pairs = Array.from({ length: 2000 }, () => [version(), version()] as const);
    // One dpkg process per pair costs ~1 ms; a shell loop keeps it to one spawn.
    const script = pairs
      .map(
        ([a, b]) =>
          `if dpkg --compare-versions '${a}' lt '${b}'; then echo '<'; elif dpkg --compare-versions '${a}' eq '${b}'; then echo '='; else echo '>'; fi`,
      )
      .join('\n');
    const result = spawnSync('sh', [], { input: script, encoding: 'utf8', maxBuffer: 1 << 24 });
    const expected = result.stdout.trim().split('\n');
    assert.equal(expected.length, pairs.length, result.stderr.slice(0, 500));
    const mismatches = pairs
      .map(([a, b], i) => {
        const c = Math.sign(compareDpkg(a, b));
        const ours = c < 0 ? '<' : c === 0 ? '=' : '>';
        return ours === expected[i] ? undefined : `${a} ${ours} ${b} (dpkg says ${expected[i]})`;
      })
      .filter(Boolean);
    assert.deepEqual(mismatches.slice(0, 10), []);
  },
);
