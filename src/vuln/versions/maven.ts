/**
 * Maven version order (ComparableVersion, https://maven.apache.org/pom.html#version-order-specification):
 * items split at `.`, `-` and digit/letter transitions, `-` and transitions open a sub-list;
 * numbers compare numerically; qualifiers in the order alpha < beta < milestone < rc = cr <
 * snapshot < "" = ga = final = release < sp, unknown qualifiers after those, alphabetically;
 * a/b/m directly followed by a digit mean alpha/beta/milestone; trailing "null" items (0, "",
 * ga, final, release) are dropped, so 1 = 1.0 = 1-ga. Between kinds: number > list > qualifier.
 */
type Item =
  | { readonly kind: 'int'; readonly value: string }
  | { readonly kind: 'str'; readonly value: string }
  | { readonly kind: 'list'; readonly items: Item[] };

const QUALIFIERS = ['alpha', 'beta', 'milestone', 'rc', 'snapshot', '', 'sp'];
const ALIASES: Record<string, string> = { ga: '', final: '', release: '', cr: 'rc' };
const RELEASE_RANK = String(QUALIFIERS.indexOf(''));

/** A sortable key of a qualifier: its index for known ones, after all of them for the rest. */
function rank(qualifier: string): string {
  const index = QUALIFIERS.indexOf(qualifier);
  return index >= 0 ? String(index) : `${QUALIFIERS.length}-${qualifier}`;
}

function stringItem(text: string, followedByDigit: boolean): Item {
  let value = text;
  if (followedByDigit && text.length === 1)
    value = ({ a: 'alpha', b: 'beta', m: 'milestone' } as Record<string, string>)[text] ?? text;
  return { kind: 'str', value: ALIASES[value] ?? value };
}

const intItem = (digits: string): Item => ({ kind: 'int', value: digits.replace(/^0+(?=\d)/, '') });

const isNull = (item: Item): boolean =>
  item.kind === 'int'
    ? item.value === '0'
    : item.kind === 'str'
      ? rank(item.value) === RELEASE_RANK
      : item.items.length === 0;

function normalize(list: Item[]): void {
  for (let i = list.length - 1; i >= 0; i--) {
    const item = list[i]!;
    if (isNull(item)) list.splice(i, 1);
    else if (item.kind !== 'list') break;
  }
}

export function parseMaven(version: string): Item {
  const text = version.toLowerCase();
  const root: Item & { kind: 'list' } = { kind: 'list', items: [] };
  let list = root;
  const stack = [root];
  let start = 0;
  let digits = false;
  const open = (): void => {
    const sub: Item & { kind: 'list' } = { kind: 'list', items: [] };
    list.items.push(sub);
    list = sub;
    stack.push(sub);
  };
  const token = (end: number): Item =>
    digits ? intItem(text.slice(start, end)) : stringItem(text.slice(start, end), false);
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '.' || c === '-') {
      list.items.push(i === start ? intItem('0') : token(i));
      start = i + 1;
      if (c === '-') open();
    } else if (c >= '0' && c <= '9') {
      if (!digits && i > start) {
        list.items.push(stringItem(text.slice(start, i), true));
        start = i;
        open();
      }
      digits = true;
    } else {
      if (digits && i > start) {
        list.items.push(token(i));
        start = i;
        open();
      }
      digits = false;
    }
  }
  if (text.length > start) list.items.push(token(text.length));
  while (stack.length) normalize(stack.pop()!.items);
  return root;
}

const compareDigits = (a: string, b: string): number =>
  a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0;

function compareItems(a: Item | undefined, b: Item | undefined): number {
  if (!a) return b ? -compareItems(b, undefined) : 0;
  switch (a.kind) {
    case 'int':
      if (!b) return a.value === '0' ? 0 : 1;
      return b.kind === 'int' ? Math.sign(compareDigits(a.value, b.value)) : 1;
    case 'str': {
      if (!b) return Math.sign(rank(a.value).localeCompare(RELEASE_RANK, 'en'));
      if (b.kind !== 'str') return -1;
      const x = rank(a.value);
      const y = rank(b.value);
      return x < y ? -1 : x > y ? 1 : 0;
    }
    case 'list': {
      if (!b) return a.items.length ? compareItems(a.items[0], undefined) : 0;
      if (b.kind === 'int') return -1;
      if (b.kind === 'str') return 1;
      for (let i = 0; i < Math.max(a.items.length, b.items.length); i++) {
        const c = compareItems(a.items[i], b.items[i]);
        if (c) return c;
      }
      return 0;
    }
  }
}

export function compareMaven(a: string, b: string): number {
  return compareItems(parseMaven(a), parseMaven(b));
}
