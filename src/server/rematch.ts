import { rematchReport, type VulnScanOptions } from '../scan/scan.js';
import { takeSnapshot } from './fleet.js';
import { vulnDbId } from './job.js';
import type { RematchRecord, Storage } from './storage.js';

/** Reports re-matched per batch: bounded memory whatever the fleet's size. */
const BATCH = 50;

const vulnKey = (v: { id: string; package: { name: string; version: string } }): string =>
  `${v.id} ${v.package.name} ${v.package.version}`;

/**
 * Re-matches every stored report built with another vulnerability database than `vulnerabilities`:
 * no image is pulled (the facts are in the report), the report is judged again, and what changed
 * is recorded for the fleet view (which vulnerabilities appeared or went, per image). Returns
 * undefined when nothing was stale.
 */
export async function rematchStored(
  storage: Storage,
  vulnerabilities: VulnScanOptions,
  now: () => Date = () => new Date(),
  signal?: AbortSignal,
): Promise<RematchRecord | undefined> {
  const vulnDb = vulnDbId(vulnerabilities);
  const changed: RematchRecord['changed'][number][] = [];
  let scans = 0;
  for (let ids = await storage.staleScans(vulnDb, BATCH); ids.length; ids = await storage.staleScans(vulnDb, BATCH)) {
    for (const id of ids) {
      signal?.throwIfAborted();
      const report = await storage.getReport(id);
      if (!report) continue;
      const fresh = rematchReport(report, vulnerabilities, now);
      const before = new Set(report.vulnerabilities.map(vulnKey));
      const after = new Set(fresh.vulnerabilities.map(vulnKey));
      const added = [...after].filter((k) => !before.has(k)).length;
      const removed = [...before].filter((k) => !after.has(k)).length;
      await storage.updateReport(id, fresh, vulnDb);
      scans++;
      if (added || removed)
        changed.push({ id, reference: report.target.reference ?? report.target.input, added, removed });
    }
  }
  if (!scans) return undefined;
  const record: RematchRecord = { at: now().toISOString(), vulnDb, scans, changed };
  await storage.saveRematch(record);
  await takeSnapshot(storage, now());
  return record;
}
