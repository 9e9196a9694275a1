import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseDistroInfo, parseEndOfLifeProduct, type ReleaseCycle } from './eol.js';

/**
 * The end-of-life table: which product (endoflife.date's name) a distribution or a runtime is,
 * and the release cycles distrolens ships (`data/eol/`, endoflife.date's own files of
 * EOL_TABLE_DATE). `db update` stores newer copies in the local database, which win per product.
 */
export const EOL_TABLE_DATE = '2026-08-22';
/** Past this many days the shipped table may miss a new release or a moved date: scans warn. */
export const EOL_TABLE_HORIZON_DAYS = 180;

/** endoflife.date's products/*.md, the public source `db update` fetches. */
export const ENDOFLIFE_BASE = 'https://raw.githubusercontent.com/endoflife-date/endoflife.date/master/products';

/** os-release ID → endoflife.date product. */
export const OS_PRODUCTS: Readonly<Record<string, string>> = {
  debian: 'debian',
  ubuntu: 'ubuntu',
  alpine: 'alpine-linux',
  rhel: 'rhel',
  centos: 'centos',
  rocky: 'rocky-linux',
  almalinux: 'almalinux',
  amzn: 'amazon-linux',
  ol: 'oracle-linux',
  fedora: 'fedora',
};

/** Distributions without releases: packages move continuously, nothing reaches an end of life. */
export const ROLLING_DISTRIBUTIONS: ReadonlySet<string> = new Set(['wolfi', 'chainguard', 'arch']);

/** A detected runtime's package name → endoflife.date product. */
export const RUNTIME_PRODUCTS: Readonly<Record<string, string>> = {
  node: 'nodejs',
  nodejs: 'nodejs',
  python: 'python',
  python3: 'python',
  java: 'eclipse-temurin',
  go: 'go',
  stdlib: 'go',
};

/**
 * Products whose extended support still publishes fixes where an image's package manager finds
 * them: Debian LTS uploads to the ordinary security archive. Ubuntu's ESM needs an Ubuntu Pro
 * subscription, so an image past Ubuntu's standard support gets no updates.
 */
export const PUBLIC_EXTENDED_SUPPORT: ReadonlySet<string> = new Set(['debian']);

/** The public files `db update` fetches: one per product the mappings above name. */
export const EOL_SOURCES: readonly { readonly name: string; readonly url: string }[] = [
  ...new Set([...Object.values(OS_PRODUCTS), ...Object.values(RUNTIME_PRODUCTS)]),
].map((product) => ({ name: `eol/${product}.md`, url: `${ENDOFLIFE_BASE}/${product}.md` }));

/** An end-of-life file read: the product and its cycles. */
export interface EolProduct {
  readonly product: string;
  readonly cycles: readonly ReleaseCycle[];
}

/**
 * Recognises an end-of-life file by content: an endoflife.date product (front matter with
 * `releases:`; the product is its `permalink`) or a distro-info-data CSV (Debian's has `eol-lts`,
 * Ubuntu's `eol-esm`). Undefined for anything else.
 */
export function readEolFile(text: string, file: string): EolProduct | undefined {
  if (text.startsWith('---')) {
    const permalink = /^permalink:\s*\/([\w.-]+)\s*$/m.exec(text.slice(0, 4096))?.[1];
    if (!permalink || !/^releases:/m.test(text)) return undefined;
    return { product: permalink, cycles: parseEndOfLifeProduct(text, file) };
  }
  const header = text.slice(0, text.indexOf('\n')).trim();
  if (!/^version,codename,series,created,release,eol/.test(header)) return undefined;
  const product = header.includes('eol-lts') ? 'debian' : header.includes('eol-esm') ? 'ubuntu' : undefined;
  return product ? { product, cycles: parseDistroInfo(text, file) } : undefined;
}

let shipped: Map<string, readonly ReleaseCycle[]> | undefined;

/** The shipped table (`data/eol/`), read once. */
export function shippedEol(): ReadonlyMap<string, readonly ReleaseCycle[]> {
  if (shipped) return shipped;
  // dist/src/maintenance → the package root holds data/ (as the repository does above src/).
  const dir = [new URL('../../../data/eol/', import.meta.url), new URL('../../data/eol/', import.meta.url)]
    .map((url) => fileURLToPath(url))
    .find((path) => {
      try {
        return readdirSync(path).length > 0;
      } catch {
        return false;
      }
    });
  shipped = new Map();
  for (const name of dir ? readdirSync(dir).filter((n) => n.endsWith('.md') && n !== 'README.md') : []) {
    const read = readEolFile(readFileSync(`${dir}/${name}`, 'utf8'), name);
    if (read) shipped.set(read.product, read.cycles);
  }
  return shipped;
}

/** The suite name of a release (`bookworm`, `jammy`): the first word of its codename, lower case. */
export const suiteOf = (cycle: ReleaseCycle): string | undefined => cycle.codename?.split(/\s+/)[0]?.toLowerCase();
