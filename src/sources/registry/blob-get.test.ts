import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createServer as createTlsServer } from 'node:tls';
import { createHash } from 'node:crypto';
import { getBlob } from './blob-get.js';
import { tempDir } from '../../../test/helpers.js';
import { selfSignedCertificate } from '../../../test/fixtures/tls.js';

/** A raw TCP server: each request's head (up to the blank line) is given to `answer` with the socket. */
async function serve(
  answer: (head: string, socket: Socket) => void,
): Promise<{ origin: string; heads: string[]; closed: () => number; server: Server }> {
  const heads: string[] = [];
  let closed = 0;
  const server = createServer((socket) => {
    let buffered = '';
    socket.on('close', () => closed++);
    socket.on('error', () => {});
    socket.on('data', (data) => {
      buffered += data.toString('latin1');
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buffered.slice(0, end);
      buffered = buffered.slice(end + 4);
      heads.push(head);
      answer(head, socket);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, heads, closed: () => closed, server };
}

async function collect(body: AsyncIterable<Uint8Array>): Promise<{ bytes: Buffer; sizes: number[] }> {
  const parts: Uint8Array[] = [];
  for await (const part of body) parts.push(part);
  return { bytes: Buffer.concat(parts), sizes: parts.map((p) => p.length) };
}

const blob = Buffer.from(Array.from({ length: 3 * 1024 * 1024 + 123 }, (_, i) => (i * 7) % 251));

test('a plain 200 arrives whole, in chunks of at most 1 MiB; bytes past Content-Length are ignored', async () => {
  const origin = await serve((_head, socket) => {
    socket.write(`HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: ${blob.length}\r\n\r\n`);
    socket.write(blob.subarray(0, 1000));
    setTimeout(() => socket.end(Buffer.concat([blob.subarray(1000), Buffer.from('trailing junk')])), 10);
  });
  try {
    const response = await getBlob(`${origin.origin}/v2/org/app/blobs/sha256:x`, {
      'user-agent': 'distrolens',
      authorization: 'Bearer t',
      range: 'bytes=0-',
    });
    assert.ok(response, 'the fast path took it');
    assert.equal(response.status, 200);
    const { bytes, sizes } = await collect(response.body);
    assert.ok(bytes.equals(blob));
    assert.ok(sizes.every((size) => size <= 1024 * 1024));
    assert.match(origin.heads[0]!, /^GET \/v2\/org\/app\/blobs\/sha256:x HTTP\/1\.1\r\n/);
    assert.match(origin.heads[0]!, /\r\nauthorization: Bearer t\r\n/);
    assert.match(origin.heads[0]!, /\r\nrange: bytes=0-\r\n/);
  } finally {
    origin.server.close();
  }
});

test('redirects are followed; Authorization goes to the same origin only', async () => {
  const storage = await serve((_head, socket) =>
    socket.end(`HTTP/1.1 206 Partial Content\r\nContent-Length: 4\r\n\r\nblob`),
  );
  const registry = await serve((head, socket) => {
    if (head.startsWith('GET /v2/first '))
      socket.end('HTTP/1.1 307 Temporary Redirect\r\nLocation: /v2/second\r\nContent-Length: 0\r\n\r\n');
    else socket.end(`HTTP/1.1 302 Found\r\nLocation: ${storage.origin}/signed?sig=1\r\nContent-Length: 0\r\n\r\n`);
  });
  try {
    const response = await getBlob(`${registry.origin}/v2/first`, { authorization: 'Bearer secret' });
    assert.equal(response?.status, 206);
    assert.equal((await collect(response.body)).bytes.toString(), 'blob');
    assert.deepEqual(
      registry.heads.map((h) => h.includes('authorization: Bearer secret')),
      [true, true],
    );
    assert.match(storage.heads[0]!, /^GET \/signed\?sig=1 HTTP\/1\.1/);
    assert.doesNotMatch(storage.heads[0]!, /authorization/i);
  } finally {
    registry.server.close();
    storage.server.close();
  }
});

test('anything but a plain answer is left to the general client, before a body byte is read', async () => {
  const answers: Record<string, string> = {
    '/chunked': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nblob\r\n0\r\n\r\n',
    '/missing': 'HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\n{}',
    '/unauthorized': 'HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer realm="x"\r\nContent-Length: 0\r\n\r\n',
    '/no-length': 'HTTP/1.1 200 OK\r\n\r\nblob',
    '/two-lengths': 'HTTP/1.1 200 OK\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nblob',
    '/folded': 'HTTP/1.1 200 OK\r\nContent-Length: 4\r\nX-Long: a\r\n b\r\n\r\nblob',
    '/not-http': 'SSH-2.0-OpenSSH_9.2\r\n\r\n',
  };
  const origin = await serve((head, socket) => socket.end(answers[head.split(' ')[1]!] ?? 'HTTP/1.1 500 Oops\r\n\r\n'));
  try {
    for (const path of Object.keys(answers))
      assert.equal(await getBlob(`${origin.origin}${path}`, {}), undefined, path);
    const requests = origin.heads.length;
    assert.equal(
      await getBlob(`${origin.origin}/blob`, { authorization: 'Bearer a\r\nx-injected: 1' }),
      undefined,
      'a header that would break the line',
    );
    assert.equal(origin.heads.length, requests, 'not even sent');
    const closed = await serve(() => {});
    closed.server.close();
    await new Promise((resolve) => closed.server.once('close', resolve));
    assert.equal(await getBlob(`${closed.origin}/refused`, {}), undefined, 'a refused connection');
  } finally {
    origin.server.close();
  }
});

test('a body cut short fails the iteration; a reader that stops early closes the connection', async () => {
  const origin = await serve((head, socket) => {
    socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${blob.length}\r\n\r\n`);
    if (head.includes('/cut')) socket.end(blob.subarray(0, 5000));
    else socket.write(blob); // and keep the connection open
  });
  try {
    const cut = await getBlob(`${origin.origin}/cut`, {});
    await assert.rejects(collect(cut!.body), /connection closed after 5000 of \d+ bytes/);
    const long = await getBlob(`${origin.origin}/long`, {});
    for await (const _ of long!.body) break;
    for (let i = 0; i < 50 && origin.closed() < 2; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(origin.closed(), 2);
  } finally {
    origin.server.close();
  }
});

test('over TLS: SNI, certificate checks and the body arrive as over plain TCP', async () => {
  const dir = await tempDir();
  // A certificate for localhost, trusted by a child process through NODE_EXTRA_CA_CERTS (read at start-up).
  const { certPath: cert, keyPath: key } = selfSignedCertificate(dir.path, 'localhost', 'localhost', 'DNS:localhost');
  let servername: string | undefined;
  const server = createTlsServer(
    { key: await readFile(key), cert: await readFile(cert), ALPNProtocols: ['http/1.1'] },
    (socket) => {
      servername = (socket as unknown as { servername?: string }).servername;
      socket.once('data', () =>
        socket.end(Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${blob.length}\r\n\r\n`), blob])),
      );
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const url = `https://localhost:${(server.address() as AddressInfo).port}/v2/blob`;
    const module = join(fileURLToPath(import.meta.url), '..', 'blob-get.js');
    const script = `import { getBlob } from ${JSON.stringify(module)};
      import { createHash } from 'node:crypto';
      const r = await getBlob(${JSON.stringify(url)}, {});
      const hash = createHash('sha256');
      if (r) for await (const chunk of r.body) hash.update(chunk);
      process.stdout.write(r ? r.status + ' ' + hash.digest('hex') : 'fallback');`;
    const run = (env: NodeJS.ProcessEnv) =>
      promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, ...env } });
    const trusted = await run({ NODE_EXTRA_CA_CERTS: cert });
    assert.equal(trusted.stdout, `200 ${createHash('sha256').update(blob).digest('hex')}`);
    assert.equal(servername, 'localhost');
    const untrusted = await run({ NODE_EXTRA_CA_CERTS: '' });
    assert.equal(
      untrusted.stdout,
      'fallback',
      'a certificate nobody vouches for is left to the general client to report',
    );
  } finally {
    server.close();
    await dir.cleanup();
  }
});
