/**
 * `npm run bench:workloads`: 1,000 workloads over 20 distinct images, judged after the images
 * are cached (issue 17: under 2 s). Builds the 20 images as OCI layouts (a shell, su, curl, a
 * setuid binary and a passwd in varying mixes), writes the workloads as one multi-document YAML
 * file of Deployments, StatefulSets and CronJobs with init containers, warms the cache with one
 * run, then times:
 *
 *   floor       readManifests alone (YAML parsing: the work no judgement can skip)
 *   judge       judgeWorkloads: manifests, 20 cached scans, PSS, joined rules, readiness
 *
 * Prints medians of BENCH_RUNS (default 5) and the ratio to the floor. `--check` exits 1 on a miss.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { scanImage } from '../src/scan/scan.js';
import { openSource } from '../src/sources/index.js';
import { judgeWorkloads, readManifests } from '../src/workloads/index.js';
import { buildImage, writeOciLayout } from '../test/fixtures/image.js';
import { tempDir } from '../test/fixtures/temp.js';

const IMAGES = 20;
const WORKLOADS = 1_000;
const TARGET_MS = 2_000;
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const ELF = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46]), Buffer.alloc(64)]);

const log = (line: string) => process.stdout.write(`${line}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
async function time(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

function image(i: number) {
  const files = [
    { path: 'app/server', content: ELF, mode: 0o755 },
    { path: 'etc/passwd', content: `root:x:0:0::/root:/bin/sh\napp:x:${1000 + i}:1000::/home/app:/sbin/nologin\n` },
  ];
  if (i % 2 === 0)
    files.push(
      { path: 'bin/busybox', content: ELF, mode: 0o755 },
      { path: 'bin/sh', content: ELF, mode: 0o755 },
      { path: 'usr/bin/curl', content: ELF, mode: 0o755 },
    );
  if (i % 4 === 0) files.push({ path: 'usr/bin/passwd', content: ELF, mode: 0o4755 });
  return buildImage({
    layers: [{ files }],
    config: { User: i % 3 === 0 ? 'app' : '', Entrypoint: ['/app/server'] },
  });
}

function manifest(i: number): string {
  const img = `bench/img-${i % IMAGES}:1`;
  const init = `bench/img-${(i + 7) % IMAGES}:1`;
  const pod = `      ${i % 5 === 0 ? 'hostPID: true\n      ' : ''}securityContext: { runAsNonRoot: ${i % 2 === 0} }
      initContainers: [{ name: init, image: ${init} }]
      containers:
        - name: app
          image: ${img}
          securityContext: { privileged: ${i % 7 === 0}, allowPrivilegeEscalation: ${i % 3 !== 0} }
          volumeMounts: [{ name: tmp, mountPath: /tmp }]
      volumes: [{ name: tmp, emptyDir: {} }]`;
  const kind = ['Deployment', 'StatefulSet', 'CronJob'][i % 3]!;
  const template = `    metadata: { labels: { app: w${i} } }\n    spec:\n${pod}`;
  const spec =
    kind === 'CronJob'
      ? `spec:\n  schedule: '@daily'\n  jobTemplate:\n    spec:\n      template:\n${template.replace(/^/gm, '    ')}`
      : `spec:\n  template:\n${template}`;
  return `apiVersion: apps/v1\nkind: ${kind}\nmetadata: { name: w${i}, namespace: ns${i % 10} }\n${spec}\n`;
}

async function main(): Promise<void> {
  const dir = await tempDir();
  try {
    const layouts = new Map<string, string>();
    for (let i = 0; i < IMAGES; i++) {
      const path = join(dir.path, `img-${i}`);
      await writeOciLayout(path, [{ image: image(i), tag: '1' }]);
      layouts.set(`bench/img-${i}:1`, path);
    }
    const file = join(dir.path, 'workloads.yaml');
    await writeFile(file, Array.from({ length: WORKLOADS }, (_, i) => manifest(i)).join('---\n'));
    const cacheDir = join(dir.path, 'cache');
    const scanner = async (ref: string) => {
      const source = await openSource(`oci:${layouts.get(ref)}`);
      try {
        return (await scanImage(source, { cacheDir })).report;
      } finally {
        await source.close();
      }
    };
    const first = await judgeWorkloads([file], scanner); // warms the cache
    if (first.workloads.length !== WORKLOADS || first.images.some((i) => i.error))
      throw new Error(`expected ${WORKLOADS} workloads and no scan error`);
    const floor: number[] = [];
    const judged: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      floor.push(await time(() => readManifests([file])));
      judged.push(await time(() => judgeWorkloads([file], scanner)));
    }
    const f = median(floor);
    const j = median(judged);
    log(`workloads: ${WORKLOADS} workloads, ${IMAGES} images, ${RUNS} runs (medians)`);
    log(`  floor (read manifests)   ${f.toFixed(0)} ms`);
    log(`  judge (cached images)    ${j.toFixed(0)} ms  ${(j / f).toFixed(2)}× floor  target < ${TARGET_MS} ms`);
    if (process.argv.includes('--check') && j >= TARGET_MS) process.exitCode = 1;
  } finally {
    await dir.cleanup();
  }
}

await main();
