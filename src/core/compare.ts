import type { Severity } from './finding.js';
import type { ToolInfo } from './report.js';
import type { Maintenance, SupportStatus } from './maintenance.js';
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
  /** The maintenance axis (reports of revision 3 and later). */
  readonly maintenance?: MaintenanceSummary;
}

export interface MaintenanceSummary {
  /** `debian 12`, `alpine-linux 3.9`, `wolfi`. */
  readonly release: string;
  readonly support: SupportStatus['state'];
  readonly eol?: string | true;
  /** OS packages: each can need an update. */
  readonly packages: number;
  /** Packages behind the release's repository; absent when not checked. */
  readonly outdated?: number;
  readonly securityUpdates?: number;
  readonly burden: number;
  readonly ageDays?: number;
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

/** The maintenance axis of one image, as compared side by side. */
export function summariseMaintenance(m: Maintenance): MaintenanceSummary {
  return {
    release: `${m.release.product}${m.release.cycle ? ` ${m.release.cycle}` : ''}`,
    support: m.release.state,
    ...(m.release.eol !== undefined ? { eol: m.release.eol } : {}),
    packages: m.burden.packages,
    ...(m.outdated ? { outdated: m.outdated.security + m.outdated.other, securityUpdates: m.outdated.security } : {}),
    burden: m.burden.value,
    ...(m.image.ageDays !== undefined ? { ageDays: m.image.ageDays } : {}),
  };
}

/** "101 package(s), 14 behind, 3 security update(s), supported until 2028-06-10" */
export function maintenanceWords(m: MaintenanceSummary): string {
  const eol = typeof m.eol === 'string' ? ` ${m.eol}` : '';
  const support = {
    ended: `end of life${eol ? ` since${eol}` : ''}`,
    extended: `standard support ended${eol}, extended support only`,
    ending: `supported until${eol}`,
    supported: `supported until${eol}`,
    rolling: 'rolling release',
    unknown: 'support unknown',
  }[m.support];
  const behind = m.outdated !== undefined ? `, ${m.outdated} behind, ${m.securityUpdates ?? 0} security update(s)` : '';
  return `${m.packages} package(s)${behind}, ${support}`;
}
