import { fail } from '../core/errors.js';
import type { OutdatedPackageInfo } from '../core/maintenance.js';
import { StreamReader } from '../util/bytes.js';
import { walkTar } from '../util/tar.js';
import { DEFAULT_INFLATE_LIMITS, detectCompression, inflate, type InflateLimits } from '../util/compression.js';
import { compareApk } from '../vuln/versions/apk.js';
import { compareDpkg } from '../vuln/versions/dpkg.js';

/**
 * Distribution repository indexes (issue 19, second piece): what a release's repositories offer
 * now, read from their own formats — Debian and Ubuntu `Packages` (deb822 stanzas, one per binary
 * package) and Alpine and Wolfi `APKINDEX` (plain, or the `APKINDEX.tar.gz` the mirrors serve) —
 * and which installed packages are behind it, in the ecosystem's own version order.
 */
export type RepositoryFormat = 'debian-packages' | 'apkindex';

/** The newest version of one binary package in a suite, and its source package. */
export interface RepoPackage {
  readonly name: string;
  readonly version: string;
  readonly source?: string;
  /** When this version was built (APKINDEX `t:`, ISO date); Debian indexes carry no such date. */
  readonly published?: string;
}

/** What matching reads of a suite: a Map, or the local database's rows. */
export interface Lookup<V> {
  get(key: string): V | undefined;
}

export interface SuiteIndex {
  readonly format: RepositoryFormat;
  /** e.g. `bookworm-security`, `v3.16/main`, `wolfi`. */
  readonly suite: string;
  /** Updates from the security archive (`*-security`). */
  readonly security: boolean;
  /** Newest version per binary package name. */
  readonly packages: Lookup<RepoPackage>;
  /** Newest version per source package (origin), for binaries the index names differently. */
  readonly sources: Lookup<string>;
  /** When the index was made (its Release file's `Date:`, else the file's own date), ISO. */
  readonly indexedAt?: string;
}

/** An index as read from its file, before it is known which release it belongs to. */
export interface ReadIndex {
  readonly format: RepositoryFormat;
  readonly packages: ReadonlyMap<string, RepoPackage>;
  readonly sources: ReadonlyMap<string, string>;
  /** An APKINDEX.tar.gz's DESCRIPTION (`v3.16.3-13-g4d933a1fa3` on Alpine's mirrors). */
  readonly description?: string;
  /** The key that signed an APKINDEX.tar.gz (`alpine-devel@lists.alpinelinux.org-…`, `wolfi-signing`). */
  readonly signer?: string;
}

const compareOf = (format: RepositoryFormat) => (format === 'debian-packages' ? compareDpkg : compareApk);

/** Recognises an index's text by its content, as `db update --source DIR` recognises feeds. */
export function recognizeIndex(text: string): RepositoryFormat | undefined {
  const head = text.slice(0, 4096);
  if (/^Package: \S+$/m.test(head) && /^Version: \S+$/m.test(head)) return 'debian-packages';
  if (/^P:\S+$/m.test(head) && /^V:\S+$/m.test(head)) return 'apkindex';
  return undefined;
}

/** Keeps the newest version per name (and per source) as entries arrive. */
class Newest {
  readonly packages = new Map<string, RepoPackage>();
  readonly sources = new Map<string, string>();
  constructor(private readonly compare: (a: string, b: string) => number) {}

  add(name: string, version: string, source: string | undefined, sourceVersion = version, published?: string): void {
    const known = this.packages.get(name);
    if (!known || this.compare(version, known.version) > 0)
      this.packages.set(name, {
        name,
        version,
        ...(source && source !== name ? { source } : {}),
        ...(published ? { published } : {}),
      });
    const origin = source ?? name;
    const seen = this.sources.get(origin);
    if (!seen || this.compare(sourceVersion, seen) > 0) this.sources.set(origin, sourceVersion);
  }
}

/**
 * A `Packages` file: `Package:`, `Version:` and `Source:` of each stanza (`Source: name (version)`
 * when the source's version differs from the binary's, as for binNMUs). Other fields are skipped
 * without being split out: a full suite is ~63,000 stanzas.
 */
export function parseDebianPackages(text: string, file = 'Packages'): Pick<ReadIndex, 'packages' | 'sources'> {
  const newest = new Newest(compareDpkg);
  let name: string | undefined;
  let version: string | undefined;
  let source: string | undefined;
  let sourceVersion: string | undefined;
  const flush = () => {
    if (name && version) newest.add(name, version, source, sourceVersion ?? version);
    name = version = source = sourceVersion = undefined;
  };
  let stanzas = 0;
  for (let start = 0; start < text.length;) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const line = text.charCodeAt(end - 1) === 13 ? text.slice(start, end - 1) : text.slice(start, end);
    start = end + 1;
    if (line === '') {
      if (name) stanzas++;
      flush();
    } else if (line.startsWith('Package: ')) name = line.slice(9).trim();
    else if (line.startsWith('Version: ')) version = line.slice(9).trim();
    else if (line.startsWith('Source: ')) {
      const match = /^(\S+)(?:\s+\((\S+)\))?/.exec(line.slice(8).trim());
      source = match?.[1];
      sourceVersion = match?.[2];
    }
  }
  if (name) stanzas++;
  flush();
  if (!stanzas) throw fail('E_FEED_INVALID', `${file}: no package stanza`, 'expected a Debian Packages index');
  return { packages: newest.packages, sources: newest.sources };
}

/** An `APKINDEX` text: `P:` name, `V:` version, `o:` origin, `t:` build time of each entry. */
export function parseApkIndex(text: string, file = 'APKINDEX'): Pick<ReadIndex, 'packages' | 'sources'> {
  const newest = new Newest(compareApk);
  let name: string | undefined;
  let version: string | undefined;
  let origin: string | undefined;
  let built: string | undefined;
  let entries = 0;
  const flush = () => {
    if (name && version) {
      const seconds = Number(built);
      const published = built && Number.isFinite(seconds) ? new Date(seconds * 1000).toISOString() : undefined;
      newest.add(name, version, origin, version, published);
      entries++;
    }
    name = version = origin = built = undefined;
  };
  for (const line of text.split('\n')) {
    if (line === '' || line === '\r') flush();
    else if (line.startsWith('P:')) name = line.slice(2).trim();
    else if (line.startsWith('V:')) version = line.slice(2).trim();
    else if (line.startsWith('o:')) origin = line.slice(2).trim();
    else if (line.startsWith('t:')) built = line.slice(2).trim();
  }
  flush();
  if (!entries) throw fail('E_FEED_INVALID', `${file}: no package entry`, 'expected an APKINDEX');
  return { packages: newest.packages, sources: newest.sources };
}

/** Largest index read (a Debian main suite's Packages is ~100 MB; Wolfi's APKINDEX ~30 MB). */
const LIMITS: InflateLimits = { ...DEFAULT_INFLATE_LIMITS, maxBytes: 512 * 1024 * 1024 };

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

/** The members of an APKINDEX.tar.gz's tar: the signature (its name says the key), DESCRIPTION, APKINDEX. */
async function apkIndexFromTar(
  tar: Buffer,
  file: string,
): Promise<{ text: string; description?: string; signer?: string }> {
  let text: string | undefined;
  let description: string | undefined;
  let signer: string | undefined;
  await walkTar(new StreamReader(once(tar)), { what: file, maxEntries: 100 }, async (entry) => {
    if (entry.type !== 'file') return;
    const name = entry.name.replace(/^\.\//, '');
    if (name === 'APKINDEX') text = (await entry.read()).toString('utf8');
    else if (name === 'DESCRIPTION') description = (await entry.read()).toString('utf8').trim() || undefined;
    else if (name.startsWith('.SIGN.')) signer = name.replace(/^\.SIGN\.[A-Z0-9]+\./, '').replace(/\.rsa\.pub$/, '');
  });
  if (text === undefined) throw fail('E_FEED_INVALID', `${file}: no APKINDEX member`, 'expected an APKINDEX.tar.gz');
  return { text, ...(description ? { description } : {}), ...(signer ? { signer } : {}) };
}

/**
 * Reads an index from its bytes, whatever its packing: `Packages`, `Packages.gz`, `Packages.xz`,
 * `APKINDEX`, `APKINDEX.tar.gz`; decompression has the layers' bomb limits.
 */
export async function readIndex(bytes: Uint8Array, file: string): Promise<ReadIndex> {
  const compression = detectCompression(bytes);
  const chunks: Uint8Array[] = [];
  if (compression === 'none') chunks.push(bytes);
  else for await (const chunk of inflate(once(bytes), compression, file, LIMITS)) chunks.push(chunk);
  const plain = Buffer.concat(chunks);
  const tar = plain.length > 262 && plain.toString('latin1', 257, 262) === 'ustar';
  const { text, ...about } = tar ? await apkIndexFromTar(plain, file) : { text: plain.toString('utf8') };
  const format = recognizeIndex(text);
  if (!format) throw fail('E_FEED_INVALID', `${file}: not a Packages or APKINDEX index`);
  const parsed = format === 'apkindex' ? parseApkIndex(text, file) : parseDebianPackages(text, file);
  return { format, ...parsed, ...about };
}

/** An index read, as one suite of a release. */
export const toSuite = (
  index: ReadIndex,
  identity: Pick<SuiteIdentity, 'suite' | 'security'>,
  indexedAt?: string,
): SuiteIndex & Pick<ReadIndex, 'packages' | 'sources'> => ({
  format: index.format,
  suite: identity.suite,
  security: identity.security,
  packages: index.packages,
  sources: index.sources,
  ...(indexedAt ? { indexedAt } : {}),
});

/** Which release's suite an index is: the distribution, its release cycle, the suite's name. */
export interface SuiteIdentity {
  readonly distro: string;
  readonly release: string;
  readonly suite: string;
  readonly security: boolean;
}

/**
 * Tells which release an index belongs to, from its file's path and what it carries:
 * - a Debian or Ubuntu `Packages`: a path segment (or apt's `_`-joined list name) that is a
 *   release's suite, `bookworm`, `bookworm-updates`, `jammy-security` (`codenames` maps each
 *   suite to its distribution and release, from the end-of-life table);
 * - an APKINDEX: Alpine's DESCRIPTION (`v3.16.3-…`) or a `v3.16` path segment; Wolfi's or
 *   Chainguard's signing key or path (rolling: one release).
 * Undefined when nothing says.
 */
export function identifyIndex(
  path: string,
  index: Pick<ReadIndex, 'format' | 'description' | 'signer'>,
  codenames: ReadonlyMap<string, { distro: string; release: string }>,
): SuiteIdentity | undefined {
  const segments = path.split(/[/\\_]/).map((s) => s.toLowerCase());
  if (index.format === 'debian-packages') {
    for (const segment of segments) {
      const match = /^([a-z]+)(?:-(security|updates|proposed-updates|backports))?$/.exec(segment);
      const release = match ? codenames.get(match[1]!) : undefined;
      if (release) return { ...release, suite: segment, security: match![2] === 'security' };
    }
    return undefined;
  }
  const rolling = ['wolfi', 'chainguard'].find(
    (d) => index.signer?.includes(d) || segments.some((s) => s === d || s.startsWith(`${d}-`)),
  );
  if (rolling) return { distro: rolling, release: 'rolling', suite: rolling, security: false };
  const version =
    /^v(\d+\.\d+)/.exec(index.description ?? '')?.[1] ??
    segments.map((s) => /^v(\d+\.\d+)$/.exec(s)?.[1]).find(Boolean);
  if (!version) return undefined;
  const repository = segments.find((s) => s === 'main' || s === 'community') ?? 'main';
  return { distro: 'alpine', release: version, suite: `v${version}/${repository}`, security: false };
}

export interface InstalledPackage {
  readonly name: string;
  readonly version: string;
  /** Source package (dpkg's Source:, apk's origin) when the database names it. */
  readonly source?: string;
}

/** A package behind its release (the report's entry without the days, which depend on the scan's date). */
export type OutdatedPackage = Omit<OutdatedPackageInfo, 'daysBehind'>;

/**
 * Installed packages behind the release's suites: the newest version offered for the binary
 * package (else for its source package, when the index has the binary under another name), in
 * the format's version order. Sorted by name.
 */
export function outdatedPackages(
  installed: readonly InstalledPackage[],
  suites: readonly SuiteIndex[],
): OutdatedPackage[] {
  const out: OutdatedPackage[] = [];
  for (const pkg of installed) {
    let best: { version: string; suite: SuiteIndex; published?: string } | undefined;
    let security = false;
    for (const suite of suites) {
      const compare = compareOf(suite.format);
      const binary = suite.packages.get(pkg.name);
      const offered = binary?.version ?? (pkg.source && !binary ? suite.sources.get(pkg.source) : undefined);
      if (!offered || compare(offered, pkg.version) <= 0) continue;
      if (suite.security) security = true;
      if (!best || compare(offered, best.version) > 0)
        best = { version: offered, suite, ...(binary?.published ? { published: binary.published } : {}) };
    }
    if (best) {
      const since = best.published ?? best.suite.indexedAt;
      out.push({
        name: pkg.name,
        installed: pkg.version,
        available: best.version,
        suite: best.suite.suite,
        security,
        ...(since ? { since } : {}),
      });
    }
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
