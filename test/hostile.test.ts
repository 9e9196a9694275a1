import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildFs } from '../src/fs/layered.js';
import { buildImage, dockerArchive, writeOciLayout, sha256 } from './fixtures/image.js';
import { buildTar } from './fixtures/tar.js';
import { openSource, rejectsWithCode, tempDir } from './helpers.js';

/** Hostile inputs are refused with a coded error before they can hurt: no crash, no escape, no OOM. */
async function walk(input: string, options: Parameters<typeof openSource>[1] = {}) {
  const source = await openSource(input, { env: {}, ...options });
  try {
    return await buildFs(await source.resolve());
  } finally {
    await source.close();
  }
}

test('decompression bombs: ratio and size caps, both raisable', async () => {
  const bomb = buildImage({
    layers: [{ files: [{ path: 'zeros', content: Buffer.alloc(8 * 1024 * 1024) }], compression: 'gzip' }],
  });
  const dir = await tempDir();
  try {
    await writeOciLayout(join(dir.path, 'bomb'), [{ image: bomb }]);
    const input = `oci:${join(dir.path, 'bomb')}`;
    const ratio = await rejectsWithCode(
      walk(input, { limits: { maxBytes: 1 << 30, maxRatio: 20, ratioFloor: 1 << 20 } }),
      'E_DECOMPRESSION_BOMB',
    );
    assert.match(ratio.hint ?? '', /--max-ratio/);
    await rejectsWithCode(
      walk(input, { limits: { maxBytes: 4 << 20, maxRatio: 1e6, ratioFloor: 1 << 20 } }),
      'E_DECOMPRESSION_BOMB',
    );
    const fs = await walk(input, { limits: { maxBytes: 1 << 30, maxRatio: 1e6, ratioFloor: 1 << 20 } });
    assert.equal(fs.stat('/zeros')?.size, 8 * 1024 * 1024);
  } finally {
    await dir.cleanup();
  }
});

test('docker-archive: oversized and malformed manifest.json, member paths out of the archive', async () => {
  const dir = await tempDir();
  try {
    const tarOf = (files: Record<string, string | Buffer>) =>
      buildTar(Object.entries(files).map(([path, content]) => ({ path, content })));
    await writeFile(join(dir.path, 'huge.tar'), tarOf({ 'manifest.json': Buffer.alloc(5 * 1024 * 1024, 32) }));
    await rejectsWithCode(walk(`docker-archive:${join(dir.path, 'huge.tar')}`), 'E_MANIFEST_TOO_LARGE');
    await writeFile(
      join(dir.path, 'escape.tar'),
      tarOf({ 'manifest.json': JSON.stringify([{ Config: '../../etc/passwd', RepoTags: [], Layers: [] }]) }),
    );
    await rejectsWithCode(walk(`docker-archive:${join(dir.path, 'escape.tar')}`), 'E_UNSAFE_PATH');
    await writeFile(
      join(dir.path, 'layers.tar'),
      tarOf({
        'manifest.json': JSON.stringify([
          { Config: 'c.json', Layers: Array.from({ length: 5000 }, (_, i) => `${i}/layer.tar`) },
        ]),
      }),
    );
    await rejectsWithCode(walk(`docker-archive:${join(dir.path, 'layers.tar')}`), 'E_IMAGE_INVALID');
    await writeFile(join(dir.path, 'garbage.tar'), tarOf({ 'manifest.json': '{"not": "a list"' }));
    await rejectsWithCode(walk(`docker-archive:${join(dir.path, 'garbage.tar')}`), 'E_IMAGE_INVALID');
    await writeFile(
      join(dir.path, 'loop.tar'),
      buildTar([
        { path: 'manifest.json', content: JSON.stringify([{ Config: 'a/layer.tar', Layers: [] }]) },
        { path: 'a/layer.tar', type: 'symlink', target: '../b/layer.tar' },
        { path: 'b/layer.tar', type: 'symlink', target: '../a/layer.tar' },
      ]),
    );
    await rejectsWithCode(walk(`docker-archive:${join(dir.path, 'loop.tar')}`), 'E_SYMLINK_LOOP');
  } finally {
    await dir.cleanup();
  }
});

test('tampered content: layer bytes, diff_ids, config', async () => {
  const image = buildImage({ layers: [{ files: [{ path: 'a', content: 'original' }], compression: 'none' }] });
  const dir = await tempDir();
  try {
    // Docker archive whose layer.tar was edited after saving: the diff_id no longer matches.
    const tampered = buildImage({ layers: [{ files: [{ path: 'a', content: 'modified' }], compression: 'none' }] });
    const archive = dockerArchive([
      {
        image: { ...image, layers: tampered.layers.map((l, i) => ({ ...l, diffId: image.layers[i]!.diffId })) },
        tags: ['t:1'],
      },
    ]);
    await writeFile(join(dir.path, 'tampered.tar'), archive);
    await rejectsWithCode(walk(join(dir.path, 'tampered.tar')), 'E_DIGEST_MISMATCH');
    // OCI layout whose blob was replaced.
    const layout = join(dir.path, 'layout');
    await writeOciLayout(layout, [{ image }]);
    await writeFile(join(layout, 'blobs', 'sha256', image.layers[0]!.digest.slice(7)), tampered.layers[0]!.blob);
    await rejectsWithCode(walk(`oci:${layout}`), 'E_DIGEST_MISMATCH');
    // Config edited: its digest no longer matches the manifest.
    await writeOciLayout(layout, [{ image }]);
    const configPath = join(layout, 'blobs', 'sha256', image.configDigest.slice(7));
    await writeFile(configPath, (await readFile(configPath, 'utf8')).replace('amd64', 'arm64'));
    await rejectsWithCode(walk(`oci:${layout}`), 'E_DIGEST_MISMATCH');
  } finally {
    await dir.cleanup();
  }
});

test('a config whose diff_id does not match an authentic blob fails the conformance check', async () => {
  const image = buildImage({ layers: [{ files: [{ path: 'a', content: 'x' }] }] });
  const dir = await tempDir();
  try {
    const config = Buffer.from(
      JSON.stringify({
        ...JSON.parse(image.config.toString()),
        rootfs: { type: 'layers', diff_ids: [sha256(Buffer.from('other'))] },
      }),
    );
    const manifest = Buffer.from(
      JSON.stringify({
        ...JSON.parse(image.manifest.toString()),
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
      }),
    );
    await writeOciLayout(join(dir.path, 'l'), [
      { image: { ...image, config, configDigest: sha256(config), manifest, manifestDigest: sha256(manifest) } },
    ]);
    const { validateImage } = await import('../src/image/validate.js');
    const source = await openSource(`oci:${join(dir.path, 'l')}`, { env: {} });
    await rejectsWithCode(validateImage(await source.resolve()), 'E_DIGEST_MISMATCH');
  } finally {
    await dir.cleanup();
  }
});

test('OCI layout directory: a blob symlinked out of the layout is refused', async () => {
  const image = buildImage({ layers: [{ files: [{ path: 'a', content: 'x' }] }] });
  const dir = await tempDir();
  try {
    const layout = join(dir.path, 'layout');
    await writeOciLayout(layout, [{ image }]);
    const outside = join(dir.path, 'outside');
    await writeFile(outside, image.config);
    const { rm } = await import('node:fs/promises');
    await rm(join(layout, 'blobs', 'sha256', image.configDigest.slice(7)));
    await symlink(outside, join(layout, 'blobs', 'sha256', image.configDigest.slice(7)));
    await rejectsWithCode(walk(`oci:${layout}`), 'E_UNSAFE_PATH');
  } finally {
    await dir.cleanup();
  }
});

test('inconsistent metadata: diff_ids that do not match the layers, unknown digest algorithms', async () => {
  const image = buildImage({ layers: [{ files: [{ path: 'a', content: 'x' }] }] });
  const dir = await tempDir();
  try {
    const config = Buffer.from(
      JSON.stringify({ ...JSON.parse(image.config.toString()), rootfs: { type: 'layers', diff_ids: [] } }),
    );
    const manifest = Buffer.from(
      JSON.stringify({
        ...JSON.parse(image.manifest.toString()),
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
      }),
    );
    const broken = { ...image, config, configDigest: sha256(config), manifest, manifestDigest: sha256(manifest) };
    await writeOciLayout(join(dir.path, 'l1'), [{ image: broken }]);
    await rejectsWithCode(walk(`oci:${join(dir.path, 'l1')}`), 'E_IMAGE_INVALID');
    await mkdir(join(dir.path, 'l2'));
    await writeFile(join(dir.path, 'l2', 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    await writeFile(
      join(dir.path, 'l2', 'index.json'),
      JSON.stringify({
        schemaVersion: 2,
        manifests: [
          { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha512:${'a'.repeat(128)}`, size: 1 },
        ],
      }),
    );
    const error = await rejectsWithCode(walk(`oci:${join(dir.path, 'l2')}`), 'E_IMAGE_INVALID');
    assert.match(error.message, /sha512/);
  } finally {
    await dir.cleanup();
  }
});

test('feeds and Dockerfiles: a zip bomb in an OSV export and an oversized member are refused, the database unchanged; a huge Dockerfile parses in bounded time', async () => {
  const { buildZip } = await import('./fixtures/zip.js');
  const { cli } = await import('./helpers.js');
  const { parseDockerfile } = await import('../src/dockerfile/parse.js');
  const dir = await tempDir();
  try {
    const cache = join(dir.path, 'cache');
    const record = {
      id: 'GHSA-aaaa-bbbb-cccc',
      affected: [
        {
          package: { ecosystem: 'npm', name: 'x' },
          ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '1.0.0' }] }],
        },
      ],
    };
    await writeFile(join(dir.path, 'good.zip'), buildZip([{ name: 'a.json', data: JSON.stringify(record) }]));
    assert.equal(
      (await cli(['db', 'update', '--cache-dir', cache, '-q', '--source', join(dir.path, 'good.zip')])).code,
      0,
    );
    const before = await readFile(join(cache, 'db', 'vulnerabilities.db'));
    // 80 MB of zeros deflate to ~80 kB: past the 64 MB member limit, it is never inflated whole.
    await writeFile(
      join(dir.path, 'bomb.zip'),
      buildZip([{ name: 'bomb.json', data: Buffer.alloc(80 * 1024 * 1024, 0x20) }]),
    );
    const bomb = await cli(['db', 'update', '--cache-dir', cache, '-q', '--source', join(dir.path, 'bomb.zip')]);
    assert.equal(bomb.code, 2);
    assert.match(bomb.stderr, /^error E_FEED_INVALID: bomb\.zip: bomb\.json: corrupt or oversized zip member/);
    assert.ok((await readFile(join(cache, 'db', 'vulnerabilities.db'))).equals(before), 'the database is untouched');
    const started = performance.now();
    const file = parseDockerfile(
      `FROM alpine:3.20\n${'RUN echo x \\\n'.repeat(20_000)}\n${'ENV A=1\n'.repeat(20_000)}`,
    );
    // As in Docker, the blank line does not end the continuation: the first ENV joins the RUN.
    assert.equal(file.stages[0]!.instructions.length, 1 + 1 + 19_999);
    assert.ok(performance.now() - started < 5_000);
  } finally {
    await dir.cleanup();
  }
});
