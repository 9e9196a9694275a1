import type { Digest } from './digest.js';
import type { Platform } from './platform.js';
import type { ImageConfig } from './config.js';
import type { Finding, SourceFinding } from './finding.js';
import type { Package } from './package.js';
import type { Surface } from './surface.js';
import type { Vulnerability } from './vulnerability.js';

/** Version tag of the JSON report; bump on any rename or removal (additions keep it). */
export const REPORT_SCHEMA = 'distrolens/report@1';

/** One layer as reported, base first. */
export interface TargetLayer {
  readonly index: number;
  readonly digest?: Digest;
  readonly diffId?: Digest;
  readonly mediaType: string;
  /** Uncompressed bytes of the layer tar. */
  readonly size: number;
  readonly compressedSize?: number;
  /** Entries in the layer (whiteout markers excluded). */
  readonly files: number;
  readonly createdBy?: string;
}

/** The `target` part of the report: what was scanned. Env values that look secret are redacted. */
export interface Target {
  readonly input: string;
  readonly source: string;
  readonly reference?: string;
  readonly manifestDigest?: Digest;
  readonly configDigest?: Digest;
  readonly platform: Platform;
  /** Platforms offered by the index the image was chosen from. */
  readonly platforms: readonly Platform[];
  /** The image config, env values that look secret redacted. */
  readonly config: ImageConfig;
  readonly layers: readonly TargetLayer[];
}

export type { ReportWarning, WarningCode } from './warnings.js';
import type { ReportWarning } from './warnings.js';
import type { Maintenance } from './maintenance.js';

/** The tool that wrote a JSON document. */
export interface ToolInfo {
  readonly name: 'distrolens';
  readonly version: string;
}

/** What `inspect` prints as JSON: the target and warnings. */
export interface InspectReport {
  readonly schema: typeof REPORT_SCHEMA;
  readonly tool: ToolInfo;
  readonly target: Target;
  readonly warnings: readonly ReportWarning[];
}

/** Image weight; `efficiency` and `wastedBytes` use dive's definitions. */
export interface SizeSummary {
  /** Sum of compressed layer sizes, when the source has them. */
  readonly compressed?: number;
  /** Sum of uncompressed layer tar sizes. */
  readonly uncompressed: number;
  /** Bytes of the files visible in the final filesystem. */
  readonly squashed: number;
  readonly wastedBytes: number;
  readonly efficiency: number;
  /** Paths visible in the final filesystem. */
  readonly files: number;
  /** Per layer: bytes of file content it adds, and how many of those later layers delete or overwrite. */
  readonly layers: readonly {
    readonly index: number;
    readonly addedBytes: number;
    readonly hiddenBytes: number;
    readonly createdBy?: string;
  }[];
  readonly largest: readonly { readonly path: string; readonly size: number; readonly layer: number }[];
  readonly inefficiencies: readonly {
    readonly path: string;
    readonly count: number;
    readonly cumulativeBytes: number;
  }[];
}

export interface ReportOs {
  readonly id: string;
  readonly versionId?: string;
  readonly prettyName?: string;
  readonly classification: 'distroless' | 'distroless-debug' | 'minimal' | 'general' | 'scratch' | 'unknown';
  /** The rule that decided the classification. */
  readonly classificationReason: string;
}

/** What the image runs, and how its executable is linked (for choosing a base). */
export interface EntrypointInfo {
  /** ENTRYPOINT followed by CMD. */
  readonly command: readonly string[];
  /** True when the command is `/bin/sh -c …` (the shell form). */
  readonly shell?: boolean;
  /** The program the command runs: its first word, or the first word of the shell form's script. */
  readonly program: string;
  /** The executable in the image, symlinks resolved. */
  readonly path?: string;
  readonly kind: 'elf-static' | 'elf-dynamic' | 'script' | 'other' | 'missing';
  /** The ELF program interpreter (ld-linux, ld-musl) or the script's shebang. */
  readonly interpreter?: string;
  /** Shared libraries the ELF needs (DT_NEEDED). */
  readonly needs?: readonly string[];
}

/**
 * What an image is, as analysis found it: everything a report holds but the judgement (findings
 * and score). Stored with the report, so that `judge` can run again on it in another runtime
 * context (a Kubernetes pod) without reading the image.
 */
export interface ImageFacts {
  readonly target: Target;
  readonly os: ReportOs;
  readonly size: SizeSummary;
  readonly packages: readonly Package[];
  readonly surface: Surface;
  readonly vulnerabilities: readonly Vulnerability[];
  /** Absent when the image has no ENTRYPOINT or CMD. */
  readonly entrypoint?: EntrypointInfo;
  /** Facts of each analyzer that its rules judge, by analyzer id (see docs/report.md). */
  readonly evidence: Readonly<Record<string, unknown>>;
  /** What keeping the image up to date costs (revision 3); absent in reports of older revisions. */
  readonly maintenance?: Maintenance;
  readonly warnings: readonly ReportWarning[];
}

/** The score: 0–100, a grade, and the deduction of each category with its cap. */
export interface ReportScore {
  readonly value: number;
  readonly grade: string;
  readonly categories: Readonly<Record<string, { readonly deduction: number; readonly max: number }>>;
}

/** The full scan report (`--format json`): the contract of shared/DESIGN.md. */
export interface Report extends ImageFacts {
  readonly schema: typeof REPORT_SCHEMA;
  readonly tool: ToolInfo;
  readonly createdAt: string;
  readonly findings: readonly Finding[];
  readonly score: ReportScore;
}

/** What `lint` prints as JSON: the findings of each Dockerfile. */
export const LINT_SCHEMA = 'distrolens/lint@1';

export interface LintReport {
  readonly schema: typeof LINT_SCHEMA;
  readonly tool: ToolInfo;
  readonly files: readonly {
    readonly path: string;
    readonly stages: number;
    readonly findings: readonly SourceFinding[];
  }[];
}
