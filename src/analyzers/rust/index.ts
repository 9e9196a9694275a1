import { inflateSync } from 'node:zlib';
import { purl, type Package } from '../../core/package.js';
import { parseElf } from '../common/elf.js';
import type { Analyzer, AnalyzerInput, AnalyzerOutput } from '../types.js';

/**
 * Rust crates compiled into binaries built with cargo-auditable: the `.dep-v0` ELF section holds
 * zlib-compressed JSON `{ packages: [{ name, version, source, kind, root?, dependencies? }] }`.
 * https://github.com/rust-secure-code/cargo-auditable/blob/master/PARSING.md
 */
export interface AuditableCrate {
  readonly name: string;
  readonly version: string;
  readonly source?: string;
  readonly kind?: string;
  readonly root?: boolean;
}

/** The section is small; a bigger one, or one that inflates past this, is not auditable data. */
const MAX_AUDIT_JSON = 8 * 1024 * 1024;

export function readAuditableCrates(data: Buffer): AuditableCrate[] | undefined {
  const elf = parseElf(data);
  const section = elf?.section('.dep-v0');
  if (!section || section.offset + section.size > data.length || section.size > MAX_AUDIT_JSON) return undefined;
  const json = JSON.parse(
    inflateSync(data.subarray(section.offset, section.offset + section.size), {
      maxOutputLength: MAX_AUDIT_JSON,
    }).toString('utf8'),
  ) as { packages?: unknown };
  if (!Array.isArray(json.packages)) return undefined;
  return (json.packages as unknown[])
    .filter(
      (p): p is AuditableCrate =>
        !!p && typeof (p as AuditableCrate).name === 'string' && typeof (p as AuditableCrate).version === 'string',
    )
    .map((p) => ({
      name: p.name,
      version: p.version,
      ...(p.source ? { source: p.source } : {}),
      ...(p.kind ? { kind: p.kind } : {}),
      ...(p.root ? { root: true } : {}),
    }));
}

export const rustAnalyzer = {
  id: 'rust',
  version: 1,
  extract: {
    match: (_path: string, size: number, mode: number) => (mode & 0o111) !== 0 && size >= 4096,
    run: (data: Buffer) => readAuditableCrates(data),
  },
  analyze({ fs, extracted }: AnalyzerInput<AuditableCrate[]>): AnalyzerOutput {
    const packages: Package[] = [];
    for (const entry of fs.capturedFiles()) {
      if (!(entry.mode & 0o111)) continue;
      const crates = extracted(entry.path);
      for (const c of crates ?? []) {
        // Build-time dependencies are not in the binary; the root is the program itself.
        if (c.kind === 'build') continue;
        packages.push({
          type: 'cargo',
          name: c.name,
          version: c.version,
          purl: purl('cargo', undefined, c.name, c.version),
          locations: [{ path: entry.path, layer: entry.layer }],
        });
      }
    }
    return { packages };
  },
} satisfies Analyzer<AuditableCrate[]>;
