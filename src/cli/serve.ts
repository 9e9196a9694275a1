import { isAbsolute, resolve } from 'node:path';
import { errors } from '../core/errors.js';
import { defaultDataDir, startServer } from '../server/index.js';
import { checkListen } from '../server/app.js';
import type { RegistryCrawl } from '../server/crawl.js';
import { DEFAULT_JOB_TIMEOUT_MS } from '../server/queue.js';
import { redactText } from '../core/redact.js';
import { openVulnOptions } from './db.js';
import { WORKLOAD_SOURCE_FLAGS, workloadsJudge } from './workloads.js';
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

export const SERVE_HELP = `Usage: distrolens serve [--host 127.0.0.1] [--port 8080] [--data DIR] [options]

An HTTP API and a web UI over all scanned images: submit a scan (it runs in a bounded background
queue; follow it with server-sent events), fetch any report in any format, compare two scans,
list images with their latest grade, classification, size and vulnerabilities, and see the history
of one repository; crawl registries, reference lists and clusters into a fleet view (/fleet).
State is kept in SQLite in the data directory and scans run in this process; with --database,
in PostgreSQL, where \`distrolens worker\` processes on any number of machines run the scans.

Options:
  --host HOST              address to listen on (default 127.0.0.1; anything else needs --token)
  --port PORT              default 8080 (0: any free port)
  --data DIR               where scans are stored (default $XDG_CACHE_HOME/distrolens/server)
  --token TOKEN            API token every write must send as "Authorization: Bearer TOKEN"
                           (or DISTROLENS_TOKEN)
  --allow-registry HOST    registries scans may pull from (repeat it); without it, any registry
                           that is not on this machine or a private network
  --public-host NAME       a name clients reach the server by (repeat it); other Host headers
                           are refused, and on loopback only loopback names are answered
  --concurrency N          scans at once (default 2)
  --timeout DURATION       each scan's budget (default 10m): past it the scan fails with E_TIMEOUT
  --cache-dir DIR          blob and layer caches, and the vulnerability database
  --registry HOST          the registry DISTROLENS_USERNAME/PASSWORD or _REGISTRY_TOKEN are for
                           (or DISTROLENS_REGISTRY)
  --workloads PATH         manifests (files or directories, repeatable) for the /workloads page
  --cluster                the /workloads page judges the pods of the current kubeconfig context
  --kubeconfig FILE        with --cluster: the kubeconfig (default: KUBECONFIG, ~/.kube/config)
  --context NAME           with --cluster: the context (default: the current one)
  -n, --namespace NS       with --cluster: a namespace (repeatable; default: the context's)
  -A, --all-namespaces     with --cluster: every namespace
  --database URL           PostgreSQL (postgres://user@host/db, or DISTROLENS_DATABASE): reports and
                           the pg-boss job queue; scans run in \`distrolens worker\` processes
  --crawl REGISTRY         crawl this registry's catalog at start (repeatable; host[:port], or
                           host/glob for some repositories)
  --crawl-every DURATION   crawl again this long after each crawl ends (e.g. 6h)
  --harbor-key KEY         serve Harbor's Pluggable Scanner API under /api/v1 for Harbor presenting
                           this key (or DISTROLENS_HARBOR_KEY)
${COMMON_OPTIONS_HELP}

Pull credentials: DISTROLENS_REGISTRY=HOST with DISTROLENS_USERNAME and DISTROLENS_PASSWORD, or
DISTROLENS_REGISTRY_TOKEN; they are sent to that registry only, never to another one a scan names,
to a token service elsewhere or across a redirect. The docker config's credentials apply per
registry as for the CLI.
`;

export const SERVE_FLAGS = {
  ...COMMON_FLAGS,
  host: { type: 'string' },
  port: { type: 'string' },
  data: { type: 'string' },
  token: { type: 'string' },
  'allow-registry': { type: 'string', multiple: true },
  'public-host': { type: 'string', multiple: true },
  concurrency: { type: 'string' },
  timeout: { type: 'string' },
  'cache-dir': { type: 'string' },
  registry: { type: 'string' },
  workloads: { type: 'string', multiple: true },
  ...WORKLOAD_SOURCE_FLAGS,
  database: { type: 'string' },
  crawl: { type: 'string', multiple: true },
  'crawl-every': { type: 'string' },
  'harbor-key': { type: 'string' },
} as const;

/** `host[:port]` or `host[:port]/glob…`: a registry to crawl, all of it or some repositories. */
export function crawlTarget(text: string): RegistryCrawl {
  const slash = text.indexOf('/');
  const registry = slash < 0 ? text : text.slice(0, slash);
  if (!/^[A-Za-z0-9.-]+(:\d+)?$/.test(registry))
    throw errors.usage(`invalid registry ${JSON.stringify(registry)}`, 'write host[:port] or host[:port]/team/*');
  return { registry, repositories: [slash < 0 ? '**' : text.slice(slash + 1)], tags: '*', insecure: false };
}

/** `distrolens serve`: runs until interrupted (SIGINT/SIGTERM), then closes cleanly. */
export async function serveCommand(args: string[], io: CliIo, signal?: AbortSignal): Promise<number> {
  const { values, positionals } = parseFlags(args, SERVE_FLAGS);
  if (values.help) {
    io.stdout.write(SERVE_HELP);
    return EXIT.ok;
  }
  if (positionals.length) throw errors.usage('serve takes no arguments', 'see distrolens serve --help');
  const port = Number(values.port ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw errors.usage(`invalid --port ${values.port}`);
  const concurrency = parseCount(values.concurrency, 'concurrency', 2, 16);
  const root = cacheRoot(values, io);
  const cwd = io.cwd ?? process.cwd();
  const dataDir = values.data
    ? isAbsolute(values.data)
      ? values.data
      : resolve(cwd, values.data)
    : defaultDataDir(root);
  const { open, platform } = openOptions(values, io);
  const token = values.token ?? io.env.DISTROLENS_TOKEN;
  const host = values.host ?? '127.0.0.1';
  checkListen(host, token);
  const vulns = openVulnOptions(values, io);
  const timeoutMs = values.timeout ? parseDuration(values.timeout, 'timeout') : DEFAULT_JOB_TIMEOUT_MS;
  const database = values.database ?? io.env.DISTROLENS_DATABASE;
  const engine = database ? await (await import('../fleet/index.js')).openFleetEngine(database, timeoutMs) : undefined;
  const harborKey = values['harbor-key'] ?? io.env.DISTROLENS_HARBOR_KEY;
  const server = await startServer({
    host,
    port,
    dataDir,
    cacheDir: root,
    concurrency,
    jobTimeoutMs: timeoutMs,
    ...(engine ? { storage: engine.storage, queue: engine.queue } : {}),
    ...(harborKey ? { harborKey } : {}),
    ...(values.crawl?.length ? { crawls: values.crawl.map(crawlTarget) } : {}),
    ...(values['crawl-every'] ? { crawlEveryMs: parseDuration(values['crawl-every'], 'crawl-every') } : {}),
    ...(token ? { token } : {}),
    ...(values['allow-registry']?.length ? { allowRegistries: values['allow-registry'] } : {}),
    ...(values['public-host']?.length ? { hosts: values['public-host'] } : {}),
    open: { ...(open.auth ? { auth: open.auth } : {}), ...(open.limits ? { limits: open.limits } : {}), env: io.env },
    ...(vulns.options ? { vulnerabilities: vulns.options } : {}),
    ...(values.workloads?.length || values.cluster
      ? { workloads: workloadsJudge(values.workloads ?? [], values, io, open, platform, vulns.options) }
      : {}),
  });
  io.stderr.write(
    `distrolens serving ${server.url} (${engine ? `data and queue in ${redactText(database!)}` : `data in ${dataDir}`})\n`,
  );
  await untilStopped(signal);
  await server.close();
  await engine?.close();
  vulns.close();
  return EXIT.ok;
}
