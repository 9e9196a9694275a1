import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { RegistryClient } from '../src/sources/registry/client.js';
import { startServer, type RunningServer } from '../src/server/index.js';
import { openFleetEngine, type FleetEngine } from '../src/fleet/index.js';
import { migrate, openPool } from '../src/fleet/database.js';
import type { FleetView } from '../src/core/fleet.js';
import { buildImage, pushImage, type ImageSpec } from './fixtures/image.js';
import { registryAvailable, startRegistry, type TestRegistry } from './fixtures/registry.js';
import { postgresAvailable, startPostgres, type TestPostgres } from './fixtures/postgres.js';
import { startFaultProxy, type FaultProxy } from './fixtures/fault-proxy.js';
import { cli, REPO_ROOT, tempDir } from './helpers.js';

/**
 * The fleet on its real engine: PostgreSQL from Debian's package (initdb in a temporary
 * directory), pg-boss as the queue, `distrolens worker` processes as children, the real registry
 * behind a fault proxy (429s and stalled blobs on demand). Crawls, one scan per digest, a worker
 * killed mid-layer, PostgreSQL restarted mid-crawl, a registry throttling for 10 s, Harbor's
 * scanner API played step by step, and the fleet page in chromium.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const skip = !postgresAvailable()
  ? 'PostgreSQL server binaries not found (run .ci/run)'
  : !registryAvailable()
    ? 'docker-registry not found (run .ci/run)'
    : false;
const BIN = join(REPO_ROOT, 'dist/src/cli/bin.js');
const ARTIFACTS = join(REPO_ROOT, 'test-artifacts');
const ELF = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46]), Buffer.alloc(64)]);

/** A small image, distinct by `seed`; `general` adds a shell and a package manager, `bytes` a random layer. */
function image(seed: string, options: { general?: boolean; bytes?: number } = {}): ImageSpec {
  const files = [
    { path: 'etc/os-release', content: 'ID=alpine\nVERSION_ID=3.20.3\nPRETTY_NAME="Alpine Linux v3.20"\n' },
    { path: 'etc/passwd', content: 'root:x:0:0:root:/root:/bin/ash\n' },
    { path: 'lib/apk/db/installed', content: 'P:musl\nV:1.2.5-r0\nA:x86_64\nL:MIT\no:musl\n\n' },
    { path: 'app/server', content: ELF, mode: 0o755 },
    { path: 'app/seed', content: seed },
    ...(options.general
      ? [
          { path: 'bin/busybox', content: ELF, mode: 0o755 },
          { path: 'bin/sh', type: 'symlink' as const, target: '/bin/busybox' },
          { path: 'sbin/apk', content: ELF, mode: 0o755 },
        ]
      : []),
  ];
  return {
    layers: [
      { files },
      ...(options.bytes ? [{ files: [{ path: 'app/data.bin', content: randomBytes(options.bytes) }] }] : []),
    ],
    config: { Entrypoint: ['/app/server'], ...(options.general ? {} : { User: '65532' }) },
  };
}

interface Worker {
  readonly child: ChildProcess;
  log: string;
}

describe('fleet on PostgreSQL with workers', { skip, timeout: 10 * 60_000 }, () => {
  let postgres: TestPostgres;
  let registry: TestRegistry;
  let privateRegistry: TestRegistry;
  let proxy: FaultProxy;
  let engine: FleetEngine;
  let server: RunningServer;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let db: pg.Pool;
  const workers: Worker[] = [];
  let client: RegistryClient;

  const startWorker = (n: number): Worker => {
    const child = spawn(
      process.execPath,
      [
        BIN,
        'worker',
        '--database',
        postgres.url,
        '--concurrency',
        '1',
        '--dead-after',
        '3s',
        '--cache-dir',
        join(dir.path, `worker-${n}`),
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, DISTROLENS_REGISTRY: '' } },
    );
    const worker: Worker = { child, log: '' };
    child.stderr.on('data', (d: Buffer) => (worker.log += d.toString()));
    workers.push(worker);
    return worker;
  };
  const stopWorker = async (worker: Worker): Promise<void> => {
    if (worker.child.exitCode !== null || worker.child.signalCode) return;
    const exited = new Promise((resolve) => worker.child.once('exit', resolve));
    worker.child.kill('SIGTERM');
    await exited;
  };
  const running = () => workers.filter((w) => w.child.exitCode === null && !w.child.signalCode);

  const api = async <T>(path: string, init: RequestInit = {}): Promise<{ status: number; body: T }> => {
    const response = await fetch(`${server.url}${path}`, {
      ...init,
      headers: { 'content-type': 'application/json', ...(init.headers as Record<string, string> | undefined) },
    });
    return { status: response.status, body: (await response.json()) as T };
  };
  const crawl = async (body: object) => {
    const accepted = await api<{ id: string }>('/api/crawls', { method: 'POST', body: JSON.stringify(body) });
    assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
    for (;;) {
      const { body: c } = await api<{ state: string; progress: Record<string, number> }>(
        `/api/crawls/${accepted.body.id}`,
      );
      if (c.state !== 'running') return c;
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const push = async (repository: string, tag: string, spec: ImageSpec): Promise<string> => {
    const built = buildImage(spec);
    await pushImage(client, repository, tag, built);
    return built.manifestDigest;
  };
  const scansOf = async (digest: string): Promise<number> =>
    Number(
      (await db.query<{ n: string }>('SELECT count(*) AS n FROM distrolens.scans WHERE digest = $1', [digest])).rows[0]!
        .n,
    );
  const idle = async (timeoutMs = 120_000) => {
    await Promise.race([
      server.queue.idle(),
      new Promise((_, reject) =>
        setTimeout(
          () => reject(new Error(`queue not idle; workers: ${workers.map((w) => w.log).join('\n')}`)),
          timeoutMs,
        ),
      ),
    ]);
  };

  before(async () => {
    dir = await tempDir();
    postgres = await startPostgres();
    registry = await startRegistry('none');
    privateRegistry = await startRegistry('htpasswd');
    proxy = await startFaultProxy(registry.host);
    client = new RegistryClient(registry.host);
    engine = await openFleetEngine(postgres.url, 60_000);
    server = await startServer({
      host: '127.0.0.1',
      port: 0,
      dataDir: join(dir.path, 'data'),
      cacheDir: join(dir.path, 'server-cache'),
      allowRegistries: [registry.host, proxy.host, privateRegistry.host],
      open: { env: {} },
      storage: engine.storage,
      queue: engine.queue,
      harborKey: 'harbor-test-key',
    });
    db = openPool(postgres.url, 2);
    startWorker(1);
    startWorker(2);
  });

  after(async () => {
    await Promise.all(running().map(stopWorker));
    await server?.close();
    await engine?.close();
    await db?.end();
    await proxy?.close();
    await registry?.stop();
    await privateRegistry?.stop();
    await postgres?.stop();
    await dir?.cleanup();
  });

  test('serve and worker: a database that cannot be used is a coded error, never a stack', async () => {
    const unreachable = await cli(['serve', '--port', '0', '--database', 'postgres://nobody@127.0.0.1:1/none']);
    assert.equal(unreachable.code, 2);
    assert.match(
      unreachable.stderr,
      /error E_DATABASE: cannot use the database at postgres:\/\/nobody@127\.0\.0\.1:1\/none/,
    );
    assert.match(unreachable.stderr, /hint: /);
    const notUrl = await cli(['worker', '--database', 'mysql://x']);
    assert.equal(notUrl.code, 2);
    assert.match(notUrl.stderr, /E_USAGE: --database takes a postgres:\/\/ URL/);
    const missing = await cli(['worker']);
    assert.match(missing.stderr, /E_USAGE: worker needs --database/);
    const secret = await cli(['serve', '--port', '0', '--database', 'postgres://app:s3cr3t-pw@127.0.0.1:1/none']);
    assert.doesNotMatch(secret.stderr, /s3cr3t-pw/);
  });

  test('migrations: applied once under concurrent starts, a newer database refused', async () => {
    const pools = [openPool(postgres.url, 1), openPool(postgres.url, 1)];
    try {
      assert.deepEqual(await Promise.all(pools.map((p) => migrate(p))), [1, 1]);
      const { rows } = await db.query('SELECT version FROM distrolens.migrations');
      assert.deepEqual(
        rows.map((r: { version: number }) => r.version),
        [1],
      );
      await assert.rejects(migrate(pools[0]!, []), (e: { code?: string }) => e.code === 'E_DATABASE');
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
  });

  test('a registry crawl queues one scan per digest; tags of one image share its report; a second crawl queues nothing', async () => {
    const same = await push('team/api', '1.0', image('api', { general: true }));
    assert.equal(await push('team/api', 'latest', image('api', { general: true })), same);
    const web = await push('team/web', '2', image('web'));
    await push('other/skip', '1', image('skip'));
    const first = await crawl({ registry: proxy.host, repositories: ['team/*'] });
    assert.equal(first.state, 'done');
    assert.deepEqual(
      { listed: first.progress.listed, queued: first.progress.queued, known: first.progress.known },
      { listed: 3, queued: 2, known: 1 },
    );
    await idle();
    assert.equal(await scansOf(same), 1);
    assert.equal(await scansOf(web), 1);
    const again = await crawl({ registry: proxy.host, repositories: ['team/*'] });
    assert.equal(again.progress.queued, 0);
    assert.equal(again.progress.known, 3);

    const { body: view } = await api<FleetView>('/api/fleet');
    assert.equal(view.all.references, 3);
    assert.equal(view.all.images, 2);
    assert.equal(view.all.pending, 0);
    assert.equal(view.all.classes.general, 1);
    assert.ok(view.all.shells >= 1 && view.all.packageManagers >= 1, JSON.stringify(view.all));
    assert.equal(view.running.references, 0);
    const api1 = view.page.images.find((i) => i.reference.endsWith('team/api:1.0'))!;
    assert.equal(api1.classification, 'general');
    assert.ok(api1.scanId);
  });

  test('a list of references marked running: the running figures count them', async () => {
    const digest = await push('team/running', '1', image('running', { general: true }));
    const done = await crawl({ references: [`${proxy.host}/team/running:1`], source: 'workload' });
    assert.equal(done.progress.queued, 1);
    await idle();
    assert.equal(await scansOf(digest), 1);
    const { body: view } = await api<FleetView>('/api/fleet?filter=running');
    assert.equal(view.running.references, 1);
    assert.equal(view.running.classes.general, 1);
    assert.deepEqual(
      view.page.images.map((i) => i.reference),
      [`${proxy.host}/team/running:1`],
    );
  });

  test('kill -9 of a worker in the middle of a layer: another worker finishes the job, one report stored', async () => {
    const digest = await push('team/big', '1', image('big', { bytes: 2 << 20 }));
    const stalled = proxy.stallBlobs();
    const done = await crawl({ registry: proxy.host, repositories: ['team/big'] });
    assert.equal(done.progress.queued, 1);
    await stalled;
    // The worker holding the job, by its pid in the owners table.
    let owner: string | undefined;
    for (let i = 0; i < 100 && !owner; i++) {
      owner = (await db.query<{ worker_id: string }>('SELECT worker_id FROM distrolens.job_owners')).rows[0]?.worker_id;
      if (!owner) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(owner, 'a worker owns the job');
    const pid = Number(owner.split(':')[1]);
    const victim = workers.find((w) => w.child.pid === pid)!;
    assert.ok(victim, `worker ${owner} is one of ours`);
    victim.child.kill('SIGKILL');
    await new Promise((resolve) => victim.child.once('exit', resolve));
    proxy.release();
    const started = Date.now();
    await idle(60_000);
    assert.ok(Date.now() - started < 60_000);
    assert.equal(await scansOf(digest), 1);
    const jobs = (await api<{ digest?: string; state: string }[]>('/api/jobs')).body.filter((j) => j.digest === digest);
    assert.deepEqual(
      jobs.map((j) => j.state),
      ['done'],
    );
    const replacement = startWorker(3);
    while (!replacement.log.includes('at once')) await new Promise((r) => setTimeout(r, 50));
  });

  test('PostgreSQL restarted during a crawl: workers reconnect and every image is scanned once', async () => {
    const digests = await Promise.all(
      [1, 2, 3, 4].map((n) => push('restart/app', String(n), image(`restart-${n}`, { bytes: 200_000 }))),
    );
    const done = await crawl({ registry: proxy.host, repositories: ['restart/*'] });
    assert.equal(done.progress.queued, 4);
    await postgres.restart(1_000);
    await idle(120_000);
    for (const digest of digests) assert.equal(await scansOf(digest), 1, digest);
    assert.equal(
      running().length,
      2,
      `no worker died of the restart: ${workers
        .filter((w) => !running().includes(w))
        .map((w) => w.log)
        .join('\n')}`,
    );
  });

  test('a registry answering 429 for 10 s: no job fails, no worker spins', async () => {
    await Promise.all(running().map(stopWorker));
    const digests = await Promise.all([1, 2, 3].map((n) => push('throttled/app', String(n), image(`throttled-${n}`))));
    const done = await crawl({ registry: proxy.host, repositories: ['throttled/*'] });
    assert.equal(done.progress.queued, 3);
    const before = { ...proxy.counts };
    proxy.throttleFor(10_000, 1);
    startWorker(4);
    startWorker(5);
    await idle(120_000);
    const throttled = proxy.counts.throttled - before.throttled;
    assert.ok(throttled > 0, 'the registry did throttle');
    // Two workers honouring Retry-After: 1 s for 10 s send a few dozen requests at most, not thousands.
    assert.ok(throttled < 80, `${throttled} requests during the 429 window`);
    for (const digest of digests) assert.equal(await scansOf(digest), 1);
    const jobs = (await api<{ digest?: string; state: string }[]>('/api/jobs')).body.filter((j) =>
      digests.includes(j.digest ?? ''),
    );
    assert.deepEqual(
      jobs.map((j) => j.state),
      ['done', 'done', 'done'],
    );
  });

  test(
    'the fleet page in chromium: figures, moves, paging',
    { skip: !existsSync(CHROMIUM) && 'no chromium' },
    async () => {
      await api('/api/fleet/snapshots', { method: 'POST', body: '{}' });
      const { chromium } = await import('playwright-core');
      const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
      try {
        const page = await browser.newPage();
        await page.goto(`${server.url}/fleet?size=3&sort=reference`);
        const verdict = await page.locator('#fleet-all').textContent();
        assert.match(verdict ?? '', /image\(s\) scanned of \d+ reference\(s\)/);
        assert.match((await page.locator('#fleet-running').textContent()) ?? '', /Running:.*1 general/);
        assert.equal(await page.locator('#images tbody tr').count(), 3);
        const first = await page.locator('#images tbody tr').first().textContent();
        await page.locator('a[rel=next]').click();
        await page.waitForURL(/page=2/);
        assert.notEqual(await page.locator('#images tbody tr').first().textContent(), first);
        assert.ok((await page.locator('#trend-critical-t').count()) === 1);
        await page.setViewportSize({ width: 1100, height: 900 });
        mkdirSync(ARTIFACTS, { recursive: true });
        await page.screenshot({ path: join(ARTIFACTS, 'fleet.png'), fullPage: false });
      } finally {
        await browser.close();
      }
    },
  );

  test("Harbor's scanner API, played step by step as Harbor does", async () => {
    // Harbor's registry needs a login: the robot credential in the scan request is what opens it.
    const built = buildImage(image('harbor', { general: true }));
    await pushImage(
      new RegistryClient(privateRegistry.host, {
        auth: { username: privateRegistry.username!, password: privateRegistry.password! },
      }),
      'harbor/app',
      'v1',
      built,
    );
    const digest = built.manifestDigest;
    const robot = `Basic ${Buffer.from(`${privateRegistry.username}:${privateRegistry.password}`).toString('base64')}`;
    const key = { authorization: 'Bearer harbor-test-key' };
    const call = (path: string, init: RequestInit = {}) =>
      fetch(`${server.url}/api/v1${path}`, {
        redirect: 'manual',
        ...init,
        headers: { ...key, ...(init.headers as object) },
      });

    const anonymous = await fetch(`${server.url}/api/v1/metadata`);
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.headers.get('content-type'), 'application/vnd.scanner.adapter.error+json; version=1.0');

    const metadata = await call('/metadata');
    assert.equal(metadata.status, 200);
    assert.equal(metadata.headers.get('content-type'), 'application/vnd.scanner.adapter.metadata+json; version=1.1');
    const meta = (await metadata.json()) as {
      scanner: { name: string };
      capabilities: { type: string; produces_mime_types: string[] }[];
    };
    assert.equal(meta.scanner.name, 'distrolens');
    assert.deepEqual(
      meta.capabilities.map((c) => c.type),
      ['vulnerability', 'sbom'],
    );

    const request = {
      registry: { url: `http://${privateRegistry.host}`, authorization: robot },
      artifact: {
        repository: 'harbor/app',
        digest,
        tag: 'v1',
        mime_type: 'application/vnd.oci.image.manifest.v1+json',
      },
    };
    const type = { 'content-type': 'application/vnd.scanner.adapter.scan.request+json; version=1.1' };
    const bad = await call('/scan', { method: 'POST', headers: type, body: '{not json' });
    assert.equal(bad.status, 400);
    assert.equal(bad.headers.get('content-type'), 'application/vnd.scanner.adapter.error+json; version=1.0');
    const invalid = await call('/scan', {
      method: 'POST',
      headers: type,
      body: JSON.stringify({ ...request, artifact: { ...request.artifact, digest: 'sha256:nope' } }),
    });
    assert.equal(invalid.status, 422);
    assert.ok(((await invalid.json()) as { error: { message: string } }).error.message);

    const accepted = await call('/scan', { method: 'POST', headers: type, body: JSON.stringify(request) });
    assert.equal(accepted.status, 202);
    const { id } = (await accepted.json()) as { id: string };
    const vuln = { accept: 'application/vnd.security.vulnerability.report; version=1.1' };
    let answer = await call(`/scan/${id}/report`, { headers: vuln });
    while (answer.status === 302) {
      assert.match(answer.headers.get('refresh-after') ?? '', /^\d+$/);
      await new Promise((r) => setTimeout(r, 100));
      answer = await call(`/scan/${id}/report`, { headers: vuln });
    }
    assert.equal(answer.status, 200, await answer.clone().text());
    assert.equal(answer.headers.get('content-type'), vuln.accept);
    const report = (await answer.json()) as {
      artifact: { digest: string };
      scanner: { name: string };
      vulnerabilities: unknown[];
    };
    assert.equal(report.artifact.digest, digest);
    assert.ok(Array.isArray(report.vulnerabilities));

    const harborType = 'application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0';
    const legacy = await call(`/scan/${id}/report`, { headers: { accept: harborType } });
    assert.equal(legacy.headers.get('content-type'), harborType);

    const sbomType = { accept: 'application/vnd.security.sbom.report+json; version=1.0' };
    const noType = await call(`/scan/${id}/report`, { headers: sbomType });
    assert.equal(noType.status, 400);
    for (const media of ['application/spdx+json', 'application/vnd.cyclonedx+json']) {
      const sbom = await call(`/scan/${id}/report?sbom_media_type=${encodeURIComponent(media)}`, { headers: sbomType });
      assert.equal(sbom.status, 200);
      const body = (await sbom.json()) as { media_type: string; sbom: Record<string, unknown> };
      assert.equal(body.media_type, media);
      assert.ok(media.includes('spdx') ? body.sbom.spdxVersion : body.sbom.bomFormat);
    }
    assert.equal((await call(`/scan/00000000-0000-0000-0000-000000000000/report`, { headers: vuln })).status, 404);
    const unsupported = await call(`/scan/${id}/report`, { headers: { accept: 'application/x-nope' } });
    assert.equal(unsupported.status, 501);
    // The credential was for that pull only: nothing of it is stored, and without it the pull fails.
    const stored = await db.query<{ n: string }>(
      'SELECT count(*) AS n FROM distrolens.scans WHERE report::text LIKE $1',
      [`%${privateRegistry.password}%`],
    );
    assert.equal(Number(stored.rows[0]!.n), 0);
    const jobs = await db.query<{ n: string }>('SELECT count(*) AS n FROM pgboss.job WHERE data::text LIKE $1', [
      `%${privateRegistry.password}%`,
    ]);
    assert.equal(Number(jobs.rows[0]!.n), 0);
    const anonymous2 = await call('/scan', {
      method: 'POST',
      headers: type,
      body: JSON.stringify({ ...request, registry: { url: `http://${privateRegistry.host}` } }),
    });
    const { id: refusedId } = (await anonymous2.json()) as { id: string };
    let refused = await call(`/scan/${refusedId}/report`, { headers: vuln });
    while (refused.status === 302) {
      await new Promise((r) => setTimeout(r, 100));
      refused = await call(`/scan/${refusedId}/report`, { headers: vuln });
    }
    assert.equal(refused.status, 500);
    assert.match(((await refused.json()) as { error: { message: string } }).error.message, /authentication/);
  });
});
