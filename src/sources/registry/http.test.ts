import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { send } from './http.js';

interface Seen {
  method: string;
  url: string;
  authorization?: string;
  body: string;
}

async function serve(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ origin: string; seen: Seen[]; server: Server }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
        body: Buffer.concat(chunks).toString(),
      });
      handler(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

test('redirects keep Authorization on the same origin only, and a 303 turns a PUT into a bodiless GET', async () => {
  const storage = await serve((_req, res) =>
    res.writeHead(200, { 'content-type': 'text/plain', 'x-multi': ['a', 'b'] }).end('blob'),
  );
  const registry = await serve((req, res) => {
    if (req.url === '/v2/blob') res.writeHead(307, { location: '/v2/moved' }).end();
    else if (req.url === '/v2/moved') res.writeHead(302, { location: `${storage.origin}/signed?x=1` }).end();
    else if (req.url === '/v2/upload') res.writeHead(303, { location: '/v2/status' }).end();
    else res.writeHead(204).end();
  });
  try {
    const headers = { authorization: 'Bearer secret' };
    const response = await send(`${registry.origin}/v2/blob`, { headers });
    assert.equal(response.status, 200);
    assert.equal(response.url, `${storage.origin}/signed?x=1`);
    assert.equal(await response.text(), 'blob');
    assert.equal(response.headers.get('Content-Type'), 'text/plain');
    assert.equal(response.headers.get('x-multi'), 'a, b');
    assert.equal(response.headers.get('x-absent'), null);
    assert.deepEqual(
      registry.seen.map((s) => [s.url, s.authorization]),
      [
        ['/v2/blob', 'Bearer secret'],
        ['/v2/moved', 'Bearer secret'],
      ],
    );
    assert.deepEqual(
      storage.seen.map((s) => [s.url, s.authorization]),
      [['/signed?x=1', undefined]],
    );

    const put = await send(`${registry.origin}/v2/upload`, {
      method: 'PUT',
      headers: { ...headers, 'content-type': 'application/octet-stream' },
      body: Buffer.from('payload'),
    });
    assert.equal(put.status, 204);
    assert.deepEqual(
      registry.seen.slice(2).map((s) => [s.method, s.url, s.body]),
      [
        ['PUT', '/v2/upload', 'payload'],
        ['GET', '/v2/status', ''],
      ],
    );
  } finally {
    registry.server.close();
    storage.server.close();
  }
});

test('a refused connection rejects with the system error code', async () => {
  const closed = await serve(() => {});
  closed.server.close();
  await new Promise((resolve) => closed.server.once('close', resolve));
  await assert.rejects(send(`${closed.origin}/v2/`, { headers: {} }), { code: 'ECONNREFUSED' });
});

test('a server that stops answering fails the request with ETIMEDOUT after the idle timeout', async () => {
  const silent = await serve(() => {}); // reads the request, never answers
  try {
    const started = Date.now();
    await assert.rejects(send(`${silent.origin}/v2/`, { headers: {}, idleTimeoutMs: 200 }), { code: 'ETIMEDOUT' });
    assert.ok(Date.now() - started < 5000);
  } finally {
    silent.server.closeAllConnections();
    silent.server.close();
  }
});
