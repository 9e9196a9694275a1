import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fail } from '../core/errors.js';
import { loadYaml } from '../util/yaml.js';
import { obj, type Obj } from './pss.js';

/**
 * Workloads from Kubernetes manifests: YAML or JSON files (a directory is read recursively),
 * multi-document, `kind: List` as `kubectl get -o yaml` prints it, Helm-rendered output and
 * kustomize output alike. Pods and the pod templates of Deployment, ReplicaSet, StatefulSet,
 * DaemonSet, Job, CronJob and ReplicationController; other kinds are skipped and counted.
 */
export interface Workload {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  /** Where the object starts: the file and its 1-based line. */
  readonly location: { readonly file: string; readonly line: number };
  /** The pod's metadata and spec (the template's, for controllers). */
  readonly podMetadata: Readonly<Record<string, unknown>>;
  readonly podSpec: Readonly<Record<string, unknown>>;
}

export interface ManifestRead {
  readonly workloads: Workload[];
  /** Objects of other kinds, by kind. */
  readonly skipped: Record<string, number>;
}

/** How far a controller keeps its pod template. */
const TEMPLATE_PATH: Readonly<Record<string, readonly string[]>> = {
  Deployment: ['spec', 'template'],
  ReplicaSet: ['spec', 'template'],
  StatefulSet: ['spec', 'template'],
  DaemonSet: ['spec', 'template'],
  Job: ['spec', 'template'],
  ReplicationController: ['spec', 'template'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template'],
};

/** Manifests larger than this are not read (a cluster dump of thousands of objects is a few MB). */
const MAX_MANIFEST_BYTES = 64 * 1024 * 1024;
const MANIFEST_FILE = /\.(ya?ml|json)$/i;

/** The manifest files under a path as the user wrote it (reports name them so), read relative to `cwd`. */
async function filesOf(path: string, cwd: string): Promise<string[]> {
  const info = await stat(resolve(cwd, path)).catch(() => undefined);
  if (!info)
    throw fail('E_INPUT_NOT_FOUND', `${path}: no such file or directory`, 'pass manifest files or a directory of them');
  if (info.isFile()) return [path];
  const out: string[] = [];
  for (const entry of (await readdir(resolve(cwd, path), { withFileTypes: true })).sort((a, b) =>
    a.name < b.name ? -1 : 1,
  )) {
    const full = join(path, entry.name);
    if (entry.isDirectory()) out.push(...(await filesOf(full, cwd)));
    else if (entry.isFile() && MANIFEST_FILE.test(entry.name)) out.push(full);
  }
  return out;
}

/** The workloads of one object (a List gives its items'), each located at `line`. */
function collect(doc: Obj, file: string, line: number, into: ManifestRead): void {
  const kind = typeof doc.kind === 'string' ? doc.kind : '';
  if (kind === 'List' || kind.endsWith('List')) {
    for (const item of Array.isArray(doc.items) ? doc.items : []) collect(obj(item), file, line, into);
    return;
  }
  const metadata = obj(doc.metadata);
  let pod: Obj | undefined;
  if (kind === 'Pod') pod = doc;
  else if (TEMPLATE_PATH[kind]) pod = TEMPLATE_PATH[kind].reduce<Obj>((at, key) => obj(at[key]), doc);
  if (!pod || !Object.keys(obj(pod.spec)).length) {
    if (kind) into.skipped[kind] = (into.skipped[kind] ?? 0) + 1;
    return;
  }
  into.workloads.push({
    kind,
    namespace: typeof metadata.namespace === 'string' ? metadata.namespace : 'default',
    name: typeof metadata.name === 'string' ? metadata.name : '(unnamed)',
    location: { file, line },
    podMetadata: obj(pod.metadata),
    podSpec: obj(pod.spec),
  });
}

/** Workloads in report order: by kind, namespace, then name. */
export function byWorkloadName(a: Workload, b: Workload): number {
  const key = (w: Workload) => [w.kind, w.namespace, w.name];
  const [x, y] = [key(a), key(b)];
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
  return 0;
}

/** Reads every workload of the given files and directories. */
export async function readManifests(paths: readonly string[], cwd = process.cwd()): Promise<ManifestRead> {
  const { parseAllDocuments, LineCounter } = loadYaml();
  const read: ManifestRead = { workloads: [], skipped: {} };
  for (const path of paths) {
    for (const file of await filesOf(path, cwd)) {
      const info = await stat(resolve(cwd, file));
      if (info.size > MAX_MANIFEST_BYTES)
        throw fail('E_FILE_TOO_LARGE', `${file} is larger than a manifest can be`, 'split it');
      const text = await readFile(resolve(cwd, file), 'utf8');
      const lines = new LineCounter();
      for (const doc of parseAllDocuments(text, { lineCounter: lines })) {
        if (doc.errors.length)
          throw fail(
            'E_USAGE',
            `${file}: not a YAML or JSON manifest (${doc.errors[0]!.message.split('\n')[0]})`,
            'check the file with kubectl apply --dry-run=client',
          );
        const value: unknown = doc.toJS({ maxAliasCount: 100 });
        if (!value) continue;
        const start = doc.contents?.range?.[0] ?? 0;
        collect(obj(value), file, lines.linePos(start).line, read);
      }
    }
  }
  read.workloads.sort(byWorkloadName);
  return read;
}
