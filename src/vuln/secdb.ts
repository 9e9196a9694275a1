import { loadYaml } from '../util/yaml.js';
import type { OsvAffected, OsvRecord } from './osv.js';

/**
 * Secfixes databases: Alpine's secdb (`main.yaml`/`main.json` per release,
 * https://secdb.alpinelinux.org/) and the `security.json` of Wolfi and Chainguard, which share its
 * shape. For each package, the version that fixed each vulnerability; turned into OSV-shaped
 * records where every version below the fix is affected. Versions listed under "0" were never
 * affected in that distribution and are skipped.
 */
interface Secdb {
  readonly distroversion?: unknown;
  readonly urlprefix?: unknown;
  readonly packages?: readonly {
    readonly pkg?: { readonly name?: string; readonly secfixes?: Record<string, unknown> };
  }[];
}

/** The OSV ecosystem a secfixes database describes. */
function ecosystemOf(doc: Secdb): string {
  const prefix = typeof doc.urlprefix === 'string' ? doc.urlprefix : '';
  if (prefix.includes('wolfi.dev')) return 'Wolfi';
  if (prefix.includes('cgr.dev')) return 'Chainguard';
  return `Alpine:${typeof doc.distroversion === 'string' ? doc.distroversion : ''}`;
}

export function secdbToOsv(input: string | Secdb): OsvRecord[] {
  const doc = (typeof input === 'string' ? loadYaml().parse(input) : input) as Secdb;
  const ecosystem = ecosystemOf(doc);
  const byId = new Map<string, OsvAffected[]>();
  for (const entry of doc.packages ?? []) {
    const name = entry.pkg?.name;
    if (!name) continue;
    for (const [version, ids] of Object.entries(entry.pkg?.secfixes ?? {})) {
      if (version === '0' || !Array.isArray(ids)) continue;
      for (const raw of ids) {
        // Entries are "CVE-2019-14697", sometimes with a typo'd space or a trailing note.
        const id = String(raw)
          .trim()
          .replace(/^CVE\s+/, 'CVE-')
          .split(/\s+/)[0]!;
        if (!/^[A-Z]+-\d{4}-\d+$/.test(id) && !/^GHSA(-[0-9a-z]{4}){3}$/.test(id)) continue;
        let affected = byId.get(id);
        if (!affected) byId.set(id, (affected = []));
        affected.push({
          package: { ecosystem, name },
          ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: version }] }],
        });
      }
    }
  }
  return [...byId].map(([id, affected]) => ({ id, affected }));
}
