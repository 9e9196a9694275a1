/** Small text helpers shared by the text renderers. */

export { formatBytes } from '../core/units.js';
import type { Maintenance, SupportStatus } from '../core/maintenance.js';

/** "sha256:abcdef…" shortened to 12 hex digits for tables. */
export function shortDigest(digest: string | undefined): string {
  return digest ? digest.replace(/^sha256:/, '').slice(0, 12) : '-';
}

/** Truncates to `width` characters with an ellipsis. */
export function truncate(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`;
}

/** Renders rows as left-aligned columns separated by two spaces; the last column is not padded. */
export function columns(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** Deterministic JSON: two-space indent and a final newline. */
export function renderJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** The words of `text` in lines of at most `width` characters (a longer word gets a line of its own). */
export function wrapWords(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return line ? [...lines, line] : lines;
}

/**
 * Text for a terminal: control characters (ESC sequences that set a title, clear the screen, write
 * to the clipboard with OSC 52 or forge a line, and C1 controls) become U+FFFD; line feeds and
 * tabs stay. Image content (labels, file names, history) is printed through this.
 */
export function terminalSafe(text: string): string {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '\ufffd');
}

/**
 * A value in markdown text or a table cell: HTML is escaped (GitHub renders job summaries and PR
 * comments), table pipes and link brackets too, and line breaks become spaces.
 */
export function markdownText(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/[|[\]]/g, (c) => `\\${c}`)
    .replace(/[\r\n]+/g, ' ');
}

/** A value shown as inline code in markdown: backticks cannot be escaped inside, so they are replaced. */
export function markdownCode(text: string): string {
  return `\`${text.replace(/`/g, "'").replace(/[\r\n]+/g, ' ')}\``;
}

/** Where a release or runtime stands, in a few words ("supported until 2028-06-10", "END OF LIFE since 2020-11-01"). */
export function supportText(s: SupportStatus): string {
  const eol = typeof s.eol === 'string' ? s.eol : undefined;
  switch (s.state) {
    case 'supported':
      return eol ? `supported until ${eol}` : 'supported';
    case 'ending':
      return `support ends ${eol} (in ${s.days} days)`;
    case 'extended':
      return `standard support ended ${eol}, extended support until ${s.extendedEol}`;
    case 'ended':
      return eol ? `END OF LIFE since ${eol}` : 'END OF LIFE';
    case 'rolling':
      return 'rolling release (no end of life)';
    default:
      return 'support unknown';
  }
}

/** The maintenance axis in one line: support, packages behind, age, burden. */
export function maintenanceSummary(m: Maintenance): string {
  const release = `${m.release.product}${m.release.cycle ? ` ${m.release.cycle}` : ''}: ${supportText(m.release)}`;
  const packages = `${m.burden.packages} package(s)${
    m.outdated
      ? `, ${m.outdated.security + m.outdated.other} behind (${m.outdated.security} security update(s))`
      : ', updates not checked (run `distrolens db update`)'
  }`;
  const runtimes = m.runtimes.map((r) => `${r.name} ${r.version}: ${supportText(r)}`);
  const age =
    m.image.ageDays !== undefined
      ? `built ${m.image.ageDays} day(s) ago`
      : m.image.createdState === 'epoch'
        ? 'build date not recorded (epoch)'
        : 'build date unknown';
  return [release, ...runtimes, packages, age, `burden ${m.burden.value}`].join(' · ');
}
