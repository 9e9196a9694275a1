/**
 * `npm run bench`: inspect + a full filesystem walk of a large real image (Debian bookworm
 * minbase + Debian's nodejs and npm, ~420 MB uncompressed, ~38k files) from a docker-archive, an
 * OCI layout and the local registry (cold and warm cache), each compared with the floor measured
 * in the same run: gunzipping the same layer blobs once with node:zlib. Prints the median of
 * several runs, the ratio to the floor and the peak RSS of each. Targets (issue 2): ratio ≤ 1.5,
 * peak RSS < 200 MB. `--check` exits 1 when a target is missed.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { ensureDebianImages } from '../test/fixtures/debian-images.js';
import { startRegistry } from '../test/fixtures/registry.js';
import { pushLayout } from '../test/fixtures/image.js';
import { RegistryClient } from '../src/sources/registry/client.js';
import { tempDir } from '../test/helpers.js';

const run = promisify(execFile);
const worker = join(fileURLToPath(import.meta.url), '..', 'worker.js');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const RATIO_TARGET = 1.5;
const RSS_TARGET = 200 * 1000 * 1000;

interface Sample { ms: number; rssBytes: number; files: number }

async function measure(args: string[], before?: () => Promise<void>): Promise<Sample> {
  const samples: Sample[] = [];
  for (let i = 0; i < RUNS; i++) {
    await before?.();
    const { stdout } = await run(process.execPath, [worker, ...args], { maxBuffer: 1 << 20 });
    samples.push(JSON.parse(stdout) as Sample);
  }
  samples.sort((a, b) => a.ms - b.ms);
  const median = samples[Math.floor(samples.length / 2)]!;
  return { ...median, rssBytes: Math.max(...samples.map((s) => s.rssBytes)) };
}

const log = (line: string) => process.stdout.write(`${line}\n`);
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(0)} MB`;

const images = await ensureDebianImages(['slim', 'node'], undefined, (line) => log(`(${line})`));
const { layout, archive } = images.node;
const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
const manifest = JSON.parse(await readFile(join(layout, 'blobs', 'sha256', index.manifests[0]!.digest.slice(7)), 'utf8')) as { layers: { digest: string; size: number }[] };
const blobs = manifest.layers.map((l) => join(layout, 'blobs', 'sha256', l.digest.slice(7)));
log(`image: Debian bookworm minbase + nodejs + npm, ${manifest.layers.length} layers, ${mb(manifest.layers.reduce((s, l) => s + l.size, 0))} compressed; ${RUNS} runs each, median time, max RSS`);

const registry = await startRegistry('none');
const cache = await tempDir();
try {
  await pushLayout(new RegistryClient(registry.host), 'bench/node', 'latest', layout);
  const ref = `${registry.host}/bench/node:latest`;
  const { rm } = await import('node:fs/promises');
  const floor = await measure(['floor', ...blobs]);
  /** A cache directory per measurement; `fresh` empties it before every run (a cold read). */
  const inspectRun = (input: string, name: string, fresh: boolean) => {
    const dir = join(cache.path, name);
    return measure(['inspect', input, dir], fresh ? () => rm(dir, { recursive: true, force: true }) : undefined);
  };
  await inspectRun(`docker-archive:${archive}`, 'archive-warm', false); // verify once, so the warm rows below are warm
  await inspectRun(`oci:${layout}`, 'oci-warm', false);
  await inspectRun(ref, 'registry-warm', false);
  const rows: [string, Sample][] = [
    ['floor: gunzip the layer blobs (node:zlib)', floor],
    ['docker-archive, first read (digests verified)', await inspectRun(`docker-archive:${archive}`, 'archive-cold', true)],
    ['docker-archive, verified before (seeks)', await inspectRun(`docker-archive:${archive}`, 'archive-warm', false)],
    ['oci layout, first read (digests verified)', await inspectRun(`oci:${layout}`, 'oci-cold', true)],
    ['oci layout, verified before', await inspectRun(`oci:${layout}`, 'oci-warm', false)],
    ['registry, cold cache (pull, verify, walk)', await inspectRun(ref, 'registry-cold', true)],
    ['registry, warm cache', await inspectRun(ref, 'registry-warm', false)],
  ];
  // The full scan (issue 3): cold, warm (layer cache), and after an image sharing its base.
  const scanRun = (input: string, name: string, before?: () => Promise<void>, mode = 'all') => measure(['scan', input, join(cache.path, name), mode], before);
  const fresh = (name: string) => () => rm(join(cache.path, name), { recursive: true, force: true });
  const scanCold = await scanRun(`oci:${layout}`, 'scan-cold', fresh('scan-cold'));
  await scanRun(`oci:${layout}`, 'scan-warm');
  const scanWarm = await scanRun(`oci:${layout}`, 'scan-warm');
  const scanWarmLayers = await scanRun(`oci:${layout}`, 'scan-warm', undefined, 'layers-only');
  const slimLayout = images.slim.layout;
  const scanShared = await scanRun(`oci:${layout}`, 'scan-shared', async () => {
    await fresh('scan-shared')();
    await run(process.execPath, [worker, 'scan', `oci:${slimLayout}`, join(cache.path, 'scan-shared'), 'all']);
  });
  const ownShare = manifest.layers.slice(1).reduce((s, l) => s + l.size, 0) / manifest.layers.reduce((s, l) => s + l.size, 0);
  let ok = true;
  log('');
  log(`${'measurement'.padEnd(48)} ${'time'.padStart(9)} ${'ratio'.padStart(6)} ${'peak RSS'.padStart(9)}  files`);
  for (const [name, sample] of rows) {
    const ratio = sample.ms / floor.ms;
    const isFloor = sample === floor;
    const pass = isFloor || (ratio <= RATIO_TARGET && sample.rssBytes < RSS_TARGET);
    ok &&= pass;
    log(`${name.padEnd(48)} ${`${sample.ms.toFixed(0)} ms`.padStart(9)} ${`${ratio.toFixed(2)}×`.padStart(6)} ${mb(sample.rssBytes).padStart(9)}  ${isFloor ? '' : sample.files}${pass ? '' : '  ← misses target'}`);
  }
  log('');
  log(`targets: ≤ ${RATIO_TARGET}× the floor, peak RSS < ${mb(RSS_TARGET)}: ${ok ? 'met' : 'NOT met'}`);
  log('');
  const scanRows: [string, Sample, string, boolean][] = [
    ['scan, cold (nothing cached)', scanCold, `${(scanCold.ms / floor.ms).toFixed(2)}× floor (target ≤ 2)`, scanCold.ms <= 2 * floor.ms],
    ['scan, warm (image analysis cached)', scanWarm, `${((scanWarm.ms / scanCold.ms) * 100).toFixed(0)} % of cold (target ≤ 20 %)`, scanWarm.ms <= 0.2 * scanCold.ms],
    ['scan, warm (layer cache only, re-analysed)', scanWarmLayers, `${((scanWarmLayers.ms / scanCold.ms) * 100).toFixed(0)} % of cold`, true],
    ['scan after an image sharing the base', scanShared, `${((scanShared.ms / scanCold.ms) * 100).toFixed(0)} % of cold; own layers are ${(ownShare * 100).toFixed(0)} % of the bytes`, true],
  ];
  for (const [name, sample, note, pass] of scanRows) {
    ok &&= pass;
    log(`${name.padEnd(48)} ${`${sample.ms.toFixed(0)} ms`.padStart(9)} ${mb(sample.rssBytes).padStart(9)}  ${note}${pass ? '' : '  ← misses target'}`);
  }
  if (process.argv.includes('--check') && !ok) process.exitCode = 1;
} finally {
  await registry.stop();
  await cache.cleanup();
}
