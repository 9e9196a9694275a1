import { fingerprint, type Finding, type Rule } from '../core/finding.js';
import type { Package } from '../core/package.js';
import type { SurfaceItem, UserAccount } from '../core/surface.js';
import type { EntrypointInfo, ReportWarning } from '../core/report.js';
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

export interface AnalyzerInput {
  readonly fs: LayeredFs;
  /**
   * What this analyzer's `extract` kept from a file during the walk (binaries and archives are
   * read once, in the walk, and only the small result is kept).
   */
  readonly extracted: (path: string) => unknown;
  readonly image: ImageMeta;
  /** Set for every analyzer but `os`, which runs first. */
  readonly os: OsInfo;
}

export interface AnalyzerOutput {
  readonly packages?: readonly Package[];
  readonly findings?: readonly Finding[];
  readonly surface?: Readonly<Partial<Record<string, readonly SurfaceItem[]>>>;
  readonly users?: readonly UserAccount[];
  readonly warnings?: readonly ReportWarning[];
  readonly entrypoint?: EntrypointInfo;
}

export type { Rule } from '../core/finding.js';

/**
 * One analysis over the squashed filesystem. `reads` declares, before any layer is walked, which
 * file contents it needs (trivy's Required()); `version` changes when its output for the same
 * input changes (cache keys).
 */
export interface Analyzer {
  readonly id: string;
  readonly version: number;
  /** True to keep the file (up to the default limit), or a byte limit of its own. */
  readonly reads?: (path: string, size: number) => boolean | number;
  readonly rules?: readonly Rule[];
  /**
   * For files too large to keep (binaries, Java archives): which ones to look at, and what to
   * keep of them, computed during the walk while the bytes are at hand. Must be small and JSON-able.
   */
  readonly extract?: {
    readonly match: (path: string, size: number, mode: number) => boolean;
    readonly run: (data: Buffer, path: string) => unknown;
  };
  analyze(input: AnalyzerInput): AnalyzerOutput | Promise<AnalyzerOutput>;
}

/** Builds a finding of a rule with its defaults; severity may be raised or lowered by context. */
export function finding(rule: Rule, init: { message: string; location?: Finding['location']; severity?: Finding['severity']; key?: string; title?: string }): Finding {
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
