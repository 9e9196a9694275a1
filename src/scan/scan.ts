import type { ImageFacts, Report } from '../core/report.js';
import type { RuntimeContext } from '../core/runtime.js';
import { builtinAnalyzers, osDetector, type Analyzer } from '../analyzers/index.js';
import { buildFs, type BuildOptions, type LayeredFs } from '../fs/layered.js';
import type { Image, ImageSource, ResolveOptions } from '../image/types.js';
import { judge } from '../judge/index.js';
import { TOOL } from '../version.js';
import { REPORT_SCHEMA } from '../core/report.js';
import { assembleFacts } from './assemble.js';
import { capturePlan, MAX_CAPTURE_BYTES, MAX_EXTRACT_BYTES } from './capture.js';
import { DiskLayerCache, ResultCache } from './layer-cache.js';
import { withVulnerabilities, type VulnScanOptions } from './vulnerabilities.js';
import { withMaintenance } from './maintenance.js';

export type { VulnScanOptions } from './vulnerabilities.js';
export { withVulnerabilities } from './vulnerabilities.js';
export { MAX_CAPTURE_BYTES, MAX_EXTRACT_BYTES } from './capture.js';

export interface ScanOptions extends ResolveOptions, Omit<BuildOptions, 'signal' | 'capture' | 'layerCache'> {
  readonly analyzers?: readonly Analyzer[];
  /** Where per-layer and whole-image results are kept between scans (the cache directory). */
  readonly cacheDir?: string;
  /** false: keep per-layer results only (re-analyse every time, e.g. to measure the layer cache). */
  readonly resultCache?: boolean;
  /** Injected clock, for reproducible output. */
  readonly now?: () => Date;
  /** Where known vulnerabilities are looked up (the local database); absent: none are reported. */
  readonly vulnerabilities?: VulnScanOptions;
  /** The context the image is judged in; default: its own config's (imageContext). */
  readonly context?: RuntimeContext;
}

/** Every rule the built-in analyzers can report (for SARIF and the rules page). */
export const builtinRules = builtinAnalyzers.flatMap((a) => a.rules ?? []);

/** The facts of a report: what judgement and matching start from again. */
export function factsOf(report: Report): ImageFacts {
  const { schema: _schema, tool: _tool, createdAt: _createdAt, findings: _findings, score: _score, ...facts } = report;
  return facts;
}

/** A report matched again against a vulnerability database (one built after the scan) and judged. */
export function rematchReport(
  report: Report,
  vulnerabilities: VulnScanOptions,
  now: () => Date = () => new Date(),
): Report {
  const facts = factsOf(report);
  const fresh = { ...facts, warnings: facts.warnings.filter((w) => !w.code.startsWith('W_VULN_')) };
  return toReport(
    withMaintenance(withVulnerabilities(fresh, vulnerabilities, now), vulnerabilities, now),
    new Date(report.createdAt),
  );
}

/** A report: the facts, judged in a context, stamped with the tool and the time. */
export function toReport(facts: ImageFacts, createdAt: Date, context?: RuntimeContext): Report {
  const { findings, score } = judge(facts, context);
  return { schema: REPORT_SCHEMA, tool: TOOL, createdAt: createdAt.toISOString(), ...facts, findings, score };
}

/**
 * The main job: resolve, walk every layer once (keeping only the files analyzers declared), detect
 * the OS, run the analyzers, then match vulnerabilities and judge. The facts are cached per
 * image; matching and judgement run on every scan (a database update or another context changes
 * the report without re-reading the image). Lists are sorted so two runs on the same input give
 * the same JSON apart from createdAt.
 */
export async function scanImage(
  source: ImageSource,
  options: ScanOptions = {},
): Promise<{ report: Report; image: Image; fs?: LayeredFs }> {
  const analyzers = options.analyzers ?? builtinAnalyzers;
  const image = await source.resolve(options);
  // Everything that decides what a walk keeps and what analysis finds is in the key.
  const cacheKey = [
    `${osDetector.id}@${osDetector.version}`,
    ...analyzers.map((a) => `${a.id}@${a.version}`),
    MAX_CAPTURE_BYTES,
    MAX_EXTRACT_BYTES,
  ].join(',');
  const now = options.now ?? (() => new Date());
  const results =
    options.cacheDir && options.resultCache !== false
      ? new ResultCache(options.cacheDir, cacheKey, TOOL.version)
      : undefined;
  const cached = await results?.get(image);
  let fs: LayeredFs | undefined;
  let facts: ImageFacts;
  if (cached) {
    // The same image, analyzers and versions: the facts are what they were. Only the input differs.
    facts = { ...cached, target: { ...cached.target, input: image.source.input } };
  } else {
    fs = await buildFs(image, {
      ...options,
      ...(options.cacheDir ? { layerCache: new DiskLayerCache(options.cacheDir, cacheKey) } : {}),
      capture: capturePlan([osDetector, ...analyzers]),
    });
    facts = await assembleFacts(image, fs, analyzers);
    await results?.put(image, facts);
  }
  const assessed = withMaintenance(
    withVulnerabilities(facts, options.vulnerabilities, now),
    options.vulnerabilities,
    now,
  );
  const report = toReport(assessed, now(), options.context);
  return { report, image, ...(fs ? { fs } : {}) };
}
