import { timingSafeEqual } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { fail, isDistrolensError, type DistrolensError } from '../core/errors.js';
import type { Report } from '../core/report.js';
import { renderCycloneDx } from '../report/cyclonedx.js';
import { renderJson } from '../report/format.js';
import { compareBody, htmlDocument, renderCompareHtml, renderScanHtml, scanReportBody } from '../report/html.js';
import { renderMarkdown } from '../report/markdown.js';
import { renderSarif } from '../report/sarif.js';
import { renderScanTable } from '../report/scan-table.js';
import { renderSpdx } from '../report/spdx.js';
import { renderCompareMarkdown, renderCompareTable } from '../report/compare-table.js';
import { builtinRules } from '../scan/scan.js';
import { recommend } from '../recommend/index.js';
import { TOOL } from '../version.js';
import { compareReports } from '../scan/compare.js';
import { formatReference, isLoopback, parseReference } from '../sources/registry/reference.js';
import { QueueFullError, type Job, type ScanQueue } from './queue.js';
import { repositoryOf, type Storage } from './storage.js';
import { UI_PAGE } from './ui.js';

/**
 * The HTTP API and the web UI of `serve`, on one port. Safe by default: reads are open, every
 * write needs the API token when one is set (and one must be set to listen beyond loopback),
 * bodies are small and rate-limited per client, and a scan reference must name an image in a
 * registry — never a local file — on a host the operator allows (without an allowlist: any host
 * that does not resolve to a loopback, private or link-local address).
 */
export interface AppOptions {
  readonly storage: Storage;
  readonly queue: ScanQueue;
  /** Bearer token every write must present; undefined on loopback-only servers. */
  readonly token?: string;
  /** Registry hosts scans may name (host or host:port); undefined: any public host. */
  readonly allowRegistries?: readonly string[];
  /** Writes per client per minute. */
  readonly writesPerMinute?: number;
}

export const MAX_BODY_BYTES = 8 * 1024;

const RENDER: Record<string, [string, (r: Report) => string]> = {
  json: ['application/json', renderJson],
  html: ['text/html; charset=utf-8', (r) => renderScanHtml(r, recommend(r, TOOL))],
  sarif: ['application/sarif+json', (r) => renderSarif(r, builtinRules)],
  cyclonedx: ['application/vnd.cyclonedx+json', renderCycloneDx],
  spdx: ['application/spdx+json', renderSpdx],
  markdown: ['text/markdown; charset=utf-8', renderMarkdown],
  table: ['text/plain; charset=utf-8', renderScanTable],
};

class HttpError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly hint?: string, readonly headers: Record<string, string> = {}) {
    super(message);
  }
}

/** Addresses a scan must not reach unless allowed by name: this machine and private networks. */
export function isPrivateAddress(address: string): boolean {
  if (isIP(address) === 6) {
    const a = address.toLowerCase();
    return a === '::1' || a === '::' || a.startsWith('fc') || a.startsWith('fd') || a.startsWith('fe80') || (a.startsWith('::ffff:') && isPrivateAddress(a.slice(7)));
  }
  const [a = 0, b = 0] = address.split('.').map(Number);
  return a === 10 || a === 127 || a === 0 || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127);
}

/** Validates a submitted reference: a registry image, on an allowed host. Returns its canonical form. */
export async function checkReference(input: unknown, allow: readonly string[] | undefined): Promise<string> {
  if (typeof input !== 'string' || !input.trim()) throw new HttpError(400, 'E_USAGE', 'reference is required', 'send {"reference": "registry.example/app:1.2"}');
  const text = input.trim().replace(/^registry:/, '');
  if (/^(docker-archive|oci-archive|oci|rootfs|docker-daemon):/.test(text)) throw new HttpError(400, 'E_REFERENCE_FORBIDDEN', 'only images in a registry can be scanned here', 'local archives and paths are not readable through the server');
  if (/^[./~]/.test(text) || /\s/.test(text)) throw new HttpError(400, 'E_REFERENCE_FORBIDDEN', 'a path is not an image reference', 'write registry/repository:tag');
  let ref;
  try {
    ref = parseReference(text);
  } catch (error) {
    const e = error as DistrolensError;
    throw new HttpError(400, e.code, e.message, e.hint);
  }
  const host = ref.registry;
  if (allow) {
    if (!allow.includes(host) && !allow.includes(host.replace(/:\d+$/, ''))) {
      throw new HttpError(403, 'E_REFERENCE_FORBIDDEN', `registry ${host} is not allowed on this server`, `allowed: ${allow.join(', ')}`);
    }
  } else {
    const name = host.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
    const addresses = isIP(name) ? [name] : await lookup(name, { all: true }).then((r) => r.map((a) => a.address), () => []);
    if (isLoopback(host) || addresses.some(isPrivateAddress)) {
      throw new HttpError(403, 'E_REFERENCE_FORBIDDEN', `registry ${host} is on this machine or a private network`, 'the operator can allow it: distrolens serve --allow-registry HOST');
    }
  }
  return formatReference(ref);
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) throw new HttpError(413, 'E_TOO_LARGE', `request bodies are limited to ${MAX_BODY_BYTES} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'E_TOO_LARGE', `request bodies are limited to ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
  } catch {
    throw new HttpError(400, 'E_USAGE', 'the body is not JSON', 'send application/json');
  }
}

/** A token bucket per client: `perMinute` writes, refilled continuously. */
function rateLimiter(perMinute: number): (client: string) => number {
  const buckets = new Map<string, { tokens: number; at: number }>();
  return (client) => {
    const now = Date.now();
    const bucket = buckets.get(client) ?? { tokens: perMinute, at: now };
    bucket.tokens = Math.min(perMinute, bucket.tokens + ((now - bucket.at) / 60_000) * perMinute);
    bucket.at = now;
    buckets.set(client, bucket);
    if (buckets.size > 10_000) buckets.delete(buckets.keys().next().value!);
    if (bucket.tokens < 1) return Math.ceil(((1 - bucket.tokens) / perMinute) * 60);
    bucket.tokens -= 1;
    return 0;
  };
}

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'SAMEORIGIN',
};

function send(res: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store', ...SECURITY_HEADERS, ...headers });
  res.end(body);
}

const json = (res: ServerResponse, status: number, value: unknown, headers?: Record<string, string>) => send(res, status, 'application/json', renderJson(value), headers);

/** Compares secrets in constant time. */
function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function createApp(options: AppOptions): Server {
  const { storage, queue } = options;
  const limit = rateLimiter(options.writesPerMinute ?? 30);

  const report = (id: string): Report => {
    const r = storage.getReport(id);
    if (!r) throw new HttpError(404, 'E_NOT_FOUND', `no scan ${id}`);
    return r;
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    if (method === 'POST') {
      if (path !== '/api/scans') throw new HttpError(405, 'E_METHOD', `POST ${path} is not supported`, 'scans are submitted with POST /api/scans', { allow: 'GET' });
      if (options.token && !sameSecret(req.headers.authorization ?? '', `Bearer ${options.token}`)) throw new HttpError(401, 'E_AUTH_REQUIRED', 'this server needs its API token for writes', 'send Authorization: Bearer TOKEN', { 'www-authenticate': 'Bearer' });
      const wait = limit(req.socket.remoteAddress ?? 'unknown');
      if (wait) throw new HttpError(429, 'E_RATE_LIMITED', 'too many requests', `retry in ${wait} s`, { 'retry-after': String(wait) });
    } else if (method !== 'GET' && method !== 'HEAD') throw new HttpError(405, 'E_METHOD', `${method} is not supported`, undefined, { allow: 'GET, POST' });

    if (path === '/' && method === 'GET') return send(res, 200, 'text/html; charset=utf-8', UI_PAGE, { 'content-security-policy': "default-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; frame-src 'self'; connect-src 'self'" });
    if (path === '/api/health') return json(res, 200, { ok: true });
    if (path === '/api/scans' && method === 'POST') {
      const body = await readBody(req) as { reference?: unknown };
      const reference = await checkReference(body.reference, options.allowRegistries);
      let job: Job;
      try {
        job = queue.submit(reference, repositoryOf(reference));
      } catch (error) {
        if (error instanceof QueueFullError) throw new HttpError(503, 'E_BUSY', `the scan queue is full (${error.message})`, 'retry later', { 'retry-after': '30' });
        throw error;
      }
      return json(res, 202, job, { location: `/api/jobs/${job.id}` });
    }
    if (path === '/api/jobs') return json(res, 200, queue.list());
    let m = /^\/api\/jobs\/([\w-]+)(\/events)?$/.exec(path);
    if (m) {
      const job = queue.get(m[1]!);
      if (!job) throw new HttpError(404, 'E_NOT_FOUND', `no job ${m[1]}`);
      if (!m[2]) return json(res, 200, job);
      // Server-sent events: the job now, then every change until it ends.
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', ...SECURITY_HEADERS });
      const write = (j: Job) => res.write(`event: ${j.state === 'done' || j.state === 'failed' ? j.state : 'progress'}\ndata: ${JSON.stringify(j)}\n\n`);
      write(job);
      if (job.state === 'done' || job.state === 'failed') return void res.end();
      const stop = queue.follow(job.id, (j) => {
        write(j);
        if (j.state === 'done' || j.state === 'failed') {
          stop();
          res.end();
        }
      });
      req.on('close', stop);
      return;
    }
    if (path === '/api/images') return json(res, 200, storage.listImages());
    if (path === '/api/history') {
      const repository = url.searchParams.get('repository');
      if (!repository) throw new HttpError(400, 'E_USAGE', 'repository is required', '/api/history?repository=registry/name');
      return json(res, 200, storage.history(repository));
    }
    m = /^\/api\/scans\/([\w-]+)(\/report)?$/.exec(path);
    if (m) {
      if (!m[2]) {
        const scan = storage.getScan(m[1]!);
        if (!scan) throw new HttpError(404, 'E_NOT_FOUND', `no scan ${m[1]}`);
        return json(res, 200, scan);
      }
      const format = url.searchParams.get('format') ?? 'json';
      const renderer = RENDER[format];
      if (!renderer) throw new HttpError(400, 'E_USAGE', `unknown format ${format}`, `use one of: ${Object.keys(RENDER).join(', ')}`);
      const r = report(m[1]!);
      if (format === 'html' && url.searchParams.get('embed') === '1') return send(res, 200, renderer[0], htmlDocument(r.target.reference ?? r.target.input, scanReportBody(r, recommend(r, TOOL))));
      return send(res, 200, renderer[0], renderer[1](r));
    }
    if (path === '/api/compare') {
      const ids = url.searchParams.getAll('id');
      if (ids.length < 2) throw new HttpError(400, 'E_USAGE', 'compare needs two scans', '/api/compare?id=A&id=B');
      const comparison = compareReports(ids.slice(0, 4).map(report));
      const format = url.searchParams.get('format') ?? 'json';
      if (format === 'json') return json(res, 200, comparison);
      if (format === 'html') return send(res, 200, 'text/html; charset=utf-8', url.searchParams.get('embed') === '1' ? htmlDocument('comparison', compareBody(comparison)) : renderCompareHtml(comparison));
      if (format === 'markdown') return send(res, 200, 'text/markdown; charset=utf-8', renderCompareMarkdown(comparison));
      if (format === 'table') return send(res, 200, 'text/plain; charset=utf-8', renderCompareTable(comparison));
      throw new HttpError(400, 'E_USAGE', `unknown format ${format}`, 'use json, html, markdown or table');
    }
    throw new HttpError(404, 'E_NOT_FOUND', `no route ${method} ${path}`);
  }

  return createServer({ requestTimeout: 30_000, headersTimeout: 10_000 }, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      const e = error instanceof HttpError ? error
        : isDistrolensError(error) ? new HttpError(400, error.code, error.message, error.hint)
          : new HttpError(500, 'E_INTERNAL', 'internal error');
      if (res.headersSent) return void res.end();
      json(res, e.status, { error: { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) } }, e.headers);
    });
  });
}

/** Refuses to listen beyond loopback without a token. */
export function checkListen(host: string, token: string | undefined): void {
  const local = host === 'localhost' || isLoopback(host);
  if (!local && !token) throw fail('E_USAGE', `listening on ${host} needs an API token for writes`, 'pass --token (or DISTROLENS_TOKEN), or keep the default --host 127.0.0.1');
}
