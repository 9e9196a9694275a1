import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import type Database from 'better-sqlite3';
import { RegistryClient } from '../src/sources/registry/client.js';
import { startServer, type RunningServer } from '../src/server/index.js';
import { SqliteStorage } from '../src/server/storage.js';
import { Crawler, globRegExp, nextPage } from '../src/server/crawl.js';
import { InProcessQueue } from '../src/server/queue.js';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { updateDb } from '../src/vuln/update.js';
import { VulnDb } from '../src/vuln/db.js';
import type { FleetView } from '../src/core/fleet.js';
import { buildImage, pushImage, type ImageSpec } from './fixtures/image.js';
import { registryAvailable, startRegistry, type TestRegistry } from './fixtures/registry.js';
import { cli, tempDir } from './helpers.js';

/**
 * The fleet on the embedded engine (SQLite, the in-process queue: nothing to install): a crawl of
 * the real registry, the fleet view, a vulnerability database arriving later and the stored reports
 * re-matched without a pull, and a data directory of the first release migrated in place.
 */
const ELF = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46]), Buffer.alloc(64)]);
const alpine = (seed: string, shell: boolean): ImageSpec => ({
  layers: [
    {
      files: [
        { path: 'etc/os-release', content: 'ID=alpine\nVERSION_ID=3.20.3\nPRETTY_NAME="Alpine Linux v3.20"\n' },
        { path: 'lib/apk/db/installed', content: 'P:musl\nV:1.2.5-r0\nA:x86_64\nL:MIT\no:musl\n\n' },
        { path: 'app/server', content: ELF, mode: 0o755 },
        { path: 'app/seed', content: seed },
        ...(shell
          ? [
              { path: 'bin/busybox', content: ELF, mode: 0o755 },
              { path: 'bin/sh', type: 'symlink' as const, target: '/bin/busybox' },
            ]
          : []),
      ],
    },
  ],
  config: { Entrypoint: ['/app/server'] },
});

test('globs and paging links as a crawl reads them', () => {
  assert.ok(globRegExp('team/*').test('team/api'));
  assert.ok(!globRegExp('team/*').test('team/api/v2'));
  assert.ok(globRegExp('team/**').test('team/api/v2'));
  assert.ok(globRegExp('v1.?').test('v1.2') && !globRegExp('v1.?').test('v1x2'));
  assert.ok(globRegExp('a+b').test('a+b') && !globRegExp('a+b').test('aab'), 'regex characters are literal');
  assert.equal(nextPage('</v2/_catalog?last=b&n=2>; rel="next"'), '/v2/_catalog?last=b&n=2');
  assert.equal(nextPage(null), undefined);
  assert.equal(nextPage('</v2/_catalog?last=b>; rel="prev"'), undefined);
});

test('a hostile catalog: names and tags outside the distribution grammar are dropped, never requested', async () => {
  const seen: string[] = [];
  const digest = `sha256:${'1'.repeat(64)}`;
  const stub = createServer((req, res) => {
    seen.push(req.url ?? '');
    const body = req.url?.startsWith('/v2/_catalog')
      ? { repositories: ['ok/app', '../../v2/admin', 'a?b', 'UPPER/case'] }
      : req.url?.startsWith('/v2/ok/app/tags/list')
        ? { tags: ['1', '../../../x', '-dash', 'a'.repeat(200)] }
        : {};
    res.writeHead(200, { 'content-type': 'application/json', 'docker-content-digest': digest });
    res.end(req.method === 'HEAD' ? undefined : JSON.stringify(body));
  });
  await new Promise<void>((resolve) => stub.listen(0, '127.0.0.1', resolve));
  const host = `127.0.0.1:${(stub.address() as AddressInfo).port}`;
  const dir = await tempDir();
  const storage = new SqliteStorage(dir.path);
  const queue = new InProcessQueue(async () => Promise.reject(new Error('not scanned here')));
  try {
    const crawler = new Crawler({ storage, queue, client: {} });
    const crawl = crawler.start({ registry: host, repositories: ['**'], tags: '*', insecure: false });
    while (crawler.get(crawl.id)?.state === 'running') await new Promise((r) => setTimeout(r, 10));
    assert.equal(crawler.get(crawl.id)?.progress.listed, 1);
    assert.deepEqual(
      seen.filter((u) => u.includes('..') || u.includes('?b') || u.includes('UPPER')),
      [],
    );
    assert.ok(seen.includes('/v2/ok/app/manifests/1'));
    await crawler.close();
    await queue.idle();
  } finally {
    await storage.close();
    stub.close();
    await dir.cleanup();
  }
});

describe('fleet on the embedded engine', { skip: !registryAvailable() && 'docker-registry not found' }, () => {
  let registry: TestRegistry;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let server: RunningServer;
  const digests: string[] = [];
  let registryStopped = false;
  const options = () => ({
    host: '127.0.0.1',
    port: 0,
    dataDir: join(dir.path, 'data'),
    cacheDir: join(dir.path, 'cache'),
    allowRegistries: [registry.host],
    open: { env: {} },
  });
  const api = async <T>(path: string, init?: RequestInit): Promise<{ status: number; body: T }> => {
    const response = await fetch(`${server.url}${path}`, {
      ...init,
      headers: { 'content-type': 'application/json' },
    });
    return { status: response.status, body: (await response.json()) as T };
  };

  before(async () => {
    dir = await tempDir();
    registry = await startRegistry('none');
    const client = new RegistryClient(registry.host);
    for (const [repository, tag, spec] of [
      ['shop/cart', '1', alpine('cart', true)],
      ['shop/cart', 'stable', alpine('cart', true)],
      ['shop/pay', '3', alpine('pay', false)],
    ] as const) {
      const built = buildImage(spec);
      await pushImage(client, repository, tag, built);
      digests.push(built.manifestDigest);
    }
    server = await startServer(options());
  });
  after(async () => {
    await server?.close();
    if (!registryStopped) await registry?.stop();
    await dir?.cleanup();
  });

  test('a crawl with the in-process queue: one scan per digest, the fleet counted by digest', async () => {
    const accepted = await api<{ id: string }>('/api/crawls', {
      method: 'POST',
      body: JSON.stringify({ registry: registry.host, repositories: ['shop/*'] }),
    });
    assert.equal(accepted.status, 202);
    let crawl: { state: string; progress: Record<string, number> };
    do {
      await new Promise((r) => setTimeout(r, 50));
      crawl = (await api<typeof crawl>(`/api/crawls/${accepted.body.id}`)).body;
    } while (crawl.state === 'running');
    assert.deepEqual([crawl.progress.listed, crawl.progress.queued, crawl.progress.known], [3, 2, 1]);
    await server.queue.idle();
    const { body: view } = await api<FleetView>('/api/fleet?sort=shells');
    assert.deepEqual([view.all.references, view.all.images, view.all.pending], [3, 2, 0]);
    const shells = view.page.images.map((i) => i.shells ?? 0);
    assert.ok(shells[0]! > 0 && shells.at(-1) === 0, `worst first: ${shells.join(',')}`);
    assert.equal(new Set(view.page.images.map((i) => i.scanId)).size, 2, 'two tags, one report');
    const refused = await api<{ error: { code: string } }>('/api/crawls', {
      method: 'POST',
      body: JSON.stringify({ registry: 'registry.internal.example' }),
    });
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error.code, 'E_REFERENCE_FORBIDDEN');
    const bad = await api<{ error: { code: string } }>('/api/fleet?sort=nope');
    assert.equal(bad.status, 400);
  });

  test('distrolens crawl: a list file, manifests (marked running), a registry; and a crawl repeated on its period', async () => {
    const list = join(dir.path, 'images.txt');
    await writeFile(list, `# the shop\n${registry.host}/shop/pay:3\n\n${registry.host}/shop/cart:1  # again\n`);
    const fromFile = await cli(['crawl', '--from', list, '--server', server.url]);
    assert.equal(fromFile.code, 0, fromFile.stderr);
    assert.match(fromFile.stdout, /^done: 2 reference\(s\) listed, 0 scan\(s\) queued, 2 already known, 0 failed/);
    const manifest = join(dir.path, 'deploy.yaml');
    await writeFile(
      manifest,
      `apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: cart }\nspec:\n  template:\n    spec:\n      containers: [{ name: cart, image: ${registry.host}/shop/cart:stable }]\n`,
    );
    const running = await cli(['crawl', '--workloads', manifest, '--server', server.url]);
    assert.equal(running.code, 0, running.stderr);
    const { body: view } = await api<FleetView>('/api/fleet');
    assert.equal(view.running.references, 1);
    assert.ok(view.running.shells > 0);
    const whole = await cli(['crawl', `${registry.host}/shop/*`, '--tags', '1', '--server', server.url]);
    assert.match(whole.stdout, /1 reference\(s\) listed/);
    const usage = await cli(['crawl', '--server', server.url]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /E_USAGE/);
    const tooOften = await api<{ error: { code: string } }>('/api/crawls', {
      method: 'POST',
      body: JSON.stringify({ registry: registry.host, every: '5s' }),
    });
    assert.equal(tooOften.status, 400);

    // Paged lists: one entry per page, the registry's Link headers followed to the end.
    const paged = new Crawler({ storage: server.storage, queue: server.queue, client: {}, pageSize: 1 });
    try {
      const crawl = paged.start({ registry: registry.host, repositories: ['shop/**'], tags: '*', insecure: false });
      while (paged.get(crawl.id)?.state === 'running') await new Promise((r) => setTimeout(r, 20));
      assert.equal(paged.get(crawl.id)?.progress.listed, 3, 'two repositories, three tags, a page each');
    } finally {
      await paged.close();
    }

    // The period itself, shortened: a crawler over the same storage starts the crawl again after each one.
    const crawler = new Crawler({ storage: server.storage, queue: server.queue, client: {} });
    try {
      crawler.start({ references: [`${registry.host}/shop/pay:3`], source: 'list' }, 100);
      for (let i = 0; i < 100 && crawler.list().length < 3; i++) await new Promise((r) => setTimeout(r, 20));
      assert.ok(crawler.list().length >= 3, `${crawler.list().length} crawls`);
    } finally {
      await crawler.close();
    }
  });

  test('a vulnerability database arriving later: stored reports re-matched without a pull, the change shown', async () => {
    const feeds = join(dir.path, 'feeds');
    await mkdir(join(feeds, 'alpine-secdb/v3.20'), { recursive: true });
    await writeFile(
      join(feeds, 'alpine-secdb/v3.20/main.json'),
      JSON.stringify({
        distroversion: 'v3.20',
        urlprefix: 'https://dl-cdn.alpinelinux.org/alpine',
        packages: [{ pkg: { name: 'musl', secfixes: { '1.2.5-r1': ['CVE-2025-26519'] } } }],
      }),
    );
    const dbPath = join(dir.path, 'vulns.db');
    await updateDb({ dbPath, source: feeds });
    const db = VulnDb.open(dbPath)!;
    await server.close();
    await registry.stop(); // nothing may be pulled
    registryStopped = true;
    server = await startServer({ ...options(), vulnerabilities: { source: db, builtAt: db.builtAt } });
    let view: FleetView;
    for (;;) {
      view = (await api<FleetView>('/api/fleet')).body;
      if (view.rematch) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(view.rematch.scans, 2);
    assert.equal(view.rematch.added, 2, 'musl 1.2.5-r0 in both images');
    assert.equal(view.rematch.removed, 0);
    assert.equal(view.trend.length, 1, 'a snapshot after the re-match');
    const id = view.page.images[0]!.scanId!;
    const report = (await api<{ vulnerabilities: { id: string }[] }>(`/api/scans/${id}/report`)).body;
    assert.deepEqual(
      report.vulnerabilities.map((v) => v.id),
      ['CVE-2025-26519'],
    );
    const page = await (await fetch(`${server.url}/fleet`)).text();
    assert.match(page, /2 report\(s\) re-matched without pulling, 2 vulnerabilities appeared/);
    // Nothing is stale any more: a second re-match does nothing.
    assert.deepEqual((await api<{ scans: number }>('/api/rematch', { method: 'POST', body: '{}' })).body, {
      scans: 0,
    });
    await server.close();
    db.close();
    server = await startServer(options());
  });

  test('a data directory of the first release is migrated in place, its scans kept', async () => {
    const old = join(dir.path, 'old');
    await mkdir(old, { recursive: true });
    const Sqlite = createRequire(import.meta.url)('better-sqlite3') as typeof Database;
    const raw = new Sqlite(join(old, 'distrolens.db'));
    raw.exec(`CREATE TABLE scans(id TEXT PRIMARY KEY, repository TEXT NOT NULL, created_at TEXT NOT NULL, summary TEXT NOT NULL, report TEXT NOT NULL);
      INSERT INTO scans VALUES ('a', 'r/x', '2026-01-01T00:00:00Z', '{"id":"a","repository":"r/x"}', '{}');`);
    raw.close();
    const storage = new SqliteStorage(old);
    try {
      assert.deepEqual(
        (await storage.listImages()).map((i) => [i.id, i.scans]),
        [['a', 1]],
      );
      assert.deepEqual(await storage.fleetRows(), []);
      assert.deepEqual(await storage.staleScans('x', 10), ['a']);
    } finally {
      await storage.close();
    }
    const again = new Sqlite(join(old, 'distrolens.db'));
    assert.equal(again.pragma('user_version', { simple: true }), 2);
    again.pragma('user_version = 9');
    again.close();
    assert.throws(
      () => new SqliteStorage(old),
      (e: { code?: string }) => e.code === 'E_DATABASE',
    );
  });
});
