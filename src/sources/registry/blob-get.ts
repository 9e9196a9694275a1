import { connect as connectTcp, isIP, type OnReadOpts, type Socket } from 'node:net';
import { connect as connectTls, type ConnectionOptions } from 'node:tls';
import { ChunkQueue } from '../../util/bytes.js';
import { guardConnect, type ConnectPolicy } from '../../util/network.js';
import { IDLE_TIMEOUT_MS, REDIRECTS, idleTimeout, redirected } from './http.js';

/**
 * A GET for a layer blob's body, read from the socket straight into 1 MiB chunks (`onread`).
 * node:http hands a body over in 64 KiB pieces through its parser and a stream, several times
 * the main-thread CPU of this (docs/benchmarks.md), and on a cold pull that CPU is taken from
 * decompression. Only the plain case is handled — 200 or 206 with a Content-Length,
 * after same-origin or cross-origin redirects; anything else (an error status, a chunked body, an
 * odd header) returns undefined before a body byte is read, and the caller asks again through
 * the general client, which knows the auth dance, retries and error messages.
 */
export interface BlobResponse {
  readonly status: number;
  readonly body: AsyncIterable<Uint8Array>;
}

/** Chunks handed to the consumer, each filled by several socket reads. */
const CHUNK = 1024 * 1024;
/** Bytes received ahead of the consumer before the socket is paused. */
const RUN_AHEAD = 4 * CHUNK;
const MAX_HEAD_BYTES = 64 * 1024;
const MAX_REDIRECTS = 5;
const FRAMING = new Set(['content-length', 'transfer-encoding', 'location']);

interface Head {
  readonly status: number;
  readonly headers: ReadonlyMap<string, string>;
}

function parseHead(text: string): Head | undefined {
  const [statusLine, ...lines] = text.split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(statusLine ?? '');
  if (!status) return undefined;
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    // Folded lines and repeated framing headers are left to node:http to judge.
    if (colon <= 0 || line[0] === ' ' || line[0] === '\t') return undefined;
    const name = line.slice(0, colon).toLowerCase();
    if (!/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(name) || (headers.has(name) && FRAMING.has(name))) return undefined;
    headers.set(name, line.slice(colon + 1).trim());
  }
  return { status: Number(status[1]), headers };
}

/** One exchange: resolves with the head and a body iterator, or undefined when it is not a plain one. */
function exchange(
  url: URL,
  headers: Readonly<Record<string, string>>,
  signal?: AbortSignal,
  policy?: ConnectPolicy,
): Promise<{ head: Head; body?: AsyncIterable<Uint8Array> } | undefined> {
  return new Promise((resolve, reject) => {
    const guard = guardConnect(url, policy);
    let head: Head | undefined;
    let expected = 0;
    let received = 0;
    let settled = false;
    // The socket reads straight into the chunk handed to the consumer: no copy. The first chunk
    // also holds the response head; the body starts at `start` in the current chunk.
    let chunk = Buffer.allocUnsafe(CHUNK);
    let filled = 0;
    let start = 0;

    const host = url.hostname.replace(/^\[|\]$/g, '');
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    const onread = {
      buffer: (): Buffer => {
        if (filled === chunk.length) {
          chunk = Buffer.allocUnsafe(CHUNK);
          filled = 0;
          start = 0;
        }
        return chunk.subarray(filled);
      },
      callback: (length: number): boolean => {
        filled += length;
        onRead();
        return true;
      },
    };
    const tls = url.protocol === 'https:';
    const socket: Socket = tls
      ? // TLS sockets take onread too (Node ≥ 15; @types/node does not list it), one record per call.
        connectTls({
          host,
          port,
          ...(isIP(host) ? {} : { servername: host }),
          ALPNProtocols: ['http/1.1'],
          onread,
          ...guard,
        } as ConnectionOptions & { onread: OnReadOpts })
      : connectTcp({ host, port, onread, ...guard });
    socket.setTimeout(IDLE_TIMEOUT_MS, () => socket.destroy(idleTimeout(IDLE_TIMEOUT_MS)));
    const queue = new ChunkQueue(socket, RUN_AHEAD);
    const onAbort = (): void =>
      void socket.destroy(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
    signal?.addEventListener('abort', onAbort, { once: true });

    const settle = (value: Awaited<ReturnType<typeof exchange>>): void => {
      if (settled) return;
      settled = true;
      resolve(value);
    };
    const close = (): void => void socket.destroy();
    /** Hands the body bytes read into the chunk so far to the consumer (never past Content-Length). */
    const pushBody = (): void => {
      const take = Math.min(filled - start, expected - received);
      if (take > 0) queue.push(chunk.subarray(start, start + take));
      received += Math.max(0, take);
      start = filled;
    };
    const finish = (): void => {
      queue.end();
      close();
    };
    const onRead = (): void => {
      if (!head && !readHead()) return;
      if (filled - start >= expected - received) {
        pushBody();
        finish();
      } else if (filled === chunk.length) {
        pushBody();
      }
    };
    /** Parses the head once it is all in; false while it is not (or when the answer is not plain). */
    const readHead = (): boolean => {
      const end = chunk.subarray(0, filled).indexOf('\r\n\r\n');
      if (end < 0) {
        if (filled > MAX_HEAD_BYTES) fallBack();
        return false;
      }
      const parsed = parseHead(chunk.toString('latin1', 0, end));
      if (!parsed) {
        fallBack();
        return false;
      }
      head = parsed;
      const length = parsed.headers.get('content-length');
      const plainBody =
        (parsed.status === 200 || parsed.status === 206) &&
        length !== undefined &&
        /^\d{1,15}$/.test(length) &&
        !parsed.headers.has('transfer-encoding');
      if (REDIRECTS.has(parsed.status) && parsed.headers.has('location')) {
        close();
        settle({ head: parsed });
        return false;
      }
      if (!plainBody) {
        fallBack();
        return false;
      }
      expected = Number(length);
      start = end + 4;
      settle({ head: parsed, body: consume() });
      return true;
    };
    const fallBack = (): void => {
      close();
      settle(undefined);
    };

    async function* consume(): AsyncGenerator<Uint8Array> {
      try {
        yield* queue.chunks();
      } finally {
        close();
      }
    }

    socket.once(tls ? 'secureConnect' : 'connect', () => {
      const lines = [
        `GET ${url.pathname}${url.search} HTTP/1.1`,
        `host: ${url.host}`,
        ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
        'connection: close',
      ];
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    });
    socket.on('error', (error) => {
      queue.fail(error);
      if (!settled) {
        settled = true;
        reject(error);
      }
    });
    socket.on('close', () => {
      signal?.removeEventListener('abort', onAbort);
      // What did arrive goes to the consumer: a resumed download starts after it.
      if (head && received < expected) pushBody();
      queue.fail(
        Object.assign(new Error(`connection closed after ${received} of ${expected} bytes`), { code: 'ECONNRESET' }),
      );
      if (!settled) fallBack();
    });
  });
}

/** Header values must stay on their line: anything with a CR or LF goes through node:http. */
const safe = (headers: Readonly<Record<string, string>>): boolean =>
  Object.entries(headers).every(([name, value]) => /^[a-z0-9-]+$/i.test(name) && !/[\r\n]/.test(value));

/**
 * GETs a blob body; follows redirects as fetch does (Authorization only on the same origin).
 * Undefined: not a plain response, ask again with the general client.
 */
export async function getBlob(
  url: string,
  headers: Readonly<Record<string, string>>,
  signal?: AbortSignal,
  policy?: ConnectPolicy,
): Promise<BlobResponse | undefined> {
  let target = new URL(url);
  let current = { ...headers };
  if (!safe(current)) return undefined;
  for (let hops = 0; hops <= MAX_REDIRECTS; hops++) {
    if (target.protocol !== 'http:' && target.protocol !== 'https:') return undefined;
    // A failure before the body (refused, reset, a certificate) is the general client's to report.
    const result = await exchange(target, current, signal, policy).catch(() => undefined);
    if (!result) return undefined;
    if (!result.body) {
      ({ url: target, headers: current } = redirected(target, result.head.headers.get('location')!, current));
      continue;
    }
    return { status: result.head.status, body: result.body };
  }
  return undefined;
}
