import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { errors, fail } from '../core/errors.js';
import { containersOf, str } from '../workloads/pss.js';
import { readManifests } from '../workloads/manifests.js';
import { loadClusterConfig, readCluster } from '../workloads/cluster.js';
import { DEFAULT_JOB_TIMEOUT_MS } from '../server/queue.js';
import { openVulnOptions } from './db.js';
import { EXIT, untilStopped, type CliIo } from './io.js';
import {
  cacheRoot,
  COMMON_FLAGS,
  COMMON_OPTIONS_HELP,
  openOptions,
  parseCount,
  parseDuration,
  parseFlags,
} from './options.js';
import { crawlTarget } from './serve.js';
import { WORKLOAD_SOURCE_FLAGS } from './workloads.js';

export const WORKER_HELP = `Usage: distrolens worker --database URL [--concurrency N] [options]

Takes scan jobs from the fleet's queue in PostgreSQL (pg-boss) and stores the reports there; run
as many as you like, on as many machines, beside one or more \`distrolens serve --database URL\`.
A worker that dies has its job picked up by another within a minute; each registry gets at most
--registry-concurrency pulls at once across all workers, and a 429 from it pauses them all.

Options:
  --database URL              PostgreSQL, as for serve (or DISTROLENS_DATABASE)
  --concurrency N             scans at once in this process (default 2)
  --registry-concurrency N    pulls at once per registry across the fleet (default 4)
  --timeout DURATION          each scan's budget (default 10m)
  --dead-after DURATION       a worker silent this long is dead: its jobs run again (default 30s)
  --cache-dir DIR             blob and layer caches, and the vulnerability database
  --registry HOST             the registry DISTROLENS_USERNAME/PASSWORD or _REGISTRY_TOKEN are for
                              (or DISTROLENS_REGISTRY); other registries: the docker config
${COMMON_OPTIONS_HELP}`;

export const WORKER_FLAGS = {
  ...COMMON_FLAGS,
  database: { type: 'string' },
  concurrency: { type: 'string' },
  'registry-concurrency': { type: 'string' },
  timeout: { type: 'string' },
  'dead-after': { type: 'string' },
  'cache-dir': { type: 'string' },
  registry: { type: 'string' },
} as const;

/** The heartbeat is a sixth of the time after which a silent worker counts as dead. */
const deadAfter = (ms: number) => ({ deadAfterMs: ms, heartbeatMs: Math.max(250, Math.floor(ms / 6)) });

/** `distrolens worker`: runs until SIGINT/SIGTERM, then gives its running jobs back and stops. */
export async function workerCommand(args: string[], io: CliIo, signal?: AbortSignal): Promise<number> {
  const { values, positionals } = parseFlags(args, WORKER_FLAGS);
  if (values.help) {
    io.stdout.write(WORKER_HELP);
    return EXIT.ok;
  }
  if (positionals.length) throw errors.usage('worker takes no arguments', 'see distrolens worker --help');
  const database = values.database ?? io.env.DISTROLENS_DATABASE;
  if (!database)
    throw errors.usage('worker needs --database', 'give the PostgreSQL URL the server uses: --database postgres://…');
  const concurrency = parseCount(values.concurrency, 'concurrency', 2, 64);
  const registryConcurrency = parseCount(values['registry-concurrency'], 'registry-concurrency', 4, 256);
  const { open } = openOptions(values, io);
  const vulns = openVulnOptions(values, io);
  const { startWorker } = await import('../fleet/index.js');
  const worker = await startWorker({
    database,
    concurrency,
    registryConcurrency,
    cacheDir: cacheRoot(values, io),
    jobTimeoutMs: values.timeout ? parseDuration(values.timeout, 'timeout') : DEFAULT_JOB_TIMEOUT_MS,
    ...(values['dead-after'] ? deadAfter(parseDuration(values['dead-after'], 'dead-after')) : {}),
    open: { ...(open.auth ? { auth: open.auth } : {}), ...(open.limits ? { limits: open.limits } : {}), env: io.env },
    ...(vulns.options ? { vulnerabilities: () => vulns.options } : {}),
    ...(values.quiet ? {} : { log: (line: string) => io.stderr.write(`${line}\n`) }),
  });
  await untilStopped(signal);
  await worker.stop();
  vulns.close();
  return EXIT.ok;
}

export const CRAWL_HELP = `Usage: distrolens crawl REGISTRY[/GLOB] --server URL [options]
       distrolens crawl --from FILE --server URL
       distrolens crawl --workloads PATH… | --cluster [--context NAME] [-n NS | -A] --server URL

Asks a distrolens server to crawl: every repository of a registry's catalog (or those matching
GLOB: \`*\` within a path segment, \`**\` across them) and their tags; the references listed in
FILE (one per line, # comments); or the images that Kubernetes manifests or a cluster run (marked
running in the fleet view). The server resolves each reference to its digest and queues one scan
per digest it has no report of. Prints the crawl's progress until it ends.

Options:
  --server URL        the distrolens server (or DISTROLENS_SERVER)
  --token TOKEN       its API token (or DISTROLENS_TOKEN)
  --tags GLOB         tags to take (default all)
  --insecure          the registry speaks plain HTTP
  --every DURATION    crawl again this long after each crawl ends (at least 1m)
  --from FILE         references, one per line
  --workloads PATH    manifests whose images to crawl (repeatable)
  --cluster           the images of the current kubeconfig context's pods
  --no-wait           return once the server accepted the crawl
${COMMON_OPTIONS_HELP}`;

export const CRAWL_FLAGS = {
  ...COMMON_FLAGS,
  server: { type: 'string' },
  token: { type: 'string' },
  tags: { type: 'string' },
  insecure: { type: 'boolean' },
  every: { type: 'string' },
  from: { type: 'string' },
  workloads: { type: 'string', multiple: true },
  'no-wait': { type: 'boolean' },
  ...WORKLOAD_SOURCE_FLAGS,
} as const;

/** The images of workloads: manifests or a cluster's pods. */
async function workloadImages(
  values: {
    workloads?: string[];
    cluster?: boolean;
    kubeconfig?: string;
    context?: string;
    namespace?: string[];
    'all-namespaces'?: boolean;
  },
  io: CliIo,
): Promise<string[]> {
  const cwd = io.cwd ?? process.cwd();
  const workloads = values.cluster
    ? (
        await readCluster(
          await loadClusterConfig(
            {
              ...(values.kubeconfig !== undefined ? { kubeconfig: resolve(cwd, values.kubeconfig) } : {}),
              ...(values.context !== undefined ? { context: values.context } : {}),
            },
            io.env,
          ),
          values['all-namespaces'] ? 'all' : (values.namespace?.flatMap((n) => n.split(',')) ?? []),
        )
      ).workloads
    : (await readManifests(values.workloads ?? [], cwd)).workloads;
  return [
    ...new Set(
      workloads.flatMap((w) => containersOf(w.podSpec).flatMap(({ container }) => str(container.image) ?? [])),
    ),
  ];
}

interface CrawlAnswer {
  readonly id: string;
  readonly state: string;
  readonly progress: { listed: number; queued: number; known: number; failed: number; errors: string[] };
  readonly error?: { code: string; message: string };
}

export async function crawlCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(args, CRAWL_FLAGS);
  if (values.help) {
    io.stdout.write(CRAWL_HELP);
    return EXIT.ok;
  }
  const server = values.server ?? io.env.DISTROLENS_SERVER;
  if (!server)
    throw errors.usage('crawl needs --server', 'give the URL of distrolens serve: --server http://127.0.0.1:8080');
  const sources = [
    positionals.length > 0,
    values.from !== undefined,
    Boolean(values.workloads?.length || values.cluster),
  ];
  if (sources.filter(Boolean).length !== 1)
    throw errors.usage(
      'crawl takes one of: a registry, --from FILE, --workloads/--cluster',
      'see distrolens crawl --help',
    );
  let body: object;
  if (values.from !== undefined) {
    const text = await readFile(resolve(io.cwd ?? process.cwd(), values.from), 'utf8').catch(() => {
      throw fail('E_INPUT_NOT_FOUND', `cannot read ${values.from}`, 'give a file of references, one per line');
    });
    const references = text
      .split('\n')
      .map((l) => l.replace(/#.*/, '').trim())
      .filter(Boolean);
    body = { references, source: 'list' };
  } else if (values.workloads?.length || values.cluster) {
    body = { references: await workloadImages(values, io), source: 'workload' };
  } else {
    if (positionals.length > 1) throw errors.usage('crawl takes one registry', 'run it once per registry');
    const target = crawlTarget(positionals[0]!);
    body = { ...target, ...(values.tags ? { tags: values.tags } : {}), insecure: values.insecure ?? false };
  }
  if (values.every) body = { ...body, every: values.every };
  const token = values.token ?? io.env.DISTROLENS_TOKEN;
  const headers = { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) };
  const base = server.replace(/\/+$/, '');
  const call = async (path: string, init: RequestInit = {}): Promise<CrawlAnswer> => {
    let response: Response;
    try {
      response = await fetch(`${base}${path}`, { ...init, headers });
    } catch {
      throw fail('E_NETWORK', `cannot reach the server at ${base}`, 'check --server and that distrolens serve runs');
    }
    const answer = (await response.json().catch(() => ({}))) as CrawlAnswer & {
      error?: { code: string; message: string; hint?: string };
    };
    if (!response.ok)
      throw fail(
        'E_USAGE',
        `the server refused the crawl: ${answer.error?.message ?? `HTTP ${response.status}`}`,
        (answer.error as { hint?: string } | undefined)?.hint,
      );
    return answer;
  };
  let crawl = await call('/api/crawls', { method: 'POST', body: JSON.stringify(body) });
  io.stderr.write(`crawl ${crawl.id} accepted\n`);
  while (!values['no-wait'] && crawl.state === 'running') {
    await new Promise((r) => setTimeout(r, 500));
    crawl = await call(`/api/crawls/${crawl.id}`);
  }
  const p = crawl.progress;
  io.stdout.write(
    `${crawl.state}: ${p.listed} reference(s) listed, ${p.queued} scan(s) queued, ${p.known} already known, ${p.failed} failed\n`,
  );
  for (const line of p.errors) io.stdout.write(`  ${line}\n`);
  if (crawl.state === 'failed') {
    io.stderr.write(`error ${crawl.error?.code ?? 'E_INTERNAL'} ${crawl.error?.message ?? ''}\n`);
    return EXIT.input;
  }
  return EXIT.ok;
}
