/**
 * `npm run bench:vuln`: the vulnerability database at the scale of the public feeds. Generates a
 * local mirror shaped like OSV's Debian, Alpine and npm exports (zip of one JSON record per
 * advisory, several affected releases per Debian/Alpine record, a few packages with thousands of
 * advisories as the kernel has) plus an Alpine secdb, then measures, each in its own process:
 *
 *   floor       read every zip member and JSON.parse it (the work no update can skip)
 *   db update   `distrolens db update --source MIRROR` (parse, build, index, swap)
 *   match       2,000 installed packages (deb, apk, npm) matched against the built database
 *
 * Targets (issue 5): match < 1 s, db update < 60 s; peak RSS printed. `--check` exits 1 on a miss.
 * Scale by BENCH_VULN_SCALE (1 = Debian 75k, Alpine 20k, npm 150k records).
 */
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { buildZip } from '../test/fixtures/zip.js';
import { tempDir } from '../test/fixtures/temp.js';

const run = promisify(execFile);
const worker = join(fileURLToPath(import.meta.url), '..', 'worker.js');
const SCALE = Number(process.env.BENCH_VULN_SCALE ?? 1);
const COUNTS = {
  Debian: Math.round(75_000 * SCALE),
  Alpine: Math.round(20_000 * SCALE),
  npm: Math.round(150_000 * SCALE),
};
export const PACKAGES = { deb: 3_000, apk: 1_500, npm: 30_000 };
const MATCH_TARGET_MS = 1_000;
const UPDATE_TARGET_MS = 60_000;

/** A deterministic generator, so every run measures the same mirror. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

/** Package i of a kind: a few names carry most advisories (Zipf-like), as linux and openssl do. */
const pick = (next: () => number, n: number): number => Math.min(n - 1, Math.floor(n * next() ** 3));
export const name = (kind: string, i: number): string => `${kind}-pkg-${i}`;

function debianRecord(i: number, next: () => number) {
  const pkg = name('deb', pick(next, PACKAGES.deb));
  const cve = `CVE-${2000 + (i % 26)}-${10000 + i}`;
  return {
    schema_version: '1.6.0',
    id: `DEBIAN-${cve}`,
    upstream: [cve],
    modified: '2026-11-01T00:00:00Z',
    published: '2024-01-01T00:00:00Z',
    summary: `${pkg}: issue ${i}`,
    details: 'x'.repeat(200),
    affected: ['11', '12', '13'].map((release) => ({
      package: { ecosystem: `Debian:${release}`, name: pkg, purl: `pkg:deb/debian/${pkg}?arch=source` },
      ranges: [
        {
          type: 'ECOSYSTEM',
          events: [
            { introduced: '0' },
            ...(next() < 0.7 ? [{ fixed: `${1 + (i % 9)}.${i % 7}-${1 + (i % 3)}+deb${release}u1` }] : []),
          ],
        },
      ],
    })),
  };
}

function alpineRecord(i: number, next: () => number) {
  const pkg = name('apk', pick(next, PACKAGES.apk));
  const cve = `CVE-${2000 + (i % 26)}-${50000 + i}`;
  return {
    schema_version: '1.6.0',
    id: `ALPINE-${cve}`,
    upstream: [cve],
    modified: '2026-11-01T00:00:00Z',
    affected: ['v3.19', 'v3.20'].map((release) => ({
      package: { ecosystem: `Alpine:${release}`, name: pkg },
      ranges: [
        { type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: `${1 + (i % 9)}.${i % 5}.${i % 11}-r${i % 4}` }] },
      ],
    })),
    severity: next() < 0.5 ? [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N' }] : undefined,
  };
}

function npmRecord(i: number, next: () => number) {
  const pkg = name('npm', pick(next, PACKAGES.npm));
  return {
    schema_version: '1.6.0',
    id: `GHSA-${(i + 0x100000).toString(36).slice(-4)}-${(i * 7 + 0x100000).toString(36).slice(-4)}-${i % 9973}`,
    aliases: [`CVE-2024-${80000 + i}`],
    modified: '2026-11-01T00:00:00Z',
    summary: `Prototype pollution in ${pkg}`,
    details: 'x'.repeat(400),
    affected: [
      {
        package: { ecosystem: 'npm', name: pkg },
        ranges: [
          { type: 'SEMVER', events: [{ introduced: `${i % 3}.0.0` }, { fixed: `${(i % 3) + 1}.${i % 20}.${i % 7}` }] },
        ],
      },
    ],
    severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' }],
    database_specific: { severity: 'HIGH', cwe_ids: ['CWE-1321'] },
  };
}

export async function writeMirror(dir: string): Promise<number> {
  const next = random(42);
  let bytes = 0;
  const generators = { Debian: debianRecord, Alpine: alpineRecord, npm: npmRecord } as const;
  for (const [ecosystem, make] of Object.entries(generators)) {
    const entries = [];
    for (let i = 0; i < COUNTS[ecosystem as keyof typeof COUNTS]; i++) {
      const record = make(i, next);
      entries.push({ name: `${record.id}.json`, data: JSON.stringify(record) });
    }
    const zip = buildZip(entries, { zip64: true });
    await mkdir(join(dir, 'osv', ecosystem), { recursive: true });
    await writeFile(join(dir, 'osv', ecosystem, 'all.zip'), zip);
    bytes += zip.length;
  }
  return bytes;
}

interface Sample {
  ms: number;
  rssBytes: number;
  files: number;
}

async function measure(args: string[]): Promise<Sample> {
  const { stdout } = await run(process.execPath, [worker, ...args], { maxBuffer: 1 << 20 });
  return JSON.parse(stdout) as Sample;
}

const log = (line: string) => process.stdout.write(`${line}\n`);
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(0)} MB`;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dir = await tempDir();
  try {
    const mirror = join(dir.path, 'mirror');
    const started = performance.now();
    const bytes = await writeMirror(mirror);
    const total = COUNTS.Debian + COUNTS.Alpine + COUNTS.npm;
    log(
      `mirror: ${total.toLocaleString('en')} records (Debian ${COUNTS.Debian}, Alpine ${COUNTS.Alpine}, npm ${COUNTS.npm}), ${mb(bytes)} of zip, generated in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    const floor = await measure(['feed-floor', mirror]);
    const update = await measure(['db-update', mirror, join(dir.path, 'cache')]);
    // Matching is short: the median of three runs, the largest RSS.
    const matches = [
      await measure(['match', join(dir.path, 'cache'), '2000']),
      await measure(['match', join(dir.path, 'cache'), '2000']),
      await measure(['match', join(dir.path, 'cache'), '2000']),
    ].sort((a, b) => a.ms - b.ms);
    const match = { ...matches[1]!, rssBytes: Math.max(...matches.map((m) => m.rssBytes)) };
    const rows: [string, Sample, string, boolean][] = [
      ['floor: unzip + JSON.parse every record', floor, '', true],
      [
        'db update --source MIRROR',
        update,
        `${(update.ms / floor.ms).toFixed(2)}× floor (target < ${UPDATE_TARGET_MS / 1000} s)`,
        update.ms < UPDATE_TARGET_MS,
      ],
      [
        'match 2,000 packages (deb, apk, npm)',
        match,
        `${match.files} vulnerabilities (target < ${MATCH_TARGET_MS} ms)`,
        match.ms < MATCH_TARGET_MS,
      ],
    ];
    log('');
    log(`${'measurement'.padEnd(40)} ${'time'.padStart(9)} ${'peak RSS'.padStart(9)}`);
    let ok = true;
    for (const [label, sample, note, pass] of rows) {
      ok &&= pass;
      log(
        `${label.padEnd(40)} ${`${sample.ms.toFixed(0)} ms`.padStart(9)} ${mb(sample.rssBytes).padStart(9)}  ${note}${pass ? '' : '  ← misses target'}`,
      );
    }
    if (process.argv.includes('--check') && !ok) process.exitCode = 1;
  } finally {
    await dir.cleanup();
  }
}
