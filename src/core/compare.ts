import type { Severity } from './finding.js';
import type { ToolInfo } from './report.js';
import type { VULN_SEVERITIES } from './vulnerability.js';
import { SURFACE_LISTS } from './surface.js';

/** Version tag of the compare JSON. */
export const COMPARE_SCHEMA = 'distrolens/compare@1';

/** Categories compared: the tool categories and the mode-based lists. */
export const COMPARED_CATEGORIES = SURFACE_LISTS;
export type ComparedCategory = (typeof COMPARED_CATEGORIES)[number];
type Category = ComparedCategory;

export interface ImageSummary {
  readonly input: string;
  readonly reference?: string;
  readonly classification: string;
  readonly grade: string;
  readonly score: number;
  readonly size: {
    readonly compressed?: number;
    readonly uncompressed: number;
    readonly squashed: number;
    readonly files: number;
  };
  readonly packages: number;
  readonly surface: Readonly<Record<Category, number>>;
  readonly findings: Readonly<Record<Severity, number>>;
  /** Known vulnerabilities by severity (all zero when no database was available). */
  readonly vulnerabilities: Readonly<Record<(typeof VULN_SEVERITIES)[number], number>>;
  readonly user: string;
}

/** How one image differs from the first (the baseline). */
export interface ImageDiff {
  readonly packages: {
    readonly added: readonly string[];
    readonly removed: readonly string[];
    readonly changed: readonly { readonly name: string; readonly from: string; readonly to: string }[];
  };
  readonly surface: Readonly<
    Record<Category, { readonly removed: readonly string[]; readonly added: readonly string[] }>
  >;
  readonly findings: Readonly<Record<Severity, number>>;
  /** Vulnerability ids (CVEs) of the baseline this image no longer has, and ones it brings. */
  readonly vulnerabilities: { readonly removed: readonly string[]; readonly added: readonly string[] };
  readonly sizeBytes: number;
}

export interface Comparison {
  readonly schema: typeof COMPARE_SCHEMA;
  readonly tool: ToolInfo;
  readonly verdict: string;
  readonly images: readonly ImageSummary[];
  /** diffs[i] compares images[i + 1] with images[0]. */
  readonly diffs: readonly ImageDiff[];
}
