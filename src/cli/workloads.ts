import { errors } from '../core/errors.js';
import { renderJson } from '../report/format.js';
import { renderWorkloadsTable } from '../report/workloads-table.js';
import { scanImage } from '../scan/scan.js';
import { openSource } from '../sources/index.js';
import { judgeWorkloads } from '../workloads/index.js';
import { openVulnOptions } from './db.js';
import { EXIT, type CliIo, writeAtomic } from './io.js';
import { failingFindings, IMAGE_FLAGS, IMAGE_OPTIONS_HELP, openOptions, parseFailOn, parseFlags } from './options.js';
import { resolve } from 'node:path';

export const WORKLOADS_HELP = `Usage: distrolens workloads MANIFEST… [options]

Judges every image where it runs: reads Kubernetes manifests (YAML or JSON files or directories;
multi-document, kind: List, Helm and kustomize output), scans each distinct image once, and
joins each container's image with its pod: the effective user (and the kubelet's runAsNonRoot
refusal, predicted), the Pod Security Standards level the workload meets (baseline, restricted)
with each violated control, the image's own findings judged again in the pod's context, and
joined risks (escape paths, writable root with tools, a service-account token with curl,
privilege escalation with setuid binaries).

Options:
  -f, --format FORMAT           table (default) or json (distrolens/workloads@1)

${IMAGE_OPTIONS_HELP}
`;

export async function workloadsCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(args, IMAGE_FLAGS);
  if (values.help) {
    io.stdout.write(WORKLOADS_HELP);
    return EXIT.ok;
  }
  if (!positionals.length)
    throw errors.usage('workloads needs manifest files or directories', 'e.g. distrolens workloads k8s/');
  const format = values.format?.[0] ?? 'table';
  if (format !== 'table' && format !== 'json') throw errors.usage(`unknown format ${format}`, 'use table or json');
  const failOn = parseFailOn(values['fail-on']);
  const { open, platform } = openOptions(values, io);
  const vulns = openVulnOptions(values, io);
  try {
    const cacheDir = open.cache?.root;
    const report = await judgeWorkloads(positionals, async (image) => {
      if (values.offline) throw errors.offline(image);
      const source = await openSource(`registry:${image}`, open);
      try {
        return (
          await scanImage(source, {
            ...(platform ? { platform } : {}),
            ...(cacheDir ? { cacheDir } : {}),
            ...(vulns.options ? { vulnerabilities: vulns.options } : {}),
          })
        ).report;
      } finally {
        await source.close();
      }
    });
    const text = format === 'json' ? renderJson(report) : renderWorkloadsTable(report);
    if (values.output) await writeAtomic(resolve(io.cwd ?? process.cwd(), values.output), text);
    else io.stdout.write(text);
    if (failOn !== undefined) {
      const failing = failingFindings(
        report.workloads.flatMap((w) => w.containers.flatMap((c) => c.findings)),
        failOn,
      );
      if (failing) {
        io.stderr.write(`gate failed: ${failing}\n`);
        return EXIT.policy;
      }
    }
    return EXIT.ok;
  } finally {
    vulns.close();
  }
}
