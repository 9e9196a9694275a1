import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Report } from '../src/core/report.js';
import type { Comparison } from '../src/core/compare.js';
import type { StoredScan } from '../src/server/storage.js';
import { InProcessQueue, type Job } from '../src/server/queue.js';
import { checkListen, isPrivateAddress } from '../src/server/app.js';
import { registryAvailable } from './fixtures/registry.js';
import { RegistryClient } from '../src/sources/registry/client.js';
import { buildImage, pushImage } from './fixtures/image.js';
import { globalPaxFlood } from './fixtures/tar.js';
import { scanThroughApi, startServerBed, type ServerBed } from './fixtures/server.js';
import { cli, rejectsWithCode } from './helpers.js';
import { assertValidReport } from './report-schema.js';

/** Every endpoint of `serve`, in process, against a real registry on loopback. */
const skip = registryAvailable() ? false : 'docker-registry not installed (run .ci/run)';

const post = (url: string, body: string, headers: Record<string, string> = {}) =>
  fetch(`${url}/api/scans`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
const errorOf = async (res: Response) => ((await res.json()) as { error: { code: string; message: string } }).error;

describe('serve: the HTTP API', { skip }, () => {
  let bed: ServerBed;
  let url: string;
  before(async () => {
    bed = await startServerBed();
    url = bed.server.url;
  });
  after(async () => bed?.close());

  test('scan through the API: a job id at once, progress as server-sent events, the report in every format', async () => {
    const job = await scanThroughApi(url, bed.refs.app1);
    assert.equal(job.state, 'done', JSON.stringify(job));
    const scan = (await (await fetch(`${url}/api/scans/${job.scanId}`)).json()) as StoredScan;
    assert.equal(scan.repository, `${bed.registry.host}/team/app`);
    assert.equal(scan.grade.length, 1);
    const report = (await (await fetch(`${url}/api/scans/${job.scanId}/report?format=json`)).json()) as Report;
    assertValidReport(report);
    assert.equal(report.target.reference, `${bed.registry.host}/team/app:1`);
    assert.ok(report.surface.shells.length > 0);
    for (const [format, type, pattern] of [
      ['html', 'text/html', /<svg[^>]+role="img"/],
      ['sarif', 'application/sarif+json', /"version": "2.1.0"/],
      ['cyclonedx', 'application/vnd.cyclonedx+json', /"bomFormat": "CycloneDX"/],
      ['spdx', 'application/spdx+json', /"spdxVersion": "SPDX-2.3"/],
      ['markdown', 'text/markdown', /^### distrolens/],
      ['table', 'text/plain', /Grade [A-F]/],
    ] as const) {
      const res = await fetch(`${url}/api/scans/${job.scanId}/report?format=${format}`);
      assert.equal(res.status, 200, format);
      assert.ok(res.headers.get('content-type')!.startsWith(type), `${format}: ${res.headers.get('content-type')}`);
      assert.match(await res.text(), pattern, format);
    }
    const jobs = (await (await fetch(`${url}/api/jobs`)).json()) as { state: string }[];
    assert.ok(jobs.some((j) => j.state === 'done'));
  });

  test('images, history of a repository after a second scan, and compare', async () => {
    const first = await scanThroughApi(url, bed.refs.app1);
    const second = await scanThroughApi(url, bed.refs.app2);
    const other = await scanThroughApi(url, bed.refs.other);
    assert.deepEqual([first.state, second.state, other.state], ['done', 'done', 'done']);
    const images = (await (await fetch(`${url}/api/images`)).json()) as (StoredScan & { scans: number })[];
    const app = images.find((i) => i.repository === `${bed.registry.host}/team/app`)!;
    assert.equal(app.reference, bed.refs.app2, 'the latest scan');
    assert.ok(app.scans >= 3);
    assert.ok(
      images.some((i) => i.repository === `${bed.registry.host}/team/distroless` && i.classification === 'distroless'),
    );
    const history = (await (
      await fetch(`${url}/api/history?repository=${encodeURIComponent(app.repository)}`)
    ).json()) as StoredScan[];
    assert.ok(history.length >= 3);
    assert.deepEqual(
      history.map((h) => h.createdAt),
      [...history.map((h) => h.createdAt)].sort(),
      'oldest first',
    );
    const comparison = (await (
      await fetch(`${url}/api/compare?id=${first.scanId}&id=${second.scanId}`)
    ).json()) as Comparison;
    assert.equal(comparison.images.length, 2);
    assert.ok(comparison.diffs[0]!.surface.shells.removed.length > 0, 'app:2 has no shell');
    const html = await (await fetch(`${url}/api/compare?id=${first.scanId}&id=${second.scanId}&format=html`)).text();
    assert.match(html, /<h1>Comparison<\/h1>/);
    const ui = await fetch(`${url}/`);
    assert.match(ui.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    assert.match(await ui.text(), /<title>distrolens<\/title>/);
  });

  test('bad input and limits: clear errors with codes, never a local file', async () => {
    const cases: [string, number, string][] = [
      ['{}', 400, 'E_USAGE'],
      ['not json', 400, 'E_USAGE'],
      [JSON.stringify({ reference: 'docker-archive:/etc/passwd' }), 400, 'E_REFERENCE_FORBIDDEN'],
      [JSON.stringify({ reference: 'oci:/var/lib' }), 400, 'E_REFERENCE_FORBIDDEN'],
      [JSON.stringify({ reference: '/etc/passwd' }), 400, 'E_REFERENCE_FORBIDDEN'],
      [JSON.stringify({ reference: 'Bad Reference!' }), 400, 'E_REFERENCE_FORBIDDEN'],
      [JSON.stringify({ reference: 'team/App:1' }), 400, 'E_REFERENCE_INVALID'],
      [JSON.stringify({ reference: 'ghcr.io/org/app:1' }), 403, 'E_REFERENCE_FORBIDDEN'],
      [JSON.stringify({ reference: 'x'.repeat(9000) }), 413, 'E_TOO_LARGE'],
    ];
    for (const [body, status, code] of cases) {
      const res = await post(url, body);
      assert.equal(res.status, status, body.slice(0, 60));
      assert.equal((await errorOf(res)).code, code, body.slice(0, 60));
    }
    assert.equal((await fetch(`${url}/api/scans/nope/report`)).status, 404);
    assert.equal((await fetch(`${url}/api/jobs/nope`)).status, 404);
    assert.equal((await fetch(`${url}/api/nothing`)).status, 404);
    assert.equal((await fetch(`${url}/api/compare?id=a`)).status, 400);
    assert.equal((await fetch(`${url}/api/history`)).status, 400);
    assert.equal((await fetch(`${url}/api/images`, { method: 'PUT' })).status, 405);
    assert.equal(
      (await fetch(`${url}/api/images`, { method: 'POST', body: '{}' })).status,
      405,
      'only scans are written',
    );
    const first = ((await (await fetch(`${url}/api/images`)).json()) as StoredScan[])[0];
    assert.ok(first, 'the scans of the tests above are stored');
    assert.equal((await fetch(`${url}/api/scans/${first.id}/report?format=exe`)).status, 400);
    // A scan that fails ends failed, with the registry's answer.
    const missing = await scanThroughApi(url, `${bed.registry.host}/team/missing:1`);
    assert.equal(missing.state, 'failed');
    assert.equal(missing.error?.code, 'E_REGISTRY_NOT_FOUND');
  });
});

describe('serve: safe by default', { skip }, () => {
  test('without an allowlist, registries on this machine or private networks are refused', async () => {
    const bed = await startServerBed({ allowRegistries: undefined as never });
    try {
      const res = await post(bed.server.url, JSON.stringify({ reference: bed.refs.app1 }));
      assert.equal(res.status, 403);
      assert.match((await errorOf(res)).message, /on this machine or a private network/);
    } finally {
      await bed.close();
    }
    for (const a of [
      '127.0.0.1',
      '10.1.2.3',
      '172.20.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '::1',
      'fd00::1',
      '::ffff:10.0.0.1',
      '100.64.0.1',
    ])
      assert.ok(isPrivateAddress(a), a);
    for (const a of ['8.8.8.8', '140.82.112.3', '2606:4700::1111']) assert.ok(!isPrivateAddress(a), a);
  });

  test('a token guards every write; binding beyond loopback needs one; writes are rate-limited', async () => {
    assert.throws(() => checkListen('0.0.0.0', undefined), /needs an API token/);
    const refused = await cli(['serve', '--host', '0.0.0.0', '--port', '0']);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /^error E_USAGE: listening on 0\.0\.0\.0 needs an API token/);
    assert.equal((await cli(['serve', '--port', 'http'])).code, 2);
    assert.doesNotThrow(() => checkListen('0.0.0.0', 'secret'));
    assert.doesNotThrow(() => checkListen('127.0.0.1', undefined));
    const bed = await startServerBed({ token: 's3cret', writesPerMinute: 3 });
    try {
      const body = JSON.stringify({ reference: bed.refs.app1 });
      const anonymous = await post(bed.server.url, body);
      assert.equal(anonymous.status, 401);
      assert.equal(anonymous.headers.get('www-authenticate'), 'Bearer');
      assert.equal((await post(bed.server.url, body, { authorization: 'Bearer wrong' })).status, 401);
      assert.equal((await fetch(`${bed.server.url}/api/images`)).status, 200, 'reads are open');
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++)
        statuses.push((await post(bed.server.url, body, { authorization: 'Bearer s3cret' })).status);
      assert.deepEqual(statuses.slice(0, 2), [202, 202]);
      assert.ok(statuses.includes(429), statuses.join());
      const limited = await post(bed.server.url, body, { authorization: 'Bearer s3cret' });
      assert.ok(Number(limited.headers.get('retry-after')) > 0);
      await bed.server.queue.idle();
    } finally {
      await bed.close();
    }
  });
});

test('queue: bounded concurrency, a full queue refuses, failures keep their code, cancel and clear', async () => {
  let running = 0;
  let peak = 0;
  const release: (() => void)[] = [];
  const queue = new InProcessQueue(
    async (_request, _progress, signal) => {
      running++;
      peak = Math.max(peak, running);
      try {
        await new Promise<void>((resolve, reject) => {
          release.push(resolve);
          signal.addEventListener('abort', () => reject(signal.reason as Error));
        });
      } finally {
        running--;
      }
      return 'scan-id';
    },
    2,
    3,
  );
  const request = (reference: string) => ({ reference, repository: reference });
  const jobs: Job[] = [];
  for (const ref of ['a', 'b', 'c', 'd', 'e']) jobs.push(await queue.submit(request(ref)));
  await rejectsWithCode(queue.submit(request('f')), 'E_BUSY');
  const states = async () => Promise.all(jobs.map(async (j) => (await queue.get(j.id))!.state));
  assert.deepEqual(await states(), ['running', 'running', 'queued', 'queued', 'queued']);
  assert.equal((await queue.cancel(jobs[4]!.id))?.state, 'cancelled', 'a queued job is taken out');
  assert.equal(
    (JSON.parse(JSON.stringify(await queue.get(jobs[0]!.id))) as Job).state,
    'running',
    'a job is plain data',
  );
  await queue.cancel(jobs[1]!.id);
  while ((await states()).some((s) => s === 'running' || s === 'queued')) {
    release.shift()?.();
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.deepEqual(await states(), ['done', 'cancelled', 'done', 'done', 'cancelled']);
  assert.equal(peak, 2);
  assert.equal(await queue.clearFinished(), 5);
  assert.deepEqual(await queue.list(), []);
  const failing = new InProcessQueue(async () => {
    throw new Error('boom: internal details of a foreign host');
  });
  const job = await failing.submit(request('z'));
  await failing.idle();
  const failed = (await failing.get(job.id))!;
  assert.deepEqual([failed.state, failed.error?.code], ['failed', 'E_INTERNAL']);
  assert.ok(!failed.error?.message.includes('boom'), "an unexpected error's text is not shown to API readers");
});

test('queue: a job past its budget fails with E_TIMEOUT and the queue goes on', async () => {
  const queue = new InProcessQueue(
    (request, _progress, signal) =>
      request.reference === 'slow'
        ? new Promise<string>((_resolve, reject) =>
            signal.addEventListener('abort', () => reject(new Error('stopped'))),
          )
        : Promise.resolve('scan-id'),
    1,
    5,
    100,
  );
  const slow = await queue.submit({ reference: 'slow', repository: 'slow' });
  const fast = await queue.submit({ reference: 'fast', repository: 'fast' });
  await queue.idle();
  const [a, b] = [(await queue.get(slow.id))!, (await queue.get(fast.id))!];
  assert.deepEqual([a.state, a.error?.code], ['failed', 'E_TIMEOUT']);
  assert.equal(b.state, 'done');
});

test(
  'serve: one hostile image among good ones: the good ones finish, the bad one fails with its code, memory comes back',
  { skip },
  async () => {
    const bed = await startServerBed();
    try {
      const client = new RegistryClient(bed.registry.host);
      const hostile = buildImage({ layers: [{ files: [], tar: globalPaxFlood(20_000) }] });
      await pushImage(client, 'team/hostile', '1', hostile);
      const before = process.memoryUsage().rss;
      const jobs = await Promise.all(
        [bed.refs.app1, `${bed.registry.host}/team/hostile:1`, bed.refs.app2, bed.refs.other].map((reference) =>
          scanThroughApi(bed.server.url, reference),
        ),
      );
      assert.deepEqual(
        jobs.map((j) => j.state),
        ['done', 'failed', 'done', 'done'],
      );
      assert.equal(jobs[1]!.error?.code, 'E_ARCHIVE_INVALID');
      const after = process.memoryUsage().rss;
      assert.ok(after - before < 150 * 1024 * 1024, `RSS grew by ${Math.round((after - before) / 1048576)} MB`);
    } finally {
      await bed.close();
    }
  },
);
