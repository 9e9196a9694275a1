import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { OpenOptions } from '../src/sources/index.js';
import { BlobCache } from '../src/cache/blobs.js';
import { inspect } from '../src/scan/inspect.js';
import { MediaType } from '../src/image/media.js';
import { buildImage, buildIndex, sha256 } from './fixtures/image.js';
import { startStubRegistry, type StubRegistry } from './fixtures/stub-registry.js';
import { openSource, rejectsWithCode, tempDir } from './helpers.js';

/**
 * Faults a real registry cannot produce on demand, injected by an in-memory stub: rate limits,
 * server errors, cut connections, corrupt blobs, redirects, hostile manifests.
 */
const image = buildImage({
  layers: [
    { files: [{ path: 'hello', content: 'world' }] },
    { files: [{ path: 'big', content: Buffer.alloc(200_000, 3) }] },
  ],
});
const fast = { attempts: 3, baseDelayMs: 1, maxDelayMs: 50 };

async function withStub(
  fn: (
    stub: StubRegistry,
    open: (ref?: string, extra?: Partial<OpenOptions>) => ReturnType<typeof openSource>,
  ) => Promise<void>,
): Promise<void> {
  const stub = await startStubRegistry('org/app', 'v1', image);
  const cache = await tempDir();
  try {
    await fn(stub, (ref = `${stub.host}/org/app:v1`, extra = {}) =>
      openSource(ref, { cache: new BlobCache(cache.path), retry: fast, env: {}, ...extra }),
    );
  } finally {
    await stub.stop();
    await cache.cleanup();
  }
}

const layerPath = (i: number) => `/blobs/${image.layers[i]!.digest}`;

test('429 and 503 are retried, honouring Retry-After', async () => {
  await withStub(async (stub, open) => {
    stub.faults.push({
      match: '/manifests/v1',
      times: 1,
      respond: (_q, res) => res.writeHead(429, { 'retry-after': '0' }).end(),
    });
    stub.faults.push({ match: layerPath(1), times: 2, respond: (_q, res) => res.writeHead(503).end() });
    const { report } = await inspect(await open());
    assert.equal(report.target.manifestDigest, image.manifestDigest);
    assert.equal(stub.requests.filter((r) => r.endsWith('/manifests/v1')).length, 2);
    assert.equal(stub.requests.filter((r) => r.endsWith(layerPath(1))).length, 3);
  });
});

test('a registry that keeps rate-limiting gives E_REGISTRY_RATE_LIMITED', async () => {
  await withStub(async (stub, open) => {
    stub.faults.push({
      match: '/manifests/',
      times: Infinity,
      respond: (_q, res) =>
        res.writeHead(429, { 'retry-after': '0' }).end('{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}'),
    });
    const error = await rejectsWithCode((await open()).resolve(), 'E_REGISTRY_RATE_LIMITED');
    assert.match(error.message, /slow down/);
    assert.equal(stub.requests.length, fast.attempts);
  });
});

test('a cut connection is fetched again; a blob that is always cut is E_BLOB_TRUNCATED', async () => {
  const cut = (_q: unknown, res: import('node:http').ServerResponse, body: Buffer) => {
    res.writeHead(200, { 'content-length': String(body.length) });
    res.write(body.subarray(0, body.length >> 1));
    res.destroy();
  };
  await withStub(async (stub, open) => {
    stub.faults.push({ match: layerPath(1), times: 1, respond: cut });
    const { report } = await inspect(await open());
    assert.equal(report.target.layers[1]?.diffId, image.layers[1]!.diffId);
  });
  await withStub(async (stub, open) => {
    stub.faults.push({
      match: layerPath(1),
      times: Infinity,
      respond: (_q, res, body) => res.writeHead(200).end(body.subarray(0, body.length >> 1)),
    });
    await rejectsWithCode(inspect(await open()), 'E_BLOB_TRUNCATED');
  });
});

test('a corrupt blob is E_DIGEST_MISMATCH and leaves nothing in the cache', async () => {
  await withStub(async (stub, open) => {
    stub.faults.push({
      match: layerPath(0),
      times: Infinity,
      respond: (_q, res, body) => {
        const bad = Buffer.from(body);
        bad[bad.length - 1]! ^= 0xff;
        res.writeHead(200).end(bad);
      },
    });
    await rejectsWithCode(inspect(await open()), 'E_DIGEST_MISMATCH');
  });
});

test('a damaged blob in the cache is detected, removed, and fetched again on the next run', async () => {
  const stub = await startStubRegistry('org/app', 'v1', image);
  const dir = await tempDir();
  try {
    const cache = new BlobCache(dir.path);
    const run = async () => inspect(await openSource(`${stub.host}/org/app:v1`, { cache, retry: fast, env: {} }));
    await run();
    const { readFile, writeFile } = await import('node:fs/promises');
    const path = cache.pathOf(image.layers[1]!.digest);
    const bytes = await readFile(path);
    bytes[bytes.length - 3]! ^= 0xff; // inside the gzip trailer: decompression fails, size unchanged
    await writeFile(path, bytes);
    const error = await rejectsWithCode(run(), 'E_DIGEST_MISMATCH');
    assert.match(error.message, /cached copy is damaged/);
    const { report } = await run();
    assert.equal(report.target.layers[1]?.diffId, image.layers[1]!.diffId);
    // A cached blob that an earlier walk verified is not hashed again, but gzip's CRC-32 is
    // checked: damage only it can see (here in the CRC field itself) is found too.
    await run();
    const again = await readFile(path);
    again[again.length - 8]! ^= 0xff;
    await writeFile(path, again);
    assert.match((await rejectsWithCode(run(), 'E_DIGEST_MISMATCH')).message, /cached copy is damaged/);
  } finally {
    await stub.stop();
    await dir.cleanup();
  }
});

test('blob redirects to storage are followed', async () => {
  await withStub(async (stub, open) => {
    stub.faults.push({
      match: '/blobs/',
      times: Infinity,
      respond: (req, res) => {
        const digest = /sha256:[a-f0-9]{64}/.exec(req.url ?? '')![0];
        res.writeHead(307, { location: `/storage/${digest}` }).end();
      },
    });
    const { report } = await inspect(await open());
    assert.equal(report.target.configDigest, image.configDigest);
    assert.ok(stub.requests.some((r) => r.startsWith('GET /storage/')));
  });
});

test('schema 1, oversized manifests and artifacts are refused with their own codes', async () => {
  await withStub(async (stub, open) => {
    stub.manifests.set('old', [
      MediaType.dockerSchema1Signed,
      Buffer.from(JSON.stringify({ schemaVersion: 1, name: 'org/app', fsLayers: [] })),
    ]);
    const schema1 = await rejectsWithCode((await open(`${stub.host}/org/app:old`)).resolve(), 'E_MANIFEST_UNSUPPORTED');
    assert.match(schema1.hint ?? '', /re-push/);
    stub.manifests.set('huge', [MediaType.ociManifest, Buffer.alloc(5 * 1024 * 1024, 32)]);
    await rejectsWithCode((await open(`${stub.host}/org/app:huge`)).resolve(), 'E_MANIFEST_TOO_LARGE');
    const artifact = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.ociManifest,
        config: {
          mediaType: 'application/vnd.cncf.helm.config.v1+json',
          digest: image.configDigest,
          size: image.config.length,
        },
        layers: [],
      }),
    );
    stub.manifests.set('chart', [MediaType.ociManifest, artifact]);
    await rejectsWithCode((await open(`${stub.host}/org/app:chart`)).resolve(), 'E_MEDIA_TYPE_UNSUPPORTED');
  });
});

test('BuildKit attestation manifests in an index are skipped', async () => {
  await withStub(async (stub, open) => {
    const attestation = {
      mediaType: MediaType.ociManifest,
      digest: sha256(Buffer.from('att')),
      size: 3,
      platform: { os: 'unknown', architecture: 'unknown' },
      annotations: { 'vnd.docker.reference.type': 'attestation-manifest' },
    };
    const index = buildIndex([image], [attestation]);
    stub.manifests.set('multi', [MediaType.ociIndex, index.bytes]);
    const resolved = await (await open(`${stub.host}/org/app:multi`)).resolve();
    assert.equal(resolved.manifestDigest, image.manifestDigest);
    assert.deepEqual(resolved.platforms, [{ os: 'linux', architecture: 'amd64' }]);
  });
});

test('foreign layers are skipped with a warning', async () => {
  await withStub(async (stub, open) => {
    const manifest = JSON.parse(image.manifest.toString()) as { layers: Record<string, unknown>[] };
    const config = JSON.parse(image.config.toString()) as {
      rootfs: { diff_ids: string[] };
      history: { created_by: string }[];
    };
    config.history.unshift({ created_by: 'windows base' });
    const foreign = {
      mediaType: MediaType.dockerForeignLayer,
      digest: sha256(Buffer.from('windows base')),
      size: 12,
      urls: ['https://example.invalid/layer'],
    };
    config.rootfs.diff_ids.unshift(sha256(Buffer.from('windows base tar')));
    const configBytes = Buffer.from(JSON.stringify(config));
    const edited = Buffer.from(
      JSON.stringify({
        ...manifest,
        config: { mediaType: MediaType.ociConfig, digest: sha256(configBytes), size: configBytes.length },
        layers: [foreign, ...manifest.layers],
      }),
    );
    stub.manifests.set('foreign', [MediaType.ociManifest, edited]);
    stub.faults.push({
      match: `/blobs/${sha256(configBytes)}`,
      times: Infinity,
      respond: (_q, res) => res.writeHead(200).end(configBytes),
    });
    const { report } = await inspect(await open(`${stub.host}/org/app:foreign`));
    assert.equal(report.target.layers.length, 2);
    assert.deepEqual(
      report.target.layers.map((l) => l.createdBy),
      ['/bin/sh -c #(nop) ADD layer0', '/bin/sh -c #(nop) ADD layer1'],
    );
    assert.deepEqual(
      report.warnings.map((w) => w.code),
      ['W_FOREIGN_LAYER'],
    );
  });
});

test('a digest reference whose manifest does not match is refused', async () => {
  await withStub(async (stub, open) => {
    const wrong = sha256(Buffer.from('something else'));
    stub.manifests.set(wrong, [image.manifestMediaType, image.manifest]);
    await rejectsWithCode((await open(`${stub.host}/org/app@${wrong}`)).resolve(), 'E_DIGEST_MISMATCH');
  });
});

test('malformed references and unreachable registries', async () => {
  await rejectsWithCode(openSource('registry:UPPER/Case:tag'), 'E_REFERENCE_INVALID');
  await rejectsWithCode(openSource('registry:alpine@sha256:abc'), 'E_REFERENCE_INVALID');
  const source = await openSource('127.0.0.1:1/nothing/here:v1', { retry: fast, env: {} });
  await rejectsWithCode(source.resolve(), 'E_NETWORK');
});
