import type { Report } from '../core/report.js';
import { columns } from './format.js';

/** `scan --format packages`: one line per package, as syft's table prints them, with the layer that installed it. */
export function renderPackagesTable(report: Report): string {
  if (!report.packages.length) return 'No packages found\n';
  const rows = [['NAME', 'VERSION', 'TYPE', 'LAYER']];
  for (const p of report.packages) rows.push([p.name, p.version, p.type, String(p.locations[0]?.layer ?? '-')]);
  return `${columns(rows)}\n`;
}
