import { fingerprint, type Finding, type Rule } from '../core/finding.js';
import type { Package } from '../core/package.js';
import type { SurfaceItem, SurfaceList, UserAccount } from '../core/surface.js';
import type { EntrypointInfo, ImageFacts, ReportWarning } from '../core/report.js';
import type { RuntimeContext } from '../core/runtime.js';
import type { ImageConfig } from '../core/config.js';
import type { Platform } from '../core/platform.js';
import type { LayeredFs } from '../fs/layered.js';

/** The operating system as detected, and how the image classifies. */
export interface OsInfo {
  /** os-release ID (`debian`, `alpine`, `wolfi`, `chainguard`…), or `unknown`/`none`. */
  readonly id: string;
  readonly versionId?: string;
  readonly versionCodename?: string;
  readonly prettyName?: string;
  /** Which file said so, e.g. `/etc/os-release`. */
  readonly source?: string;
  /** True for gcr.io/distroless-style images (PRETTY_NAME "Distroless" or status.d without status). */
  readonly distroless?: boolean;
}

/** What analyzers know about the image besides its files. */
export interface ImageMeta {
  readonly input: string;
  readonly reference?: string;
  readonly source: string;
  readonly config: ImageConfig;
  readonly platform: Platform;
  readonly layers: readonly { readonly size: number; readonly compressedSize?: number; readonly createdBy?: string }[];
}

/**
 * What an analyzer reads from files too large to keep (binaries, Java archives), computed during
 * the walk while the bytes are at hand. The result is kept apart from the file's bytes, per
 * analyzer, and must be small and serialisable (the layer cache stores it).
 */
export interface Extractor<X> {
  readonly match: (path: string, size: number, mode: number) => boolean;
  readonly run: (data: Buffer, path: string) => X | undefined;
}

export interface AnalyzerInput<X = never> {
  readonly fs: LayeredFs;
  /** What this analyzer's own extractor found in a file during the walk. */
  readonly extracted: (path: string) => X | undefined;
  readonly image: ImageMeta;
  /** Detected before any analyzer runs. */
  readonly os: OsInfo;
}

/** What an analyzer found: facts about the image, never a judgement of them. */
export interface AnalyzerOutput<E = never> {
  readonly packages?: readonly Package[];
  readonly surface?: Readonly<Partial<Record<SurfaceList, readonly SurfaceItem[]>>>;
  readonly users?: readonly UserAccount[];
  readonly warnings?: readonly ReportWarning[];
  readonly entrypoint?: EntrypointInfo;
  /** Facts of its own that its rules judge; kept in the report's `evidence` under the analyzer's id. */
  readonly evidence?: E;
}

/** What a rule judges: the image's facts, in the context the image runs in. */
export interface JudgeInput {
  readonly facts: ImageFacts;
  readonly context: RuntimeContext;
}

export type { Rule } from '../core/finding.js';

/**
 * One analysis over the squashed filesystem. `reads` declares, before any layer is walked, which
 * file contents it needs (trivy's Required()); `extract` what it computes from files it does not
 * keep; `version` changes when its facts for the same input change (cache keys). `analyze` turns
 * files into facts; `judge` turns its facts (and the image's) into findings in a runtime context,
 * without the files, so that a stored report can be judged again for another context.
 */
export interface Analyzer<X = unknown, E = unknown> {
  readonly id: string;
  readonly version: number;
  /** True to keep the file (up to the default limit), or a byte limit of its own. */
  readonly reads?: (path: string, size: number) => boolean | number;
  readonly extract?: Extractor<X>;
  readonly rules?: readonly Rule[];
  analyze(input: AnalyzerInput<X>): AnalyzerOutput<E> | Promise<AnalyzerOutput<E>>;
  judge?(evidence: E | undefined, input: JudgeInput): Finding[];
}

/** Builds a finding of a rule with its defaults; severity may be raised or lowered by context. */
export function finding(
  rule: Rule,
  init: {
    message: string;
    location?: Finding['location'];
    severity?: Finding['severity'];
    key?: string;
    title?: string;
  },
): Finding {
  return {
    ruleId: rule.id,
    severity: init.severity ?? rule.severity,
    title: init.title ?? rule.title,
    message: init.message,
    ...(init.location ? { location: init.location } : {}),
    references: rule.references,
    fingerprint: fingerprint(rule.id, init.location?.path, init.key),
  };
}
