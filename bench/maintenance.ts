/**
 * `npm run bench:maintenance`: matching an image's packages against a full Debian suite (issue
 * 19: 2,000 packages against ≈ 63,000 stanzas in under 300 ms once the index is read). The suite
 * is generated — 63,000 stanzas shaped like bookworm's main (fields, sources, binNMU versions,
 * epochs), so the run needs no mirror — plus a security suite of 3,000. Prints the median of
 * BENCH_RUNS (default 5) of:
 *
 *   read    the two Packages texts parsed into their newest-version maps
 *   match   outdatedPackages for 2,000 installed packages, half of them behind (main or security),
 *           against those maps (the plain twin)
 *   build   `db update` of both files (xz-compressed, named as on the mirror) into a database
 *   db      the same 2,000 packages matched through the database's lookups, as a scan does
 *           (target < 300 ms; the results must equal the in-memory twin's)
 *
 * `--check` exits 1 on a miss.
 */
import { performance } from 'node:perf_hooks';
import { spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { outdatedPackages, readIndex, toSuite } from '../src/maintenance/repository.js';
import { MaintenanceReader, MAINTENANCE_SOURCES, maintenanceData } from '../src/maintenance/store.js';
import { VulnDb } from '../src/vuln/db.js';
import { updateDb } from '../src/vuln/update.js';
import { tempDir } from '../test/fixtures/temp.js';

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
let twin: ReturnType<typeof outdatedPackages> = [];
for (let r = 0; r < RUNS; r++) {
  let start = performance.now();
  const suites = [
    toSuite(await readIndex(main, 'bookworm'), { suite: 'bookworm', security: false }),
    toSuite(await readIndex(security, 'bookworm-security'), { suite: 'bookworm-security', security: true }),
  ];
  reads.push(performance.now() - start);
  start = performance.now();
  twin = outdatedPackages(installed, suites);
  behind = twin.length;
  matches.push(performance.now() - start);
}
log(
  `read    ${(main.length / 1e6).toFixed(1)} MB + ${(security.length / 1e6).toFixed(1)} MB of Packages, ${STANZAS} + 3000 stanzas: ${median(reads).toFixed(0)} ms`,
);
log(`match   ${INSTALLED} installed packages, ${behind} behind, in memory: ${median(matches).toFixed(1)} ms`);

// The same through the database a scan reads: the files as a mirror serves them, one db update.
const dir = await tempDir();
try {
  const mirror = join(dir.path, 'mirror');
  for (const [suite, text] of [
    ['debian/dists/bookworm/main/binary-amd64', main],
    ['debian-security/dists/bookworm-security/main/binary-amd64', security],
  ] as const) {
    await mkdir(join(mirror, suite), { recursive: true });
    await writeFile(
      join(mirror, suite, 'Packages.xz'),
      spawnSync('xz', ['-c', '-T0'], { input: text, maxBuffer: 1 << 30 }).stdout,
    );
  }
  const dbPath = join(dir.path, 'db', 'vulnerabilities.db');
  let start = performance.now();
  await updateDb({ dbPath, source: mirror, readers: [new MaintenanceReader()], extraSources: MAINTENANCE_SOURCES });
  const build = performance.now() - start;
  const db = VulnDb.open(dbPath)!;
  const lookups: number[] = [];
  let same = true;
  try {
    for (let r = 0; r < RUNS; r++) {
      start = performance.now();
      // A scan opens the tables and reads the release's suites, then matches.
      const found = outdatedPackages(installed, maintenanceData(db).suites('debian', '12') ?? []);
      lookups.push(performance.now() - start);
      same &&= isDeepStrictEqual(
        found.map(({ since: _since, ...rest }) => rest),
        twin.map(({ since: _since, ...rest }) => rest),
      );
    }
  } finally {
    db.close();
  }
  log(`build   db update of both indexes (xz): ${(build / 1000).toFixed(1)} s`);
  log(
    `db      ${INSTALLED} installed packages through the database: ${median(lookups).toFixed(1)} ms (target < ${TARGET_MS} ms), results ${same ? 'equal to' : 'DIFFERENT from'} the in-memory twin's`,
  );
  if (process.argv.includes('--check') && (median(lookups) >= TARGET_MS || !same)) process.exitCode = 1;
} finally {
  await dir.cleanup();
}
