import { readFileSync } from 'node:fs';
import { loadYaml } from '../util/yaml.js';
import { withZipFile } from '../util/zip.js';
import type { OsvAffected, OsvEvent, OsvRecord } from './osv.js';
import { secdbToOsv } from './secdb.js';

/**
 * The feeds `db update` reads, and how one downloaded file becomes OSV records. Each source has a
 * name that is also its path in a mirror: `--source https://mirror/x` fetches `x/<name>`, and
 * `--source DIR` reads `DIR/<name>` (plus any other feed file found under DIR, recognised by
 * content). A file is an OSV export zip, one OSV record (or a list of them) as JSON, or a
 * secfixes database (Alpine secdb, Wolfi and Chainguard security.json) as JSON or YAML.
 */
export interface FeedSource {
  readonly name: string;
  readonly url: string;
}

/** OSV's per-ecosystem exports: https://google.github.io/osv.dev/data/#data-dumps */
export const OSV_EXPORT_BASE = 'https://osv-vulnerabilities.storage.googleapis.com';
export const OSV_ECOSYSTEMS = [
  'Debian',
  'Ubuntu',
  'Alpine',
  'Wolfi',
  'Chainguard',
  'Red Hat',
  'Rocky Linux',
  'AlmaLinux',
  'npm',
  'PyPI',
  'Go',
  'Maven',
  'crates.io',
  'RubyGems',
  'NuGet',
] as const;
/** Alpine's secfixes, per release and repository: https://secdb.alpinelinux.org/ */
export const ALPINE_SECDB_BASE = 'https://secdb.alpinelinux.org';
export const ALPINE_SECDB_RELEASES = ['v3.17', 'v3.18', 'v3.19', 'v3.20', 'v3.21', 'v3.22', 'edge'] as const;
export const WOLFI_SECURITY_URL = 'https://packages.wolfi.dev/os/security.json';
export const CHAINGUARD_SECURITY_URL = 'https://packages.cgr.dev/chainguard/security.json';

export const DEFAULT_SOURCES: readonly FeedSource[] = [
  ...OSV_ECOSYSTEMS.map((e) => ({
    name: `osv/${e}/all.zip`,
    url: `${OSV_EXPORT_BASE}/${encodeURIComponent(e)}/all.zip`,
  })),
  ...ALPINE_SECDB_RELEASES.flatMap((r) =>
    ['main', 'community'].map((repo) => ({
      name: `alpine-secdb/${r}/${repo}.json`,
      url: `${ALPINE_SECDB_BASE}/${r}/${repo}.json`,
    })),
  ),
  { name: 'wolfi/security.json', url: WOLFI_SECURITY_URL },
  { name: 'chainguard/security.json', url: CHAINGUARD_SECURITY_URL },
];

/** The OSV export of each package type the scan reports. */
const FEED_OF_TYPE: Readonly<Record<string, (typeof OSV_ECOSYSTEMS)[number]>> = {
  npm: 'npm',
  pypi: 'PyPI',
  golang: 'Go',
  maven: 'Maven',
  cargo: 'crates.io',
  gem: 'RubyGems',
  nuget: 'NuGet',
};

/** The OSV export of each distribution (os-release ID). */
const FEED_OF_OS: Readonly<Record<string, (typeof OSV_ECOSYSTEMS)[number]>> = {
  debian: 'Debian',
  ubuntu: 'Ubuntu',
  alpine: 'Alpine',
  wolfi: 'Wolfi',
  chainguard: 'Chainguard',
  rhel: 'Red Hat',
  centos: 'Red Hat',
  rocky: 'Rocky Linux',
  almalinux: 'AlmaLinux',
};

/**
 * The feeds an image needs (names of DEFAULT_SOURCES): its distribution's, with Alpine's secfixes
 * for its release and Wolfi's or Chainguard's security.json, and one per kind of language
 * package it holds. What a first scan fetches instead of every feed.
 */
export function feedsFor(
  os: { readonly id: string; readonly versionId?: string },
  packageTypes: Iterable<string>,
): string[] {
  const names = new Set<string>();
  const distro = FEED_OF_OS[os.id];
  if (distro) names.add(`osv/${distro}/all.zip`);
  if (os.id === 'alpine' && os.versionId) {
    const release = `v${os.versionId.split('.').slice(0, 2).join('.')}`;
    for (const repo of ['main', 'community']) names.add(`alpine-secdb/${release}/${repo}.json`);
  }
  if (os.id === 'wolfi') names.add('wolfi/security.json');
  if (os.id === 'chainguard') names.add('chainguard/security.json');
  for (const type of packageTypes) {
    const feed = FEED_OF_TYPE[type];
    if (feed) names.add(`osv/${feed}/all.zip`);
  }
  const known = new Set(DEFAULT_SOURCES.map((s) => s.name));
  return [...names].filter((n) => known.has(n)).sort();
}

/**
 * The ecosystem key records are stored and looked up under: OSV's name with the parts that do not
 * change matching removed ("Ubuntu:22.04:LTS" → "Ubuntu:22.04", "Red Hat:enterprise_linux:9::appstream"
 * → "Red Hat:9"), so that the image side can name it from os-release alone.
 */
export function normalizeEcosystem(ecosystem: string): string {
  const ubuntu = /^Ubuntu:(\d+\.\d+)(?::LTS)?$/.exec(ecosystem);
  if (ubuntu) return `Ubuntu:${ubuntu[1]}`;
  const redhat = /^Red Hat:[^:]+:(\d+)/.exec(ecosystem);
  if (redhat) return `Red Hat:${redhat[1]}`;
  const major = /^(Rocky Linux|AlmaLinux):(\d+)/.exec(ecosystem);
  if (major) return `${major[1]}:${major[2]}`;
  return ecosystem;
}

/** Package names as the ecosystem compares them (PyPI: PEP 503 normalisation). */
export function normalizeName(ecosystem: string, name: string): string {
  return ecosystem === 'PyPI' ? name.toLowerCase().replace(/[-_.]+/g, '-') : name;
}

/** What a stored record keeps: enough to match, rate and explain, not the prose of `details`. */
export function compactRecord(raw: Record<string, unknown>): OsvRecord | undefined {
  if (typeof raw.id !== 'string' || !Array.isArray(raw.affected)) return undefined;
  const strings = (v: unknown): string[] | undefined =>
    Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : undefined;
  const affected: OsvAffected[] = [];
  for (const a of raw.affected as {
    package?: { ecosystem?: unknown; name?: unknown };
    ranges?: unknown;
    versions?: unknown;
  }[]) {
    if (typeof a?.package?.ecosystem !== 'string' || typeof a.package.name !== 'string') continue;
    const ecosystem = normalizeEcosystem(a.package.ecosystem);
    const ranges = Array.isArray(a.ranges)
      ? (a.ranges as { type?: unknown; events?: unknown }[])
          .filter((r) => typeof r?.type === 'string' && Array.isArray(r.events))
          .map((r) => ({ type: r.type as string, events: r.events as OsvEvent[] }))
      : undefined;
    const versions = strings(a.versions);
    affected.push({
      package: { ecosystem, name: normalizeName(ecosystem, a.package.name) },
      ...(ranges?.length ? { ranges } : {}),
      ...(versions?.length ? { versions } : {}),
    });
  }
  const severity = Array.isArray(raw.severity)
    ? ((raw.severity as { type?: unknown; score?: unknown }[]).filter(
        (s) => typeof s?.type === 'string' && typeof s.score === 'string',
      ) as { type: string; score: string }[])
    : undefined;
  const rated = (raw.database_specific as { severity?: unknown } | undefined)?.severity;
  const aliases = strings(raw.aliases);
  const upstream = strings(raw.upstream);
  return {
    id: raw.id,
    ...(aliases?.length ? { aliases } : {}),
    ...(upstream?.length ? { upstream } : {}),
    ...(typeof raw.summary === 'string' && raw.summary ? { summary: raw.summary.slice(0, 300) } : {}),
    ...(typeof raw.withdrawn === 'string' ? { withdrawn: raw.withdrawn } : {}),
    ...(typeof raw.modified === 'string' ? { modified: raw.modified } : {}),
    affected,
    ...(severity?.length ? { severity } : {}),
    ...(typeof rated === 'string' ? { database_specific: { severity: rated } } : {}),
  };
}

const isSecdb = (doc: Record<string, unknown>): boolean =>
  Array.isArray(doc.packages) && ('distroversion' in doc || 'apkurl' in doc || 'urlprefix' in doc);

/** Records from one parsed JSON/YAML document: an OSV record, a list of them, or a secfixes database. */
function recordsOfDocument(doc: unknown): OsvRecord[] {
  if (Array.isArray(doc)) return doc.flatMap((d) => (d && typeof d === 'object' ? recordsOfDocument(d) : []));
  if (!doc || typeof doc !== 'object') return [];
  const d = doc as Record<string, unknown>;
  if (isSecdb(d)) return secdbToOsv(d);
  const record = compactRecord(d);
  return record ? [record] : [];
}

export type FeedKind = 'osv-zip' | 'osv-json' | 'secdb';

/**
 * Calls `each` with every record of a feed file, one zip member at a time (an export of a
 * few hundred MB is never held whole). Returns what the file was, or undefined when it is not a
 * feed. Throws when a file that says it is a feed is corrupt.
 */
export function readFeedFile(path: string, each: (record: OsvRecord) => void): FeedKind | undefined {
  const fromZip = withZipFile(path, (members) => {
    for (const member of members) {
      if (!member.name.endsWith('.json')) continue;
      const data = member.read();
      if (!data) throw new Error(`${member.name}: corrupt or oversized zip member`);
      for (const record of recordsOfDocument(JSON.parse(data.toString('utf8')))) each(record);
    }
    return 'osv-zip' as const;
  });
  if (fromZip) return fromZip;
  const text = readFileSync(path, 'utf8');
  const trimmed = text.trimStart();
  const doc: unknown = trimmed.startsWith('{') || trimmed.startsWith('[') ? JSON.parse(text) : loadYaml().parse(text);
  const records = recordsOfDocument(doc);
  const kind: FeedKind =
    doc && typeof doc === 'object' && !Array.isArray(doc) && isSecdb(doc as Record<string, unknown>)
      ? 'secdb'
      : 'osv-json';
  if (!records.length && kind !== 'secdb') return undefined;
  for (const record of records) each(record);
  return kind;
}
