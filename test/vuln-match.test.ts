import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { secdbToOsv } from '../src/vuln/secdb.js';
import { matchPackages as match, memorySource, ratingOfRecord } from '../src/vuln/match.js';
import { cvssOf } from '../src/vuln/cvss.js';
import { compareApk } from '../src/vuln/versions/apk.js';
import type { OsvRecord } from '../src/vuln/osv.js';
import type { OsContext } from '../src/vuln/match.js';
import type { Package } from '../src/core/package.js';
import { scanInput } from './fixtures/scan.js';
import { REALDATA } from './helpers.js';

/** Matching against the real records in shared/realdata/osv (groundwork of the vulnerability issue). */
const osvDir = join(REALDATA, 'osv');
const matchPackages = (packages: readonly Package[], os: OsContext, records: readonly OsvRecord[], source?: string) =>
  match(packages, os, memorySource(records, source)).vulnerabilities;
const records = async (dir: string): Promise<OsvRecord[]> =>
  Promise.all(
    (await readdir(join(osvDir, dir))).map(
      async (f) => JSON.parse(await readFile(join(osvDir, dir, f), 'utf8')) as OsvRecord,
    ),
  );

test('alpine-39 docker save against Alpine 3.9 secfixes: what the fixes imply, and nothing at or above them', async () => {
  const report = await scanInput(join(REALDATA, 'images/trivy/alpine-39.tar.gz'));
  const secdb = secdbToOsv(await readFile(join(osvDir, 'alpine-secdb-legacy/v3.9/main.yaml'), 'utf8'));
  const vulns = matchPackages(report.packages, report.os, secdb, 'alpine-secdb');
  const key = (v: { id: string; package: { name: string }; fixedVersion?: string }) =>
    `${v.id} ${v.package.name} → ${v.fixedVersion}`;
  const found = vulns.map(key);
  for (const expected of [
    'CVE-2019-14697 musl → 1.1.20-r5',
    'CVE-2019-14697 musl-utils → 1.1.20-r5',
    'CVE-2019-1549 libcrypto1.1 → 1.1.1d-r0',
    'CVE-2019-1549 libssl1.1 → 1.1.1d-r0',
    'CVE-2019-1547 libcrypto1.1 → 1.1.1d-r0',
    'CVE-2019-1563 libssl1.1 → 1.1.1d-r0',
  ]) {
    assert.ok(found.includes(expected), `${expected} in ${found.join('; ')}`);
  }
  assert.ok(!found.some((f) => f.startsWith('CVE-2019-1543 ')), 'fixed in 1.1.1b-r1, which is installed');
  assert.ok(!found.some((f) => f.startsWith('CVE-2016-8859 ')), 'fixed long before 1.1.20');
  // Every match is below its fix; every fix at or below the installed version is absent.
  for (const v of vulns) assert.ok(compareApk(v.package.version, v.fixedVersion!) < 0, key(v));
  for (const r of secdb) {
    for (const a of r.affected ?? []) {
      const fixed = a.ranges![0]!.events[1]!.fixed!;
      for (const p of report.packages.filter((pkg) => (pkg.source ?? pkg.name) === a.package.name)) {
        const reported = vulns.some((v) => v.id === r.id && v.package.name === p.name);
        assert.equal(reported, compareApk(p.version, fixed) < 0, `${r.id} ${p.name} ${p.version} vs fix ${fixed}`);
      }
    }
  }
});

test('OSV records: Alpine range, Debian DLA by source package, npm GHSA with aliases and CVSS', async () => {
  const alpine = await records('alpine');
  const minirootfs = await scanInput(
    join(REALDATA, 'images/alpine/docker-alpine-3.20.3-x86_64/alpine-minirootfs-3.20.3-x86_64.tar.gz'),
  );
  const musl = matchPackages(minirootfs.packages, minirootfs.os, alpine).filter((v) => v.package.name === 'musl');
  assert.deepEqual(
    musl.map((v) => [v.id, v.fixedVersion]),
    [['CVE-2025-26519', '1.2.5-r1']],
  );

  const pkg = (type: Package['type'], name: string, version: string, source?: string): Package => ({
    type,
    name,
    version,
    ...(source ? { source } : {}),
    purl: `pkg:${type}/${name}@${version}`,
    locations: [{ path: '/x', layer: 0 }],
  });
  const debian = await records('debian');
  const stretch = { id: 'debian', versionId: '9' };
  assert.deepEqual(
    matchPackages([pkg('deb', 'libssl1.1', '1.1.0l-1~deb9u5', 'openssl')], stretch, debian).map((v) => [
      v.id,
      v.fixedVersion,
      v.aliases.join(),
    ]),
    [['CVE-2022-1292', '1.1.0l-1~deb9u6', 'DEBIAN-CVE-2022-1292,DLA-3008-1']],
  );
  assert.deepEqual(matchPackages([pkg('deb', 'libssl1.1', '1.1.0l-1~deb9u6', 'openssl')], stretch, debian), []);
  assert.deepEqual(
    matchPackages([pkg('deb', 'tzdata', '2021a-0+deb9u3')], stretch, debian).map((v) => v.id),
    ['DLA-3051-1'],
    'enumerated versions',
  );

  const npm = await records('npm');
  const lodash = matchPackages(
    [pkg('npm', 'lodash', '4.17.20'), pkg('npm', 'lodash', '4.17.21')],
    { id: 'unknown' },
    npm,
  );
  assert.deepEqual(
    lodash.map((v) => [v.id, v.package.version, v.fixedVersion, v.severity]),
    [['CVE-2021-23337', '4.17.20', '4.17.21', 'high']],
  );
  assert.ok(lodash[0]!.aliases.includes('GHSA-35jh-r3h4-6jhm'));
});

test('CVSS v3.x and v4.0 base scores; a record with both is rated by v4', () => {
  const score = (v: string) => cvssOf(v)?.score;
  assert.equal(score('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H'), 9.8);
  assert.equal(score('CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H'), 7.2);
  assert.equal(score('CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N'), 6.1);
  assert.equal(score('CVSS:3.0/AV:L/AC:L/PR:L/UI:N/S:U/C:N/I:N/A:N'), 0);
  // v4.0 examples of FIRST's specification and calculator.
  assert.equal(score('CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N'), 9.3);
  assert.equal(score('CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:L/VA:L/SC:N/SI:N/SA:N'), 6.9);
  assert.equal(cvssOf('CVSS:3.1/AV:X'), undefined);
  assert.equal(cvssOf('CVSS:4.0/AV:N'), undefined);
  assert.equal(cvssOf('AV:N/AC:L/Au:N/C:P/I:P/A:P'), undefined, 'CVSS v2 is not rated');
  const both = ratingOfRecord({
    id: 'X',
    severity: [
      { type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' },
      { type: 'CVSS_V4', score: 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:L/VA:L/SC:N/SI:N/SA:N' },
    ],
  });
  assert.deepEqual([both.severity, both.cvss?.version, both.cvss?.score], ['medium', '4.0', 6.9]);
  // Without a vector, the feed's own word: GHSA's, or Ubuntu's priority.
  assert.equal(ratingOfRecord({ id: 'G', database_specific: { severity: 'MODERATE' } }).severity, 'medium');
  assert.equal(ratingOfRecord({ id: 'U', severity: [{ type: 'Ubuntu', score: 'negligible' }] }).severity, 'low');
  assert.equal(ratingOfRecord({ id: 'R', database_specific: { severity: 'Important' } }).severity, 'high');
  assert.equal(ratingOfRecord({ id: 'N' }).severity, 'unknown');
});

test('ecosystems: Wolfi and Chainguard security.json, Ubuntu and Red Hat names as OSV writes them, PyPI names', async () => {
  const { normalizeEcosystem } = await import('../src/vuln/feeds.js');
  const { ecosystemOf } = await import('../src/vuln/match.js');
  const wolfi = secdbToOsv({
    urlprefix: 'https://packages.wolfi.dev',
    reponame: 'os',
    packages: [
      {
        pkg: {
          name: 'openssl',
          secfixes: { '3.3.2-r0': ['CVE-2024-6119'], '3.0.0-r0': ['GHSA-xxxx-yyyy-zzzz'], 0: ['CVE-2000-0001'] },
        },
      },
    ],
  } as never);
  assert.deepEqual(
    wolfi.map((r) => [r.id, r.affected![0]!.package.ecosystem, r.affected![0]!.ranges![0]!.events[1]!.fixed]),
    [
      ['CVE-2024-6119', 'Wolfi', '3.3.2-r0'],
      ['GHSA-xxxx-yyyy-zzzz', 'Wolfi', '3.0.0-r0'],
    ],
    '"0" means never affected',
  );
  assert.equal(
    secdbToOsv({
      urlprefix: 'https://packages.cgr.dev',
      packages: [{ pkg: { name: 'x', secfixes: { '1-r0': ['CVE-2024-1'] } } }],
    })[0]?.affected?.[0]?.package.ecosystem,
    'Chainguard',
  );
  assert.equal(normalizeEcosystem('Ubuntu:22.04:LTS'), 'Ubuntu:22.04');
  assert.equal(
    normalizeEcosystem('Ubuntu:Pro:18.04:LTS'),
    'Ubuntu:Pro:18.04:LTS',
    'Pro advisories need a Pro subscription: not matched',
  );
  assert.equal(normalizeEcosystem('Red Hat:enterprise_linux:9::appstream'), 'Red Hat:9');
  assert.equal(normalizeEcosystem('Rocky Linux:8'), 'Rocky Linux:8');
  assert.equal(normalizeEcosystem('Alpine:v3.20'), 'Alpine:v3.20');
  const pkg = (type: Package['type'], name: string): Package => ({
    type,
    name,
    version: '1',
    purl: 'pkg:x/y@1',
    locations: [],
  });
  assert.deepEqual(ecosystemOf(pkg('apk', 'openssl'), { id: 'wolfi' }), { ecosystem: 'Wolfi', name: 'openssl' });
  assert.deepEqual(ecosystemOf(pkg('deb', 'libc6'), { id: 'ubuntu', versionId: '22.04' }), {
    ecosystem: 'Ubuntu:22.04',
    name: 'libc6',
  });
  assert.deepEqual(ecosystemOf(pkg('rpm', 'openssl-libs'), { id: 'rhel', versionId: '9.4' }), {
    ecosystem: 'Red Hat:9',
    name: 'openssl-libs',
  });
  assert.deepEqual(ecosystemOf(pkg('pypi', 'Flask_Cors'), { id: 'debian' }), { ecosystem: 'PyPI', name: 'flask-cors' });
  assert.equal(ecosystemOf(pkg('deb', 'x'), { id: 'debian' }), undefined, 'no release, no ecosystem');
});
