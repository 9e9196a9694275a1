import type { ImageFacts } from '../core/report.js';
import { assessMaintenance } from '../maintenance/assess.js';
import { maintenanceData, SHIPPED_ONLY, type MaintenanceData } from '../maintenance/store.js';
import { VulnDb } from '../vuln/db.js';
import { sortWarnings } from './assemble.js';
import type { VulnScanOptions } from './vulnerabilities.js';

const opened = new WeakMap<VulnDb, MaintenanceData>();

/**
 * The maintenance data a scan reads: the local database's (end-of-life tables and repository
 * indexes, built with the feeds) when the scan has one, else the shipped end-of-life table.
 */
export function maintenanceDataOf(vulnerabilities: VulnScanOptions | undefined): MaintenanceData {
  const source = vulnerabilities?.source;
  if (!(source instanceof VulnDb)) return SHIPPED_ONLY;
  let data = opened.get(source);
  if (!data) opened.set(source, (data = maintenanceData(source)));
  return data;
}

/** Adds the maintenance section (after the vulnerabilities: it counts the fixable ones). */
export function withMaintenance<F extends ImageFacts>(
  facts: F,
  vulnerabilities: VulnScanOptions | undefined,
  now: () => Date,
): F {
  const { maintenance, warnings } = assessMaintenance(facts, { data: maintenanceDataOf(vulnerabilities), now: now() });
  const own = new Set(['W_EOL_DATA_STALE', 'W_VULN_RELEASE_ENDED', 'W_IMAGE_DATE_INCONSISTENT']);
  const kept = facts.warnings.filter((w) => !own.has(w.code));
  return { ...facts, maintenance, warnings: sortWarnings([...kept, ...warnings]) };
}
