import { fail } from '../core/errors.js';
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
}

export interface SuiteIndex {
  readonly format: RepositoryFormat;
  /** e.g. `bookworm-security`, `v3.16/main`, `wolfi`. */
  readonly suite: string;
  /** Updates from the security archive (`*-security`). */
  readonly security: boolean;
  /** Newest version per binary package name. */
  readonly packages: ReadonlyMap<string, RepoPackage>;
  /** Newest version per source package (origin), for binaries the index names differently. */
  readonly sources: ReadonlyMap<string, string>;
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

  add(name: string, version: string, source: string | undefined, sourceVersion = version): void {
    const known = this.packages.get(name);
    if (!known || this.compare(version, known.version) > 0)
      this.packages.set(name, { name, version, ...(source && source !== name ? { source } : {}) });
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
export function parseDebianPackages(text: string, file = 'Packages'): Pick<SuiteIndex, 'packages' | 'sources'> {
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

/** An `APKINDEX` text: `P:` name, `V:` version, `o:` origin of each entry. */
export function parseApkIndex(text: string, file = 'APKINDEX'): Pick<SuiteIndex, 'packages' | 'sources'> {
  const newest = new Newest(compareApk);
  let name: string | undefined;
  let version: string | undefined;
  let origin: string | undefined;
  let entries = 0;
  const flush = () => {
    if (name && version) {
      newest.add(name, version, origin);
      entries++;
    }
    name = version = origin = undefined;
  };
  for (const line of text.split('\n')) {
    if (line === '' || line === '\r') flush();
    else if (line.startsWith('P:')) name = line.slice(2).trim();
    else if (line.startsWith('V:')) version = line.slice(2).trim();
    else if (line.startsWith('o:')) origin = line.slice(2).trim();
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

/** The APKINDEX member of an APKINDEX.tar.gz's tar (members: signature, DESCRIPTION, APKINDEX). */
async function apkIndexFromTar(tar: Buffer, file: string): Promise<string> {
  let text: string | undefined;
  await walkTar(new StreamReader(once(tar)), { what: file, maxEntries: 100 }, async (entry) => {
    if (entry.type === 'file' && entry.name.replace(/^\.\//, '') === 'APKINDEX')
      text = (await entry.read()).toString('utf8');
  });
  if (text === undefined) throw fail('E_FEED_INVALID', `${file}: no APKINDEX member`, 'expected an APKINDEX.tar.gz');
  return text;
}

/**
 * Reads an index from its bytes, whatever its packing: `Packages`, `Packages.gz`, `Packages.xz`,
 * `APKINDEX`, `APKINDEX.tar.gz`; decompression has the layers' bomb limits.
 */
export async function readIndex(bytes: Uint8Array, suite: string, file = suite): Promise<SuiteIndex> {
  const compression = detectCompression(bytes);
  const chunks: Uint8Array[] = [];
  if (compression === 'none') chunks.push(bytes);
  else for await (const chunk of inflate(once(bytes), compression, file, LIMITS)) chunks.push(chunk);
  const plain = Buffer.concat(chunks);
  const tar = plain.length > 262 && plain.toString('latin1', 257, 262) === 'ustar';
  const text = tar ? await apkIndexFromTar(plain, file) : plain.toString('utf8');
  const format = recognizeIndex(text);
  if (!format) throw fail('E_FEED_INVALID', `${file}: not a Packages or APKINDEX index`);
  const parsed = format === 'apkindex' ? parseApkIndex(text, file) : parseDebianPackages(text, file);
  return { format, suite, security: /-security$/.test(suite), ...parsed };
}

export interface InstalledPackage {
  readonly name: string;
  readonly version: string;
  /** Source package (dpkg's Source:, apk's origin) when the database names it. */
  readonly source?: string;
}

export interface OutdatedPackage {
  readonly name: string;
  readonly installed: string;
  /** The newest version any suite of the release offers. */
  readonly available: string;
  /** The suite it comes from. */
  readonly suite: string;
  /** A newer version is in a security suite: the update fixes a vulnerability. */
  readonly security: boolean;
}

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
    let best: { version: string; suite: string } | undefined;
    let security = false;
    for (const suite of suites) {
      const compare = compareOf(suite.format);
      const offered =
        suite.packages.get(pkg.name)?.version ??
        (pkg.source && !suite.packages.has(pkg.name) ? suite.sources.get(pkg.source) : undefined);
      if (!offered || compare(offered, pkg.version) <= 0) continue;
      if (suite.security) security = true;
      if (!best || compare(offered, best.version) > 0) best = { version: offered, suite: suite.suite };
    }
    if (best)
      out.push({ name: pkg.name, installed: pkg.version, available: best.version, suite: best.suite, security });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
