import { parse } from 'yaml';
import type { OsvRecord } from './osv.js';

/**
 * Alpine's secfixes database (secdb `main.yaml`/`community.yaml` per release): for each package,
 * the version that fixed each CVE. Turned into OSV-shaped records: every version below the fix
 * is affected. Versions listed under "0" were never affected in Alpine and are skipped.
 * https://secdb.alpinelinux.org/
 */
export function secdbToOsv(text: string): OsvRecord[] {
  const doc = parse(text) as { distroversion?: string; packages?: { pkg?: { name?: string; secfixes?: Record<string, unknown> } }[] };
  const release = String(doc.distroversion ?? '');
  const ecosystem = `Alpine:${release}`;
  const byId = new Map<string, { id: string; affected: NonNullable<OsvRecord['affected']>[number][] }>();
  for (const entry of doc.packages ?? []) {
    const name = entry.pkg?.name;
    if (!name) continue;
    for (const [version, ids] of Object.entries(entry.pkg?.secfixes ?? {})) {
      if (version === '0' || !Array.isArray(ids)) continue;
      for (const raw of ids) {
        // Entries are "CVE-2019-14697", sometimes with a typo'd space or a trailing note.
        const id = String(raw).trim().replace(/^CVE\s+/, 'CVE-').split(/\s+/)[0]!;
        if (!/^[A-Z]+-\d{4}-\d+$/.test(id)) continue;
        let record = byId.get(id);
        if (!record) byId.set(id, (record = { id, affected: [] }));
        record.affected.push({ package: { ecosystem, name }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: version }] }] });
      }
    }
  }
  return [...byId.values()].map((r) => ({ id: r.id, affected: r.affected }));
}
