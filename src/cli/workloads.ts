import { errors } from '../core/errors.js';
import type { Platform } from '../core/platform.js';
import type { WorkloadsReport } from '../core/workloads.js';
import { renderJson } from '../report/format.js';
import { renderWorkloadsHtml } from '../report/html.js';
import { renderWorkloadsMarkdown } from '../report/markdown.js';
import { renderWorkloadsSarif } from '../report/sarif.js';
import { renderWorkloadsTable } from '../report/workloads-table.js';
import { builtinRules, scanImage, type VulnScanOptions } from '../scan/scan.js';
import { openSource, type OpenOptions } from '../sources/index.js';
import { VERSION } from '../version.js';
import { pullSecretAuth } from '../sources/registry/credentials.js';
import { parseReference } from '../sources/registry/reference.js';
import {
  judgeCluster,
  type ImageScanner,
  judgeWorkloads,
  loadClusterConfig,
  WORKLOAD_RULES,
} from '../workloads/index.js';
import { openVulnOptions } from './db.js';
import { evaluateWorkloadsPolicy } from '../policy/index.js';
import { loadPolicy } from './image-command.js';
import { EXIT, type CliIo, writeAtomic } from './io.js';
import { failingFindings, IMAGE_FLAGS, IMAGE_OPTIONS_HELP, openOptions, parseFailOn, parseFlags } from './options.js';
import { resolve } from 'node:path';

const WORKLOADS_FORMATS = ['table', 'json', 'sarif', 'markdown', 'html'];

/** The flags that say which workloads to judge: `workloads` and `serve` both take them. */
export const WORKLOAD_SOURCE_FLAGS = {
  cluster: { type: 'boolean' },
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
  namespace: { type: 'string', short: 'n', multiple: true },
  'all-namespaces': { type: 'boolean', short: 'A' },
} as const;

export const WORKLOADS_FLAGS = { ...IMAGE_FLAGS, ...WORKLOAD_SOURCE_FLAGS } as const;

export const WORKLOADS_HELP = `Usage: distrolens workloads MANIFEST… [options]
       distrolens workloads --cluster [--context NAME] [-n NAMESPACE… | -A] [options]

Judges every image where it runs: reads Kubernetes manifests (YAML or JSON files or directories;
multi-document, kind: List, Helm and kustomize output), scans each distinct image once, and
joins each container's image with its pod: the effective user (and the kubelet's runAsNonRoot
refusal, predicted), the Pod Security Standards level the workload meets (baseline, restricted)
with each violated control, the image's own findings judged again in the pod's context, and
joined risks (escape paths, writable root with tools, a service-account token with curl,
privilege escalation with setuid binaries).

With --cluster, the pods the cluster runs are listed through the API (KUBECONFIG or
~/.kube/config, or the pod's service account), one workload per controller, and each container
is judged by the image digest it runs (status.containerStatuses[].imageID).

Options:
  --cluster                     read the pods of a cluster instead of manifest files
  --kubeconfig FILE             the kubeconfig (default: KUBECONFIG, then ~/.kube/config)
  --context NAME                the kubeconfig context (default: its current context)
  -n, --namespace NS            a namespace to read (repeatable; default: the context's)
  -A, --all-namespaces          every namespace
  -f, --format FORMAT           table (default), json (distrolens/workloads@1), sarif (located at
                                the manifest file and line), markdown or html (one
                                self-contained page with the summary charts)

${IMAGE_OPTIONS_HELP}
`;

interface SourceValues {
  readonly cluster?: boolean | undefined;
  readonly kubeconfig?: string | undefined;
  readonly context?: string | undefined;
  readonly namespace?: string[] | undefined;
  readonly 'all-namespaces'?: boolean | undefined;
  readonly offline?: boolean | undefined;
}

/**
 * Judges the manifests (or the cluster) anew on each call, images through the cache: the
 * `workloads` command calls it once, `serve` on each visit of its workloads page.
 */
export function workloadsJudge(
  paths: readonly string[],
  values: SourceValues,
  io: CliIo,
  open: OpenOptions,
  platform: Platform | undefined,
  vulnerabilities: VulnScanOptions | undefined,
): () => Promise<WorkloadsReport> {
  const cacheDir = open.cache?.root;
  const scan: ImageScanner = async (image, pullConfigs = []) => {
    if (values.offline) throw errors.offline(image);
    // The pod's pull secret for the image's registry, else the flags' or local docker config's.
    const registry = parseReference(image).registry;
    const pulled = pullConfigs.map((c) => pullSecretAuth(c, registry)).find(Boolean);
    const source = await openSource(`registry:${image}`, pulled ? { ...open, auth: { ...pulled, registry } } : open);
    try {
      return (
        await scanImage(source, {
          ...(platform ? { platform } : {}),
          ...(cacheDir ? { cacheDir } : {}),
          ...(vulnerabilities ? { vulnerabilities } : {}),
        })
      ).report;
    } finally {
      await source.close();
    }
  };
  const cwd = io.cwd ?? process.cwd();
  return async () =>
    values.cluster
      ? judgeCluster(
          await loadClusterConfig(
            {
              ...(values.kubeconfig !== undefined ? { kubeconfig: resolve(cwd, values.kubeconfig) } : {}),
              ...(values.context !== undefined ? { context: values.context } : {}),
            },
            io.env,
          ),
          values['all-namespaces'] ? 'all' : (values.namespace?.flatMap((n) => n.split(',')) ?? []),
          scan,
        )
      : judgeWorkloads(paths, scan, cwd);
}

export async function workloadsCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(args, WORKLOADS_FLAGS);
  if (values.help) {
    io.stdout.write(WORKLOADS_HELP);
    return EXIT.ok;
  }
  if (!positionals.length && !values.cluster)
    throw errors.usage('workloads needs manifest files or directories, or --cluster', 'e.g. distrolens workloads k8s/');
  if (positionals.length && values.cluster)
    throw errors.usage('give manifests or --cluster, not both', 'run workloads once for each');
  const format = values.format?.[0] ?? 'table';
  if (!WORKLOADS_FORMATS.includes(format))
    throw errors.usage(`unknown format ${format}`, `use ${WORKLOADS_FORMATS.join(', ')}`);
  const failOn = parseFailOn(values['fail-on']);
  const policy =
    values.policy !== undefined ? await loadPolicy(resolve(io.cwd ?? process.cwd(), values.policy)) : undefined;
  const { open, platform } = openOptions(values, io);
  const vulns = openVulnOptions(values, io);
  try {
    const report = await workloadsJudge(positionals, values, io, open, platform, vulns.options)();
    const text =
      format === 'json'
        ? renderJson(report)
        : format === 'sarif'
          ? renderWorkloadsSarif(report, [...builtinRules, ...Object.values(WORKLOAD_RULES)], VERSION)
          : format === 'markdown'
            ? renderWorkloadsMarkdown(report)
            : format === 'html'
              ? renderWorkloadsHtml(report)
              : renderWorkloadsTable(report);
    if (values.output) await writeAtomic(resolve(io.cwd ?? process.cwd(), values.output), text);
    else io.stdout.write(text);
    // The same gate as scan's: --fail-on over the findings a live acceptance does not cover, then the policy.
    const verdict = policy ? evaluateWorkloadsPolicy(report, policy) : undefined;
    const acceptedIds = new Set(verdict?.accepted.map((a) => a.finding.fingerprint));
    const messages: string[] = [];
    const failing =
      failOn !== undefined &&
      failingFindings(
        report.workloads.flatMap((w) =>
          w.containers.flatMap((c) => c.findings.filter((f) => !acceptedIds.has(f.fingerprint))),
        ),
        failOn,
      );
    if (failing) messages.push(failing);
    for (const v of verdict?.violations ?? []) messages.push(`policy ${v.check}: ${v.message}`);
    if (messages.length) {
      io.stderr.write(`gate failed: ${messages.join('\n  ')}\n`);
      return EXIT.policy;
    }
    return EXIT.ok;
  } finally {
    vulns.close();
  }
}
