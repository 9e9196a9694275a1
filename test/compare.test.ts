import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { Comparison } from '../src/core/compare.js';
import { ensureDebianImages } from './fixtures/debian-images.js';
import { REALDATA, cli } from './helpers.js';

test('compare two versions of the same image: package versions changed, verdict first', async () => {
  const a = join(REALDATA, 'images/alpine/docker-alpine-3.9.6-x86_64/alpine-minirootfs-3.9.6-x86_64.tar.gz');
  const b = join(REALDATA, 'images/alpine/docker-alpine-3.20.3-x86_64/alpine-minirootfs-3.20.3-x86_64.tar.gz');
  const json = await cli(['compare', a, b, '-f', 'json', '--no-cache']);
  assert.equal(json.code, 0, json.stderr);
  const c = JSON.parse(json.stdout) as Comparison;
  assert.equal(c.schema, 'distrolens/compare@1');
  assert.deepEqual(
    c.diffs[0]!.packages.changed.find((p) => p.name === 'apk:musl'),
    { name: 'apk:musl', from: '1.1.20-r5', to: '1.2.5-r0' },
  );
  assert.ok(c.diffs[0]!.packages.added.some((p) => p.startsWith('pkg:apk/alpine/libcrypto3@')));
  assert.ok(c.diffs[0]!.packages.removed.some((p) => p.startsWith('pkg:apk/alpine/libcrypto1.1@')));
  const table = await cli(['compare', a, b, '--no-cache']);
  const verdict = table.stdout.split('\n\n')[0]!.replace(/\n/g, ' ');
  assert.match(
    verdict,
    /^\/\S*alpine-minirootfs-3\.20\.3-x86_64\.tar\.gz \(general, grade \w\) compared with \/\S*3\.9\.6\S* \(general, grade \w\):/,
  );
  assert.match(verdict, /the same number of packages \(9 at other versions\)/);
  assert.ok(!table.stdout.includes('…'), 'nothing is cut');
  assert.match(
    table.stdout,
    /alpine-minirootfs-3\.9\.6-x86_64\.tar\.gz +alpine-minirootfs-3\.20\.3-x86_64\.tar\.gz/,
    'headers tell the images apart',
  );
  const html = await cli(['compare', a, b, '--no-cache', '-f', 'html']);
  assert.match(html.stdout, /^<!doctype html>/);
  assert.equal((html.stdout.match(/<svg [^>]*role="img"/g) ?? []).length, 5, 'a chart per measure');
  assert.match(html.stdout, /<th scope="row">maintenance burden<\/th>(<td>[\d.]+<\/td>){2}/);
  assert.match(
    html.stdout,
    /<td>version<\/td><td><code>apk:musl<\/code> <code>1\.1\.20-r5<\/code> → <code>1\.2\.5-r0<\/code><\/td>/,
  );
});

const tools = ['debootstrap', 'dpkg-deb'].every((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status === 0);

test(
  'compare a general image with its distroless counterpart: what B no longer has',
  { skip: tools ? false : 'debootstrap not installed (run .ci/run)', timeout: 15 * 60_000 },
  async () => {
    const images = await ensureDebianImages(['slim', 'static']);
    const result = await cli([
      'compare',
      `oci:${images.slim.layout}`,
      `oci:${images.static.layout}`,
      '-f',
      'json',
      '-f',
      `markdown=${join(images.static.layout, '..', 'compare.md')}`,
      '--no-cache',
    ]);
    assert.equal(result.code, 0, result.stderr);
    const c = JSON.parse(result.stdout) as Comparison;
    assert.deepEqual(
      c.images.map((i) => i.classification),
      ['general', 'distroless'],
    );
    assert.match(c.verdict, /no shell, no package manager/);
    assert.match(c.verdict, /no setuid binar/);
    assert.match(c.verdict, /smaller/);
    assert.ok(c.diffs[0]!.surface.shells.removed.includes('bash'));
    assert.ok(c.diffs[0]!.packages.removed.some((p) => p.startsWith('pkg:deb/debian/dash@')));
    assert.ok(c.diffs[0]!.sizeBytes < 0);
  },
);

test('compare needs two images', async () => {
  const result = await cli(['compare', 'alpine']);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /^error E_USAGE: compare needs at least two images/);
});

test('compare headers: the shortest suffixes that tell the images apart, never cut', async () => {
  const { distinctNames } = await import('../src/report/compare-table.js');
  assert.deepEqual(distinctNames(['docker.io/library/debian:12-slim', 'gcr.io/distroless/base-debian12']), [
    'debian:12-slim',
    'base-debian12',
  ]);
  assert.deepEqual(distinctNames(['registry.example/team-a/app:1', 'registry.example/team-b/app:1']), [
    'team-a/app:1',
    'team-b/app:1',
  ]);
  assert.deepEqual(
    distinctNames(['/tmp/x/alpine-minirootfs-3.9.6-x86_64.tar.gz', '/tmp/x/alpine-minirootfs-3.20.3-x86_64.tar.gz']),
    ['alpine-minirootfs-3.9.6-x86_64.tar.gz', 'alpine-minirootfs-3.20.3-x86_64.tar.gz'],
  );
});
