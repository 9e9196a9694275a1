import { fail } from '../core/errors.js';
import { loadYaml } from '../util/yaml.js';

/**
 * End-of-life data (issue 19, first piece): release cycles of distributions and runtimes with
 * their dates, read from the two public formats — endoflife.date's product files (YAML front
 * matter of `products/*.md`) and Debian's `distro-info-data` CSV (`debian.csv`, `ubuntu.csv`).
 */
export interface ReleaseCycle {
  /** As the source spells it: "12", "22.04", "3.19", "20" — always a string. */
  readonly cycle: string;
  readonly codename?: string;
  readonly releaseDate?: string;
  /** End of standard security support (YYYY-MM-DD); `true` when the source says only "ended". */
  readonly eol?: string | true;
  /** End of extended support (Debian LTS, Ubuntu ESM) when there is one. */
  readonly extendedEol?: string;
}

const date = (value: unknown): string | undefined => {
  if (value instanceof Date) return value.toISOString().slice(0, 10);
  return typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value) ? value : undefined;
};

/** The `releases:` of an endoflife.date product file (newest first, as upstream lists them). */
export function parseEndOfLifeProduct(text: string, file = 'product'): ReleaseCycle[] {
  const match = /^---\r?\n([\s\S]*?)\r?\n---/.exec(text);
  if (!match)
    throw fail('E_FEED_INVALID', `${file}: no YAML front matter`, 'expected an endoflife.date products/*.md file');
  let doc: unknown;
  try {
    doc = loadYaml().parse(match[1]!);
  } catch (error) {
    throw fail(
      'E_FEED_INVALID',
      `${file}: ${(error as Error).message.split('\n')[0]}`,
      'the front matter is not YAML',
      error,
    );
  }
  const releases = (doc as { releases?: unknown } | null)?.releases;
  if (!Array.isArray(releases))
    throw fail('E_FEED_INVALID', `${file}: no releases list`, 'expected releases: in the front matter');
  return releases.flatMap((r: Record<string, unknown>) => {
    // Cycles are quoted strings upstream; a bare 3.10 would read as the number 3.1.
    if (typeof r.releaseCycle !== 'string') return [];
    const eol = r.eol === true ? true : date(r.eol);
    const extendedEol = date(r.eoes);
    return [
      {
        cycle: r.releaseCycle,
        ...(typeof r.codename === 'string' ? { codename: r.codename } : {}),
        ...(date(r.releaseDate) ? { releaseDate: date(r.releaseDate)! } : {}),
        ...(eol !== undefined ? { eol } : {}),
        ...(extendedEol ? { extendedEol } : {}),
      },
    ];
  });
}

/**
 * A distro-info-data CSV (`version,codename,series,created,release,eol,…`): the extended column is
 * `eol-lts` for Debian and `eol-esm` for Ubuntu. Rows without a version (sid, experimental) are
 * not releases.
 */
export function parseDistroInfo(text: string, file = 'distro-info'): ReleaseCycle[] {
  const [header = '', ...rows] = text.split(/\r?\n/).filter((l) => l.trim());
  const columns = header.split(',');
  const at = (name: string) => columns.indexOf(name);
  if (at('version') < 0 || at('eol') < 0)
    throw fail('E_FEED_INVALID', `${file}: not a distro-info-data CSV`, 'expected a version,codename,series,… header');
  const extended = at('eol-lts') >= 0 ? at('eol-lts') : at('eol-esm');
  return rows
    .map((row) => row.split(','))
    .filter((cells) => cells[at('version')])
    .map((cells) => {
      const eol = date(cells[at('eol')]);
      const extendedEol = extended >= 0 ? date(cells[extended]) : undefined;
      // Ubuntu's version column reads "22.04 LTS": the cycle is the number.
      const cycle = cells[at('version')]!.split(' ')[0]!;
      return {
        cycle,
        ...(cells[at('codename')] ? { codename: cells[at('codename')]! } : {}),
        ...(date(cells[at('release')]) ? { releaseDate: date(cells[at('release')])! } : {}),
        ...(eol ? { eol } : {}),
        ...(extendedEol ? { extendedEol } : {}),
      };
    })
    .reverse();
}

/**
 * The cycle a version belongs to: the longest cycle that is the version or a dot-prefix of it
 * ("3.19.1" → "3.19", "20.11.1" → "20", "12.5" → "12"; "3.1" never matches "3.10").
 */
export function cycleOf(cycles: readonly ReleaseCycle[], version: string): ReleaseCycle | undefined {
  return cycles
    .filter((c) => version === c.cycle || version.startsWith(`${c.cycle}.`))
    .sort((a, b) => b.cycle.length - a.cycle.length)[0];
}

export interface EolState {
  readonly ended: boolean;
  /** Days until standard support ends (negative: since it ended); absent when the date is unknown. */
  readonly days?: number;
  /** Extended support (LTS, ESM) still running after standard support ended. */
  readonly extended: boolean;
}

/** Where a cycle stands on `today` (injected for reproducible results). */
export function eolState(cycle: ReleaseCycle, today: Date): EolState {
  const day = today.toISOString().slice(0, 10);
  const extended = cycle.extendedEol !== undefined && cycle.extendedEol >= day;
  if (cycle.eol === true) return { ended: true, extended };
  if (cycle.eol === undefined) return { ended: false, extended: false };
  const days = Math.round((Date.parse(cycle.eol) - Date.parse(day)) / 86_400_000);
  return { ended: days < 0, days, extended: days < 0 && extended };
}
