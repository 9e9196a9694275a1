import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import type { OpenOptions } from '../src/sources/index.js';
import { BlobCache } from '../src/cache/blobs.js';
import { RegistryClient } from '../src/sources/registry/client.js';
import { inspect } from '../src/scan/inspect.js';
import { buildImage, pushImage, pushIndex, writeOciLayout, type BuiltImage, type ImageSpec } from './fixtures/image.js';
import { registryAvailable, startRegistry, type RegistryAuthMode, type TestRegistry } from './fixtures/registry.js';
import { openSource, rejectsWithCode, tempDir } from './helpers.js';

/**
 * The real distribution registry on loopback, in its three auth modes. Images are pushed by our
 * own client and by skopeo, and read back through the registry source with digests compared.
 */
const run = async (command: string, args: string[]): Promise<Buffer> =>
  (await promisify(execFile)(command, args, { encoding: 'buffer', maxBuffer: 1 << 26 })).stdout;

const skip = registryAvailable()
  ? false
  : 'docker-registry is not installed (run .ci/run or apt-get install docker-registry)';

const spec: ImageSpec = {
  layers: [
    {
      files: [
        { path: 'etc/os-release', content: 'ID=test\n' },
        { path: 'bin/sh', content: 'ELF', mode: 0o755 },
      ],
      compression: 'gzip',
      createdBy: 'ADD rootfs',
    },
    { files: [{ path: 'app/main.js', content: 'console.log(1)' }], compression: 'zstd', createdBy: 'COPY app' },
    { files: [{ path: 'app/data.bin', content: Buffer.alloc(4096, 1) }], compression: 'none', createdBy: 'COPY data' },
  ],
  config: {
    User: '65532',
    Entrypoint: ['/app/main.js'],
    ExposedPorts: { '8080/tcp': {} },
    Env: ['PATH=/bin', 'API_TOKEN=hunter2'],
  },
};

function expectSameImage(
  report: Awaited<ReturnType<typeof inspect>>['report'],
  image: BuiltImage,
  manifestDigest = image.manifestDigest,
): void {
  assert.equal(report.target.manifestDigest, manifestDigest);
  assert.equal(report.target.configDigest, image.configDigest);
  assert.deepEqual(
    report.target.layers.map((l) => l.digest),
    image.layers.map((l) => l.digest),
  );
  assert.deepEqual(
    report.target.layers.map((l) => l.diffId),
    image.layers.map((l) => l.diffId),
  );
  assert.deepEqual(
    report.target.layers.map((l) => l.size),
    image.layers.map((l) => l.tar.length),
  );
  assert.deepEqual(
    report.target.layers.map((l) => l.compressedSize),
    image.layers.map((l) => l.blob.length),
  );
}

for (const mode of ['none', 'htpasswd', 'token'] as RegistryAuthMode[]) {
  describe(`registry with ${mode} auth`, { skip }, () => {
    /** Tests of credentials: only where the registry asks for them. */
    const authTest = (name: string, fn: () => Promise<void>): void => {
      if (mode !== 'none') test(name, fn);
    };
    let registry: TestRegistry;
    let cacheDir: Awaited<ReturnType<typeof tempDir>>;
    const image = buildImage(spec);
    const auth = () =>
      registry.username
        ? { username: registry.username, password: registry.password!, registry: registry.host }
        : undefined;
    const options = (extra: Partial<OpenOptions> = {}): OpenOptions => ({
      cache: new BlobCache(cacheDir.path),
      ...(auth() ? { auth: auth()! } : {}),
      env: {},
      ...extra,
    });

    before(async () => {
      registry = await startRegistry(mode);
      cacheDir = await tempDir();
      await pushImage(
        new RegistryClient(registry.host, { ...(auth() ? { auth: auth()! } : {}) }),
        'team/app',
        'v1',
        image,
      );
    });
    after(async () => {
      await registry?.stop();
      await cacheDir?.cleanup();
    });

    test('pulls by tag and by digest with identical digests, gzip + zstd + plain layers', async () => {
      for (const ref of [
        `${registry.host}/team/app:v1`,
        `registry:${registry.host}/team/app@${image.manifestDigest}`,
      ]) {
        const source = await openSource(ref, options());
        const { report, fs } = await inspect(source);
        await source.close();
        expectSameImage(report, image);
        assert.equal(report.target.source, 'registry');
        assert.deepEqual(report.target.config.env, ['PATH=/bin', 'API_TOKEN=<redacted>']);
        assert.equal(fs.stat('/app/data.bin')?.layer, 2);
      }
    });

    authTest('anonymous and wrong credentials get coded errors', async () => {
      const ref = `${registry.host}/team/app:v1`;
      // The token issuer grants anonymous pulls (like Docker Hub); htpasswd refuses them.
      if (mode === 'htpasswd')
        await rejectsWithCode(
          (await openSource(ref, { ...options(), auth: undefined })).resolve(),
          'E_REGISTRY_AUTH_REQUIRED',
        );
      await rejectsWithCode(
        (
          await openSource(
            ref,
            options({ auth: { username: registry.username!, password: 'wrong', registry: registry.host } }),
          )
        ).resolve(),
        'E_REGISTRY_AUTH_DENIED',
      );
    });

    test('a missing tag is E_REGISTRY_NOT_FOUND', async () => {
      const source = await openSource(`${registry.host}/team/app:nope`, options());
      const error = await rejectsWithCode(source.resolve(), 'E_REGISTRY_NOT_FOUND');
      assert.match(error.hint ?? '', /tag/);
    });

    authTest('credentials come from ~/.docker/config.json when not given', async () => {
      const home = await tempDir();
      try {
        const { mkdir, writeFile } = await import('node:fs/promises');
        await mkdir(join(home.path, '.docker'));
        await writeFile(
          join(home.path, '.docker', 'config.json'),
          JSON.stringify({
            auths: {
              [registry.host]: { auth: Buffer.from(`${registry.username}:${registry.password}`).toString('base64') },
            },
          }),
        );
        const source = await openSource(`${registry.host}/team/app:v1`, {
          cache: new BlobCache(cacheDir.path),
          env: { DOCKER_CONFIG: join(home.path, '.docker') },
        });
        const { report } = await inspect(source);
        expectSameImage(report, image);
      } finally {
        await home.cleanup();
      }
    });

    authTest('credentials come from a docker-credential-* helper named in credHelpers', async () => {
      const home = await tempDir();
      try {
        const { mkdir, writeFile } = await import('node:fs/promises');
        await mkdir(join(home.path, '.docker'));
        await mkdir(join(home.path, 'bin'));
        // A real executable speaking the credential-helper protocol: server URL on stdin, JSON out.
        await writeFile(
          join(home.path, 'bin', 'docker-credential-distrolens-test'),
          `#!/bin/sh
read server
[ "$1" = get ] && [ "$server" = "${registry.host}" ] || { echo "credentials not found in native keychain"; exit 1; }
printf '{"ServerURL":"%s","Username":"${registry.username}","Secret":"${registry.password}"}' "$server"
`,
          { mode: 0o755 },
        );
        await writeFile(
          join(home.path, '.docker', 'config.json'),
          JSON.stringify({ credHelpers: { [registry.host]: 'distrolens-test' } }),
        );
        const env = {
          DOCKER_CONFIG: join(home.path, '.docker'),
          PATH: `${join(home.path, 'bin')}:${process.env.PATH}`,
        };
        const { report } = await inspect(
          await openSource(`${registry.host}/team/app:v1`, { cache: new BlobCache(cacheDir.path), env }),
        );
        expectSameImage(report, image);
      } finally {
        await home.cleanup();
      }
    });

    test('images pushed by skopeo read back with the digests skopeo reports', async () => {
      const dir = await tempDir();
      try {
        const other = buildImage({ ...spec, layers: spec.layers.map((l) => ({ ...l, compression: 'gzip' as const })) });
        await writeOciLayout(join(dir.path, 'layout'), [{ image: other, tag: 'v2' }]);
        const creds = registry.username ? [`--dest-creds=${registry.username}:${registry.password}`] : [];
        // skopeo converts the OCI image to Docker schema 2 on the way: its manifest is its own.
        // Asynchronous: the token issuer answers from this very process.
        await run('skopeo', [
          'copy',
          '--format',
          'v2s2',
          '--dest-tls-verify=false',
          ...creds,
          `oci:${join(dir.path, 'layout')}:v2`,
          `docker://${registry.host}/team/skopeo:v2`,
        ]);
        const srcCreds = registry.username ? [`--creds=${registry.username}:${registry.password}`] : [];
        const raw = await run('skopeo', [
          'inspect',
          '--raw',
          '--tls-verify=false',
          ...srcCreds,
          `docker://${registry.host}/team/skopeo:v2`,
        ]);
        const skopeoDigest = `sha256:${createHash('sha256').update(raw).digest('hex')}`;
        const source = await openSource(`${registry.host}/team/skopeo:v2`, options());
        const { report } = await inspect(source);
        assert.equal(report.target.manifestDigest, skopeoDigest);
        assert.deepEqual(
          report.target.layers.map((l) => l.diffId),
          other.layers.map((l) => l.diffId),
        );
        const config = await run('skopeo', [
          'inspect',
          '--raw',
          '--config',
          '--tls-verify=false',
          ...srcCreds,
          `docker://${registry.host}/team/skopeo:v2`,
        ]);
        assert.equal(report.target.configDigest, `sha256:${createHash('sha256').update(config).digest('hex')}`);
        assert.equal(report.target.layers[0]?.mediaType, 'application/vnd.docker.image.rootfs.diff.tar.gzip');
      } finally {
        await dir.cleanup();
      }
    });
  });
}

describe('registry: multi-platform index, cache', { skip }, () => {
  let registry: TestRegistry;
  let cacheDir: Awaited<ReturnType<typeof tempDir>>;
  const amd64 = buildImage({ ...spec, platform: { os: 'linux', architecture: 'amd64' } });
  const arm64 = buildImage({
    layers: [{ files: [{ path: 'arm64', content: 'a' }] }],
    platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
  });
  const armv7 = buildImage({
    layers: [{ files: [{ path: 'armv7', content: 'b' }] }],
    platform: { os: 'linux', architecture: 'arm', variant: 'v7' },
  });
  let indexDigest: string;

  before(async () => {
    registry = await startRegistry('none');
    cacheDir = await tempDir();
    indexDigest = await pushIndex(new RegistryClient(registry.host), 'multi/app', 'latest', [amd64, arm64, armv7]);
  });
  after(async () => {
    await registry?.stop();
    await cacheDir?.cleanup();
  });

  test('selects linux/amd64 by default and other platforms on request, variants honoured', async () => {
    const cases: [string | undefined, BuiltImage][] = [
      [undefined, amd64],
      ['linux/arm64', arm64],
      ['linux/arm64/v8', arm64],
      ['linux/arm/v7', armv7],
    ];
    for (const [platform, expected] of cases) {
      const { parsePlatform } = await import('../src/core/platform.js');
      const source = await openSource(`${registry.host}/multi/app`, { cache: new BlobCache(cacheDir.path), env: {} });
      const { report } = await inspect(source, platform ? { platform: parsePlatform(platform) } : {});
      assert.equal(report.target.manifestDigest, expected.manifestDigest, String(platform));
      assert.deepEqual(
        report.target.platforms.map((p) => `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`),
        ['linux/amd64', 'linux/arm64/v8', 'linux/arm/v7'],
      );
    }
  });

  test('config/latest-tag: a floating latest tag is reported, a digest is not', async () => {
    const { scanImage } = await import('../src/scan/scan.js');
    const latest = await scanImage(
      await openSource(`${registry.host}/multi/app`, { cache: new BlobCache(cacheDir.path), env: {} }),
    );
    assert.deepEqual(
      latest.report.findings.filter((f) => f.ruleId === 'config/latest-tag').map((f) => f.severity),
      ['low'],
    );
    const pinned = await scanImage(
      await openSource(`${registry.host}/multi/app@${indexDigest}`, { cache: new BlobCache(cacheDir.path), env: {} }),
    );
    assert.deepEqual(
      pinned.report.findings.filter((f) => f.ruleId === 'config/latest-tag'),
      [],
    );
  });

  test('a platform the index lacks lists the ones it has', async () => {
    const source = await openSource(`${registry.host}/multi/app`, { cache: new BlobCache(cacheDir.path), env: {} });
    const error = await rejectsWithCode(
      source.resolve({ platform: { os: 'linux', architecture: 's390x' } }),
      'E_PLATFORM_NOT_FOUND',
    );
    assert.match(error.message, /linux\/amd64, linux\/arm\/v7, linux\/arm64\/v8/);
  });

  test('blobs land in the cache once; two concurrent pulls into one cache both succeed', async () => {
    const fresh = await tempDir();
    try {
      const pull = async () => {
        const source = await openSource(`${registry.host}/multi/app`, { cache: new BlobCache(fresh.path), env: {} });
        try {
          return (await inspect(source)).report;
        } finally {
          await source.close();
        }
      };
      const [a, b] = await Promise.all([pull(), pull()]);
      assert.deepEqual(a, b);
      const blobDir = join(fresh.path, 'blobs', 'sha256');
      const files = (await readdir(blobDir)).sort();
      assert.ok(!files.some((f) => f.startsWith('.tmp')), 'no temporary files left');
      for (const layer of amd64.layers) assert.ok(files.includes(layer.digest.slice(7)));
      const before = await Promise.all(
        amd64.layers.map((l) => stat(join(blobDir, l.digest.slice(7))).then((s) => s.mtimeMs)),
      );
      await pull();
      const afterPull = await Promise.all(
        amd64.layers.map((l) => stat(join(blobDir, l.digest.slice(7))).then((s) => s.mtimeMs)),
      );
      assert.deepEqual(afterPull, before, 'warm pull rewrote no blob');
    } finally {
      await fresh.cleanup();
    }
  });
});
