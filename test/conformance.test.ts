import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, writeFile, symlink } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { validateImage } from '../src/image/validate.js';
import { buildFs } from '../src/fs/layered.js';
import { buildImage, dockerArchive, ociArchive, writeOciLayout, type ImageSpec } from './fixtures/image.js';
import { buildTar, compress } from './fixtures/tar.js';
import { openSource, REALDATA, rejectsWithCode, tempDir } from './helpers.js';

/**
 * One conformance check for every source (go-containerregistry's validate.Image): the same image
 * written in every format resolves to the same config, diff_ids and filesystem; the real
 * upstream archives in shared/realdata pass the same check.
 */
async function check(input: string, options: Parameters<typeof openSource>[1] = {}) {
  const source = await openSource(input, { env: {}, ...options });
  try {
    const image = await source.resolve();
    const stats = await validateImage(image);
    const fs = await buildFs(image);
    return {
      image,
      stats,
      fs,
      listing: fs.entries().map((e) => `${e.path} ${e.type} ${e.size} ${e.mode.toString(8)} ${e.layer}`),
    };
  } finally {
    await source.close();
  }
}

const spec: ImageSpec = {
  layers: [
    {
      files: [
        { path: 'bin/', type: 'dir' },
        { path: 'bin/busybox', content: 'ELF…', mode: 0o755 },
        { path: 'bin/sh', type: 'hardlink', target: 'bin/busybox' },
        { path: 'etc/passwd', content: 'root:x:0:0:root:/root:/bin/sh\n' },
        { path: 'usr/bin/passwd', content: 's', mode: 0o4755 },
      ],
    },
    {
      files: [
        { path: 'etc/passwd', type: 'whiteout' },
        { path: 'app/server', content: 'x'.repeat(3000), mode: 0o755 },
        { path: 'tmp/', type: 'dir', mode: 0o1777 },
      ],
      createdBy: 'COPY app',
    },
  ],
  config: { User: 'nonroot', Cmd: ['/app/server'] },
};

describe('the same image in every format', () => {
  test('docker-archive (legacy, Docker 25 hybrid, gzipped), oci-archive and oci: agree', async () => {
    const image = buildImage(spec);
    const dir = await tempDir();
    try {
      await writeFile(join(dir.path, 'legacy.tar'), dockerArchive([{ image, tags: ['app:1'] }], 'legacy'));
      await writeFile(join(dir.path, 'hybrid.tar'), dockerArchive([{ image, tags: ['app:1'] }], 'hybrid'));
      await writeFile(join(dir.path, 'legacy.tar.gz'), gzipSync(dockerArchive([{ image, tags: ['app:1'] }], 'legacy')));
      await writeFile(join(dir.path, 'oci.tar'), ociArchive([{ image, tag: '1' }]));
      await writeOciLayout(join(dir.path, 'layout'), [{ image, tag: '1' }]);
      const inputs = [
        [`docker-archive:${join(dir.path, 'legacy.tar')}`, 'docker-archive'],
        [join(dir.path, 'hybrid.tar'), 'docker-archive'],
        [join(dir.path, 'legacy.tar.gz'), 'docker-archive'],
        [`oci-archive:${join(dir.path, 'oci.tar')}:1`, 'oci-archive'],
        [join(dir.path, 'oci.tar'), 'oci-archive'],
        [`oci:${join(dir.path, 'layout')}`, 'oci-layout'],
        [join(dir.path, 'layout'), 'oci-layout'],
      ] as const;
      const results = [];
      for (const [input, kind] of inputs) {
        const result = await check(input);
        assert.equal(result.image.source.kind, kind, input);
        assert.equal(result.image.configDigest, image.configDigest, input);
        assert.deepEqual(
          result.image.layers.map((l) => l.diffId),
          image.layers.map((l) => l.diffId),
          input,
        );
        assert.deepEqual(
          result.stats.map((s) => s.uncompressedSize),
          image.layers.map((l) => l.tar.length),
          input,
        );
        assert.equal(result.image.config.user, 'nonroot');
        assert.equal(result.image.layers[1]!.createdBy, 'COPY app');
        results.push(result.listing);
      }
      for (const listing of results) assert.deepEqual(listing, results[0]);
      assert.ok(results[0]!.some((l) => l.startsWith('/usr/bin/passwd file 1 4755 0')));
      assert.ok(!results[0]!.some((l) => l.startsWith('/etc/passwd')));
    } finally {
      await dir.cleanup();
    }
  });

  test('rootfs: a directory and tarballs in every compression give the same tree', async () => {
    const files = spec.layers[0]!.files;
    const tar = buildTar(files);
    const dir = await tempDir();
    try {
      const listings = [];
      for (const [name, data] of [
        ['r.tar', tar],
        ['r.tar.gz', compress(tar, 'gzip')],
        ['r.tar.zst', compress(tar, 'zstd')],
      ] as const) {
        await writeFile(join(dir.path, name), data);
        listings.push((await check(`rootfs:${join(dir.path, name)}`)).listing);
        listings.push((await check(join(dir.path, name))).listing);
      }
      const xz = spawnSync('xz', ['-c'], { input: tar });
      await writeFile(join(dir.path, 'r.tar.xz'), xz.stdout);
      listings.push((await check(join(dir.path, 'r.tar.xz'))).listing);
      const root = join(dir.path, 'root');
      await mkdir(join(root, 'bin'), { recursive: true });
      await mkdir(join(root, 'etc'));
      await mkdir(join(root, 'usr', 'bin'), { recursive: true });
      await writeFile(join(root, 'bin', 'busybox'), 'ELF…', { mode: 0o755 });
      const { link, chmod } = await import('node:fs/promises');
      await link(join(root, 'bin', 'busybox'), join(root, 'bin', 'sh'));
      await writeFile(join(root, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
      await writeFile(join(root, 'usr', 'bin', 'passwd'), 's');
      await chmod(join(root, 'usr', 'bin', 'passwd'), 0o4755);
      const fromDir = await check(`rootfs:${root}`);
      assert.equal(fromDir.image.source.kind, 'rootfs');
      assert.equal(fromDir.fs.stat('/bin/sh')?.type, 'hardlink');
      assert.equal(fromDir.fs.stat('/usr/bin/passwd')?.mode, 0o4755);
      for (const listing of listings) assert.deepEqual(listing, listings[0]);
      assert.deepEqual(
        listings[0]!.map((l) => l.split(' ')[0]),
        ['/bin', '/bin/busybox', '/bin/sh', '/etc', '/etc/passwd', '/usr', '/usr/bin', '/usr/bin/passwd'],
      );
    } finally {
      await dir.cleanup();
    }
  });

  test('a rootfs directory symlink pointing outside is kept as data, never followed', async () => {
    const dir = await tempDir();
    try {
      await mkdir(join(dir.path, 'root', 'etc'), { recursive: true });
      await symlink('/../../../root/.ssh/id_rsa', join(dir.path, 'root', 'etc', 'hostname'));
      const { fs } = await check(`rootfs:${join(dir.path, 'root')}`);
      assert.equal(fs.lstat('/etc/hostname')?.type, 'symlink');
      assert.equal(fs.stat('/etc/hostname'), undefined, 'the host file is not part of the image');
    } finally {
      await dir.cleanup();
    }
  });
});

test('a verified plain layer on disk is remembered, so the next walk seeks instead of hashing', async () => {
  const image = buildImage({
    layers: [
      { files: [{ path: 'a', content: 'x'.repeat(5000) }], compression: 'none' },
      { files: [{ path: 'b', content: 'y' }] },
    ],
  });
  const dir = await tempDir();
  try {
    await writeFile(join(dir.path, 'a.tar'), dockerArchive([{ image, tags: ['a:1'] }]));
    const { BlobCache } = await import('../src/cache/blobs.js');
    const { readdir } = await import('node:fs/promises');
    const cache = new BlobCache(join(dir.path, 'cache'));
    const first = await check(join(dir.path, 'a.tar'), { cache });
    assert.equal((await readdir(join(dir.path, 'cache', 'verified'))).length, 2, 'one record per verified layer');
    const second = await check(join(dir.path, 'a.tar'), { cache });
    assert.deepEqual(second.listing, first.listing);
    assert.deepEqual(second.stats, first.stats);
  } finally {
    await dir.cleanup();
  }
});

describe('archives with several images', () => {
  test('docker-archive selects by tag; without a tag it lists them', async () => {
    const a = buildImage({ layers: [{ files: [{ path: 'a', content: 'a' }] }] });
    const b = buildImage({ layers: [{ files: [{ path: 'b', content: 'b' }] }] });
    const dir = await tempDir();
    try {
      const path = join(dir.path, 'two.tar');
      await writeFile(
        path,
        dockerArchive([
          { image: a, tags: ['repo/a:1'] },
          { image: b, tags: ['docker.io/library/b:latest'] },
        ]),
      );
      const error = await rejectsWithCode((await openSource(path)).resolve(), 'E_IMAGE_AMBIGUOUS');
      assert.match(error.message, /repo\/a:1; docker.io\/library\/b:latest/);
      assert.equal((await check(`docker-archive:${path}:b`)).image.configDigest, b.configDigest);
      assert.equal((await check(`docker-archive:${path}:repo/a:1`)).image.configDigest, a.configDigest);
      await rejectsWithCode((await openSource(`docker-archive:${path}:c`)).resolve(), 'E_INPUT_NOT_FOUND');
    } finally {
      await dir.cleanup();
    }
  });

  test('OCI layout selects by ref name or digest, and by platform in an index', async () => {
    const a = buildImage({ layers: [{ files: [{ path: 'a', content: 'a' }] }] });
    const b = buildImage({ layers: [{ files: [{ path: 'b', content: 'b' }] }] });
    const arm = buildImage({
      layers: [{ files: [{ path: 'arm', content: 'c' }] }],
      platform: { os: 'linux', architecture: 'arm64' },
    });
    const dir = await tempDir();
    try {
      const layout = join(dir.path, 'layout');
      await writeOciLayout(layout, [
        { image: a, tag: 'a' },
        { image: b, tag: 'b' },
      ]);
      await rejectsWithCode((await openSource(`oci:${layout}`)).resolve(), 'E_IMAGE_AMBIGUOUS');
      assert.equal((await check(`oci:${layout}:b`)).image.configDigest, b.configDigest);
      assert.equal((await check(`oci:${layout}@${a.manifestDigest}`)).image.configDigest, a.configDigest);
      const multi = join(dir.path, 'multi');
      const { buildIndex } = await import('./fixtures/image.js');
      await writeOciLayout(multi, [{ image: a }, { image: arm }], { ...buildIndex([a, arm]), tag: 'latest' });
      const chosen = await (
        await openSource(`oci:${multi}:latest`)
      ).resolve({ platform: { os: 'linux', architecture: 'arm64' } });
      assert.equal(chosen.configDigest, arm.configDigest);
      assert.equal(chosen.platforms.length, 2);
      assert.equal(
        (await check(`oci:${multi}@${arm.manifestDigest}`)).image.configDigest,
        arm.configDigest,
        'digest nested in an index',
      );
    } finally {
      await dir.cleanup();
    }
  });
});

describe('real upstream archives (shared/realdata)', () => {
  const cases: [string, string, number, Record<string, unknown>][] = [
    ['images/dive/test-docker-image.tar', 'docker-archive', 14, { reference: 'dive-test:latest' }],
    // kaniko writes absolute names (`/`, `/etc/x`): taken relative to the root, as containerd does.
    ['images/dive/test-kaniko-image.tar', 'docker-archive', 14, { reference: 'dive-test:kaniko-latest' }],
    ['images/go-containerregistry/hello-world-v25.tar', 'docker-archive', 1, {}],
    [
      'docker-archive:%/images/go-containerregistry/test_link.tar:bazel/v1/tarball:test_image_1',
      'docker-archive',
      0,
      {},
    ],
    [
      'docker-archive:%/images/go-containerregistry/test_link.tar:bazel/v1/tarball:test_image_3',
      'docker-archive',
      0,
      {},
    ],
    [
      'images/trivy/alpine-39.tar.gz',
      'docker-archive',
      1,
      { configDigest: 'sha256:055936d3920576da37aa9bc460d70c5f212028bda1c08c0879aedf03d7a66ea1' },
    ],
    ['images/snyk-docker-plugin/busybox-1.31.1.tar', 'oci-archive', 1, {}],
    ['images/snyk-docker-plugin/hello-world.tar', 'docker-archive', 1, {}],
    ['images/alpine/gliderlabs-library-3.9-x86_64/rootfs.tar.xz', 'rootfs', 1, {}],
    ['images/alpine/docker-alpine-3.9.6-x86_64/alpine-minirootfs-3.9.6-x86_64.tar.gz', 'rootfs', 1, {}],
    ['images/alpine/docker-alpine-3.20.3-x86_64/alpine-minirootfs-3.20.3-x86_64.tar.gz', 'rootfs', 1, {}],
  ];
  for (const [path, kind, layers, expected] of cases) {
    test(`${path.replace('%/', '')} opens and passes the conformance check`, async () => {
      const input = path.includes('%') ? path.replace('%', REALDATA) : join(REALDATA, path);
      const { image, stats, fs } = await check(input);
      assert.equal(image.source.kind, kind);
      if (layers) assert.equal(image.layers.length, layers);
      assert.ok(stats.every((s) => s.entries > 0));
      assert.ok(fs.size > 0);
      if (expected.reference) assert.equal(image.source.reference, expected.reference);
      if (expected.configDigest) assert.equal(image.configDigest, expected.configDigest);
    });
  }

  test('alpine 3.9 rootfs carries the empty root password of CVE-2019-5021', async () => {
    const source = await openSource(join(REALDATA, 'images/alpine/gliderlabs-library-3.9-x86_64/rootfs.tar.xz'));
    const fs = await buildFs(await source.resolve(), {
      capture: { match: (p) => p === '/etc/shadow' || p === '/etc/alpine-release', maxBytes: 4096 },
    });
    await source.close();
    assert.equal(fs.content('/etc/shadow')?.data.toString().split('\n')[0], 'root:::0:::::');
    assert.equal(fs.content('/etc/alpine-release')?.data.toString().trim(), '3.9.0');
    assert.equal(fs.resolve('/bin/sh'), '/bin/busybox');
  });

  test('dive image: whiteouts applied across 14 layers', async () => {
    const { fs } = await check(join(REALDATA, 'images/dive/test-docker-image.tar'));
    assert.equal(fs.stat('/root/example'), undefined, 'removed by rm -rf in layer 9');
    assert.ok(fs.layers[9]!.removed.some((e) => e.path === '/root/example/somefile1.txt'));
    assert.equal(fs.stat('/root/saved.txt')?.layer, 13);
  });
});
