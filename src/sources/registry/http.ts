import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { chunksOf } from '../../util/bytes.js';
import { guardConnect, type ConnectPolicy } from '../../util/network.js';

/**
 * The part of a fetch Response the registry client uses, over node:http(s): fetch loads undici
 * on first use, on every run, and passes bodies through web streams in JavaScript, which costs
 * more CPU per layer blob than a node:http body (docs/benchmarks.md).
 */
export interface HttpResponse {
  readonly status: number;
  readonly ok: boolean;
  /** The URL that answered, after redirects. */
  readonly url: string;
  readonly headers: { get(name: string): string | null };
  /** The body as it arrives, chunk by chunk; read it, or discard() it so the connection can be reused. */
  readonly body: AsyncIterable<Uint8Array>;
  text(): Promise<string>;
  json(): Promise<unknown>;
  discard(): void;
}

export interface HttpInit {
  readonly method?: string;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: Uint8Array | string;
  readonly signal?: AbortSignal | undefined;
  /** A connection silent for this long fails with ETIMEDOUT (a network error: retried). */
  readonly idleTimeoutMs?: number;
  /** Where connections may go; checked for every hop, at connect time. */
  readonly policy?: ConnectPolicy | undefined;
}

/**
 * A server that stops sending, before or during a body, fails the request after two minutes of
 * silence (fetch's limits were 300 s); a slow download that keeps sending is never cut.
 */
export const IDLE_TIMEOUT_MS = 120_000;

/** The error a silent connection is destroyed with. */
export const idleTimeout = (ms: number): Error =>
  Object.assign(new Error(`no data for ${ms / 1000} s`), { code: 'ETIMEDOUT' });

export const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** fetch's limit (the Fetch standard's). */
const MAX_REDIRECTS = 20;

/**
 * Where a redirect leads and what to send there: Authorization is not sent to another origin
 * (blob storage behind a registry has its own signed URLs), as fetch does.
 */
export function redirected(
  from: URL,
  location: string,
  headers: Readonly<Record<string, string>>,
): { url: URL; headers: Record<string, string> } {
  const url = new URL(location, from);
  const { authorization, ...rest } = headers;
  return {
    url,
    headers: url.origin === from.origin && authorization !== undefined ? { ...rest, authorization } : rest,
  };
}

function exchange(url: URL, init: HttpInit): Promise<IncomingMessage> {
  const headers = {
    ...init.headers,
    ...(init.body !== undefined ? { 'content-length': String(Buffer.byteLength(init.body)) } : {}),
  };
  return new Promise((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const request = send(
      url,
      {
        method: init.method ?? 'GET',
        headers,
        ...(init.signal ? { signal: init.signal } : {}),
        ...guardConnect(url, init.policy),
      },
      resolve,
    );
    const idle = init.idleTimeoutMs ?? IDLE_TIMEOUT_MS;
    request.setTimeout(idle, () => request.destroy(idleTimeout(idle)));
    request.on('error', reject);
    request.end(init.body);
  });
}

async function readAll(message: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of message) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function wrap(message: IncomingMessage, url: URL): HttpResponse {
  const status = message.statusCode ?? 0;
  return {
    status,
    ok: status >= 200 && status < 300,
    url: url.toString(),
    headers: {
      get: (name) => {
        const value = message.headers[name.toLowerCase()];
        return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
      },
    },
    body: chunksOf(message),
    text: async () => (await readAll(message)).toString('utf8'),
    json: async () => JSON.parse((await readAll(message)).toString('utf8')) as unknown,
    discard: () => void message.resume(),
  };
}

/**
 * One HTTP exchange, following redirects as fetch does: 303 (and 301/302 after a POST) turn into
 * a GET without a body; see redirected(). Network failures reject with node's error (`code` set).
 */
export async function send(url: string, init: HttpInit): Promise<HttpResponse> {
  let target = new URL(url);
  let current = init;
  for (let hops = 0; ; hops++) {
    const message = await exchange(target, current);
    const location = message.headers.location;
    if (!REDIRECTS.has(message.statusCode ?? 0) || !location || hops >= MAX_REDIRECTS) return wrap(message, target);
    message.resume();
    const { url: next, headers } = redirected(target, location, current.headers);
    const toGet =
      message.statusCode === 303 ||
      ((message.statusCode === 301 || message.statusCode === 302) && current.method === 'POST');
    if (toGet) {
      delete headers['content-type'];
      delete headers['content-length'];
    }
    current = toGet
      ? { headers, method: 'GET', ...(init.signal ? { signal: init.signal } : {}), policy: init.policy }
      : { ...current, headers };
    target = next;
  }
}
