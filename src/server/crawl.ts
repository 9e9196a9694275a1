import { randomUUID } from 'node:crypto';
import { fail } from '../core/errors.js';
import { RegistryClient, type ClientOptions } from '../sources/registry/client.js';
import { dockerConfigAuth, sameRegistry, type BoundAuth } from '../sources/registry/credentials.js';
import { formatReference, parseReference } from '../sources/registry/reference.js';
import { readLimited, tagDigest } from '../sources/registry/index.js';
import { MAX_MANIFEST_BYTES } from '../image/manifest.js';
import { mapLimit } from '../util/concurrency.js';
import { jobError, type ScanQueue } from './queue.js';
import { repositoryOf, type Storage, type TagSource } from './storage.js';

/**
 * Sources of fleet work: a registry's catalog and tags, or a list of references (a file, the
 * images a cluster runs). Each reference is resolved to its manifest digest, recorded in the
 * fleet, and a scan is queued once per digest that has no report yet: a hundred tags of one
 * image are one scan.
 */
export interface RegistryCrawl {
  readonly registry: string;
  /** Repository globs (`*` within a path segment, `**` across them); default every repository. */
  readonly repositories: readonly string[];
  /** Tag glob; default every tag. */
  readonly tags: string;
  readonly insecure: boolean;
}

export interface ListCrawl {
  readonly references: readonly string[];
  readonly source: Extract<TagSource, 'list' | 'workload'>;
}

export type CrawlRequest = RegistryCrawl | ListCrawl;

export interface CrawlProgress {
  /** References listed and resolved to a digest. */
  listed: number;
  /** Scans queued (digests without a report). */
  queued: number;
  /** Digests already scanned or already queued. */
  known: number;
  /** References that could not be resolved (gone, denied): with the first errors. */
  failed: number;
  errors: string[];
}

/** Tags resolved to digests at once: a few HEADs in flight, well under any registry's limits. */
const RESOLVE_CONCURRENCY = 8;
/** Catalog and tag lists are read in pages of this size (the registry may answer with less). */
const PAGE = 1000;
/** A registry listing more repositories or tags than this is refused (a hostile or broken catalog). */
export const MAX_LISTED = 100_000;

/** A glob as a regular expression: `**` any characters, `*` any but `/`, `?` one character. */
export function globRegExp(glob: string): RegExp {
  const body = glob
    .split('**')
    .map((part) =>
      part
        .split('*')
        .map((p) => p.split('?').map(escape).join('[^/]'))
        .join('[^/]*'),
    )
    .join('.*');
  return new RegExp(`^${body}$`);
}
const escape = (text: string): string => text.replace(/[.+^${}()|[\]\\]/g, '\\$&');

/** Reads the `Link: <…>; rel="next"` of a paged list; undefined on the last page. */
export function nextPage(link: string | null): string | undefined {
  const match = link && /<([^>]+)>\s*;\s*rel="?next"?/.exec(link);
  return match ? match[1] : undefined;
}

async function readPaged<T>(
  client: RegistryClient,
  first: string,
  repository: string,
  scope: string | undefined,
  pick: (body: unknown) => readonly T[],
): Promise<T[]> {
  const items: T[] = [];
  for (let path: string | undefined = first; path;) {
    const response = await client.request(path, {
      repository,
      ...(scope ? { scope } : {}),
      what: `list ${repository || 'catalog'}`,
    });
    const next = nextPage(response.headers.get('link'));
    const body = JSON.parse(
      (await readLimited(response, MAX_MANIFEST_BYTES, 'registry list')).toString('utf8'),
    ) as unknown;
    items.push(...pick(body));
    if (items.length > MAX_LISTED)
      throw fail(
        'E_TOO_LARGE',
        `${client.registry} lists more than ${MAX_LISTED} entries`,
        'narrow the crawl with repository globs',
      );
    // A next link must stay on the registry and in the API.
    path = next && next.startsWith('/v2/') ? next : undefined;
  }
  return items;
}

const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];

/**
 * The distribution spec's grammars for names and tags. A list entry outside them (`../x`, `a?b`)
 * would be spliced into a request path: it is dropped, never requested.
 */
const REPOSITORY_NAME = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
const TAG_NAME = /^\w[\w.-]{0,127}$/;

export interface CrawlDeps {
  readonly storage: Storage;
  readonly queue: ScanQueue;
  /** How the server talks to registries (its SSRF guard, its gate, its credentials). */
  readonly client: Omit<ClientOptions, 'signal' | 'auth'>;
  /** The server's explicit credentials: for their registry only, as for pulls. */
  readonly auth?: BoundAuth;
  readonly env?: NodeJS.ProcessEnv;
  /** Entries asked per page of the catalog and tag lists (default 1000). */
  readonly pageSize?: number;
}

/** Lists, resolves, records and queues; `progress` is updated as it goes (the crawl's status). */
export async function runCrawl(
  request: CrawlRequest,
  deps: CrawlDeps,
  progress: CrawlProgress,
  signal?: AbortSignal,
): Promise<void> {
  const clients = new Map<string, RegistryClient>();
  const clientFor = (registry: string, insecure: boolean): RegistryClient => {
    let client = clients.get(registry);
    if (!client) {
      client = new RegistryClient(registry, {
        lookupAuth: (r) => dockerConfigAuth(r, deps.env),
        ...deps.client,
        ...(deps.auth && sameRegistry(deps.auth.registry, registry) ? { auth: deps.auth } : {}),
        insecure,
        ...(signal ? { signal } : {}),
      });
      clients.set(registry, client);
    }
    return client;
  };
  const wanted: { registry: string; repository: string; tag: string; insecure: boolean }[] = [];
  const source: TagSource = 'references' in request ? request.source : 'crawl';
  if ('references' in request) {
    for (const text of request.references) {
      const ref = parseReference(text);
      wanted.push({
        registry: ref.registry,
        repository: ref.repository,
        tag: ref.digest ?? ref.tag ?? 'latest',
        insecure: false,
      });
    }
  } else {
    const client = clientFor(request.registry, request.insecure);
    const patterns = request.repositories.map(globRegExp);
    const tagPattern = globRegExp(request.tags);
    const page = deps.pageSize ?? PAGE;
    const repositories = await readPaged(client, `/v2/_catalog?n=${page}`, '', 'registry:catalog:*', (b) =>
      strings((b as { repositories?: unknown }).repositories),
    );
    for (const repository of repositories.filter((r) => REPOSITORY_NAME.test(r) && patterns.some((p) => p.test(r)))) {
      const tags = await readPaged(client, `/v2/${repository}/tags/list?n=${page}`, repository, undefined, (b) =>
        strings((b as { tags?: unknown }).tags),
      );
      for (const tag of tags.filter((t) => TAG_NAME.test(t) && tagPattern.test(t)))
        wanted.push({ registry: request.registry, repository, tag, insecure: request.insecure });
    }
  }
  // Tags are resolved a few at a time (a HEAD each).
  const seen = new Set<string>();
  await mapLimit(wanted, RESOLVE_CONCURRENCY, async (item) => {
    signal?.throwIfAborted();
    const reference = formatReference({
      registry: item.registry,
      repository: item.repository,
      ...(item.tag.startsWith('sha256:') ? { digest: item.tag as `sha256:${string}` } : { tag: item.tag }),
    });
    let digest: string;
    try {
      digest = item.tag.startsWith('sha256:')
        ? item.tag
        : await tagDigest(clientFor(item.registry, item.insecure), item.repository, item.tag);
    } catch (error) {
      progress.failed++;
      if (progress.errors.length < 10) progress.errors.push(`${reference}: ${(error as Error).message}`);
      return;
    }
    progress.listed++;
    // Tags of one image met in this crawl: the first queues it (checked and marked before any await).
    const first = !seen.has(digest);
    seen.add(digest);
    await deps.storage.recordTags([{ reference, digest, source, running: source === 'workload' }]);
    if (!first || (await deps.storage.findByDigest(digest))) {
      progress.known++;
      return;
    }
    const pinned = `${item.registry}/${item.repository}@${digest}`;
    const job = await deps.queue.submit({
      reference: pinned,
      repository: repositoryOf(pinned),
      digest,
      source: 'crawl',
      ...(item.insecure ? { insecure: true } : {}),
    });
    if (job.deduplicated) progress.known++;
    else progress.queued++;
  });
}

export interface Crawl {
  readonly id: string;
  readonly request: CrawlRequest;
  readonly state: 'running' | 'done' | 'failed';
  readonly startedAt: string;
  readonly finishedAt?: string;
  readonly progress: CrawlProgress;
  readonly error?: { readonly code: string; readonly message: string };
  /** Repeated every so many milliseconds (`--crawl-every`, or the request's `every`). */
  readonly everyMs?: number;
}

/** Crawls of this server: run in the background, the last 100 kept for GET /api/crawls, repeats scheduled. */
export class Crawler {
  readonly #crawls = new Map<string, Crawl>();
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #running = new Set<Promise<void>>();
  readonly #stop = new AbortController();

  constructor(private readonly deps: CrawlDeps) {}

  /** Starts a crawl; with `everyMs`, starts it again that long after each one ends. */
  start(request: CrawlRequest, everyMs?: number): Crawl {
    const crawl: Crawl = {
      id: randomUUID(),
      request,
      state: 'running',
      startedAt: new Date().toISOString(),
      progress: { listed: 0, queued: 0, known: 0, failed: 0, errors: [] },
      ...(everyMs ? { everyMs } : {}),
    };
    this.#crawls.set(crawl.id, crawl);
    for (const old of [...this.#crawls.keys()].slice(0, Math.max(0, this.#crawls.size - 100))) this.#crawls.delete(old);
    const run = runCrawl(request, this.deps, crawl.progress, this.#stop.signal)
      .then(
        () => ({ state: 'done' as const }),
        (error: unknown) => ({ state: 'failed' as const, error: jobError(error) }),
      )
      .then((end) => {
        this.#crawls.set(crawl.id, { ...crawl, ...end, finishedAt: new Date().toISOString() });
        this.#running.delete(run);
        if (everyMs && !this.#stop.signal.aborted) {
          const timer = setTimeout(() => {
            this.#timers.delete(timer);
            this.start(request, everyMs);
          }, everyMs);
          timer.unref();
          this.#timers.add(timer);
        }
      });
    this.#running.add(run);
    return crawl;
  }

  get(id: string): Crawl | undefined {
    return this.#crawls.get(id);
  }

  /** Newest first. */
  list(): Crawl[] {
    return [...this.#crawls.values()].reverse();
  }

  async close(): Promise<void> {
    this.#stop.abort();
    for (const timer of this.#timers) clearTimeout(timer);
    await Promise.all(this.#running);
  }
}

/** Reads a crawl request from an API body; a registry must be allowed like a scan's. */
export function parseCrawlRequest(body: unknown): CrawlRequest & { readonly every?: string } {
  const b = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  const every = typeof b.every === 'string' ? { every: b.every } : {};
  if (Array.isArray(b.references)) {
    const references = strings(b.references);
    if (!references.length || references.length > 10_000)
      throw fail('E_USAGE', 'references must list 1 to 10000 image references', 'send {"references": ["host/app:1"]}');
    const source = b.source === 'workload' ? 'workload' : 'list';
    return { references, source, ...every };
  }
  if (typeof b.registry !== 'string' || !/^[A-Za-z0-9.-]+(:\d+)?$/.test(b.registry))
    throw fail(
      'E_USAGE',
      'registry is required (host or host:port)',
      'send {"registry": "registry.example", "repositories": ["team/*"], "tags": "*"}',
    );
  const repositories = b.repositories === undefined ? ['**'] : strings(b.repositories);
  if (!repositories.length) throw fail('E_USAGE', 'repositories must be a list of globs');
  if (b.tags !== undefined && typeof b.tags !== 'string') throw fail('E_USAGE', 'tags must be a glob');
  return {
    registry: b.registry,
    repositories,
    tags: typeof b.tags === 'string' ? b.tags : '*',
    insecure: b.insecure === true,
    ...every,
  };
}
