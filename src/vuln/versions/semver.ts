/**
 * Semantic versioning 2.0.0 precedence (npm, Go modules, crates): major.minor.patch, a pre-release
 * sorts before its release, pre-release identifiers compare numerically when numeric, numeric
 * identifiers before alphanumeric ones, build metadata ignored. A leading `v` is accepted (Go).
 * Go pseudo-versions (v0.0.0-20210121094942-22b2f8951d46) are pre-releases and order by their
 * timestamp, as Go intends. https://semver.org/#spec-item-11
 */
interface SemVer {
  readonly core: readonly string[];
  readonly pre: readonly string[];
}

export function parseSemver(version: string): SemVer | undefined {
  const m = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/.exec(version.trim());
  if (!m) return undefined;
  return { core: [m[1]!, m[2] ?? '0', m[3] ?? '0'], pre: m[4] ? m[4].split('.') : [] };
}

const numeric = (s: string): boolean => /^\d+$/.test(s);
const compareNumbers = (a: string, b: string): number => {
  const x = a.replace(/^0+(?=\d)/, '');
  const y = b.replace(/^0+(?=\d)/, '');
  return x.length !== y.length ? (x.length < y.length ? -1 : 1) : x < y ? -1 : x > y ? 1 : 0;
};

export function compareSemver(a: string, b: string): number {
  const x = parseSemver(a);
  const y = parseSemver(b);
  if (!x || !y) return a < b ? -1 : a > b ? 1 : 0; // not semver: plain order, never a crash
  for (let i = 0; i < 3; i++) {
    const c = compareNumbers(x.core[i]!, y.core[i]!);
    if (c) return c;
  }
  if (!x.pre.length || !y.pre.length) return x.pre.length === y.pre.length ? 0 : x.pre.length ? -1 : 1;
  for (let i = 0; i < Math.max(x.pre.length, y.pre.length); i++) {
    const p = x.pre[i];
    const q = y.pre[i];
    if (p === undefined) return -1;
    if (q === undefined) return 1;
    const c =
      numeric(p) && numeric(q) ? compareNumbers(p, q) : numeric(p) ? -1 : numeric(q) ? 1 : p < q ? -1 : p > q ? 1 : 0;
    if (c) return c;
  }
  return 0;
}
