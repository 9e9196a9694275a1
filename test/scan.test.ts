import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { REALDATA } from './helpers.js';
import { scanInput } from './fixtures/scan.js';

/** Scans of the real upstream data, each asserting the exact expected result. */

const ALPINE_39_PACKAGES = [
  'musl@1.1.20-r3',
  'busybox@1.29.3-r10',
  'alpine-baselayout@3.1.0-r3',
  'alpine-keys@2.1-r1',
  'libcrypto1.1@1.1.1a-r1',
  'libssl1.1@1.1.1a-r1',
  'ca-certificates-cacert@20190108-r0',
  'libtls-standalone@2.7.4-r6',
  'ssl_client@1.29.3-r10',
  'zlib@1.2.11-r1',
  'apk-tools@2.10.3-r1',
  'scanelf@1.2.3-r0',
  'musl-utils@1.1.20-r3',
  'libc-utils@0.7.1-r0',
];

describe('real upstream images', () => {
  test('Alpine 3.9.0 rootfs (gliderlabs): CVE-2019-5021, its 14 apk packages, grade F', async () => {
    const report = await scanInput(join(REALDATA, 'images/alpine/gliderlabs-library-3.9-x86_64/rootfs.tar.xz'));
    assert.deepEqual(report.packages.map((p) => `${p.name}@${p.version}`).sort(), [...ALPINE_39_PACKAGES].sort());
    assert.equal(
      report.packages.find((p) => p.name === 'musl')?.purl,
      'pkg:apk/alpine/musl@1.1.20-r3?arch=x86_64&distro=alpine-3.9.0',
    );
    const empty = report.findings.filter((f) => f.ruleId === 'accounts/empty-password');
    assert.equal(empty.length, 1);
    assert.equal(empty[0]!.severity, 'critical', 'login path (busybox su) and root');
    assert.deepEqual(empty[0]!.location, { path: '/etc/shadow', layer: 0 });
    assert.ok(empty[0]!.references.includes('CVE-2019-5021'));
    assert.deepEqual(report.os, {
      id: 'alpine',
      versionId: '3.9.0',
      prettyName: 'Alpine Linux v3.9',
      classification: 'general',
      classificationReason: report.os.classificationReason,
    });
    assert.equal(report.surface.users.find((u) => u.name === 'root')?.password, 'empty');
    assert.ok(report.surface.shells.some((s) => s.path === '/bin/sh' && s.via === 'busybox'));
    assert.ok(report.surface.packageManagers.some((s) => s.path === '/sbin/apk'));
    assert.equal(report.score.grade, 'F');
  });

  for (const [name, path, packages] of [
    ['Alpine 3.9.6 minirootfs', 'images/alpine/docker-alpine-3.9.6-x86_64/alpine-minirootfs-3.9.6-x86_64.tar.gz', 14],
    [
      'Alpine 3.20.3 minirootfs',
      'images/alpine/docker-alpine-3.20.3-x86_64/alpine-minirootfs-3.20.3-x86_64.tar.gz',
      14,
    ],
    ['alpine-39 docker save (trivy)', 'images/trivy/alpine-39.tar.gz', 14],
  ] as const) {
    test(`${name}: no empty password (root is locked), ${packages} packages`, async () => {
      const report = await scanInput(join(REALDATA, path));
      assert.equal(report.findings.filter((f) => f.ruleId === 'accounts/empty-password').length, 0);
      assert.equal(report.surface.users.find((u) => u.name === 'root')?.password, 'locked');
      assert.equal(report.packages.length, packages);
      assert.equal(report.os.id, 'alpine');
    });
  }

  test('alpine-39 docker save: musl-1.1.20-r4 and libcrypto1.1-1.1.1b-r1, as the trivy golden says', async () => {
    const report = await scanInput(join(REALDATA, 'images/trivy/alpine-39.tar.gz'));
    const versions = Object.fromEntries(report.packages.map((p) => [p.name, p.version]));
    assert.equal(versions.musl, '1.1.20-r4');
    assert.equal(versions['libcrypto1.1'], '1.1.1b-r1');
    assert.equal(report.os.versionId, '3.9.4');
    assert.ok(report.findings.some((f) => f.ruleId === 'config/runs-as-root'));
  });

  test("dive's test image: efficiency 0.9844212134184309 and 32025 wasted bytes, as dive computes them", async () => {
    const report = await scanInput(join(REALDATA, 'images/dive/test-docker-image.tar'));
    assert.equal(report.size.efficiency, 0.9844212134184309);
    assert.equal(report.size.wastedBytes, 32025);
    assert.deepEqual(
      report.size.inefficiencies.map((i) => [i.path, i.count, i.cumulativeBytes]),
      [
        ['/root/example/somefile1.txt', 2, 12810],
        ['/root/saved.txt', 2, 12810],
        ['/root/example/somefile3.txt', 2, 6405],
      ],
    );
  });

  test('busybox OCI archive (snyk): a shell but no OS packages; hello-world: scratch', async () => {
    const busybox = await scanInput(join(REALDATA, 'images/snyk-docker-plugin/busybox-1.31.1.tar'));
    assert.equal(busybox.packages.length, 0);
    assert.equal(busybox.os.classification, 'minimal');
    assert.ok(busybox.surface.shells.some((s) => s.path === '/bin/sh'));
    const hello = await scanInput(join(REALDATA, 'images/snyk-docker-plugin/hello-world.tar'));
    assert.equal(hello.os.classification, 'scratch');
    assert.equal(hello.surface.shells.length, 0);
    assert.ok(hello.findings.some((f) => f.ruleId === 'debug/no-shell' && f.severity === 'info'));
  });

  test('two scans of the same input give the same JSON', async () => {
    const input = join(REALDATA, 'images/dive/test-docker-image.tar');
    assert.equal(JSON.stringify(await scanInput(input)), JSON.stringify(await scanInput(input)));
  });
});
