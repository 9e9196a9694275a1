import { test } from 'node:test';
import assert from 'node:assert/strict';
import { joinInRoot, normalizeEntryPath, normalizeLinkTarget, whiteoutOf } from './path.js';
import { DistrolensError } from '../core/errors.js';

test('normalizeEntryPath: one row per rule', () => {
  const rows: [string, string][] = [
    ['etc/passwd', '/etc/passwd'],
    ['./etc/passwd', '/etc/passwd'],
    ['etc//passwd', '/etc/passwd'],
    ['etc/./passwd', '/etc/passwd'],
    ['usr/lib/', '/usr/lib'],
    ['./', '/'],
    ['../etc/passwd', 'unsafe'],
    ['etc/../../x', 'unsafe'],
    ['/../etc/passwd', 'unsafe'],
    ['a/../b', '/b'], // cleaned, as containerd cleans it: it stays in the root
    ['/etc/passwd', '/etc/passwd'], // absolute names (kaniko) are relative to the root
    ['/', '/'],
    ['//usr/./lib/', '/usr/lib'],
    ['etc/pass\0wd', 'unsafe'],
  ];
  for (const [input, expected] of rows) {
    if (expected === 'unsafe') {
      assert.throws(
        () => normalizeEntryPath(input),
        (e: unknown) => e instanceof DistrolensError && e.code === 'E_UNSAFE_PATH',
        input,
      );
    } else assert.equal(normalizeEntryPath(input), expected, input);
  }
});

test('hardlink targets: relative to the archive root, a leading slash tolerated, no escape', () => {
  assert.equal(normalizeLinkTarget('bin/busybox'), '/bin/busybox');
  assert.equal(normalizeLinkTarget('/bin/busybox'), '/bin/busybox');
  assert.throws(() => normalizeLinkTarget('../../etc/shadow'), /unsafe path/);
});

test('joinInRoot: symlink targets never leave the root', () => {
  const rows: [string, string, string][] = [
    ['/usr/bin', 'python3.11', '/usr/bin/python3.11'],
    ['/usr/bin', '../lib/x', '/usr/lib/x'],
    ['/bin', '/usr/bin/busybox', '/usr/bin/busybox'],
    ['/a', '../../../../etc/shadow', '/etc/shadow'],
    ['/', '..', '/'],
    ['/a/b', './c/./d', '/a/b/c/d'],
  ];
  for (const [dir, target, expected] of rows) assert.equal(joinInRoot(dir, target), expected, `${dir} + ${target}`);
});

test('whiteoutOf: file whiteouts, opaque markers, aufs metadata', () => {
  assert.deepEqual(whiteoutOf('/etc/.wh.passwd'), { kind: 'whiteout', target: '/etc/passwd' });
  assert.deepEqual(whiteoutOf('/.wh.tmp'), { kind: 'whiteout', target: '/tmp' });
  assert.deepEqual(whiteoutOf('/var/cache/.wh..wh..opq'), { kind: 'opaque', dir: '/var/cache' });
  assert.equal(whiteoutOf('/.wh..wh.plnk'), 'aufs-meta');
  assert.equal(whiteoutOf('/etc/passwd'), undefined);
  assert.equal(whiteoutOf('/etc/x.wh.y'), undefined);
  // A whiteout of no name would delete its directory, at the root every lower layer: refused.
  for (const path of ['/.wh.', '/etc/.wh.', '/.wh..', '/etc/.wh...'])
    assert.throws(() => whiteoutOf(path), /E_UNSAFE_PATH|unsafe path/, path);
});
