/**
 * Debian version comparison, as `dpkg --compare-versions` does it (deb-version(7)):
 * [epoch:]upstream[-revision]; non-digit runs compare character by character with `~` sorting
 * before everything (even the end), letters before other characters; digit runs compare as numbers.
 */
export interface DpkgVersion {
  readonly epoch: number;
  readonly upstream: string;
  readonly revision: string;
}

export function parseDpkgVersion(version: string): DpkgVersion {
  const text = version.trim();
  const colon = text.indexOf(':');
  const epoch = colon > 0 && /^\d+$/.test(text.slice(0, colon)) ? Number(text.slice(0, colon)) : 0;
  const rest = colon > 0 ? text.slice(colon + 1) : text;
  const dash = rest.lastIndexOf('-');
  return dash > 0
    ? { epoch, upstream: rest.slice(0, dash), revision: rest.slice(dash + 1) }
    : { epoch, upstream: rest, revision: '' };
}

/** dpkg's character order: ~ first, then the end of the string, then letters, then the rest. */
function order(c: number | undefined): number {
  if (c === undefined) return 0;
  if (c === 0x7e) return -1; // ~
  if ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) return c;
  return c + 256;
}

const isDigit = (c: number | undefined): boolean => c !== undefined && c >= 0x30 && c <= 0x39;

function comparePart(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    // Non-digit prefix, character by character.
    while ((i < a.length && !isDigit(a.charCodeAt(i))) || (j < b.length && !isDigit(b.charCodeAt(j)))) {
      const ca = i < a.length && !isDigit(a.charCodeAt(i)) ? a.charCodeAt(i) : undefined;
      const cb = j < b.length && !isDigit(b.charCodeAt(j)) ? b.charCodeAt(j) : undefined;
      const d = order(ca) - order(cb);
      if (d) return d < 0 ? -1 : 1;
      i++;
      j++;
    }
    // Digit run, numerically (leading zeros ignored; compared as strings to avoid overflow).
    let ea = i;
    while (ea < a.length && isDigit(a.charCodeAt(ea))) ea++;
    let eb = j;
    while (eb < b.length && isDigit(b.charCodeAt(eb))) eb++;
    const na = a.slice(i, ea).replace(/^0+/, '');
    const nb = b.slice(j, eb).replace(/^0+/, '');
    if (na.length !== nb.length) return na.length < nb.length ? -1 : 1;
    if (na !== nb) return na < nb ? -1 : 1;
    i = ea;
    j = eb;
  }
  return 0;
}

/** Negative, zero or positive as `a` is older than, equal to or newer than `b`. */
export function compareDpkg(a: string, b: string): number {
  const x = parseDpkgVersion(a);
  const y = parseDpkgVersion(b);
  if (x.epoch !== y.epoch) return x.epoch < y.epoch ? -1 : 1;
  return comparePart(x.upstream, y.upstream) || comparePart(x.revision, y.revision);
}
