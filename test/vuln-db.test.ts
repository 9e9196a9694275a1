import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { createHash } from 'node:crypto';
import { cp, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { Report } from '../src/core/report.js';
import type { Comparison } from '../src/core/compare.js';
import { DB_SCHEMA_VERSION, type DbStatus } from '../src/vuln/db.js';
import { DEFAULT_SOURCES } from '../src/vuln/feeds.js';
import { MAINTENANCE_SOURCES } from '../src/maintenance/store.js';
import { compareApk } from '../src/vuln/versions/apk.js';
import { buildImage, dockerArchive } from './fixtures/image.js';
import { buildZip } from './fixtures/zip.js';
import { assertValidReport } from './report-schema.js';
import { REALDATA, REPO_ROOT, cli, tempDir } from './helpers.js';

/**
 * The vulnerability database end to end through the CLI: `db update` from a directory, a file
 * and a mirror URL (a real HTTP server on loopback), `db status`, scans that match the real
 * Alpine secfixes and npm advisories of shared/realdata, the gate, and updates that fail
 * without touching the database in place.
 */
const OSV = join(REALDATA, 'osv');
const ALPINE_39 = join(REALDATA, 'images/trivy/alpine-39.tar.gz');

async function withCache<T>(fn: (cache: string, dir: string) => Promise<T>): Promise<T> {
  const dir = await tempDir();
  try {
    return await fn(join(dir.path, 'cache'), dir.path);
  } finally {
    await dir.cleanup();
  }
}

async function update(cache: string, ...args: string[]) {
  return cli(['db', 'update', '--cache-dir', cache, '-q', ...args]);
}

async function status(cache: string): Promise<DbStatus> {
  const out = await cli(['db', 'status', '--cache-dir', cache, '-f', 'json']);
  assert.equal(out.code, 0, out.stderr);
  return JSON.parse(out.stdout) as DbStatus;
}

/** A docker-archive of one single-layer image holding these files, run as a non-root user. */
async function writeArchive(path: string, files: { path: string; content: string }[]): Promise<void> {
  const image = buildImage({ layers: [{ files }], config: { User: '1000' } });
  await writeFile(path, dockerArchive([{ image, tags: ['x:1'] }]));
}

async function scanJson(cache: string, input: string, ...args: string[]): Promise<Report> {
  const out = await cli(['scan', input, '--cache-dir', cache, '-f', 'json', '-q', ...args]);
  assert.equal(out.code, 0, out.stderr);
  const report = JSON.parse(out.stdout) as Report;
  assertValidReport(report);
  return report;
}

const tuple = (v: Report['vulnerabilities'][number]) =>
  `${v.id} ${v.package.name} ${v.package.version} → ${v.fixedVersion ?? 'no fix'}`;

/** A docker-archive with node_modules/lodash at a version, written to `dir`. */
async function lodashImage(dir: string, version: string): Promise<string> {
  const image = buildImage({
    layers: [
      {
        files: [
          {
            path: 'app/node_modules/lodash/package.json',
            content: JSON.stringify({ name: 'lodash', version, license: 'MIT' }),
          },
          { path: 'app/index.js', content: 'require("lodash")' },
        ],
      },
    ],
    config: { User: '1000', Entrypoint: ['/nodejs/bin/node', '/app/index.js'] },
  });
  const path = join(dir, `lodash-${version}.tar`);
  await writeFile(path, dockerArchive([{ image, tags: [`app:${version}`] }]));
  return path;
}

test('db update from the realdata directory; db status reports every source; alpine-39 gets exactly what the v3.9 secfixes imply', async () => {
  await withCache(async (cache) => {
    const out = await update(cache, '--source', OSV);
    assert.equal(out.code, 0, out.stderr);
    const st = await status(cache);
    const files = (await readdir(OSV, { recursive: true }))
      .filter((f) => /\.(json|yaml)$/.test(f))
      .map(String)
      .sort();
    assert.deepEqual(
      st.sources.map((s) => s.name),
      files,
      'one source per feed file',
    );
    assert.ok(st.sources.every((s) => s.status === 'ok' && s.records > 0));
    assert.deepEqual(
      st.ecosystems.map((e) => e.ecosystem),
      ['Alpine', 'Debian', 'npm'],
    );
    assert.equal(st.schemaVersion, DB_SCHEMA_VERSION);
    const table = await cli(['db', 'status', '--cache-dir', cache]);
    assert.match(table.stdout, /Built: .*today/);
    assert.match(table.stdout, /alpine-secdb-legacy\/v3\.9\/main\.yaml/);

    const report = await scanJson(cache, ALPINE_39);
    assert.equal(report.os.versionId, '3.9.4');
    // The expectation, computed here from the secdb file itself: for every installed package
    // (by origin), every CVE whose fix is above the installed version; no other release's data.
    const secdb = parse(await readFile(join(OSV, 'alpine-secdb-legacy/v3.9/main.yaml'), 'utf8')) as {
      packages: { pkg: { name: string; secfixes?: Record<string, string[]> } }[];
    };
    const expected = new Set<string>();
    for (const p of report.packages.filter((x) => x.type === 'apk')) {
      const fixes = secdb.packages.find((e) => e.pkg.name === (p.source ?? p.name))?.pkg.secfixes ?? {};
      for (const [fixed, ids] of Object.entries(fixes)) {
        if (fixed === '0' || compareApk(p.version, fixed) >= 0) continue;
        for (const raw of ids) {
          const id = String(raw).trim().split(/\s+/)[0]!;
          if (/^CVE-\d{4}-\d+$/.test(id)) expected.add(`${id} ${p.name} ${p.version} → ${fixed}`);
        }
      }
    }
    const found = report.vulnerabilities.map(tuple);
    assert.deepEqual([...new Set(found)].sort(), [...expected].sort());
    // The fixes the MANIFEST names: openssl 1.1.1d-r0 and musl 1.1.20-r5.
    for (const t of [
      'CVE-2019-1549 libcrypto1.1 1.1.1b-r1 → 1.1.1d-r0',
      'CVE-2019-1549 libssl1.1 1.1.1b-r1 → 1.1.1d-r0',
      'CVE-2019-14697 musl 1.1.20-r4 → 1.1.20-r5',
      'CVE-2019-14697 musl-utils 1.1.20-r4 → 1.1.20-r5',
    ])
      assert.ok(found.includes(t), t);
    assert.ok(!found.some((f) => f.startsWith('CVE-2019-1543 ')), 'fixed in 1.1.1b-r1, the installed version');
    assert.ok(report.warnings.every((w) => !w.code.startsWith('W_VULN_DB')));

    // The table and the score show them.
    const text = await cli(['scan', ALPINE_39, '--cache-dir', cache, '-q']);
    assert.match(text.stdout, new RegExp(`Vulnerabilities: ${report.vulnerabilities.length} \\(`));
    assert.match(text.stdout, /CVE-2019-14697\s+musl\s+1\.1\.20-r4\s+1\.1\.20-r5/);
    assert.ok(report.score.categories.vulnerabilities!.deduction > 0);
  });
});

test("Trivy conformance: alpine-39 against the data of Trivy's test database gives Trivy's six findings", async () => {
  await withCache(async (cache, dir) => {
    // Trivy's fixture DB (buckets "alpine 3.9" → package → CVE → FixedVersion), restated as secdb files.
    const buckets = parse(await readFile(join(REALDATA, 'images/trivy/trivy-db-fixture/alpine.yaml'), 'utf8')) as {
      bucket: string;
      pairs: { bucket: string; pairs: { key: string; value: { FixedVersion: string } }[] }[];
    }[];
    for (const b of buckets) {
      const release = b.bucket.replace(/^alpine /, '');
      const packages = b.pairs.map((p) => ({
        pkg: {
          name: p.bucket,
          secfixes: Object.fromEntries(
            [...new Set(p.pairs.map((x) => x.value.FixedVersion))].map((fixed) => [
              fixed,
              p.pairs.filter((x) => x.value.FixedVersion === fixed).map((x) => x.key),
            ]),
          ),
        },
      }));
      await mkdir(join(dir, 'mirror', release), { recursive: true });
      await writeFile(
        join(dir, 'mirror', release, 'main.json'),
        JSON.stringify({
          distroversion: release === 'edge' ? 'edge' : `v${release}`,
          reponame: 'main',
          urlprefix: 'https://dl-cdn.alpinelinux.org/alpine',
          packages,
        }),
      );
    }
    assert.equal((await update(cache, '--source', join(dir, 'mirror'))).code, 0);
    const report = await scanJson(cache, ALPINE_39);
    const golden = JSON.parse(await readFile(join(REALDATA, 'images/trivy/golden/alpine-39.json.golden'), 'utf8')) as {
      Results: {
        Vulnerabilities?: {
          VulnerabilityID: string;
          PkgName: string;
          InstalledVersion: string;
          FixedVersion: string;
        }[];
      }[];
    };
    const trivy = golden.Results.flatMap((r) => r.Vulnerabilities ?? []).map(
      (v) => `${v.VulnerabilityID} ${v.PkgName} ${v.InstalledVersion} → ${v.FixedVersion}`,
    );
    assert.equal(trivy.length, 6);
    assert.deepEqual(report.vulnerabilities.map(tuple).sort(), trivy.sort());
  });
});

test('npm: lodash 4.17.20 has CVE-2021-23337 and 4.17.21 does not; compare counts what the upgrade removes; the gate and the policy see it', async () => {
  await withCache(async (cache, dir) => {
    assert.equal((await update(cache, '--source', join(OSV, 'npm'))).code, 0);
    const old = await lodashImage(dir, '4.17.20');
    const fixed = await lodashImage(dir, '4.17.21');
    const a = await scanJson(cache, old);
    assert.deepEqual(
      a.vulnerabilities.map((v) => [v.id, v.package.name, v.fixedVersion, v.severity, v.cvss?.score]),
      [['CVE-2021-23337', 'lodash', '4.17.21', 'high', 7.2]],
    );
    assert.ok(a.vulnerabilities[0]!.aliases.includes('GHSA-35jh-r3h4-6jhm'));
    assert.equal(a.vulnerabilities[0]!.summary, 'Command Injection in lodash');
    assert.deepEqual((await scanJson(cache, fixed)).vulnerabilities, []);

    const c = await cli(['compare', old, fixed, '--cache-dir', cache, '-f', 'json', '-q']);
    assert.equal(c.code, 0, c.stderr);
    const comparison = JSON.parse(c.stdout) as Comparison;
    assert.deepEqual(
      comparison.images.map((i) => i.vulnerabilities.high),
      [1, 0],
    );
    assert.deepEqual(comparison.diffs[0]!.vulnerabilities, { removed: ['CVE-2021-23337'], added: [] });
    assert.match(comparison.verdict, /removes 1 of 1 known vulnerabilities \(1 of 1 critical or high\)/);

    // --fail-on counts vulnerabilities; a policy can accept one, with a reason, until a date.
    const gate = await cli(['scan', old, '--cache-dir', cache, '-q', '-f', 'json', '--fail-on', 'high']);
    assert.equal(gate.code, 1);
    assert.match(gate.stderr, /1 vulnerability at or above high: CVE-2021-23337 \(lodash\)/);
    assert.equal((await cli(['scan', fixed, '--cache-dir', cache, '-q', '-f', 'json', '--fail-on', 'high'])).code, 0);
    const policy = (expires: string) =>
      `maxSeverity: medium\naccept:\n  - vulnerability: GHSA-35jh-r3h4-6jhm\n    package: lodash\n    reason: template() is never called with user input\n    expires: ${expires}\n`;
    await writeFile(join(dir, 'live.yaml'), policy('2999-01-01'));
    await writeFile(join(dir, 'expired.yaml'), policy('2020-01-01'));
    const accepted = await cli([
      'scan',
      old,
      '--cache-dir',
      cache,
      '-q',
      '-f',
      'json',
      '--policy',
      join(dir, 'live.yaml'),
    ]);
    assert.equal(accepted.code, 0, accepted.stderr);
    const expired = await cli([
      'scan',
      old,
      '--cache-dir',
      cache,
      '-q',
      '-f',
      'json',
      '--policy',
      join(dir, 'expired.yaml'),
    ]);
    assert.equal(expired.code, 1);
    assert.match(expired.stderr, /acceptance of CVE-2021-23337 in lodash expired on 2020-01-01/);
    assert.match(expired.stderr, /policy maxSeverity: 1 vulnerability above medium: CVE-2021-23337 \(lodash\)/);
  });
});

test('records as the feeds write them: withdrawn skipped, GIT ranges warned, unfixed ones kept or dropped, a DSA and its CVE merged', async () => {
  await withCache(async (cache, dir) => {
    const record = (
      id: string,
      extra: Record<string, unknown>,
      ranges: unknown[] = [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '2.0.0' }] }],
    ) => ({
      id,
      modified: '2026-01-01T00:00:00Z',
      affected: [{ package: { ecosystem: 'npm', name: 'left-pad' }, ranges }],
      ...extra,
    });
    await mkdir(join(dir, 'feed'));
    const records = [
      record('GHSA-aaaa-bbbb-cccc', {
        aliases: ['CVE-2026-0001'],
        summary: 'one',
        database_specific: { severity: 'MODERATE' },
      }),
      record('CVE-2026-0001', {
        severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' }],
      }),
      record('GHSA-dddd-eeee-ffff', { withdrawn: '2026-02-01T00:00:00Z' }),
      record('GHSA-gggg-hhhh-iiii', {}, [{ type: 'ECOSYSTEM', events: [{ introduced: '1.0.0' }] }]),
      record('GHSA-jjjj-kkkk-llll', {}, [
        { type: 'GIT', repo: 'https://example.com/x', events: [{ introduced: '0' }, { fixed: 'abc123' }] },
      ]),
    ];
    // As an OSV export: a zip64 archive of one JSON file per record.
    await writeFile(
      join(dir, 'feed', 'all.zip'),
      buildZip(
        records.map((r) => ({ name: `${r.id}.json`, data: JSON.stringify(r) })),
        { zip64: true },
      ),
    );
    assert.equal((await update(cache, '--source', join(dir, 'feed', 'all.zip'))).code, 0);
    assert.deepEqual(
      (await status(cache)).sources.map((s) => [s.name, s.kind, s.records]),
      [['all.zip', 'osv-zip', 4]],
      'the withdrawn record is not stored',
    );
    const image = buildImage({
      layers: [
        {
          files: [{ path: 'app/node_modules/left-pad/package.json', content: '{"name":"left-pad","version":"1.3.0"}' }],
        },
      ],
      config: { User: '1000' },
    });
    await writeFile(join(dir, 'img.tar'), dockerArchive([{ image, tags: ['x:1'] }]));
    const report = await scanJson(cache, join(dir, 'img.tar'));
    assert.deepEqual(
      report.vulnerabilities.map((v) => [v.id, v.aliases.join(), v.severity, v.fixedVersion ?? '-']),
      [
        ['CVE-2026-0001', 'GHSA-aaaa-bbbb-cccc', 'critical', '2.0.0'],
        ['GHSA-gggg-hhhh-iiii', '', 'unknown', '-'],
      ],
    );
    assert.ok(report.warnings.some((w) => w.code === 'W_VULN_GIT_RANGES'));
    const unfixed = await scanJson(cache, join(dir, 'img.tar'), '--ignore-unfixed');
    assert.deepEqual(
      unfixed.vulnerabilities.map((v) => v.id),
      ['CVE-2026-0001'],
    );
    // A database older than --db-max-age is used, with a warning.
    assert.ok(!report.warnings.some((w) => w.code === 'W_VULN_DB_STALE'));
    const stale = await scanJson(cache, join(dir, 'img.tar'), '--db-max-age', '0');
    assert.ok(stale.warnings.some((w) => w.code === 'W_VULN_DB_STALE'));
  });
});

/** Serves a directory on loopback; `fault` can replace a response to inject a failure. */
async function serve(
  root: string,
  fault?: (path: string, body: Buffer, res: import('node:http').ServerResponse) => boolean,
): Promise<{ url: string; server: Server; hits: string[] }> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url!, 'http://x').pathname);
    hits.push(path);
    void readFile(join(root, path)).then(
      (body) => {
        if (fault?.(path, body, res)) return;
        res
          .writeHead(200, {
            'content-length': body.length,
            'x-goog-hash': `crc32c=AAAAAA==,md5=${createHash('md5').update(body).digest('base64')}`,
          })
          .end(body);
      },
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address() as { port: number };
  return { url: `http://127.0.0.1:${address.port}`, server, hits };
}

test('a mirror URL serves the default layout; a feed the mirror lacks is recorded missing; failed updates leave the database as it was', async () => {
  await withCache(async (cache, dir) => {
    const mirror = join(dir, 'mirror');
    const ghsa = (id: string, name: string) => ({
      id,
      affected: [
        {
          package: { ecosystem: 'npm', name },
          ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '1.0.0' }] }],
        },
      ],
    });
    await mkdir(join(mirror, 'osv/npm'), { recursive: true });
    await writeFile(
      join(mirror, 'osv/npm/all.zip'),
      buildZip([{ name: 'GHSA-1.json', data: JSON.stringify(ghsa('GHSA-1111-1111-1111', 'a')) }]),
    );
    await mkdir(join(mirror, 'alpine-secdb/v3.20'), { recursive: true });
    await writeFile(
      join(mirror, 'alpine-secdb/v3.20/main.json'),
      JSON.stringify({
        distroversion: 'v3.20',
        urlprefix: 'https://dl-cdn.alpinelinux.org/alpine',
        packages: [{ pkg: { name: 'musl', secfixes: { '1.2.5-r1': ['CVE-2025-26519'] } } }],
      }),
    );
    // The maintenance sources map onto the mirror the same way: Debian's table, a real index excerpt.
    await mkdir(join(mirror, 'eol'), { recursive: true });
    await cp(join(REPO_ROOT, 'data/eol/debian.md'), join(mirror, 'eol/debian.md'));
    const securitySuite = 'debian-security/dists/bookworm-security/main/binary-amd64';
    await mkdir(join(mirror, securitySuite), { recursive: true });
    const xz = spawnSync('xz', ['-c'], {
      input: await readFile(join(REALDATA, 'debian-packages/bookworm-security_main_binary-amd64_Packages')),
    });
    await writeFile(join(mirror, securitySuite, 'Packages.xz'), xz.stdout);
    const { url, server, hits } = await serve(mirror);
    try {
      const out = await update(cache, '--source', url);
      assert.equal(out.code, 0, out.stderr);
      assert.match(
        out.stderr,
        new RegExp(
          `warning: ${DEFAULT_SOURCES.length + MAINTENANCE_SOURCES.length - 4} feed\\(s\\) not found at the source and skipped: osv/Debian/all\\.zip, `,
        ),
      );
      const st = await status(cache);
      assert.deepEqual(
        st.sources.filter((s) => s.status === 'ok').map((s) => [s.name, s.kind, s.records]),
        [
          ['alpine-secdb/v3.20/main.json', 'secdb', 1],
          [`${securitySuite}/Packages.xz`, 'debian-packages', 12],
          ['eol/debian.md', 'eol', 18],
          ['osv/npm/all.zip', 'osv-zip', 1],
        ],
      );
      assert.ok(st.sources.find((s) => s.name === 'osv/npm/all.zip')!.sha256?.match(/^[a-f0-9]{64}$/));
      assert.ok(st.sources.some((s) => s.name === 'osv/Red Hat/all.zip' && s.status === 'missing'));
      assert.ok(hits.includes('/osv/Red Hat/all.zip'), 'names are URL-encoded and decoded back');
    } finally {
      server.close();
    }

    // Faults the real server cannot produce on demand: a cut-short body, a corrupt one, a bad zip.
    const before = await status(cache);
    const faults: [string, (path: string, body: Buffer, res: import('node:http').ServerResponse) => boolean, RegExp][] =
      [
        [
          'truncated',
          (path, body, res) => {
            if (!path.endsWith('.zip')) return false;
            res.writeHead(200, { 'content-length': body.length + 100 });
            res.write(body);
            res.destroy();
            return true;
          },
          /E_NETWORK|E_BLOB_TRUNCATED/,
        ],
        [
          'md5',
          (path, body, res) => {
            if (!path.endsWith('.zip')) return false;
            res
              .writeHead(200, { 'content-length': body.length, 'x-goog-hash': 'md5=AAAAAAAAAAAAAAAAAAAAAA==' })
              .end(body);
            return true;
          },
          /E_DIGEST_MISMATCH/,
        ],
        [
          'corrupt zip',
          (path, body, res) => {
            if (!path.endsWith('.zip')) return false;
            const bad = Buffer.from(body);
            bad[45] = bad[45]! ^ 0xff; // past the 30-byte header and the 11-byte name: inside the deflated member
            res.writeHead(200, { 'content-length': bad.length }).end(bad);
            return true;
          },
          /E_FEED_INVALID/,
        ],
      ];
    // A mirror that has none of the feeds (a mistyped URL) replaces nothing.
    const empty = await serve(join(dir, 'nothing-here'));
    try {
      const out = await update(cache, '--source', empty.url);
      assert.equal(out.code, 2);
      assert.match(out.stderr, /E_FEED_INVALID: no feed could be read/);
    } finally {
      empty.server.close();
    }
    assert.deepEqual(await status(cache), before, 'an empty mirror: the database is unchanged');
    for (const [name, fault, code] of faults) {
      const faulty = await serve(mirror, fault);
      try {
        const out = await update(cache, '--source', faulty.url);
        assert.equal(out.code, 2, `${name}: ${out.stderr}`);
        assert.match(out.stderr, code, name);
      } finally {
        faulty.server.close();
      }
      assert.deepEqual(await status(cache), before, `${name}: the database is unchanged`);
      const left = await readdir(join(cache, 'db'));
      assert.deepEqual(left, ['vulnerabilities.db'], `${name}: no temporary files left`);
    }

    // A busy mirror (503 with Retry-After) is asked again after the wait it names.
    const refused = new Set<string>();
    const busy = await serve(mirror, (path, _body, res) => {
      if (!path.endsWith('.zip') || refused.has(path)) return false;
      refused.add(path);
      res.writeHead(503, { 'retry-after': '0' }).end();
      return true;
    });
    try {
      const out = await update(cache, '--source', busy.url);
      assert.equal(out.code, 0, out.stderr);
      assert.equal(busy.hits.filter((h) => h === '/osv/npm/all.zip').length, 2, 'refused once, then fetched');
    } finally {
      busy.server.close();
    }
  });
});

test('offline: db update refuses the network; scan refuses registry inputs; no database is a warning, not an error', async () => {
  await withCache(async (cache, dir) => {
    const out = await cli(['db', 'update', '--cache-dir', cache, '--offline']);
    assert.equal(out.code, 2);
    assert.match(out.stderr, /^error E_OFFLINE: /);
    assert.match(out.stderr, /hint: pass --source DIR/);
    const scan = await cli(['scan', 'registry:127.0.0.1:1/x:1', '--cache-dir', cache, '--offline', '-q']);
    assert.equal(scan.code, 2);
    assert.match(scan.stderr, /^error E_OFFLINE: /);
    const none = await cli(['db', 'status', '--cache-dir', cache]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /E_VULN_DB_MISSING/);
    const image = buildImage({ layers: [{ files: [{ path: 'etc/hostname', content: 'x' }] }], config: {} });
    await writeFile(join(dir, 'i.tar'), dockerArchive([{ image, tags: ['i:1'] }]));
    const report = await scanJson(cache, join(dir, 'i.tar'), '--offline');
    assert.deepEqual(
      report.warnings.map((w) => w.code),
      ['W_VULN_DB_MISSING'],
    );
    const bad = await update(cache, '--source', join(dir, 'nowhere'));
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /E_INPUT_NOT_FOUND/);
    await cp(join(dir, 'i.tar'), join(dir, 'not-a-feed.json'));
    const notFeed = await update(cache, '--source', join(dir, 'not-a-feed.json'));
    assert.equal(notFeed.code, 2);
    assert.match(notFeed.stderr, /E_FEED_INVALID/);
  });
});

test('a vulnerability its feed does not rate takes the rating another feed gives the same CVE, and says which', async () => {
  await withCache(async (cache, dir) => {
    const feeds = join(dir, 'feeds');
    await mkdir(join(feeds, 'alpine-secdb/v3.20'), { recursive: true });
    await writeFile(
      join(feeds, 'alpine-secdb/v3.20/main.json'),
      JSON.stringify({
        distroversion: 'v3.20',
        urlprefix: 'https://dl-cdn.alpinelinux.org/alpine',
        packages: [{ pkg: { name: 'musl', secfixes: { '1.2.5-r1': ['CVE-2025-26519'] } } }],
      }),
    );
    // Another distribution's record of the same CVE, with a CVSS vector (as Ubuntu's and Red Hat's have).
    await writeFile(
      join(feeds, 'UBUNTU-CVE-2025-26519.json'),
      JSON.stringify({
        id: 'UBUNTU-CVE-2025-26519',
        upstream: ['CVE-2025-26519'],
        aliases: ['CVE-2025-26519'],
        modified: '2026-01-01T00:00:00Z',
        severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:L/A:H' }],
        affected: [
          {
            package: { ecosystem: 'Ubuntu:24.04:LTS', name: 'musl' },
            ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1.2.4-2ubuntu0.1' }] }],
          },
        ],
      }),
    );
    assert.equal((await update(cache, '--source', feeds)).code, 0);
    await writeArchive(join(dir, 'alpine.tar'), [
      { path: 'etc/os-release', content: 'ID=alpine\nVERSION_ID=3.20.3\nPRETTY_NAME="Alpine Linux v3.20"\n' },
      { path: 'lib/apk/db/installed', content: 'P:musl\nV:1.2.5-r0\nA:x86_64\no:musl\n\n' },
    ]);
    const report = await scanJson(cache, join(dir, 'alpine.tar'));
    const musl = report.vulnerabilities.find((v) => v.id === 'CVE-2025-26519')!;
    assert.equal(musl.severity, 'high');
    assert.match(musl.source, /alpine-secdb/);
    assert.match(musl.ratedBy ?? '', /UBUNTU-CVE-2025-26519/);
    const table = await cli(['scan', join(dir, 'alpine.tar'), '--cache-dir', cache, '-q']);
    assert.match(table.stdout, /RATED BY/);
  });
});

test('the first scan without a database fetches the feeds its image needs, builds it and goes on; --skip-db-update never fetches', async () => {
  await withCache(async (cache, dir) => {
    const mirror = join(dir, 'mirror');
    const ghsa = (id: string, ecosystem: string, name: string, fixed: string) => ({
      id,
      modified: '2026-01-01T00:00:00Z',
      affected: [
        { package: { ecosystem, name }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed }] }] },
      ],
    });
    for (const [ecosystem, record] of [
      ['npm', ghsa('GHSA-35jh-r3h4-6jhm', 'npm', 'lodash', '4.17.21')],
      ['PyPI', ghsa('PYSEC-0000-1', 'PyPI', 'requests', '9.9.9')],
      ['Debian', ghsa('DSA-0000-1', 'Debian:12', 'libc6', '9.9')],
    ] as const) {
      await mkdir(join(mirror, 'osv', ecosystem), { recursive: true });
      await writeFile(
        join(mirror, 'osv', ecosystem, 'all.zip'),
        buildZip([{ name: `${record.id}.json`, data: JSON.stringify(record) }]),
      );
    }
    await writeArchive(join(dir, 'img.tar'), [
      { path: 'etc/os-release', content: 'ID=debian\nVERSION_ID="12"\n' },
      { path: 'app/node_modules/lodash/package.json', content: '{"name":"lodash","version":"4.17.20"}' },
    ]);
    const skipped = await cli(['scan', join(dir, 'img.tar'), '--cache-dir', cache, '-f', 'json', '--skip-db-update'], {
      DISTROLENS_DB_SOURCE: mirror,
    });
    assert.match(skipped.stderr, /warning W_VULN_DB_MISSING: vulnerabilities were not checked.*distrolens db update/);
    assert.equal((await cli(['db', 'status', '--cache-dir', cache])).code, 2, 'no database was built');
    const first = await cli(['scan', join(dir, 'img.tar'), '--cache-dir', cache, '-f', 'json'], {
      DISTROLENS_DB_SOURCE: mirror,
    });
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /vulnerability database built from osv\/Debian\/all\.zip, osv\/npm\/all\.zip/);
    const report = JSON.parse(first.stdout) as Report;
    assert.deepEqual(
      report.vulnerabilities.map((v) => v.id),
      ['GHSA-35jh-r3h4-6jhm'],
    );
    assert.ok(!report.warnings.some((w) => w.code === 'W_VULN_DB_MISSING'));
    assert.deepEqual(
      (await status(cache)).sources.map((s) => s.name).sort(),
      ['osv/Debian/all.zip', 'osv/npm/all.zip'],
      'only the feeds the image needs: no PyPI',
    );
    const again = await cli(['scan', join(dir, 'img.tar'), '--cache-dir', cache, '-f', 'json'], {
      DISTROLENS_DB_SOURCE: mirror,
    });
    assert.doesNotMatch(again.stderr, /database built/, 'later scans reuse it');
  });
});
