import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { openSource } from '../src/sources/index.js';
import { BlobCache } from '../src/cache/blobs.js';
import { inspect } from '../src/scan/inspect.js';
import { validateImage } from '../src/image/validate.js';
import { RegistryClient } from '../src/sources/registry/client.js';
import { ensureDebianImages, type DebianImage, type DebianImageName } from './fixtures/debian-images.js';
import { pushLayout } from './fixtures/image.js';
import { registryAvailable, startRegistry, type TestRegistry } from './fixtures/registry.js';
import { tempDir } from './helpers.js';

/**
 * Real images built from Debian packages, read from every local format and from the real
 * registry after a push by our own code. The filesystem must match the root it was built from.
 */
const tools = ['debootstrap', 'dpkg-deb', 'apt-get'].every((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status === 0);
const skip = !tools ? 'debootstrap/dpkg not installed (run .ci/run)' : !registryAvailable() ? 'docker-registry not installed (run .ci/run)' : false;

describe('images built from Debian packages', { skip, timeout: 15 * 60_000 }, () => {
  let images: Record<DebianImageName, DebianImage>;
  let registry: TestRegistry;
  let cache: Awaited<ReturnType<typeof tempDir>>;

  before(async () => {
    images = await ensureDebianImages(['slim', 'static', 'base', 'multiarch']);
    registry = await startRegistry('none');
    cache = await tempDir();
  }, { timeout: 15 * 60_000 });
  after(async () => {
    await registry?.stop();
    await cache?.cleanup();
  });

  for (const name of ['slim', 'static', 'base'] as const) {
    test(`${name}: OCI layout, docker-archive and registry agree; files match the built root`, async () => {
      const client = new RegistryClient(registry.host);
      const pushed = await pushLayout(client, `debian/${name}`, 'latest', images[name].layout);
      const results = [];
      for (const input of [`oci:${images[name].layout}`, `docker-archive:${images[name].archive}`, `${registry.host}/debian/${name}:latest`]) {
        const source = await openSource(input, { cache: new BlobCache(cache.path), env: {} });
        const image = await source.resolve();
        await validateImage(image);
        const { report, fs } = await inspect(source);
        await source.close();
        results.push({ report, fs });
      }
      assert.equal(results[2]!.report.target.manifestDigest, pushed);
      for (const { report } of results) {
        assert.deepEqual(report.target.layers.map((l) => l.diffId), results[0]!.report.target.layers.map((l) => l.diffId));
        assert.equal(report.target.configDigest, results[0]!.report.target.configDigest);
      }
      // Every path of the root it was built from, with the same type (find -printf %y).
      const find = spawnSync('find', ['.', '-mindepth', '1', '-printf', '%P %y\n'], { cwd: images[name].rootfs!, encoding: 'utf8', maxBuffer: 1 << 28 });
      const expected = find.stdout.trim().split('\n').map((line) => `/${line}`).sort();
      const typeCode = { file: 'f', dir: 'd', symlink: 'l', hardlink: 'f', char: 'c', block: 'b', fifo: 'p', other: '?' } as const;
      const actual = results[0]!.fs.entries().map((e) => `${e.path} ${typeCode[e.type]}`).sort();
      assert.deepEqual(actual, expected);
      if (name !== 'slim') {
        assert.equal(results[0]!.fs.stat('/var/lib/dpkg/status'), undefined, 'distroless has no dpkg status file');
        assert.ok(results[0]!.fs.stat('/var/lib/dpkg/status.d/tzdata'));
        assert.equal(results[0]!.report.target.config.user, '65532');
        assert.equal(results[0]!.fs.stat('/bin/sh'), undefined, 'no shell');
      } else {
        assert.ok(results[0]!.fs.stat('/bin/sh'));
        assert.equal(results[0]!.fs.stat('/usr/bin/passwd')!.mode & 0o4000, 0o4000, 'setuid passwd');
      }
    });
  }

  test('multi-arch index: amd64 by default, arm64 on request, from layout and registry', async () => {
    await pushLayout(new RegistryClient(registry.host), 'debian/multi', 'latest', images.multiarch.layout);
    for (const input of [`oci:${images.multiarch.layout}`, `${registry.host}/debian/multi:latest`]) {
      const amd = await (await openSource(input, { cache: new BlobCache(cache.path), env: {} })).resolve();
      const arm = await (await openSource(input, { cache: new BlobCache(cache.path), env: {} })).resolve({ platform: { os: 'linux', architecture: 'arm64' } });
      assert.equal(amd.platform.architecture, 'amd64');
      assert.equal(arm.platform.architecture, 'arm64');
      assert.notEqual(amd.manifestDigest, arm.manifestDigest);
      assert.deepEqual(amd.platforms.map((p) => p.architecture), ['amd64', 'arm64']);
      await validateImage(arm);
    }
  });
});
