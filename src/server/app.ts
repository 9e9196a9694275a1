import { timingSafeEqual } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { DistrolensError, fail, isDistrolensError, type ErrorCode } from '../core/errors.js';
import type { Report } from '../core/report.js';
import { renderJson } from '../report/format.js';
import type { WorkloadsReport } from '../core/workloads.js';
import {
  compareBody,
  htmlDocument,
  renderCompareHtml,
  renderFleetHtml,
  renderWorkloadsHtml,
  scanReportBody,
} from '../report/html.js';
import { isScanFormat, renderScan, scanFormatMediaType, SCAN_FORMATS } from '../report/formats.js';
import { renderCompareMarkdown, renderCompareTable } from '../report/compare-table.js';
import { builtinRules } from '../scan/scan.js';
import { recommend } from '../recommend/index.js';
import { TOOL } from '../version.js';
import { compareReports } from '../scan/compare.js';
import { SCHEMES } from '../sources/index.js';
import { bareHost, forbiddenHost, isPrivateAddress } from '../util/network.js';
import { formatReference, isLoopback, parseReference } from '../sources/registry/reference.js';
import { isFinished, type Job, type ScanQueue } from './queue.js';
import { repositoryOf, type Storage } from './storage.js';
import { UI_PAGE } from './ui.js';
import { parseCrawlRequest, type Crawler } from './crawl.js';
import { FLEET_SORTS, fleetView, takeSnapshot, type FleetSort } from './fleet.js';
import type { RematchRecord } from './storage.js';

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
  readonly token?: string | undefined;
  /** Registry hosts scans may name (host or host:port); undefined: any public host. */
  readonly allowRegistries?: readonly string[] | undefined;
  /** Writes per client per minute. */
  readonly writesPerMinute?: number | undefined;
  /**
   * Host names the server answers to besides its listen address (a name in front of it); on a
   * loopback listener, loopback names are always accepted. Other Host headers are refused (DNS rebinding).
   */
  readonly hosts?: readonly string[] | undefined;
  /** The workloads page (`serve --workloads PATH` or `--cluster`): judged anew on each request, images from the cache. */
  readonly workloads?: (() => Promise<WorkloadsReport>) | undefined;
  /** Crawls of registries and reference lists (POST /api/crawls). */
  readonly crawler?: Crawler | undefined;
  /** Re-matches stored reports against the current vulnerability database (POST /api/rematch). */
  readonly rematch?: (() => Promise<RematchRecord | undefined>) | undefined;
  /** More routes (Harbor's scanner API), matched before the built-in ones. */
  readonly routes?: readonly Route[] | undefined;
}

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];

/** The host part of a Host header, lower case, without the port. */
const hostName = (header: string): string => header.toLowerCase().replace(/:\d+$/, '');

/**
 * DNS rebinding: a page on attacker.example whose name later resolves to 127.0.0.1 talks to this
 * server with `Host: attacker.example`. A loopback server answers loopback names only; a server
 * given names (--public-host) answers those and its listen address.
 */
function checkHost(req: IncomingMessage, names: readonly string[] | undefined): void {
  const header = req.headers.host;
  if (!header) throw new HttpError('E_USAGE', 'a Host header is required', undefined, {}, 400);
  const name = hostName(header);
  const local = req.socket.localAddress ?? '';
  const loopback = isLoopback(local) || local === '::ffff:127.0.0.1';
  const listen = local.includes(':') && !local.startsWith('::ffff:') ? `[${local}]` : local.replace(/^::ffff:/, '');
  const allowed = [...(loopback ? LOOPBACK_NAMES : [listen]), ...(names ?? []).map((n) => n.toLowerCase())];
  if (!loopback && !names?.length) return; // a non-loopback listener without names: the token guards writes
  if (!allowed.includes(name) && !(loopback && /^127\.\d+\.\d+\.\d+$/.test(name)))
    throw new HttpError(
      'E_FORBIDDEN',
      `this server does not answer to ${JSON.stringify(name)}`,
      'use the address it listens on',
      {},
      421,
    );
}

/**
 * CSRF: a write from a page of another origin is refused (browsers send Origin on cross-origin
 * requests and on every POST), and a write's body must be JSON (a cross-origin form or
 * text/plain POST cannot set that type without a preflight the server never grants).
 */
function checkWrite(req: IncomingMessage): void {
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== 'null') {
    let same = false;
    try {
      same = new URL(origin).host.toLowerCase() === (req.headers.host ?? '').toLowerCase();
    } catch {
      same = false;
    }
    if (!same)
      throw new HttpError(
        'E_FORBIDDEN',
        `writes from ${origin} are not accepted`,
        'use the web UI of this server or a client without a browser origin',
      );
  } else if (origin === 'null') throw new HttpError('E_FORBIDDEN', 'writes from an opaque origin are not accepted');
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (req.method === 'POST' && type !== 'application/json')
    throw new HttpError('E_USAGE', 'the body must be application/json', 'send Content-Type: application/json', {}, 415);
}

export const MAX_BODY_BYTES = 8 * 1024;

/** HTTP status of each error code the API answers with; other catalogue errors are 400. */
const STATUS: Partial<Record<ErrorCode, number>> = {
  E_AUTH_REQUIRED: 401,
  E_FORBIDDEN: 403,
  E_REFERENCE_FORBIDDEN: 403,
  E_NOT_FOUND: 404,
  E_METHOD: 405,
  E_TOO_LARGE: 413,
  E_RATE_LIMITED: 429,
  E_INTERNAL: 500,
  E_BUSY: 503,
};

/** A catalogue error as the API answers it: its code's status, and headers (Retry-After, Allow). */
export class HttpError extends DistrolensError {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    code: ErrorCode,
    message: string,
    hint?: string,
    headers: Record<string, string> = {},
    status = STATUS[code] ?? 400,
  ) {
    super({ code, message, ...(hint ? { hint } : {}) });
    this.status = status;
    this.headers = headers;
  }

  static from(error: unknown): HttpError {
    if (error instanceof HttpError) return error;
    if (isDistrolensError(error))
      return new HttpError(
        error.code,
        error.message,
        error.hint,
        error.code === 'E_BUSY' ? { 'retry-after': '30' } : {},
      );
    return new HttpError('E_INTERNAL', 'internal error');
  }
}

export { isPrivateAddress } from '../util/network.js';

/** Validates a submitted reference: a registry image, on an allowed host. Returns its canonical form. */
export async function checkReference(input: unknown, allow: readonly string[] | undefined): Promise<string> {
  if (typeof input !== 'string' || !input.trim())
    throw new HttpError('E_USAGE', 'reference is required', 'send {"reference": "registry.example/app:1.2"}');
  const text = input.trim().replace(/^registry:/, '');
  if (SCHEMES.some((scheme) => scheme !== 'registry' && text.startsWith(`${scheme}:`)))
    throw new HttpError(
      'E_REFERENCE_FORBIDDEN',
      'only images in a registry can be scanned here',
      'local archives and paths are not readable through the server',
      {},
      400,
    );
  if (/^[./~]/.test(text) || /\s/.test(text))
    throw new HttpError(
      'E_REFERENCE_FORBIDDEN',
      'a path is not an image reference',
      'write registry/repository:tag',
      {},
      400,
    );
  let ref;
  try {
    ref = parseReference(text);
  } catch (error) {
    throw HttpError.from(error);
  }
  const host = ref.registry;
  if (allow) {
    if (!allow.includes(host) && !allow.includes(host.replace(/:\d+$/, ''))) {
      throw new HttpError(
        'E_REFERENCE_FORBIDDEN',
        `registry ${host} is not allowed on this server`,
        `allowed: ${allow.join(', ')}`,
      );
    }
  } else {
    // An early answer for the user; every connection of the pull is checked again (util/network.ts).
    const name = bareHost(host.replace(/:\d+$/, ''));
    const addresses = isIP(name)
      ? [name]
      : await lookup(name, { all: true }).then(
          (r) => r.map((a) => a.address),
          () => undefined,
        );
    if (!addresses?.length || isLoopback(host) || addresses.some(isPrivateAddress))
      throw HttpError.from(forbiddenHost(host));
  }
  return formatReference(ref);
}

export async function readBody(req: IncomingMessage): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES)
    throw new HttpError('E_TOO_LARGE', `request bodies are limited to ${MAX_BODY_BYTES} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES)
      throw new HttpError('E_TOO_LARGE', `request bodies are limited to ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
  } catch {
    throw new HttpError('E_USAGE', 'the body is not JSON', 'send application/json');
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

export function send(
  res: ServerResponse,
  status: number,
  type: string,
  body: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    ...SECURITY_HEADERS,
    ...headers,
  });
  res.end(body);
}

export const json = (res: ServerResponse, status: number, value: unknown, headers?: Record<string, string>) =>
  send(res, status, 'application/json', renderJson(value), headers);

/** Compares secrets in constant time. */
export function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** What a route's handler gets: the request, the response, the URL and the pattern's captures. */
export interface RouteContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  readonly params: readonly string[];
}

/** One route of the API: its method, its path pattern, whether it writes (token, rate limit), its handler. */
export interface Route {
  readonly method: 'GET' | 'POST' | 'DELETE';
  readonly pattern: RegExp;
  readonly write?: boolean;
  /** Its own authentication and error answers (Harbor's API key and error type): no token, CSRF or rate checks here. */
  readonly own?: boolean;
  readonly handle: (context: RouteContext) => Promise<void> | void;
}

const UI_CSP =
  "default-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; frame-src 'self'; connect-src 'self'";
const ID = '([\\w-]+)';

export function createApp(options: AppOptions): Server {
  const { storage, queue } = options;
  const limit = rateLimiter(options.writesPerMinute ?? 30);

  const report = async (id: string): Promise<Report> => {
    const r = await storage.getReport(id);
    if (!r) throw new HttpError('E_NOT_FOUND', `no scan ${id}`);
    return r;
  };
  const job = async (id: string): Promise<Job> => {
    const found = await queue.get(id);
    if (!found) throw new HttpError('E_NOT_FOUND', `no job ${id}`);
    return found;
  };
  const context = (r: Report) => ({ rules: builtinRules, recommendation: () => recommend(r, TOOL) });

  /** Server-sent events: the job now, then every change until it ends. */
  const events = ({ req, res }: RouteContext, current: Job): void => {
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      ...SECURITY_HEADERS,
    });
    const write = (j: Job) =>
      res.write(
        `event: ${isFinished(j) ? (j.state === 'done' ? 'done' : 'failed') : 'progress'}\ndata: ${JSON.stringify(j)}\n\n`,
      );
    write(current);
    if (isFinished(current)) return void res.end();
    const stop = queue.follow(current.id, (j) => {
      write(j);
      if (isFinished(j)) {
        stop();
        res.end();
      }
    });
    req.on('close', stop);
  };

  const routes: readonly Route[] = [
    {
      method: 'GET',
      pattern: /^\/$/,
      handle: ({ res }) => send(res, 200, 'text/html; charset=utf-8', UI_PAGE, { 'content-security-policy': UI_CSP }),
    },
    { method: 'GET', pattern: /^\/api\/health$/, handle: ({ res }) => json(res, 200, { ok: true }) },
    {
      method: 'POST',
      pattern: /^\/api\/scans$/,
      write: true,
      handle: async ({ req, res }) => {
        const body = await readBody(req);
        const reference = await checkReference(
          body && typeof body === 'object' ? (body as { reference?: unknown }).reference : undefined,
          options.allowRegistries,
        );
        const submitted = await queue.submit({ reference, repository: repositoryOf(reference) });
        json(res, 202, submitted, { location: `/api/jobs/${submitted.id}` });
      },
    },
    { method: 'GET', pattern: /^\/api\/jobs$/, handle: async ({ res }) => json(res, 200, await queue.list()) },
    {
      method: 'DELETE',
      pattern: /^\/api\/jobs$/,
      write: true,
      handle: async ({ res }) => json(res, 200, { cleared: await queue.clearFinished() }),
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/api/jobs/${ID}$`),
      handle: async ({ res, params }) => json(res, 200, await job(params[0]!)),
    },
    {
      method: 'DELETE',
      pattern: new RegExp(`^/api/jobs/${ID}$`),
      write: true,
      handle: async ({ res, params }) => json(res, 200, await queue.cancel((await job(params[0]!)).id)),
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/api/jobs/${ID}/events$`),
      handle: async (c) => events(c, await job(c.params[0]!)),
    },
    {
      method: 'GET',
      pattern: /^\/api\/images$/,
      handle: async ({ res }) => json(res, 200, await storage.listImages()),
    },
    {
      method: 'GET',
      pattern: /^\/api\/history$/,
      handle: async ({ res, url }) => {
        const repository = url.searchParams.get('repository');
        if (!repository)
          throw new HttpError('E_USAGE', 'repository is required', '/api/history?repository=registry/name');
        json(res, 200, await storage.history(repository));
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/api/scans/${ID}$`),
      handle: async ({ res, params }) => {
        const scan = await storage.getScan(params[0]!);
        if (!scan) throw new HttpError('E_NOT_FOUND', `no scan ${params[0]}`);
        json(res, 200, scan);
      },
    },
    {
      method: 'DELETE',
      pattern: new RegExp(`^/api/scans/${ID}$`),
      write: true,
      handle: async ({ res, params }) => {
        if (!(await storage.deleteScan(params[0]!))) throw new HttpError('E_NOT_FOUND', `no scan ${params[0]}`);
        json(res, 200, { deleted: params[0] });
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/api/scans/${ID}/report$`),
      handle: async ({ res, url, params }) => {
        const format = url.searchParams.get('format') ?? 'json';
        if (!isScanFormat(format))
          throw new HttpError('E_USAGE', `unknown format ${format}`, `use one of: ${SCAN_FORMATS.join(', ')}`);
        const r = await report(params[0]!);
        if (format === 'html' && url.searchParams.get('embed') === '1')
          return send(
            res,
            200,
            scanFormatMediaType(format),
            htmlDocument(r.target.reference ?? r.target.input, scanReportBody(r, recommend(r, TOOL))),
          );
        const download =
          url.searchParams.get('download') === '1'
            ? {
                'content-disposition': `attachment; filename="distrolens-${params[0]}.${format === 'markdown' ? 'md' : format === 'table' ? 'txt' : format}"`,
              }
            : {};
        send(res, 200, scanFormatMediaType(format), renderScan(format, r, context(r)), download);
      },
    },
    {
      method: 'GET',
      pattern: /^\/(api\/)?workloads$/,
      handle: async ({ res, url }) => {
        if (!options.workloads)
          throw new HttpError(
            'E_NOT_FOUND',
            'this server judges no workloads',
            'start it with distrolens serve --workloads k8s/ (manifests) or --cluster',
          );
        const report = await options.workloads();
        const format = url.searchParams.get('format') ?? (url.pathname === '/workloads' ? 'html' : 'json');
        if (format === 'json') return json(res, 200, report);
        if (format === 'html') return send(res, 200, 'text/html; charset=utf-8', renderWorkloadsHtml(report));
        throw new HttpError('E_USAGE', `unknown format ${format}`, 'use json or html');
      },
    },
    {
      method: 'GET',
      pattern: /^\/(api\/)?fleet$/,
      handle: async ({ res, url }) => {
        const number = (name: string) => {
          const v = url.searchParams.get(name);
          return v !== null && /^\d{1,6}$/.test(v) ? { [name]: Number(v) } : {};
        };
        const sort = url.searchParams.get('sort') ?? 'reference';
        if (!(FLEET_SORTS as readonly string[]).includes(sort))
          throw new HttpError('E_USAGE', `unknown sort ${sort}`, `use one of: ${FLEET_SORTS.join(', ')}`);
        const filter = url.searchParams.get('filter');
        const view = await fleetView(storage, {
          ...number('page'),
          ...number('size'),
          sort: sort as FleetSort,
          ...(filter ? { filter } : {}),
        });
        const format = url.searchParams.get('format') ?? (url.pathname === '/fleet' ? 'html' : 'json');
        if (format === 'json') return json(res, 200, view);
        if (format !== 'html') throw new HttpError('E_USAGE', `unknown format ${format}`, 'use json or html');
        const link = (page: number) => {
          const next = new URLSearchParams(url.searchParams);
          next.set('page', String(page));
          return `/fleet?${next.toString()}`;
        };
        send(res, 200, 'text/html; charset=utf-8', renderFleetHtml(view, link));
      },
    },
    {
      method: 'POST',
      pattern: /^\/api\/fleet\/snapshots$/,
      write: true,
      handle: async ({ res }) => json(res, 201, await takeSnapshot(storage)),
    },
    {
      method: 'POST',
      pattern: /^\/api\/crawls$/,
      write: true,
      handle: async ({ req, res }) => {
        const crawler = options.crawler;
        if (!crawler) throw new HttpError('E_NOT_FOUND', 'this server does not crawl');
        let request;
        try {
          request = parseCrawlRequest(await readBody(req));
        } catch (error) {
          throw HttpError.from(error);
        }
        const { every, ...what } = request;
        const registries =
          'references' in what ? what.references.map((r) => parseReference(r).registry) : [what.registry];
        for (const registry of new Set(registries)) await checkReference(`${registry}/probe`, options.allowRegistries);
        const everyMs = every ? parseEvery(every) : undefined;
        const crawl = crawler.start(what, everyMs);
        json(res, 202, crawl, { location: `/api/crawls/${crawl.id}` });
      },
    },
    {
      method: 'GET',
      pattern: /^\/api\/crawls$/,
      handle: ({ res }) => json(res, 200, options.crawler?.list() ?? []),
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/api/crawls/${ID}$`),
      handle: ({ res, params }) => {
        const crawl = options.crawler?.get(params[0]!);
        if (!crawl) throw new HttpError('E_NOT_FOUND', `no crawl ${params[0]}`);
        json(res, 200, crawl);
      },
    },
    {
      method: 'POST',
      pattern: /^\/api\/rematch$/,
      write: true,
      handle: async ({ res }) => {
        if (!options.rematch)
          throw new HttpError(
            'E_VULN_DB_MISSING',
            'this server has no vulnerability database',
            'run distrolens db update',
          );
        json(res, 200, (await options.rematch()) ?? { scans: 0 });
      },
    },
    {
      method: 'GET',
      pattern: /^\/api\/compare$/,
      handle: async ({ res, url }) => {
        const ids = url.searchParams.getAll('id');
        if (ids.length < 2) throw new HttpError('E_USAGE', 'compare needs two scans', '/api/compare?id=A&id=B');
        const comparison = compareReports(await Promise.all(ids.slice(0, 4).map(report)));
        const format = url.searchParams.get('format') ?? 'json';
        if (format === 'json') return json(res, 200, comparison);
        if (format === 'html')
          return send(
            res,
            200,
            'text/html; charset=utf-8',
            url.searchParams.get('embed') === '1'
              ? htmlDocument('comparison', compareBody(comparison))
              : renderCompareHtml(comparison),
          );
        if (format === 'markdown')
          return send(res, 200, 'text/markdown; charset=utf-8', renderCompareMarkdown(comparison));
        if (format === 'table') return send(res, 200, 'text/plain; charset=utf-8', renderCompareTable(comparison));
        throw new HttpError('E_USAGE', `unknown format ${format}`, 'use json, html, markdown or table');
      },
    },
  ];

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    checkHost(req, options.hosts);
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      throw new HttpError('E_USAGE', 'the request target is not a path', 'request /api/…', {}, 400);
    }
    if (!(req.url ?? '/').startsWith('/'))
      throw new HttpError('E_USAGE', 'the request target is not a path', 'request /api/…', {}, 400);
    const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
    const matching = [...(options.routes ?? []), ...routes].filter((r) => r.pattern.test(url.pathname));
    const route = matching.find((r) => r.method === method);
    if (!route) {
      if (!matching.length) throw new HttpError('E_NOT_FOUND', `no route ${method} ${url.pathname}`);
      const allow = [...new Set(matching.map((r) => r.method))].join(', ');
      throw new HttpError('E_METHOD', `${method} ${url.pathname} is not supported`, `use ${allow}`, { allow });
    }
    if (route.write && !route.own) {
      checkWrite(req);
      if (options.token && !sameSecret(req.headers.authorization ?? '', `Bearer ${options.token}`))
        throw new HttpError(
          'E_AUTH_REQUIRED',
          'this server needs its API token for writes',
          'send Authorization: Bearer TOKEN',
          { 'www-authenticate': 'Bearer' },
        );
      const wait = limit(req.socket.remoteAddress ?? 'unknown');
      if (wait)
        throw new HttpError('E_RATE_LIMITED', 'too many requests', `retry in ${wait} s`, {
          'retry-after': String(wait),
        });
    }
    await route.handle({ req, res, url, params: route.pattern.exec(url.pathname)!.slice(1) });
  }

  return createServer({ requestTimeout: 30_000, headersTimeout: 10_000 }, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      const e = HttpError.from(error);
      if (res.headersSent) return void res.end();
      json(
        res,
        e.status,
        { error: { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) } },
        { ...e.headers },
      );
    });
  });
}

/** `6h`, `30m`, `90s`, `1d`: a crawl's period; at least a minute. */
export function parseEvery(text: string): number {
  const match = /^(\d{1,5})(s|m|h|d)$/.exec(text.trim());
  const ms = match ? Number(match[1]) * { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 's'] : NaN;
  if (!(ms >= 60_000))
    throw new HttpError('E_USAGE', `invalid period ${JSON.stringify(text)}`, 'give e.g. 6h, 30m or 1d (at least 1m)');
  return ms;
}

/** Refuses to listen beyond loopback without a token. */
export function checkListen(host: string, token: string | undefined): void {
  const local = host === 'localhost' || isLoopback(host);
  if (!local && !token)
    throw fail(
      'E_USAGE',
      `listening on ${host} needs an API token for writes`,
      'pass --token (or DISTROLENS_TOKEN), or keep the default --host 127.0.0.1',
    );
}
