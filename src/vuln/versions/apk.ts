/**
 * Alpine (apk) version comparison, following apk-tools' version.c: numbers dot-separated, an
 * optional letter, suffixes `_alpha < _beta < _pre < _rc < (none) < _cvs < _svn < _git < _hg < _p`
 * each with an optional number, then `-rN`. https://wiki.alpinelinux.org/wiki/APKBUILD_Reference#pkgver
 */
const SUFFIX_ORDER: Record<string, number> = {
  alpha: -4,
  beta: -3,
  pre: -2,
  rc: -1,
  '': 0,
  cvs: 1,
  svn: 2,
  git: 3,
  hg: 4,
  p: 5,
};

interface ApkVersion {
  readonly numbers: readonly string[];
  readonly letter: string;
  readonly suffixes: readonly { readonly kind: number; readonly n: string }[];
  readonly release: number;
}

export function parseApkVersion(version: string): ApkVersion {
  const m = /^(\d+(?:\.\d+)*)([a-z]?)((?:_[a-z]+\d*)*)(?:-r(\d+))?$/.exec(version.trim());
  if (!m) return { numbers: [version], letter: '', suffixes: [], release: 0 };
  const suffixes = [...(m[3] ?? '').matchAll(/_([a-z]+)(\d*)/g)].map((s) => ({
    kind: SUFFIX_ORDER[s[1]!] ?? 0,
    n: s[2] ?? '',
  }));
  return { numbers: m[1]!.split('.'), letter: m[2] ?? '', suffixes, release: Number(m[4] ?? 0) };
}

const num = (a: string, b: string): number => {
  const x = a.replace(/^0+/, '');
  const y = b.replace(/^0+/, '');
  return x.length !== y.length ? (x.length < y.length ? -1 : 1) : x < y ? -1 : x > y ? 1 : 0;
};

export function compareApk(a: string, b: string): number {
  const x = parseApkVersion(a);
  const y = parseApkVersion(b);
  for (let i = 0; i < Math.max(x.numbers.length, y.numbers.length); i++) {
    const p = x.numbers[i];
    const q = y.numbers[i];
    if (p === undefined) return -1;
    if (q === undefined) return 1;
    // apk compares the first number numerically and later ones as decimals after the first
    // digit: a leading zero makes "1.02" sort as a fraction, as apk-tools does.
    const c = i > 0 && (p.startsWith('0') || q.startsWith('0')) ? (p < q ? -1 : p > q ? 1 : 0) : num(p, q);
    if (c) return c;
  }
  if (x.letter !== y.letter) return x.letter < y.letter ? -1 : 1;
  for (let i = 0; i < Math.max(x.suffixes.length, y.suffixes.length); i++) {
    const p = x.suffixes[i] ?? { kind: 0, n: '' };
    const q = y.suffixes[i] ?? { kind: 0, n: '' };
    if (p.kind !== q.kind) return p.kind < q.kind ? -1 : 1;
    const c = num(p.n || '0', q.n || '0');
    if (c) return c;
  }
  return x.release === y.release ? 0 : x.release < y.release ? -1 : 1;
}
