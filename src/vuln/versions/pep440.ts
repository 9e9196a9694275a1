/**
 * PEP 440 version ordering (PyPI): [N!]release[{a|b|rc}N][.postN][.devN][+local], with the
 * spellings PEP 440 normalises (alpha, beta, c, pre, preview, rev, r, `-` and `_` separators).
 * dev releases sort first, then pre-releases, the release, post-releases.
 * https://peps.python.org/pep-0440/#summary-of-permitted-suffixes-and-relative-ordering
 */
interface Pep440 {
  readonly epoch: number;
  readonly release: readonly number[];
  readonly pre?: readonly [number, number];
  readonly post?: number;
  readonly dev?: number;
  readonly local: string;
}

const PRE: Record<string, number> = { a: 0, alpha: 0, b: 1, beta: 1, c: 2, rc: 2, pre: 2, preview: 2 };

export function parsePep440(version: string): Pep440 | undefined {
  const v = version.trim().toLowerCase().replace(/^v/, '');
  const m =
    /^(?:(\d+)!)?(\d+(?:\.\d+)*)(?:[-_.]?(a|alpha|b|beta|c|rc|pre|preview)[-_.]?(\d*))?(?:(?:-(\d+))|(?:[-_.]?(?:post|rev|r)[-_.]?(\d*)))?(?:[-_.]?dev[-_.]?(\d*))?(?:\+([a-z0-9.]+))?$/.exec(
      v,
    );
  if (!m) return undefined;
  return {
    epoch: Number(m[1] ?? 0),
    release: m[2]!.split('.').map(Number),
    ...(m[3] ? { pre: [PRE[m[3]]!, Number(m[4] || 0)] as const } : {}),
    ...(m[5] !== undefined || m[6] !== undefined ? { post: Number(m[5] ?? (m[6] || 0)) } : {}),
    ...(m[7] !== undefined ? { dev: Number(m[7] || 0) } : {}),
    local: m[8] ?? '',
  };
}

/** Orders a parsed version into a comparable tuple, following packaging's _cmpkey. */
function key(v: Pep440): number[] {
  const release = [...v.release];
  while (release.length > 1 && release[release.length - 1] === 0) release.pop();
  // A dev release without pre/post sorts before any pre-release of the same release.
  const pre = v.pre
    ? [v.pre[0], v.pre[1]]
    : v.post === undefined && v.dev !== undefined
      ? [-Infinity, 0]
      : [Infinity, 0];
  const post = v.post === undefined ? -Infinity : v.post;
  const dev = v.dev === undefined ? Infinity : v.dev;
  return [v.epoch, release.length, ...release, ...pre, post, dev];
}

export function comparePep440(a: string, b: string): number {
  const x = parsePep440(a);
  const y = parsePep440(b);
  if (!x || !y) return a < b ? -1 : a > b ? 1 : 0;
  const ka = key(x);
  const kb = key(y);
  // Compare the epoch first, then the release element-wise (missing elements are 0).
  if (ka[0] !== kb[0]) return ka[0]! < kb[0]! ? -1 : 1;
  const ra = x.release;
  const rb = y.release;
  for (let i = 0; i < Math.max(ra.length, rb.length); i++) {
    const p = ra[i] ?? 0;
    const q = rb[i] ?? 0;
    if (p !== q) return p < q ? -1 : 1;
  }
  const ta = ka.slice(2 + ka[1]!);
  const tb = kb.slice(2 + kb[1]!);
  for (let i = 0; i < ta.length; i++) if (ta[i] !== tb[i]) return ta[i]! < tb[i]! ? -1 : 1;
  return x.local === y.local ? 0 : x.local < y.local ? -1 : 1;
}
