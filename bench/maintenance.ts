/**
 * `npm run bench:maintenance`: matching an image's packages against a full Debian suite (issue
 * 19: 2,000 packages against ≈ 63,000 stanzas in under 300 ms once the index is read). The suite
 * is generated — 63,000 stanzas shaped like bookworm's main (fields, sources, binNMU versions,
 * epochs), so the run needs no mirror — plus a security suite of 3,000. Prints the median of
 * BENCH_RUNS (default 5) of:
 *
 *   read    the two Packages texts parsed into their newest-version maps (the "database build")
 *   match   outdatedPackages for 2,000 installed packages, half of them behind (main or security)
 *
 * `--check` exits 1 on a miss.
 */
import { performance } from 'node:perf_hooks';
import { outdatedPackages, readIndex, toSuite } from '../src/maintenance/repository.js';

const STANZAS = 63_000;
const INSTALLED = 2_000;
const TARGET_MS = 300;
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const log = (line: string) => process.stdout.write(`${line}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const version = (i: number, bump = 0) =>
  `${i % 7 ? '' : '1:'}${1 + (i % 13)}.${i % 100}.${bump}-${1 + (i % 5)}${i % 11 ? '' : '+b1'}`;
function stanza(i: number, bump: number): string {
  const source =
    i % 3 ? `Source: src-${Math.floor(i / 3)}${i % 11 ? '' : ` (${version(i, bump).replace(/\+b1$/, '')})`}\n` : '';
  return `Package: pkg-${i}\n${source}Version: ${version(i, bump)}\nInstalled-Size: ${100 + (i % 900)}\nMaintainer: Debian Maintainers <debian@example.org>\nArchitecture: amd64\nDepends: libc6 (>= 2.34), pkg-${(i * 7) % STANZAS}\nDescription: package number ${i}\nDescription-md5: ${(i * 2654435761).toString(16).padStart(32, '0').slice(0, 32)}\nSection: misc\nPriority: optional\nFilename: pool/main/p/pkg-${i}/pkg-${i}_${version(i, bump)}_amd64.deb\nSize: ${1000 + i}\nSHA256: ${'a'.repeat(64)}\n\n`;
}
const main = Buffer.from(Array.from({ length: STANZAS }, (_, i) => stanza(i, 1)).join(''));
const security = Buffer.from(Array.from({ length: 3_000 }, (_, i) => stanza(i * 20, 2)).join(''));
const installed = Array.from({ length: INSTALLED }, (_, n) => {
  const i = n * 30;
  return {
    name: `pkg-${i}`,
    version: version(i, n % 4 ? 1 : 0),
    ...(i % 3 ? { source: `src-${Math.floor(i / 3)}` } : {}),
  };
});

const reads: number[] = [];
const matches: number[] = [];
let behind = 0;
for (let r = 0; r < RUNS; r++) {
  let start = performance.now();
  const suites = [
    toSuite(await readIndex(main, 'bookworm'), { suite: 'bookworm', security: false }),
    toSuite(await readIndex(security, 'bookworm-security'), { suite: 'bookworm-security', security: true }),
  ];
  reads.push(performance.now() - start);
  start = performance.now();
  behind = outdatedPackages(installed, suites).length;
  matches.push(performance.now() - start);
}
log(
  `read    ${(main.length / 1e6).toFixed(1)} MB + ${(security.length / 1e6).toFixed(1)} MB of Packages, ${STANZAS} + 3000 stanzas: ${median(reads).toFixed(0)} ms`,
);
log(
  `match   ${INSTALLED} installed packages, ${behind} behind: ${median(matches).toFixed(1)} ms (target < ${TARGET_MS} ms)`,
);
if (process.argv.includes('--check') && median(matches) >= TARGET_MS) process.exitCode = 1;
