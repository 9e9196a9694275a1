import { readFile } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { homedir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fail } from '../core/errors.js';
import type { ReportWarning } from '../core/warnings.js';
import { loadYaml } from '../util/yaml.js';
import { byWorkloadName, type Workload } from './manifests.js';
import { arr, containersOf, obj, str, type Obj } from './pss.js';

/**
 * Cluster mode: the pods a cluster runs, read through the documented API (GET /api/v1/pods with
 * limit and continue), each container judged by the image digest it actually runs. A small client
 * of our own: it needs one list call, TLS with the kubeconfig's CA and a token or client
 * certificate; exec plugins and auth providers are left to kubectl (a clear error says so).
 */
export interface ClusterConfig {
  readonly server: string;
  readonly context: string;
  readonly namespace: string;
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
  readonly token?: string;
  readonly insecure?: boolean;
}

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
const PAGE = 500;
const MAX_PAGE_BYTES = 64 * 1024 * 1024;
const MAX_PAGES = 1_000;

/** A file the kubeconfig names; unreadable is the user's error to fix, with the path. */
async function readNamed(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw fail(
      'E_INPUT_NOT_FOUND',
      `cannot read the ${what} ${path}`,
      'check the kubeconfig (kubectl config view)',
      error,
    );
  }
}

/** A kubeconfig file's value, from `*-data` (base64) or the file it names (relative to the kubeconfig). */
async function material(entry: Obj, key: string, base: string): Promise<Buffer | undefined> {
  const data = str(entry[`${key}-data`]);
  if (data) return Buffer.from(data, 'base64');
  const file = str(entry[key]);
  return file ? readNamed(resolve(base, file), key) : undefined;
}

/**
 * The cluster to talk to: KUBECONFIG (the first file that defines each name wins, as kubectl
 * merges) or ~/.kube/config, its current context or `context`; else the in-cluster service
 * account when run in a pod.
 */
export async function loadClusterConfig(
  options: { readonly kubeconfig?: string; readonly context?: string } = {},
  env: NodeJS.ProcessEnv = process.env,
  serviceAccountDir = SA_DIR,
): Promise<ClusterConfig> {
  const files = (options.kubeconfig ?? env.KUBECONFIG ?? join(homedir(), '.kube', 'config'))
    .split(delimiter)
    .filter(Boolean);
  const docs: { doc: Obj; base: string }[] = [];
  for (const file of files) {
    const text = await readFile(file, 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    let doc: unknown;
    try {
      doc = loadYaml().parse(text);
    } catch (error) {
      throw fail(
        'E_USAGE',
        `${file}: not a kubeconfig (${(error as Error).message.split('\n')[0]})`,
        'kubectl config view shows what kubectl reads',
        error,
      );
    }
    docs.push({ doc: obj(doc), base: dirname(resolve(file)) });
  }
  if (!docs.length) {
    if (env.KUBERNETES_SERVICE_HOST && env.KUBERNETES_SERVICE_PORT)
      return {
        server: `https://${env.KUBERNETES_SERVICE_HOST.includes(':') ? `[${env.KUBERNETES_SERVICE_HOST}]` : env.KUBERNETES_SERVICE_HOST}:${env.KUBERNETES_SERVICE_PORT}`,
        context: 'in-cluster',
        namespace: (await readFile(join(serviceAccountDir, 'namespace'), 'utf8').catch(() => 'default')).trim(),
        ca: await readNamed(join(serviceAccountDir, 'ca.crt'), 'service-account CA'),
        token: (await readNamed(join(serviceAccountDir, 'token'), 'service-account token')).toString('utf8').trim(),
      };
    throw fail(
      'E_INPUT_NOT_FOUND',
      `no kubeconfig at ${files.join(delimiter)}`,
      'set KUBECONFIG, pass --kubeconfig, or run inside a pod with a service account',
    );
  }
  const first = (pick: (doc: Obj) => unknown) =>
    docs.map(({ doc, base }) => ({ value: pick(doc), base })).find((x) => x.value !== undefined && x.value !== '');
  const contextName = options.context ?? str(first((d) => d['current-context'])?.value);
  if (!contextName)
    throw fail('E_USAGE', 'the kubeconfig has no current context', 'pass --context NAME (kubectl config get-contexts)');
  // The first file with an entry of that name in the list supplies it.
  const lookup = (list: string, name: string, field: string) =>
    first((d) => {
      const found = arr(d[list])
        .map(obj)
        .find((x) => x.name === name);
      return found ? obj(found[field]) : undefined;
    });
  const context = obj(lookup('contexts', contextName, 'context')?.value);
  if (!Object.keys(context).length)
    throw fail('E_USAGE', `no context ${contextName} in the kubeconfig`, 'kubectl config get-contexts lists them');
  const clusterName = str(context.cluster) ?? '';
  const userName = str(context.user) ?? '';
  const cluster = lookup('clusters', clusterName, 'cluster');
  const user = lookup('users', userName, 'user');
  const c = obj(cluster?.value);
  const u = obj(user?.value);
  const server = str(c.server);
  if (!server) throw fail('E_USAGE', `cluster ${clusterName} has no server`, 'check the kubeconfig');
  if (u.exec || u['auth-provider'])
    throw fail(
      'E_AUTH_REQUIRED',
      `user ${userName} authenticates with an exec plugin or auth provider, which distrolens does not run`,
      'give a token: kubectl create token SERVICE_ACCOUNT, then a kubeconfig user with token:',
    );
  const token =
    str(u.token) ??
    (str(u.tokenFile)
      ? (await readNamed(resolve(user!.base, str(u.tokenFile)!), 'tokenFile')).toString('utf8').trim()
      : undefined);
  const ca = await material(c, 'certificate-authority', cluster!.base);
  const cert = await material(u, 'client-certificate', user?.base ?? '.');
  const key = await material(u, 'client-key', user?.base ?? '.');
  return {
    server: server.replace(/\/+$/, ''),
    context: contextName,
    namespace: str(context.namespace) ?? 'default',
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
    ...(token ? { token } : {}),
    ...(c['insecure-skip-tls-verify'] === true ? { insecure: true } : {}),
  };
}

/** One GET of the API, parsed; a size cap keeps a hostile or broken server from filling memory. */
async function getJson(config: ClusterConfig, path: string): Promise<{ status: number; body: Obj }> {
  const url = new URL(path, `${config.server}/`);
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const response = await new Promise<IncomingMessage>((done, reject) => {
    const req = request(url, {
      headers: {
        accept: 'application/json',
        'user-agent': 'distrolens',
        ...(config.token ? { authorization: `Bearer ${config.token}` } : {}),
      },
      ...(config.ca ? { ca: config.ca } : {}),
      ...(config.cert ? { cert: config.cert } : {}),
      ...(config.key ? { key: config.key } : {}),
      ...(config.insecure ? { rejectUnauthorized: false } : {}),
      timeout: 30_000,
    });
    req
      .on('response', done)
      .on('error', reject)
      .on('timeout', () => req.destroy(new Error('timed out')));
    req.end();
  }).catch((error: unknown) => {
    throw fail(
      'E_NETWORK',
      `cannot reach the cluster at ${config.server}: ${(error as Error).message}`,
      'check the kubeconfig server and your network',
      error,
    );
  });
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_PAGE_BYTES) {
      response.destroy();
      throw fail(
        'E_TOO_LARGE',
        `the cluster answered ${path} with more than 64 MB`,
        'use --namespace to list fewer pods',
      );
    }
    chunks.push(chunk);
  }
  let body: Obj = {};
  try {
    body = obj(JSON.parse(Buffer.concat(chunks).toString('utf8')));
  } catch {
    if (response.statusCode === 200)
      throw fail(
        'E_NETWORK',
        `the cluster answered ${path} with something other than JSON`,
        'check the kubeconfig server',
      );
  }
  return { status: response.statusCode ?? 0, body };
}

/** Every pod of the namespaces (or all of them), following `continue` tokens. */
async function listPods(
  config: ClusterConfig,
  namespace: string | undefined,
  warnings: ReportWarning[],
): Promise<Obj[]> {
  const base = namespace ? `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods` : '/api/v1/pods';
  const pods: Obj[] = [];
  let token = '';
  for (let page = 0; page < MAX_PAGES; page++) {
    const { status, body } = await getJson(
      config,
      `${base}?limit=${PAGE}${token ? `&continue=${encodeURIComponent(token)}` : ''}`,
    );
    if (status === 401)
      throw fail(
        'E_AUTH_REQUIRED',
        `the cluster refused the credentials of context ${config.context} (401): the token may have expired`,
        'renew it (kubectl get pods refreshes most credentials) and run again',
      );
    if (status === 403) {
      if (!namespace)
        throw fail(
          'E_FORBIDDEN',
          `context ${config.context} may not list pods in all namespaces (403)`,
          'pass --namespace with the namespaces you can read',
        );
      warnings.push({
        code: 'W_NAMESPACE_FORBIDDEN',
        message: `namespace ${namespace}: listing pods is forbidden (403); skipped`,
      });
      return [];
    }
    if (status === 410) throw fail('E_NETWORK', 'the pod list changed while paging (410 Gone)', 'run again');
    if (status !== 200)
      throw fail(
        'E_NETWORK',
        `the cluster answered ${base} with HTTP ${status}: ${str(body.message) ?? ''}`,
        'check the context and its permissions',
      );
    pods.push(...arr(body.items).map(obj));
    token = str(obj(body.metadata).continue) ?? '';
    if (!token) return pods;
  }
  throw fail('E_TOO_LARGE', `more than ${MAX_PAGES * PAGE} pods`, 'use --namespace');
}

export interface ClusterRead {
  readonly workloads: Workload[];
  readonly warnings: ReportWarning[];
  /** Per image reference, the `.dockerconfigjson` of the pull secrets its pods name (readable ones). */
  readonly pullConfigs: ReadonlyMap<string, readonly Obj[]>;
}

/**
 * A pull secret's docker config (type kubernetes.io/dockerconfigjson). Unreadable (403, 404, another
 * type) is a warning: the scan then falls back to the local docker config.
 */
async function readPullSecret(
  config: ClusterConfig,
  namespace: string,
  name: string,
  warnings: ReportWarning[],
): Promise<Obj | undefined> {
  const { status, body } = await getJson(
    config,
    `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets/${encodeURIComponent(name)}`,
  );
  const data = str(obj(body.data)['.dockerconfigjson']);
  if (status === 200 && body.type === 'kubernetes.io/dockerconfigjson' && data) {
    try {
      return obj(JSON.parse(Buffer.from(data, 'base64').toString('utf8')));
    } catch {
      // reported below
    }
  }
  warnings.push({
    code: 'W_PULL_SECRET_UNREADABLE',
    message: `pull secret ${namespace}/${name}: ${status === 200 ? 'not a readable kubernetes.io/dockerconfigjson' : `HTTP ${status}`}; the local docker config is used instead`,
  });
  return undefined;
}

/** `repo@sha256:…` from a container status' imageID (`docker-pullable://repo@sha256:…` and the like). */
export function runningImage(image: string, imageID: string | undefined): string {
  // Only a repository digest (name@sha256:…): a bare sha256:… is a local image ID (the config's
  // digest), which no registry serves as a manifest.
  const digest = /@(sha256:[a-f0-9]{64})$/.exec(imageID ?? '')?.[1];
  if (!digest) return image;
  const name = image.replace(/@.*$/, '').replace(/:[^/:]+$/, '');
  return `${name}@${digest}`;
}

/**
 * The cluster's pods as workloads: pods of one controller (a ReplicaSet, a Job, a DaemonSet…)
 * are one workload, named after it; each container's image is replaced with the digest it runs.
 */
export async function readCluster(config: ClusterConfig, namespaces: readonly string[] | 'all'): Promise<ClusterRead> {
  const warnings: ReportWarning[] = [];
  const pullConfigs = new Map<string, Obj[]>();
  const secrets = new Map<string, Promise<Obj | undefined>>();
  // No namespace given: the context's, as kubectl does.
  const listed = namespaces === 'all' ? 'all' : namespaces.length ? namespaces : [config.namespace];
  const pods =
    listed === 'all'
      ? await listPods(config, undefined, warnings)
      : (await Promise.all(listed.map((ns) => listPods(config, ns, warnings)))).flat();
  const byOwner = new Map<string, Workload>();
  for (const pod of pods) {
    const meta = obj(pod.metadata);
    const owner = obj(
      arr(meta.ownerReferences)
        .map(obj)
        .find((o) => o.controller === true),
    );
    const kind = str(owner.kind) ?? 'Pod';
    const name = str(owner.name) ?? str(meta.name) ?? '?';
    const namespace = str(meta.namespace) ?? 'default';
    const key = `${kind}/${namespace}/${name}`;
    if (byOwner.has(key)) continue;
    const status = obj(pod.status);
    const statuses = new Map(
      [
        ...arr(status.initContainerStatuses),
        ...arr(status.containerStatuses),
        ...arr(status.ephemeralContainerStatuses),
      ]
        .map(obj)
        .map((s) => [str(s.name) ?? '', str(s.imageID)] as const),
    );
    const spec = obj(pod.spec);
    const configs: Obj[] = [];
    for (const ref of arr(spec.imagePullSecrets)) {
      const secretName = str(obj(ref).name);
      if (!secretName) continue;
      const id = `${namespace}/${secretName}`;
      if (!secrets.has(id)) secrets.set(id, readPullSecret(config, namespace, secretName, warnings));
      const read = await secrets.get(id);
      if (read) configs.push(read);
    }
    const pin = (list: unknown) =>
      arr(list).map((c) => {
        const container = obj(c);
        return {
          ...container,
          image: runningImage(str(container.image) ?? '', statuses.get(str(container.name) ?? '')),
        };
      });
    const workload: Workload = {
      kind,
      namespace,
      name,
      location: { file: `${config.context}:pod/${namespace}/${str(meta.name) ?? '?'}`, line: 0 },
      podMetadata: meta,
      podSpec: {
        ...spec,
        initContainers: pin(spec.initContainers),
        containers: pin(spec.containers),
        ephemeralContainers: pin(spec.ephemeralContainers),
      },
    };
    byOwner.set(key, workload);
    if (configs.length)
      for (const { container } of containersOf(workload.podSpec)) {
        const image = str(container.image) ?? '';
        pullConfigs.set(image, [...(pullConfigs.get(image) ?? []), ...configs]);
      }
  }
  return { workloads: [...byOwner.values()].sort(byWorkloadName), warnings, pullConfigs };
}
