import { connect as connectTcp, isIP, type OnReadOpts, type Socket } from 'node:net';
import { connect as connectTls, type ConnectionOptions } from 'node:tls';
import { ChunkQueue } from '../../util/bytes.js';
import { IDLE_TIMEOUT_MS, REDIRECTS, idleTimeout, redirected } from './http.js';

/**
 * A GET for a layer blob's body, read from the socket into one reused 1 MiB buffer (`onread`).
 * node:http hands a body over in 64 KiB pieces through its parser and a stream: receiving a 74 MB
 * layer cost ~210 ms of main-thread CPU that way, ~45 ms this way, and on a cold pull that CPU is
 * taken from decompression. Only the plain case is handled — 200 or 206 with a Content-Length,
 * after same-origin or cross-origin redirects; anything else (an error status, a chunked body, an
 * odd header) returns undefined before a body byte is read, and the caller asks again through
 * the general client, which knows the auth dance, retries and error messages.
 */
export interface BlobResponse {
  readonly status: number;
  readonly body: AsyncIterable<Uint8Array>;
}

const READ_BUFFER = 1024 * 1024;
/** Chunks handed to the consumer: the bytes of several reads, copied once. */
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
function exchange(url: URL, headers: Readonly<Record<string, string>>, signal?: AbortSignal): Promise<{ head: Head; body?: AsyncIterable<Uint8Array> } | undefined> {
  return new Promise((resolve, reject) => {
    let head: Head | undefined;
    let headBytes: Buffer[] = [];
    let headLength = 0;
    let expected = 0;
    let received = 0;
    let pending: Buffer | undefined;
    let pendingLength = 0;
    let settled = false;

    const host = url.hostname.replace(/^\[|\]$/g, '');
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    const onread = { buffer: Buffer.allocUnsafe(READ_BUFFER), callback: (length: number, buffer: Buffer): boolean => {
      onData(buffer.subarray(0, length));
      return true;
    } };
    const tls = url.protocol === 'https:';
    const socket: Socket = tls
      // TLS sockets take onread too (Node ≥ 15; @types/node does not list it), one record per call.
      ? connectTls({ host, port, ...(isIP(host) ? {} : { servername: host }), ALPNProtocols: ['http/1.1'], onread } as ConnectionOptions & { onread: OnReadOpts })
      : connectTcp({ host, port, onread });
    socket.setTimeout(IDLE_TIMEOUT_MS, () => socket.destroy(idleTimeout(IDLE_TIMEOUT_MS)));
    const queue = new ChunkQueue(socket, RUN_AHEAD);
    const onAbort = (): void => void socket.destroy(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
    signal?.addEventListener('abort', onAbort, { once: true });

    const settle = (value: Awaited<ReturnType<typeof exchange>>): void => {
      if (settled) return;
      settled = true;
      resolve(value);
    };
    const close = (): void => void socket.destroy();
    const flush = (): void => {
      if (pending && pendingLength) queue.push(pending.subarray(0, pendingLength));
      pending = undefined;
      pendingLength = 0;
    };
    const onBody = (all: Buffer): void => {
      const bytes = all.length > expected - received ? all.subarray(0, expected - received) : all;
      received += bytes.length;
      let at = 0;
      while (at < bytes.length) {
        pending ??= Buffer.allocUnsafe(CHUNK);
        const take = Math.min(bytes.length - at, CHUNK - pendingLength);
        bytes.copy(pending, pendingLength, at, at + take);
        pendingLength += take;
        at += take;
        if (pendingLength === CHUNK) flush();
      }
      if (received >= expected) {
        flush();
        finish();
      }
    };
    const finish = (): void => {
      queue.end();
      close();
    };
    const onData = (bytes: Buffer): void => {
      if (head) return onBody(bytes);
      headBytes.push(Buffer.from(bytes)); // the read buffer is reused: keep a copy
      headLength += bytes.length;
      const joined = Buffer.concat(headBytes, headLength);
      const end = joined.indexOf('\r\n\r\n');
      if (end < 0) {
        if (headLength > MAX_HEAD_BYTES) fallBack();
        return;
      }
      headBytes = [];
      const parsed = parseHead(joined.toString('latin1', 0, end));
      if (!parsed) return fallBack();
      head = parsed;
      const length = parsed.headers.get('content-length');
      const plainBody = (parsed.status === 200 || parsed.status === 206) && length !== undefined && /^\d{1,15}$/.test(length) && !parsed.headers.has('transfer-encoding');
      if (REDIRECTS.has(parsed.status) && parsed.headers.has('location')) {
        close();
        return settle({ head: parsed });
      }
      if (!plainBody) return fallBack();
      expected = Number(length);
      settle({ head: parsed, body: consume() });
      if (expected === 0) finish();
      else if (joined.length > end + 4) onBody(joined.subarray(end + 4));
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
      const lines = [`GET ${url.pathname}${url.search} HTTP/1.1`, `host: ${url.host}`, ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`), 'connection: close'];
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
      queue.fail(Object.assign(new Error(`connection closed after ${received} of ${expected} bytes`), { code: 'ECONNRESET' }));
      if (!settled) fallBack();
    });
  });
}

/** Header values must stay on their line: anything with a CR or LF goes through node:http. */
const safe = (headers: Readonly<Record<string, string>>): boolean => Object.entries(headers).every(([name, value]) => /^[a-z0-9-]+$/i.test(name) && !/[\r\n]/.test(value));

/**
 * GETs a blob body; follows redirects as fetch does (Authorization only on the same origin).
 * Undefined: not a plain response, ask again with the general client.
 */
export async function getBlob(url: string, headers: Readonly<Record<string, string>>, signal?: AbortSignal): Promise<BlobResponse | undefined> {
  let target = new URL(url);
  let current = { ...headers };
  if (!safe(current)) return undefined;
  for (let hops = 0; hops <= MAX_REDIRECTS; hops++) {
    if (target.protocol !== 'http:' && target.protocol !== 'https:') return undefined;
    // A failure before the body (refused, reset, a certificate) is the general client's to report.
    const result = await exchange(target, current, signal).catch(() => undefined);
    if (!result) return undefined;
    if (!result.body) {
      ({ url: target, headers: current } = redirected(target, result.head.headers.get('location')!, current));
      continue;
    }
    return { status: result.head.status, body: result.body };
  }
  return undefined;
}
