import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { minimize } from '../src/minimize/index.js';
import { scanImage } from '../src/scan/scan.js';
import type { ImageSource, Layer } from '../src/image/types.js';
import { buildImage, writeOciLayout, type LayerSpec } from './fixtures/image.js';
import { openSource, tempDir } from './helpers.js';

/** Counts layer walks through a source wrapper, to see which layers a scan really reads. */
function counting(source: ImageSource, walked: string[]): ImageSource {
  return {
    ...source,
    resolve: async (options) => {
      const image = await source.resolve(options);
      return {
        ...image,
        layers: image.layers.map((l): Layer => ({
          ...l,
          walk: (visit, o) => (walked.push(l.diffId!), l.walk(visit, o)),
        })),
      };
    },
  };
}

test('per-layer cache: a re-scan walks nothing; an image sharing the base walks only its own layers; same report', async () => {
  const base: LayerSpec = {
    files: [
      { path: 'etc/passwd', content: 'root:x:0:0::/root:/bin/sh\n' },
      { path: 'bin/sh', content: 'ELF', mode: 0o755 },
      { path: 'etc/os-release', content: 'ID=debian\nVERSION_ID="12"\n' },
    ],
  };
  const a = buildImage({ layers: [base, { files: [{ path: 'app/a', content: 'a' }] }] });
  const b = buildImage({
    layers: [
      base,
      {
        files: [
          { path: 'app/b', content: 'b' },
          { path: 'app/.env', content: 'API_TOKEN=abcdefgh12345\n' },
        ],
      },
    ],
  });
  const dir = await tempDir();
  try {
    await writeOciLayout(join(dir.path, 'a'), [{ image: a }]);
    await writeOciLayout(join(dir.path, 'b'), [{ image: b }]);
    const cacheDir = join(dir.path, 'cache');
    const scan = async (name: string, cached: boolean, resultCache = true) => {
      const walked: string[] = [];
      const source = counting(await openSource(`oci:${join(dir.path, name)}`, { env: {} }), walked);
      const { report } = await scanImage(source, {
        ...(cached ? { cacheDir, resultCache } : {}),
        now: () => new Date(0),
      });
      return { report, walked };
    };
    const cold = await scan('a', true);
    assert.equal(cold.walked.length, 2);
    const warm = await scan('a', true);
    assert.deepEqual(warm.walked, [], 'a warm re-scan walks no layer');
    assert.deepEqual(warm.report, cold.report);
    const layersOnly = await scan('a', true, false);
    assert.deepEqual(layersOnly.walked, [], 'the layer cache alone also spares every walk');
    assert.deepEqual(layersOnly.report, cold.report, 'and gives the same report');
    const shared = await scan('b', true);
    assert.deepEqual(shared.walked, [b.layers[1]!.diffId], 'only the layer not seen before');
    assert.deepEqual(shared.report, (await scan('b', false)).report, 'cached and uncached scans agree');
    assert.ok(shared.report.findings.some((f) => f.ruleId === 'secrets/dotenv-secret'));
    assert.equal((await readdir(join(cacheDir, 'layers'))).length, 3);
    assert.equal((await readdir(join(cacheDir, 'results'))).length, 2, 'one analysis per image');
  } finally {
    await dir.cleanup();
  }
});

test("cache poisoning: an image whose config claims another layer's diffID does not change that image's report", async () => {
  const general: LayerSpec = {
    files: [
      { path: 'etc/os-release', content: 'ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian GNU/Linux 12"\n' },
      { path: 'etc/passwd', content: 'root:x:0:0::/root:/bin/bash\n' },
      { path: 'bin/bash', content: '\u007fELF', mode: 0o755 },
      { path: 'usr/bin/apt-get', content: '\u007fELF', mode: 0o755 },
      { path: 'var/lib/dpkg/status', content: 'Package: bash\nStatus: install ok installed\nVersion: 5.2-1\n\n' },
    ],
  };
  const real = buildImage({ layers: [general] });
  // The crafted image: a distroless-looking layer, its config claiming the real layer's diffID.
  const crafted = buildImage({
    layers: [{ files: [{ path: 'etc/os-release', content: 'PRETTY_NAME="Distroless"\nID=debian\n' }] }],
    config: { User: '65532' },
    diffIds: [real.layers[0]!.diffId],
  });
  const dir = await tempDir();
  try {
    await writeOciLayout(join(dir.path, 'real'), [{ image: real }]);
    await writeOciLayout(join(dir.path, 'crafted'), [{ image: crafted }]);
    const scan = async (name: string, cacheDir?: string) => {
      const source = await openSource(`oci:${join(dir.path, name)}`, { env: {} });
      try {
        return (await scanImage(source, { ...(cacheDir ? { cacheDir } : {}), now: () => new Date(0) })).report;
      } finally {
        await source.close();
      }
    };
    const clean = await scan('real');
    const shared = join(dir.path, 'cache');
    await scan('crafted', shared);
    const after = await scan('real', shared);
    assert.deepEqual(after, clean, 'the real image reads as itself');
    assert.equal(after.os.classification, 'general');
  } finally {
    await dir.cleanup();
  }
});

test('minimize warms the layer cache: a scan after it walks nothing and reports what a cold scan does', async () => {
  const dir = await tempDir();
  try {
    const image = buildImage({
      layers: [
        {
          files: [
            { path: 'etc/os-release', content: 'ID=debian\nVERSION_ID="12"\n' },
            { path: 'etc/passwd', content: 'root:x:0:0::/root:/bin/sh\n' },
            { path: 'bin/sh', content: 'ELF', mode: 0o755 },
          ],
        },
        { files: [{ path: 'app/run', content: '#!/bin/sh\necho hi\n', mode: 0o755 }] },
      ],
      config: { Entrypoint: ['/app/run'] },
    });
    await writeOciLayout(join(dir.path, 'in'), [{ image }]);
    const input = `oci:${join(dir.path, 'in')}`;
    const cacheDir = join(dir.path, 'cache');
    const source = await openSource(input, { env: {} });
    await minimize(source, { output: join(dir.path, 'out'), cacheDir });
    const walked: string[] = [];
    const warm = await scanImage(counting(await openSource(input, { env: {} }), walked), { cacheDir });
    assert.deepEqual(walked, [], 'every layer came from the cache minimize filled');
    const cold = await scanImage(await openSource(input, { env: {} }));
    const { createdAt: _a, ...warmReport } = warm.report;
    const { createdAt: _b, ...coldReport } = cold.report;
    assert.deepEqual(warmReport, coldReport);
    assert.ok(!JSON.stringify(warm.report).includes('"offset"'), 'no offset into a copy that is gone');
  } finally {
    await dir.cleanup();
  }
});
