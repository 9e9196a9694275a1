import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Report } from '../src/core/report.js';
import { VulnDb } from '../src/vuln/db.js';
import { updateDb } from '../src/vuln/update.js';
import { MaintenanceReader, MAINTENANCE_SOURCES } from '../src/maintenance/store.js';
import { outdatedPackages, readIndex, toSuite } from '../src/maintenance/repository.js';
import { parseApkInstalled } from '../src/analyzers/apk/parse.js';
import { buildImage, dockerArchive, pushImage, type ImageSpec, type LayerSpec } from './fixtures/image.js';
import { registryAvailable, startRegistry } from './fixtures/registry.js';
import { RegistryClient } from '../src/sources/registry/client.js';
import { scanInput, scanSpec } from './fixtures/scan.js';
import { evaluatePolicy, parsePolicy } from '../src/policy/index.js';
import { compareReports } from '../src/scan/compare.js';
import { renderCompareTable } from '../src/report/compare-table.js';
import { REALDATA, REPO_ROOT, cli, tempDir } from './helpers.js';
import { BOOKWORM_INSTALLED, BOOKWORM_SUITES, DEBIAN_INDEXES, expectedBehind } from './fixtures/debian-indexes.js';

/**
 * The maintenance axis end to end: real end-of-life tables (shipped, and refreshed through
 * `db update`), real repository indexes (Debian's bookworm suites, Wolfi's APKINDEX) in the local
 * database, real package databases (Alpine 3.9, Ubuntu 18.04, Wolfi), scanned as images.
 */
const TODAY = new Date('2026-12-05T00:00:00Z');
const now = () => TODAY;
const DEBIAN = DEBIAN_INDEXES;
const SUITES = [...BOOKWORM_SUITES];

const statusStanza = (p: { name: string; version: string; source?: string }) =>
  `Package: ${p.name}\nStatus: install ok installed\nArchitecture: amd64\n${p.source ? `Source: ${p.source}\n` : ''}Version: ${p.version}\n\n`;

const DEBIAN_INSTALLED = BOOKWORM_INSTALLED.filter((p) => p.name !== 'not-in-the-archive' && p.name !== 'libsystemd0');

const debianSpec = (created = '2025-01-10T00:00:00Z'): ImageSpec => ({
  layers: [
    {
      files: [
        {
          path: 'etc/os-release',
          content: 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n',
        },
        { path: 'var/lib/dpkg/status', content: DEBIAN_INSTALLED.map(statusStanza).join('') },
      ],
    },
  ],
  created,
  config: { Labels: { 'org.opencontainers.image.base.name': 'docker.io/library/debian:12' } },
});

/** A directory laid out as a mirror: Debian's three bookworm indexes, as apt names them. */
async function debianMirror(dir: string): Promise<string> {
  const root = join(dir, 'mirror');
  await mkdir(root, { recursive: true });
  for (const suite of SUITES)
    await copyFile(
      join(DEBIAN, `${suite}_main_binary-amd64_Packages`),
      join(root, `${suite}_main_binary-amd64_Packages`),
    );
  return root;
}

const build = async (dbPath: string, source: string) => {
  const reader = new MaintenanceReader();
  const status = await updateDb({ dbPath, source, readers: [reader], extraSources: MAINTENANCE_SOURCES, now });
  return { status, reader };
};

const withDb = async <T>(dbPath: string, run: (db: VulnDb) => Promise<T>): Promise<T> => {
  const db = VulnDb.open(dbPath)!;
  try {
    return await run(db);
  } finally {
    db.close();
  }
};

test('Debian behind bookworm-security: the exact list from the real indexes, in dpkg order, through db update', async () => {
  const dir = await tempDir();
  try {
    const dbPath = join(dir.path, 'db', 'vulnerabilities.db');
    const { status, reader } = await build(dbPath, await debianMirror(dir.path));
    assert.deepEqual(reader.unidentified, []);
    assert.deepEqual(
      status.sources.map((s) => [s.name, s.kind, s.records]),
      SUITES.map((s) => [
        `${s}_main_binary-amd64_Packages`,
        'debian-packages',
        s === 'bookworm' ? 14 : s === 'bookworm-updates' ? 3 : 12,
      ]).sort((a, b) => (a[0]! < b[0]! ? -1 : 1)),
    );
    const report = await withDb(dbPath, (db) =>
      scanSpec(debianSpec(), { now, vulnerabilities: { source: db, builtAt: db.builtAt } }),
    );
    const m = report.maintenance!;
    // Expected from the index files themselves and Debian's own dpkg (or our twin without it).
    const expected = (await expectedBehind(DEBIAN_INSTALLED)).map((e) => [
      e.name,
      e.installed,
      e.available,
      e.suite,
      e.security,
    ]);
    assert.deepEqual(
      m.outdated!.packages.map((p) => [p.name, p.installed, p.available, p.suite, p.security]),
      expected,
    );
    assert.ok(expected.length >= 4, 'the fixture has packages behind');
    assert.equal(m.outdated!.security, expected.filter((e) => e[4]).length);
    assert.equal(m.outdated!.other, expected.length - m.outdated!.security);
    assert.deepEqual(m.outdated!.suites, [...SUITES].sort());
    // The index has no per-package dates: since = the index file's date, days behind from it.
    assert.ok(m.outdated!.packages.every((p) => p.since && p.daysBehind !== undefined && p.daysBehind >= 0));
    // Debian 12 past its security support (2026-07-11) but in Debian LTS: extended, medium.
    assert.equal(m.release.state, 'extended');
    assert.equal(m.release.eol, '2026-07-11');
    assert.equal(m.release.extendedEol, '2028-06-30');
    const rules = report.findings.filter((f) => f.ruleId.startsWith('maintenance/'));
    assert.deepEqual(
      rules.map((f) => [f.ruleId, f.severity]).sort(),
      [
        ['maintenance/image-age', 'low'],
        ['maintenance/outdated-packages', 'low'],
        ['maintenance/release-extended', 'medium'],
        ['maintenance/security-updates', 'high'],
      ].filter(([id]) => id !== 'maintenance/outdated-packages' || m.outdated!.other > 0),
    );
    assert.match(
      rules.find((f) => f.ruleId === 'maintenance/security-updates')!.message,
      /zlib1g 1:1\.2\.13\.dfsg-1 → /,
    );
    // The image: created 2025-01-10, 694 days before the scan; its base named by the label.
    assert.deepEqual(m.image, {
      created: '2025-01-10T00:00:00Z',
      ageDays: 694,
      ageFrom: 'config',
      createdState: 'dated',
    });
    assert.deepEqual(m.base, { name: 'docker.io/library/debian:12' });
    // The burden, by the documented formula, and the score's maintenance category.
    const b = m.burden;
    assert.equal(b.packages, DEBIAN_INSTALLED.length);
    assert.equal(b.support, 3);
    assert.equal(
      b.value,
      Math.round((b.packages / 10 + (b.outdated - b.securityUpdates) / 5 + b.securityUpdates + 3) * 10) / 10,
    );
    assert.deepEqual(report.score.categories.maintenance, { deduction: Math.min(15, Math.floor(b.value)), max: 15 });

    // The policy keys of the maintenance axis.
    const verdict = evaluatePolicy(
      report,
      parsePolicy('maxOutdatedSecurity: 0\nforbidEol: true\nmaxImageAgeDays: 90\n'),
      TODAY,
    );
    assert.deepEqual(
      verdict.violations.map((v) => v.check),
      ['maxOutdatedSecurity', 'maxImageAgeDays'],
    );
    assert.match(verdict.violations[0]!.message, /zlib1g 1:1\.2\.13\.dfsg-1 → /);
    assert.ok(evaluatePolicy(report, parsePolicy(`maxOutdatedSecurity: ${m.outdated!.security}\n`), TODAY).pass);

    // Side by side with a distroless-like image: the maintenance axis next to surface and size.
    const distroless = await scanSpec(
      {
        layers: [
          {
            files: [
              { path: 'etc/os-release', content: 'PRETTY_NAME="Distroless"\nID=debian\nVERSION_ID="12"\n' },
              {
                path: 'var/lib/dpkg/status.d/base-files',
                content: statusStanza({ name: 'base-files', version: '12.4+deb12u13' }),
              },
            ],
          },
        ],
      },
      { now },
    );
    const comparison = compareReports([report, distroless]);
    assert.equal(comparison.images[0]!.maintenance!.outdated, m.outdated!.packages.length);
    assert.match(comparison.verdict, /maintenance: 1 package\(s\), updates not checked|maintenance: 1 package\(s\)/);
    assert.match(
      comparison.verdict,
      new RegExp(
        `against ${DEBIAN_INSTALLED.length} package\\(s\\), ${m.outdated!.packages.length} behind, ${m.outdated!.security} security update`,
      ),
    );
    const table = renderCompareTable(comparison);
    assert.match(table, /security updates\s+\d+\s+not checked/);
    assert.match(table, /maintenance burden\s+[\d.]+\s+[\d.]+/);
  } finally {
    await dir.cleanup();
  }
});

test('Alpine 3.9 from the real archive: past its end of life, and "no vulnerabilities" says the feeds stopped', async () => {
  const report = await scanInput(`docker-archive:${join(REALDATA, 'images/trivy/alpine-39.tar.gz')}`, { now });
  const m = report.maintenance!;
  assert.equal(m.release.product, 'alpine-linux');
  assert.equal(m.release.cycle, '3.9');
  assert.equal(m.release.state, 'ended');
  assert.equal(m.release.eol, '2020-11-01');
  const ended = report.findings.find((f) => f.ruleId === 'maintenance/release-ended')!;
  assert.equal(ended.severity, 'high');
  assert.match(ended.message, /no longer cover it/);
  assert.ok(report.warnings.some((w) => w.code === 'W_VULN_RELEASE_ENDED' && /2020-11-01/.test(w.message)));
  // Shipped table only (no database): repositories not checked, said as such.
  assert.equal(m.outdated, undefined);
  assert.deepEqual(m.data, { eol: 'shipped', eolTableDate: '2026-08-22', repositories: false });
  assert.equal(m.burden.support, 10);
  const verdict = evaluatePolicy(report, parsePolicy('forbidEol: true\nmaxOutdatedSecurity: 0\n'), TODAY);
  assert.deepEqual(
    verdict.violations.map((v) => [v.check, v.message]),
    [
      [
        'maxOutdatedSecurity',
        'the packages were not checked against their repository: run `distrolens db update` first',
      ],
      ['forbidEol', 'past its end of life: alpine-linux 3.9'],
    ],
  );
});

test("Ubuntu 18.04's real dpkg status: standard support ended in 2023, ESM is not this image's", async () => {
  const status = await readFile(join(REALDATA, 'pkgdb/dpkg/trivy-ubuntu-18.04/status'));
  const report = await scanSpec(
    {
      layers: [
        {
          files: [
            {
              path: 'etc/os-release',
              content:
                'NAME="Ubuntu"\nVERSION="18.04.6 LTS (Bionic Beaver)"\nID=ubuntu\nVERSION_ID="18.04"\nPRETTY_NAME="Ubuntu 18.04.6 LTS"\n',
            },
            { path: 'var/lib/dpkg/status', content: status },
          ],
        },
      ],
      // A reproducible build: created is the epoch, so no age is claimed.
      created: '1970-01-01T00:00:00Z',
    },
    { now },
  );
  const m = report.maintenance!;
  assert.deepEqual(
    [m.release.product, m.release.cycle, m.release.codename, m.release.eol, m.release.extendedEol, m.release.state],
    ['ubuntu', '18.04', 'Bionic Beaver', '2023-05-31', '2028-04-01', 'ended'],
  );
  assert.equal(m.burden.packages, 90);
  assert.deepEqual(m.image, { createdState: 'epoch' });
  assert.ok(!report.findings.some((f) => f.ruleId === 'maintenance/image-age'));
  assert.ok(
    report.findings.some((f) => f.ruleId === 'maintenance/release-ended' && /Ubuntu Pro|not available/.test(f.message)),
  );
});

test("Wolfi's real installed database against Wolfi's real APKINDEX files: rolling, packages behind", async () => {
  const dir = await tempDir();
  try {
    // Two real indexes of the one rolling suite (an archive and a plain one): merged, newest wins.
    const index = join(dir.path, 'mirror', 'wolfi', 'x86_64', 'APKINDEX.tar.gz');
    const plain = join(dir.path, 'mirror', 'wolfi', 'aarch64', 'APKINDEX');
    await mkdir(dirname(index), { recursive: true });
    await mkdir(dirname(plain), { recursive: true });
    await copyFile(join(REALDATA, 'apkindex/wolfictl-wolfi-dag-x86_64/APKINDEX.tar.gz'), index);
    await copyFile(join(REALDATA, 'apkindex/wolfictl-wolfi-plain/APKINDEX'), plain);
    const dbPath = join(dir.path, 'db', 'vulnerabilities.db');
    await build(dbPath, join(dir.path, 'mirror'));
    // The real wolfi-base database (newer than these 2023 indexes), plus tini at the oldest
    // release the plain index lists: behind its r13.
    const installed = Buffer.concat([
      await readFile(join(REALDATA, 'pkgdb/apk/wolfi-apko/wolfi-base.installed')),
      Buffer.from('\nP:tini\nV:0.19.0-r0\nA:x86_64\no:tini\n\n'),
    ]);
    const report = await withDb(dbPath, (db) =>
      scanSpec(
        {
          layers: [
            {
              files: [
                {
                  path: 'etc/os-release',
                  content: 'ID=wolfi\nNAME="Wolfi"\nPRETTY_NAME="Wolfi"\nVERSION_ID=20230201\n',
                },
                { path: 'lib/apk/db/installed', content: installed },
              ],
            },
          ],
          // apko's reproducible builds: the epoch.
          created: '1970-01-01T00:00:00Z',
        },
        { now, vulnerabilities: { source: db, builtAt: db.builtAt } },
      ),
    );
    const m = report.maintenance!;
    assert.equal(m.release.state, 'rolling');
    // No date in the config: the newest package's build time (apk's t:) says how stale the content is.
    const newest = Math.max(...[...installed.toString('utf8').matchAll(/^t:(\d+)$/gm)].map((t) => Number(t[1])));
    assert.deepEqual(m.image, {
      newestPackage: new Date(newest * 1000).toISOString(),
      ageDays: Math.floor((TODAY.getTime() - newest * 1000) / 86_400_000),
      ageFrom: 'packages',
      createdState: 'epoch',
    });
    const expected = outdatedPackages(
      parseApkInstalled(installed.toString('utf8')).map((r) => ({
        name: r.name,
        version: r.version,
        ...(r.origin ? { source: r.origin } : {}),
      })),
      await Promise.all(
        [index, plain].map(async (f) =>
          toSuite(await readIndex(await readFile(f), f), { suite: 'wolfi', security: false }),
        ),
      ),
    );
    assert.ok(expected.some((p) => p.name === 'tini' && p.available === '0.19.0-r13'));
    assert.deepEqual(
      m.outdated!.packages.map((p) => [p.name, p.installed, p.available]),
      expected.map((p) => [p.name, p.installed, p.available]),
    );
    // Days behind count from the newer version's build time (APKINDEX t:) when the index has it.
    assert.ok(m.outdated!.packages.every((p) => p.since && p.daysBehind! >= 0));
  } finally {
    await dir.cleanup();
  }
});

test('runtimes: Node.js and Python from Debian packages, each against its own end of life', async () => {
  const report = await scanSpec(
    {
      layers: [
        {
          files: [
            { path: 'etc/os-release', content: 'ID=debian\nVERSION_ID="12"\n' },
            {
              path: 'var/lib/dpkg/status',
              content: [
                { name: 'nodejs', version: '18.19.0+dfsg-6~deb12u2' },
                { name: 'python3.11', version: '3.11.2-6+deb12u6' },
              ]
                .map(statusStanza)
                .join(''),
            },
          ],
        },
      ],
    },
    { now },
  );
  const runtimes = report.maintenance!.runtimes.map((r) => [r.name, r.version, r.product, r.cycle, r.eol, r.state]);
  assert.deepEqual(runtimes, [
    ['node', '18.19.0', 'nodejs', '18', '2025-04-30', 'ended'],
    ['python', '3.11.2', 'python', '3.11', '2027-10-31', 'supported'],
  ]);
  const ended = report.findings.filter((f) => f.ruleId === 'maintenance/runtime-ended');
  assert.equal(ended.length, 1);
  assert.match(ended[0]!.message, /node 18\.19\.0 \(nodejs 18\): support ended on 2025-04-30/);
  assert.equal(report.maintenance!.burden.support, 3 + 5);
});

test('db update is atomic for maintenance data: a broken index leaves the old data answering', async () => {
  const dir = await tempDir();
  try {
    const dbPath = join(dir.path, 'db', 'vulnerabilities.db');
    const mirror = await debianMirror(dir.path);
    await build(dbPath, mirror);
    const before = await withDb(dbPath, (db) =>
      scanSpec(debianSpec(), { now, vulnerabilities: { source: db, builtAt: db.builtAt } }),
    );
    // A truncated Packages.gz beside the good ones: the update fails with a code, the database stays.
    const broken = join(dir.path, 'broken');
    await mkdir(broken);
    const whole = gzipSync(await readFile(join(DEBIAN, 'bookworm-security_main_binary-amd64_Packages')));
    await writeFile(
      join(broken, 'bookworm-security_main_binary-amd64_Packages.gz'),
      whole.subarray(0, whole.length / 2),
    );
    const result = await cli(['db', 'update', '--source', broken, '--cache-dir', dir.path]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /error E_FEED_INVALID/);
    assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
    const after = await withDb(dbPath, (db) =>
      scanSpec(debianSpec(), { now, vulnerabilities: { source: db, builtAt: db.builtAt } }),
    );
    assert.deepEqual(after.maintenance!.outdated, before.maintenance!.outdated);
    assert.ok(before.maintenance!.outdated!.packages.length > 0);
  } finally {
    await dir.cleanup();
  }
});

test('the end-of-life table: refreshed by db update (recognised by content), and stale past its horizon', async () => {
  const dir = await tempDir();
  try {
    // A newer copy of Debian's table moves bookworm's LTS end: the database's copy wins.
    const mirror = join(dir.path, 'mirror');
    await mkdir(mirror);
    const table = await readFile(join(REPO_ROOT, 'data/eol/debian.md'), 'utf8');
    await writeFile(join(mirror, 'some-name.md'), table.replace('eoes: 2028-06-30', 'eoes: 2026-11-30'));
    const dbPath = join(dir.path, 'db', 'vulnerabilities.db');
    const { status } = await build(dbPath, mirror);
    assert.deepEqual(
      status.sources.map((s) => [s.kind, s.records]),
      [['eol', 18]],
    );
    const report = await withDb(dbPath, (db) =>
      scanSpec(debianSpec(), { now, vulnerabilities: { source: db, builtAt: db.builtAt } }),
    );
    assert.equal(report.maintenance!.data.eol, 'database');
    assert.equal(report.maintenance!.release.state, 'ended');
    assert.equal(report.maintenance!.release.extendedEol, '2026-11-30');
    // distro-info-data's CSV (Debian's own package) is read too: Ubuntu's, with its ESM column.
    const csv = join(dir.path, 'csv');
    await mkdir(csv);
    await writeFile(
      join(csv, 'ubuntu.csv'),
      'version,codename,series,created,release,eol,eol-server,eol-esm,eol-legacy\n18.04 LTS,Bionic Beaver,bionic,2017-10-19,2018-04-26,2023-05-31,2023-05-31,2028-04-26,2030-04-30\n',
    );
    const fromCsv = join(dir.path, 'db2', 'vulnerabilities.db');
    assert.deepEqual(
      (await build(fromCsv, csv)).status.sources.map((s) => [s.name, s.kind, s.records]),
      [['ubuntu.csv', 'eol', 1]],
    );
    const bionic = await withDb(fromCsv, (db) =>
      scanSpec(
        { layers: [{ files: [{ path: 'etc/os-release', content: 'ID=ubuntu\nVERSION_ID="18.04"\n' }] }] },
        { now, vulnerabilities: { source: db, builtAt: db.builtAt } },
      ),
    );
    assert.deepEqual(
      [bionic.maintenance!.data.eol, bionic.maintenance!.release.extendedEol, bionic.maintenance!.release.state],
      ['database', '2028-04-26', 'ended'],
    );
    // Without a database, a scan long after the shipped table's date warns.
    const late = await scanSpec(debianSpec(), { now: () => new Date('2027-09-01T00:00:00Z') });
    assert.ok(late.warnings.some((w) => w.code === 'W_EOL_DATA_STALE'));
    const fresh: Report = await scanSpec(debianSpec(), { now });
    assert.ok(!fresh.warnings.some((w) => w.code === 'W_EOL_DATA_STALE'));
  } finally {
    await dir.cleanup();
  }
});

test(
  'base image drift: the tag moved on, and what a rebuild on the current base fixes (real registry)',
  { skip: !registryAvailable() && 'docker-registry not found' },
  async () => {
    const registry = await startRegistry('none');
    const dir = await tempDir();
    let stopped = false;
    try {
      const client = new RegistryClient(registry.host);
      const alpine = (musl: string): LayerSpec => ({
        files: [
          { path: 'etc/os-release', content: 'ID=alpine\nVERSION_ID=3.20.3\nPRETTY_NAME="Alpine Linux v3.20"\n' },
          { path: 'lib/apk/db/installed', content: `P:musl\nV:${musl}\nA:x86_64\no:musl\n\n` },
        ],
      });
      const oldBase = buildImage({ layers: [alpine('1.2.5-r0')] });
      await pushImage(client, 'base/alpine', '3.20', oldBase);
      const app = buildImage({
        layers: [alpine('1.2.5-r0'), { files: [{ path: 'app/server', content: 'x' }] }],
        config: {
          Labels: {
            'org.opencontainers.image.base.name': `${registry.host}/base/alpine:3.20`,
            'org.opencontainers.image.base.digest': oldBase.manifestDigest,
          },
        },
      });
      await pushImage(client, 'team/app', '1', app);
      // A vulnerability database that knows musl's fix (Alpine's secdb format).
      const feeds = join(dir.path, 'feeds', 'alpine-secdb', 'v3.20');
      await mkdir(feeds, { recursive: true });
      await writeFile(
        join(feeds, 'main.json'),
        JSON.stringify({
          distroversion: 'v3.20',
          urlprefix: 'https://dl-cdn.alpinelinux.org/alpine',
          packages: [{ pkg: { name: 'musl', secfixes: { '1.2.5-r1': ['CVE-2025-26519'] } } }],
        }),
      );
      const cache = join(dir.path, 'cache');
      assert.equal((await cli(['db', 'update', '--source', join(dir.path, 'feeds'), '--cache-dir', cache])).code, 0);
      const scan = async (...extra: string[]) => {
        const out = await cli(['scan', `${registry.host}/team/app:1`, '-f', 'json', '--cache-dir', cache, ...extra]);
        assert.equal(out.code, 0, out.stderr);
        return JSON.parse(out.stdout) as Report;
      };
      // The base tag still points where the image was built: no drift.
      const same = await scan();
      assert.deepEqual(same.maintenance!.base, {
        name: `${registry.host}/base/alpine:3.20`,
        digest: oldBase.manifestDigest,
        currentDigest: oldBase.manifestDigest,
        drifted: false,
      });
      // The base is rebuilt with musl's fix and the tag moved: drift, and the fix named.
      const newBase = buildImage({ layers: [alpine('1.2.5-r1')] });
      await pushImage(client, 'base/alpine', '3.20', newBase);
      const drifted = await scan();
      assert.deepEqual(drifted.maintenance!.base, {
        name: `${registry.host}/base/alpine:3.20`,
        digest: oldBase.manifestDigest,
        currentDigest: newBase.manifestDigest,
        drifted: true,
        fixes: ['CVE-2025-26519'],
      });
      const finding = drifted.findings.find((f) => f.ruleId === 'maintenance/base-drift')!;
      assert.equal(finding.severity, 'medium');
      assert.match(finding.message, /no longer has 1 of this image's vulnerabilities \(CVE-2025-26519\)/);
      // --offline never looks the base up.
      const image = join(dir.path, 'app.tar');
      await writeFile(image, dockerArchive([{ image: app, tags: ['team/app:1'] }]));
      const offline = await cli(['scan', image, '-f', 'json', '--offline', '--cache-dir', cache]);
      assert.equal(offline.code, 0, offline.stderr);
      assert.equal((JSON.parse(offline.stdout) as Report).maintenance!.base!.currentDigest, undefined);
      // A base that cannot be reached: a warning, the scan goes on.
      await registry.stop();
      stopped = true;
      const unreachable = await cli(['scan', image, '-f', 'json', '--cache-dir', cache]);
      assert.equal(unreachable.code, 0, unreachable.stderr);
      assert.ok((JSON.parse(unreachable.stdout) as Report).warnings.some((w) => w.code === 'W_BASE_NOT_CHECKED'));
    } finally {
      if (!stopped) await registry.stop();
      await dir.cleanup();
    }
  },
);

test('a created date older than the packages inside is called out', async () => {
  const built = Date.parse('2026-03-01T00:00:00Z') / 1000;
  const report = await scanSpec(
    {
      layers: [
        {
          files: [
            { path: 'etc/os-release', content: 'ID=alpine\nVERSION_ID=3.22.1\n' },
            { path: 'lib/apk/db/installed', content: `P:musl\nV:1.2.5-r10\nA:x86_64\nt:${built}\no:musl\n\n` },
          ],
        },
      ],
      created: '2025-01-01T00:00:00Z',
    },
    { now },
  );
  assert.equal(report.maintenance!.image.newestPackage, '2026-03-01T00:00:00.000Z');
  assert.equal(report.maintenance!.image.ageFrom, 'config');
  assert.match(
    report.warnings.find((w) => w.code === 'W_IMAGE_DATE_INCONSISTENT')!.message,
    /created on 2025-01-01, but it holds a package built on 2026-03-01/,
  );
});
