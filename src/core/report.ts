import type { Digest } from './digest.js';
import type { Platform } from './platform.js';
import type { ImageConfig } from './config.js';

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

export interface ReportWarning {
  readonly code: string;
  readonly message: string;
}

/** What `inspect` prints as JSON: the target and warnings. */
export interface InspectReport {
  readonly schema: typeof REPORT_SCHEMA;
  readonly tool: { readonly name: 'distrolens'; readonly version: string };
  readonly target: Target;
  readonly warnings: readonly ReportWarning[];
}
