import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../src/server/index.js';
import { isPrivateAddress } from '../src/util/network.js';
import { realmMayGetCredentials } from '../src/sources/registry/client.js';
import { buildImage } from './fixtures/image.js';
import { startStubRegistry, type StubRegistry } from './fixtures/stub-registry.js';
import { cli, tempDir } from './helpers.js';

/**
 * The server facing hostile requests and hostile registries, over real sockets: operator
 * credentials reach only the registry they are for (never a second registry, a token realm
 * elsewhere or a redirect target), every hop is checked against private addresses however they
 * are spelled, errors carry no body of a foreign host and read the same for every closed door,
 * and the loopback server refuses DNS-rebound Host headers, cross-origin writes and non-JSON bodies.
 */
const ELF = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46]), Buffer.alloc(64)]);
const IMAGE = buildImage({ layers: [{ files: [{ path: 'app/server', content: ELF, mode: 0o755 }] }], config: {} });
const SECRET = 'operator-secret-token-0123456789';
const INTERNAL = 'INTERNAL-ANSWER-do-not-leak';

interface Recorder {
  readonly host: string;
  readonly seen: { path: string; authorization?: string | undefined }[];
  stop(): Promise<void>;
}

/** A loopback HTTP server that records what reaches it and answers like an internal service. */
async function recorder(status = 200): Promise<Recorder> {
  const seen: Recorder['seen'] = [];
  const server: Server = createServer((req, res) => {
    seen.push({ path: req.url ?? '', authorization: req.headers.authorization });
    res.writeHead(status, { 'content-type': 'text/plain' }).end(`${INTERNAL} ${'x'.repeat(300)}`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
}

type JobView = { state: string; error?: { code: string; message: string; hint?: string } };

async function scan(server: RunningServer, reference: string): Promise<JobView> {
  const res = await fetch(`${server.url}/api/scans`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ reference }),
  });
  assert.equal(res.status, 202, await res.clone().text());
  const { id } = (await res.json()) as { id: string };
  await server.queue.idle();
  return (await server.queue.get(id))!;
}

describe('serve: credentials and requests go only where they belong', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let own: StubRegistry;
  let other: StubRegistry;
  let internal: Recorder;
  let server: RunningServer;
  before(async () => {
    dir = await tempDir();
    own = await startStubRegistry('team/app', '1', IMAGE);
    other = await startStubRegistry('team/app', '1', IMAGE);
    internal = await recorder();
    server = await startServer({
      host: '127.0.0.1',
      port: 0,
      dataDir: join(dir.path, 'data'),
      cacheDir: join(dir.path, 'cache'),
      allowRegistries: [own.host, other.host],
      open: {
        env: {},
        auth: { registry: own.host, token: SECRET },
        retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
      },
    });
  });
  after(async () => {
    await server.close();
    await Promise.all([own.stop(), other.stop(), internal.stop()]);
    await dir.cleanup();
  });

  test('the operator token goes to its registry, and not to another one a scan names', async () => {
    assert.equal((await scan(server, `${own.host}/team/app:1`)).state, 'done');
    assert.ok(own.authorizations.includes(`Bearer ${SECRET}`), 'the positive control: its own registry gets it');
    assert.equal((await scan(server, `${other.host}/team/app:1`)).state, 'done');
    assert.deepEqual(
      other.authorizations.filter((a) => a !== undefined),
      [],
      'the other registry gets no credentials',
    );
  });

  test('a token realm on another host gets no credentials; a realm on a private address is not contacted', async () => {
    other.faults.push({
      match: '/manifests/',
      times: 1,
      respond: (_req, res) =>
        res.writeHead(401, { 'www-authenticate': `Bearer realm="http://${internal.host}/token",service="x"` }).end(),
    });
    const job = await scan(server, `${other.host}/team/app:1`);
    assert.equal(job.state, 'failed');
    assert.equal(job.error?.code, 'E_REFERENCE_FORBIDDEN', JSON.stringify(job.error));
    assert.deepEqual(internal.seen, [], 'the internal service never saw a request');
  });

  test('a redirect to an internal address is refused at connect time, and its answer never shows', async () => {
    own.faults.push({
      match: '/manifests/',
      times: 1,
      respond: (_req, res) => res.writeHead(307, { location: `http://${internal.host}/admin` }).end(),
    });
    const job = await scan(server, `${own.host}/team/app:1`);
    assert.equal(job.state, 'failed');
    assert.equal(job.error?.code, 'E_REFERENCE_FORBIDDEN');
    assert.deepEqual(internal.seen, []);
    const jobs = await (await fetch(`${server.url}/api/jobs`)).text();
    assert.ok(!jobs.includes(INTERNAL));
  });

  test('an error answered by another origin after a redirect carries none of its body', async () => {
    const leaky = await recorder(500);
    const allowed = await startServer({
      host: '127.0.0.1',
      port: 0,
      dataDir: join(dir.path, 'data2'),
      cacheDir: join(dir.path, 'cache2'),
      allowRegistries: [own.host, leaky.host],
      open: { env: {}, retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 } },
    });
    try {
      own.faults.push({
        match: '/manifests/',
        times: 1,
        respond: (_req, res) => res.writeHead(307, { location: `http://${leaky.host}/internal` }).end(),
      });
      const job = await scan(allowed, `${own.host}/team/app:1`);
      assert.equal(job.state, 'failed');
      assert.equal(leaky.seen.length, 1, 'an allowed host is reached');
      assert.ok(!JSON.stringify(job).includes(INTERNAL), JSON.stringify(job));
    } finally {
      await allowed.close();
      await leaky.stop();
    }
  });

  test('refused, closed and filtered read alike: no errno, no address map', async () => {
    const closed = await recorder();
    const host = closed.host;
    await closed.stop();
    const open = await startServer({
      host: '127.0.0.1',
      port: 0,
      dataDir: join(dir.path, 'data3'),
      cacheDir: join(dir.path, 'cache3'),
      allowRegistries: [host],
      open: { env: {}, retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 } },
    });
    try {
      const job = await scan(open, `${host}/team/app:1`);
      assert.equal(job.error?.code, 'E_NETWORK');
      assert.doesNotMatch(job.error?.message ?? '', /ECONN|EHOST|ETIMEDOUT|refused/i);
    } finally {
      await open.close();
    }
  });
});

describe('serve: hostile requests', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let server: RunningServer;
  before(async () => {
    dir = await tempDir();
    server = await startServer({
      host: '127.0.0.1',
      port: 0,
      dataDir: join(dir.path, 'd'),
      cacheDir: join(dir.path, 'c'),
      open: { env: {} },
    });
  });
  after(async () => {
    await server.close();
    await dir.cleanup();
  });
  const post = (body: string, headers: Record<string, string> = {}) =>
    fetch(`${server.url}/api/scans`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });
  const codeOf = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;

  test('every spelling of loopback, link-local and site-local is refused', async () => {
    for (const host of [
      '[0::1]:5000',
      '[::0:1]:5000',
      '[0000::1]:5000',
      '[::ffff:7f00:1]:5000',
      '[::ffff:a9fe:a9fe]',
      '[fec0::1]:5000',
      '127.0.0.2:5000',
      'localhost:5000',
      '[::]:5000',
      '0.0.0.0:5000',
    ]) {
      const res = await post(JSON.stringify({ reference: `${host}/x:1` }));
      assert.ok(res.status === 403 || res.status === 400, `${host}: ${res.status}`);
      assert.match(await codeOf(res), /E_REFERENCE_(FORBIDDEN|INVALID)/, host);
    }
    const unresolvable = await post(JSON.stringify({ reference: 'no-such-host.invalid/x:1' }));
    assert.equal(unresolvable.status, 403, 'a name that does not resolve is not allowed');
  });

  test('isPrivateAddress compares canonical addresses', () => {
    for (const a of [
      '0::1',
      '::0:1',
      '0000::1',
      '::ffff:7f00:1',
      '::ffff:a9fe:a9fe',
      'fec0::1',
      '::ffff:127.0.0.1',
      '10.1.2.3',
      '100.64.0.1',
      '169.254.169.254',
      'fd00::1',
      '::',
    ])
      assert.equal(isPrivateAddress(a), true, a);
    for (const a of ['8.8.8.8', '::ffff:8.8.8.8', '2606:4700::1111']) assert.equal(isPrivateAddress(a), false, a);
  });

  test('CSRF: a cross-origin write, a text/plain body and an opaque origin are refused', async () => {
    const body = JSON.stringify({ reference: 'registry.example/app:1' });
    assert.equal((await post(body, { 'content-type': 'text/plain' })).status, 415);
    const cross = await post(body, { origin: 'http://attacker.example' });
    assert.equal(cross.status, 403);
    assert.equal(await codeOf(cross), 'E_FORBIDDEN');
    assert.equal((await post(body, { origin: 'null' })).status, 403);
    assert.equal((await post('null')).status, 400, 'a null JSON body is a bad request, not a 500');
  });

  test('DNS rebinding: a Host the server does not answer to is refused; a bad request target is a 400', async () => {
    const raw = (request: string) =>
      new Promise<string>((resolve, reject) => {
        const { port } = new URL(server.url);
        const socket = connect(Number(port), '127.0.0.1', () => socket.end(request));
        let text = '';
        socket.on('data', (d) => (text += d.toString()));
        socket.on('end', () => resolve(text));
        socket.on('error', reject);
      });
    const rebound = await raw('GET /api/images HTTP/1.1\r\nHost: attacker.example\r\nConnection: close\r\n\r\n');
    assert.match(rebound, /^HTTP\/1\.1 421/);
    assert.match(
      await raw('GET /api/health HTTP/1.1\r\nHost: localhost:1\r\nConnection: close\r\n\r\n'),
      /^HTTP\/1\.1 200/,
    );
    const target = await raw('GET http://[ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    assert.match(target, /^HTTP\/1\.1 400/);
  });
});

test('token realms get credentials on the registry host or its own domain, never over downgraded HTTP', () => {
  const registry = new URL('https://registry-1.docker.io');
  assert.equal(realmMayGetCredentials(registry, new URL('https://auth.docker.io/token')), true);
  assert.equal(realmMayGetCredentials(new URL('https://ghcr.io'), new URL('https://ghcr.io/token')), true);
  assert.equal(realmMayGetCredentials(registry, new URL('https://attacker.example/token')), false);
  assert.equal(realmMayGetCredentials(registry, new URL('http://auth.docker.io/token')), false);
  assert.equal(realmMayGetCredentials(new URL('https://ghcr.io'), new URL('https://evil.io/token')), false);
});

test('CLI: credentials from the environment need the registry they are for, and go nowhere else', async () => {
  const stub = await startStubRegistry('team/app', '1', IMAGE);
  const home = await tempDir();
  try {
    const env = { DISTROLENS_REGISTRY_TOKEN: SECRET, XDG_CACHE_HOME: home.path };
    const missing = await cli(['inspect', `${stub.host}/team/app:1`], env);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /E_USAGE.*DISTROLENS_REGISTRY_TOKEN needs the registry/);
    const elsewhere = await cli(['inspect', `${stub.host}/team/app:1`], {
      ...env,
      DISTROLENS_REGISTRY: 'registry.example',
    });
    assert.equal(elsewhere.code, 0, elsewhere.stderr);
    assert.deepEqual(
      stub.authorizations.filter((a) => a !== undefined),
      [],
      'bound to registry.example: not sent here',
    );
    const bound = await cli(['inspect', `${stub.host}/team/app:1`], { ...env, DISTROLENS_REGISTRY: stub.host });
    assert.equal(bound.code, 0, bound.stderr);
    assert.ok(stub.authorizations.includes(`Bearer ${SECRET}`));
  } finally {
    await stub.stop();
    await home.cleanup();
  }
});
