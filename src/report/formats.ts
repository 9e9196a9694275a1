import type { Rule } from '../core/finding.js';
import type { Recommendation } from '../core/recommendation.js';
import type { Report } from '../core/report.js';
import { renderCycloneDx } from './cyclonedx.js';
import { renderJson } from './format.js';
import { renderScanHtml } from './html.js';
import { renderMarkdown } from './markdown.js';
import { renderSarif } from './sarif.js';
import { renderScanTable } from './scan-table.js';
import { renderSpdx } from './spdx.js';
import { renderPackagesTable } from './packages-table.js';

/**
 * The formats a scan report is written in: one list for the CLI's --format, the server's
 * `?format=` and its download buttons, and the docs.
 */
export const SCAN_FORMATS = ['table', 'json', 'sarif', 'cyclonedx', 'spdx', 'markdown', 'html', 'packages'] as const;
export type ScanFormat = (typeof SCAN_FORMATS)[number];

/** What some renderers need besides the report: the rules (SARIF) and the move to a minimal base (HTML). */
export interface RenderContext {
  readonly rules: readonly Rule[];
  readonly recommendation: () => Recommendation;
  /** The terminal's width for the table; undefined when the output is piped (no value is cut). */
  readonly width?: number | undefined;
}

const FORMATS: Readonly<
  Record<
    ScanFormat,
    { readonly mediaType: string; readonly render: (report: Report, context: RenderContext) => string }
  >
> = {
  table: { mediaType: 'text/plain; charset=utf-8', render: (report, { width }) => renderScanTable(report, width) },
  json: { mediaType: 'application/json', render: renderJson },
  sarif: { mediaType: 'application/sarif+json', render: (report, { rules }) => renderSarif(report, rules) },
  cyclonedx: { mediaType: 'application/vnd.cyclonedx+json', render: renderCycloneDx },
  spdx: { mediaType: 'application/spdx+json', render: renderSpdx },
  markdown: { mediaType: 'text/markdown; charset=utf-8', render: renderMarkdown },
  html: {
    mediaType: 'text/html; charset=utf-8',
    render: (report, { recommendation }) => renderScanHtml(report, recommendation()),
  },
  packages: { mediaType: 'text/plain; charset=utf-8', render: renderPackagesTable },
};

export const isScanFormat = (name: string): name is ScanFormat => (SCAN_FORMATS as readonly string[]).includes(name);

/** The media type a format is served with. */
export const scanFormatMediaType = (format: ScanFormat): string => FORMATS[format].mediaType;

/** Renders a scan report in one of SCAN_FORMATS. */
export function renderScan(format: ScanFormat, report: Report, context: RenderContext): string {
  return FORMATS[format].render(report, context);
}
