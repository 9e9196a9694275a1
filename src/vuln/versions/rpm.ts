/**
 * RPM version comparison: rpmvercmp on version and release, epochs first. Alphanumeric segments
 * are compared in turn (separators ignored); numeric beats alphabetic; `~` sorts before anything
 * (pre-releases), `^` after the end but before any further segment (post-release snapshots).
 * https://github.com/rpm-software-management/rpm/blob/master/rpmio/rpmvercmp.cc
 */
export function rpmvercmp(a: string, b: string): number {
  if (a === b) return 0;
  let i = 0;
  let j = 0;
  const alnum = (c: string | undefined) => c !== undefined && /[A-Za-z0-9]/.test(c);
  for (;;) {
    while (i < a.length && !alnum(a[i]) && a[i] !== '~' && a[i] !== '^') i++;
    while (j < b.length && !alnum(b[j]) && b[j] !== '~' && b[j] !== '^') j++;
    if (a[i] === '~' || b[j] === '~') {
      if (a[i] !== '~') return 1;
      if (b[j] !== '~') return -1;
      i++;
      j++;
      continue;
    }
    if (a[i] === '^' || b[j] === '^') {
      if (i >= a.length) return -1;
      if (j >= b.length) return 1;
      if (a[i] !== '^') return 1;
      if (b[j] !== '^') return -1;
      i++;
      j++;
      continue;
    }
    if (i >= a.length || j >= b.length) break;
    const numeric = /[0-9]/.test(a[i]!);
    const take = (s: string, k: number) => {
      let e = k;
      while (e < s.length && (numeric ? /[0-9]/.test(s[e]!) : /[A-Za-z]/.test(s[e]!))) e++;
      return e;
    };
    const ea = take(a, i);
    const eb = take(b, j);
    if (eb === j) return numeric ? 1 : -1; // different kinds: numeric is newer
    let x = a.slice(i, ea);
    let y = b.slice(j, eb);
    if (numeric) {
      x = x.replace(/^0+/, '');
      y = y.replace(/^0+/, '');
      if (x.length !== y.length) return x.length < y.length ? -1 : 1;
    }
    if (x !== y) return x < y ? -1 : 1;
    i = ea;
    j = eb;
  }
  if (i >= a.length && j >= b.length) return 0;
  return i >= a.length ? -1 : 1;
}

/** `[epoch:]version[-release]` → parts. */
export function parseRpmVersion(evr: string): { epoch: number; version: string; release: string } {
  const colon = evr.indexOf(':');
  const epoch = colon > 0 ? Number(evr.slice(0, colon)) || 0 : 0;
  const rest = colon > 0 ? evr.slice(colon + 1) : evr;
  const dash = rest.lastIndexOf('-');
  return dash > 0
    ? { epoch, version: rest.slice(0, dash), release: rest.slice(dash + 1) }
    : { epoch, version: rest, release: '' };
}

export function compareRpm(a: string, b: string): number {
  const x = parseRpmVersion(a);
  const y = parseRpmVersion(b);
  if (x.epoch !== y.epoch) return x.epoch < y.epoch ? -1 : 1;
  const v = rpmvercmp(x.version, y.version);
  if (v || !x.release || !y.release) return v; // a missing release matches any release
  return rpmvercmp(x.release, y.release);
}
