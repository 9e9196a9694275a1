/**
 * dpkg's database format: stanzas of `Field: value` lines separated by blank lines, values
 * continued on lines that start with a space (deb-control(5)). Used by /var/lib/dpkg/status and
 * by distroless's /var/lib/dpkg/status.d/<pkg> files (one stanza each, usually without Status).
 */
export interface DpkgRecord {
  readonly package: string;
  readonly version: string;
  readonly architecture?: string;
  readonly source?: string;
  readonly sourceVersion?: string;
  /** Absent in distroless records, which are all installed. */
  readonly status?: string;
}

/**
 * Splits control text into stanzas of fields (names lower-cased). With `fields`, only those are
 * kept: a status file is mostly Description lines that nobody here reads.
 */
export function parseControl(text: string, fields?: ReadonlySet<string>): Map<string, string>[] {
  const stanzas: Map<string, string>[] = [];
  let current = new Map<string, string>();
  /** The field that continuation lines extend; undefined after a field that is not kept. */
  let last: string | undefined;
  for (const line of text.split('\n')) {
    const first = line.charCodeAt(0);
    if (first === 0x20 || first === 0x09) {
      let i = 1;
      while (
        i < line.length &&
        (line.charCodeAt(i) === 0x20 || line.charCodeAt(i) === 0x09 || line.charCodeAt(i) === 0x0d)
      )
        i++;
      if (i < line.length) {
        if (last) current.set(last, `${current.get(last)}\n${line.trim()}`);
        continue;
      }
    }
    if (line.trim() === '') {
      if (current.size) stanzas.push(current);
      current = new Map();
      last = undefined;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    last = !fields || fields.has(name) ? name : undefined;
    if (last) current.set(last, line.slice(colon + 1).trim());
  }
  if (current.size) stanzas.push(current);
  return stanzas;
}

const RECORD_FIELDS = new Set(['package', 'version', 'architecture', 'source', 'status']);

/** Parses dpkg records; only installed packages (`Status: … installed`, or no Status) are kept. */
export function parseDpkgStatus(text: string): DpkgRecord[] {
  const records: DpkgRecord[] = [];
  for (const fields of parseControl(text, RECORD_FIELDS)) {
    const name = fields.get('package');
    const version = fields.get('version');
    if (!name || !version) continue;
    const status = fields.get('status');
    // "install ok installed", "hold ok installed"; not "deinstall ok config-files".
    if (status !== undefined && status.split(/\s+/)[2] !== 'installed') continue;
    // "Source: glibc (2.36-9)" names the source package and, when it differs, its version.
    const source = /^(\S+)(?:\s+\((\S+)\))?$/.exec(fields.get('source') ?? '');
    const architecture = fields.get('architecture');
    records.push({
      package: name,
      version,
      ...(architecture ? { architecture } : {}),
      ...(source?.[1] ? { source: source[1], sourceVersion: source[2] ?? version } : {}),
      ...(status !== undefined ? { status } : {}),
    });
  }
  return records;
}

/** Paths listed in a `.md5sums` file (`<md5>  <path relative to />`) or a `.list` file. */
export function parseFileList(text: string, md5sums: boolean): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const path = md5sums ? line.replace(/^[0-9a-f]{32}\s+/, '') : line;
    if (!path.trim() || path === '/.') continue;
    out.push(path.startsWith('/') ? path : `/${path}`);
  }
  return out;
}

/**
 * Licences named in a Debian copyright file: the `License:` fields of the machine-readable
 * format (https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/), else references to
 * /usr/share/common-licenses/<name>. Sorted, without duplicates; empty when neither is there.
 */
export function parseCopyrightLicenses(text: string): string[] {
  const found = new Set<string>();
  // `License:` fields start a line: found with indexOf, which is faster than a multiline regex
  // over the ~2.6 MB of copyright files of a Debian image.
  for (let at = text.indexOf('License:'); at >= 0; at = text.indexOf('License:', at + 8)) {
    if (at > 0 && text.charCodeAt(at - 1) !== 0x0a) continue;
    const end = text.indexOf('\n', at);
    const value = text.slice(at + 8, end < 0 ? text.length : end);
    for (const name of value.trim().split(/\s+(?:or|and)\s+|,\s*/i)) {
      const clean = name.trim().replace(/\s+with\s+.*$/i, '');
      if (clean && clean.length <= 64) found.add(clean);
    }
  }
  if (found.size === 0) {
    for (const match of text.matchAll(/\/usr\/share\/common-licenses\/([A-Za-z0-9.+-]+)/g))
      found.add(match[1]!.replace(/\.$/, ''));
  }
  return [...found].sort();
}
