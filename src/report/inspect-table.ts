import { formatPlatform } from '../core/platform.js';
import type { InspectReport } from '../core/report.js';
import { columns, formatBytes, shortDigest, truncate } from './format.js';

/** Removes the shell wrapper docker writes into history lines. */
function command(createdBy: string | undefined): string {
  if (!createdBy) return '';
  return createdBy
    .replace(/^\/bin\/sh -c #\(nop\)\s*/, '')
    .replace(/^\/bin\/sh -c /, 'RUN ')
    .replace(/\s+/g, ' ')
    .trim();
}

const list = (items: readonly string[] | null): string =>
  items === null || items.length === 0 ? '-' : JSON.stringify(items);

/**
 * The human view of `inspect`: on a terminal (`width` given) long labels and commands are cut to
 * fit; piped or redirected (`width` undefined) no value is cut.
 */
export function renderInspectTable(report: InspectReport, width?: number): string {
  const fit = (text: string, limit: number): string => (width === undefined ? text : truncate(text, limit));
  const t = report.target;
  const c = t.config;
  const out: string[] = [];
  const facts: string[][] = [
    ['Image', t.reference ?? t.input],
    ['Source', t.source],
    ['Platform', formatPlatform(t.platform)],
  ];
  if (t.platforms.length) facts.push(['Platforms', t.platforms.map(formatPlatform).join(', ')]);
  facts.push(
    ['User', c.user || '(none: runs as root)'],
    ['Entrypoint', list(c.entrypoint)],
    ['Cmd', list(c.cmd)],
    ['Workdir', c.workingDir || '-'],
    ['Ports', c.exposedPorts.join(', ') || '-'],
  );
  if (c.volumes.length) facts.push(['Volumes', c.volumes.join(', ')]);
  out.push(columns(facts.map(([k, v]) => [`${k}:`, v!])));
  // Digests are 71 characters: one space after a 7-character label keeps them within 80 columns.
  if (t.manifestDigest) out.push(`Digest: ${t.manifestDigest}`);
  if (t.configDigest) out.push(`Config: ${t.configDigest}`);
  if (c.env.length) out.push('', 'Env:', ...c.env.map((e) => `  ${e}`));
  const labels = Object.entries(c.labels).sort(([a], [b]) => (a < b ? -1 : 1));
  if (labels.length)
    out.push('', 'Labels:', ...labels.map(([k, v]) => `  ${k}=${fit(v, Math.max(20, (width ?? 80) - k.length - 4))}`));
  const total = t.layers.reduce((sum, l) => sum + l.size, 0);
  const compressed = t.layers.every((l) => l.compressedSize !== undefined)
    ? t.layers.reduce((sum, l) => sum + (l.compressedSize ?? 0), 0)
    : undefined;
  out.push(
    '',
    `Layers: ${t.layers.length}, ${formatBytes(total)} uncompressed${compressed !== undefined ? `, ${formatBytes(compressed)} compressed` : ''}`,
  );
  const rows: string[][] = [['#', 'DIGEST', 'SIZE', 'COMPRESSED', 'FILES', 'CREATED BY']];
  for (const layer of t.layers) {
    rows.push([
      String(layer.index),
      shortDigest(layer.digest ?? layer.diffId),
      formatBytes(layer.size),
      formatBytes(layer.compressedSize),
      String(layer.files),
      fit(command(layer.createdBy), Math.max(20, (width ?? 80) - 50)),
    ]);
  }
  out.push(columns(rows));
  if (report.warnings.length) out.push('', 'Warnings:', ...report.warnings.map((w) => `  ${w.code}: ${w.message}`));
  return `${out.join('\n')}\n`;
}
