import { isDistrolensError } from '../core/errors.js';
import { SEVERITIES, type Severity } from '../core/finding.js';
import type { Report, ReportWarning } from '../core/report.js';
import { WORKLOADS_SCHEMA, type PssLevel, type WorkloadsReport } from '../core/workloads.js';
import { mapLimit } from '../util/concurrency.js';
import { judgeWorkload } from './judge.js';
import { readCluster, type ClusterConfig } from './cluster.js';
import { readManifests, type Workload } from './manifests.js';
import { containersOf, str } from './pss.js';

export { readManifests, type Workload } from './manifests.js';
export { loadClusterConfig, readCluster, runningImage, type ClusterConfig } from './cluster.js';
export { WORKLOADS_SCHEMA, type WorkloadsReport } from '../core/workloads.js';
export { checkPodSecurity, levelOf, type PssLevel, type PssViolation } from './pss.js';
export { admissionOf, contextOf, joinedFindings, judgeWorkload, WORKLOAD_RULES } from './judge.js';

/**
 * Scans one image reference with the caller's pipeline (source, cache, vulnerability database).
 * In cluster mode it also gets the docker configs of the pull secrets the image's pods name, to
 * pull with the credentials the pod would use.
 */
export type ImageScanner = (
  image: string,
  pullConfigs?: readonly Readonly<Record<string, unknown>>[],
) => Promise<Report>;

/** Images scanned at once. */
const SCANS_AT_ONCE = 2;

/**
 * Reads the manifests, scans each distinct image once, and judges every workload: the JSON of
 * `distrolens workloads`. Sorted for byte-identical output on the same input.
 */
export async function judgeWorkloads(
  paths: readonly string[],
  scan: ImageScanner,
  cwd = process.cwd(),
): Promise<WorkloadsReport> {
  const { workloads, skipped } = await readManifests(paths, cwd);
  const warnings: ReportWarning[] = Object.entries(skipped).map(([kind, n]) => ({
    code: 'W_MANIFEST_KIND_SKIPPED',
    message: `${n} object(s) of kind ${kind} hold no pod and were skipped`,
  }));
  return judgeAll(workloads, warnings, { kind: 'manifests', paths: [...paths] }, scan);
}

/** The pods a cluster runs, judged by the digests they run (`distrolens workloads --cluster`). */
export async function judgeCluster(
  config: ClusterConfig,
  namespaces: readonly string[] | 'all',
  scan: ImageScanner,
): Promise<WorkloadsReport> {
  const { workloads, warnings, pullConfigs } = await readCluster(config, namespaces);
  const listed = namespaces === 'all' || namespaces.length ? namespaces : [config.namespace];
  return judgeAll(workloads, warnings, { kind: 'cluster', context: config.context, namespaces: listed }, (image) =>
    scan(image, pullConfigs.get(image)),
  );
}

async function judgeAll(
  workloads: readonly Workload[],
  warnings: ReportWarning[],
  source: WorkloadsReport['source'],
  scan: ImageScanner,
): Promise<WorkloadsReport> {
  const images = [
    ...new Set(workloads.flatMap((w) => containersOf(w.podSpec).map(({ container }) => str(container.image) ?? ''))),
  ]
    .filter(Boolean)
    .sort();
  const scanned = await mapLimit(images, SCANS_AT_ONCE, async (image) => {
    try {
      return { image, report: await scan(image) };
    } catch (error) {
      // The code leads, as on the command line: E_REGISTRY_AUTH_REQUIRED says what to do.
      return {
        image,
        error: isDistrolensError(error)
          ? `${error.code}: ${error.message}`
          : error instanceof Error
            ? error.message
            : String(error),
      };
    }
  });
  const reports = new Map(scanned.flatMap((s) => (s.report ? [[s.image, s.report] as const] : [])));
  const results = workloads.map((w) => judgeWorkload(w, reports));
  const containers = results.flatMap((r) => r.containers);
  const byLevel: Record<PssLevel, number> = { privileged: 0, baseline: 0, restricted: 0 };
  for (const r of results) byLevel[r.podSecurity.level]++;
  const byClassification: Record<string, number> = {};
  for (const c of containers)
    if (c.classification) byClassification[c.classification] = (byClassification[c.classification] ?? 0) + 1;
  const findingsBySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  for (const c of containers) for (const f of c.findings) findingsBySeverity[f.severity]++;
  return {
    schema: WORKLOADS_SCHEMA,
    source,
    workloads: results,
    images: scanned.map((s) =>
      s.report
        ? {
            image: s.image,
            ...(s.report.target.manifestDigest ? { digest: s.report.target.manifestDigest } : {}),
            grade: s.report.score.grade,
            classification: s.report.os.classification,
          }
        : { image: s.image, error: s.error },
    ),
    summary: {
      workloads: results.length,
      containers: containers.length,
      byLevel,
      byClassification,
      findingsBySeverity,
      reachable: {
        shells: containers.filter((c) => c.reachable?.shells.length).length,
        packageManagers: containers.filter((c) => c.reachable?.packageManagers.length).length,
        networkTools: containers.filter((c) => c.reachable?.networkTools.length).length,
      },
    },
    warnings: warnings.sort((a, b) => (a.message < b.message ? -1 : 1)),
  };
}
