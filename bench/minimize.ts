/**
 * `npm run bench:minimize`: `distrolens minimize` of the nodejs image (Debian bookworm minbase +
 * Debian's nodejs and npm, ~420 MB uncompressed, plus a small HTTP server as /app) without
 * --trace, against a cold `distrolens scan` of the same image (issue 20: under 2×). Each is its
 * own process with a fresh cache directory; the two alternate BENCH_RUNS times (default 3) and the
 * median ratio within a round is printed. `--check` exits 1 on a miss.
 */
import { execFile } from 'node:child_process';
import { readFile, readdir, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { ParallelGzip, streamGzip } from '../src/util/gzip.js';
import { ensureDebianImages, extendImage } from '../test/fixtures/debian-images.js';
import { tempDir } from '../test/fixtures/temp.js';
import { REPO_ROOT } from '../test/helpers.js';

const run = promisify(execFile);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const TARGET = 2;
const BIN = join(REPO_ROOT, 'dist/src/cli/bin.js');
const log = (line: string) => process.stdout.write(`${line}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const dir = await tempDir();
try {
  const { node } = await ensureDebianImages(['node']);
  const layout = await extendImage(
    node,
    join(dir.path, 'app'),
    [
      { path: 'app/server.js', content: "require('http').createServer((q, s) => s.end('ok')).listen(8080);\n" },
      { path: 'app/package.json', content: '{"name":"app"}' },
    ],
    { Entrypoint: ['node', '/app/server.js'] },
  );
  const timed = async (args: string[]): Promise<number> => {
    const start = performance.now();
    await run(process.execPath, [BIN, ...args], { maxBuffer: 1 << 28 });
    return performance.now() - start;
  };
  const scans: number[] = [];
  const minimizes: number[] = [];
  const ratios: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const scan = await timed([
      'scan',
      `oci:${layout}`,
      '--offline',
      '-f',
      'json',
      '--cache-dir',
      join(dir.path, `c-scan-${r}`),
    ]);
    const min = await timed([
      'minimize',
      `oci:${layout}`,
      '--offline',
      '-f',
      'json',
      '--output',
      join(dir.path, `out-${r}`),
      '--cache-dir',
      join(dir.path, `c-min-${r}`),
    ]);
    scans.push(scan);
    minimizes.push(min);
    ratios.push(min / scan);
  }
  log(`scan      cold, nodejs image: ${(median(scans) / 1000).toFixed(1)} s (median of ${RUNS})`);
  log(
    `minimize  same image, without --trace (scan, extract, closure, write, scan of the result): ${(median(minimizes) / 1000).toFixed(1)} s, ${median(ratios).toFixed(2)}× the cold scan (target < ${TARGET}×)`,
  );
  // The fast path's gain, against its twin: the result's largest layer gzipped by both.
  const blobs = join(dir.path, `out-${RUNS - 1}`, 'blobs', 'sha256');
  const sizes = await Promise.all(
    (await readdir(blobs)).map(async (b) => ({ b, size: (await stat(join(blobs, b))).size })),
  );
  const tar = gunzipSync(await readFile(join(blobs, sizes.sort((a, b) => b.size - a.size)[0]!.b)));
  const gzipTimes = { parallel: [] as number[], stream: [] as number[] };
  for (let r = 0; r < RUNS; r++)
    for (const kind of ['parallel', 'stream'] as const) {
      const start = performance.now();
      const gzip = kind === 'parallel' ? new ParallelGzip(() => undefined) : streamGzip(() => undefined);
      for (let at = 0; at < tar.length; at += 4 << 20) await gzip.write(tar.subarray(at, at + (4 << 20)));
      await gzip.end();
      gzipTimes[kind].push(performance.now() - start);
    }
  log(
    `gzip      the result's runtime layer (${(tar.length / 1e6).toFixed(1)} MB), level 1: on ${availableParallelism()} cores ${median(gzipTimes.parallel).toFixed(0)} ms, one-thread stream (the twin) ${median(gzipTimes.stream).toFixed(0)} ms, ${(median(gzipTimes.stream) / median(gzipTimes.parallel)).toFixed(2)}×`,
  );
  if (process.argv.includes('--check') && median(ratios) >= TARGET) process.exitCode = 1;
} finally {
  await dir.cleanup();
}
