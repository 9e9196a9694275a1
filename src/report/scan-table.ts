import type { Report } from '../core/report.js';
import { formatPlatform } from '../core/platform.js';
import { SURFACE_LABELS, SURFACE_LISTS } from '../core/surface.js';
import { countBySeverity, VULN_SEVERITIES } from '../core/vulnerability.js';
import { columns, formatBytes, maintenanceSummary, truncate, wrapWords } from './format.js';

/** Width prose is wrapped at when the output is not a terminal (wrapping never cuts a value). */
const PROSE_WIDTH = 100;
const VULNS_SHOWN = 30;

/**
 * The human view of `scan`: verdict first, then surface, users, size, findings. On a terminal
 * (`width` given) lines fit its width and prose wraps at word boundaries; piped or redirected
 * (`width` undefined) no value is ever cut.
 */
export function renderScanTable(report: Report, width?: number): string {
  const WIDTH = width ?? Infinity;
  const fit = (text: string, limit: number): string => (width === undefined ? text : truncate(text, limit));
  /** Wraps text with a hanging indent, at word boundaries. */
  const wrap = (text: string, indent: number): string[] =>
    wrapWords(text, Math.max(20, (width ?? PROSE_WIDTH) - indent)).map((l, i) =>
      i === 0 ? l : `${' '.repeat(indent)}${l}`,
    );
  const t = report.target;
  const out: string[] = [];
  const name = t.reference ?? t.input;
  const grade = `Grade ${report.score.grade} (${report.score.value}/100)`;
  // The verdict line is never cut: a name too long for the line puts the grade on the next one.
  out.push(
    width !== undefined && name.length + grade.length + 2 <= width
      ? `${name.padEnd(width - grade.length)}${grade}`
      : `${name}  ${grade}`,
  );
  out.push(...wrap(`Classification: ${report.os.classification} (${report.os.classificationReason})`, 2));
  const osName = report.os.prettyName ?? (report.os.id === 'unknown' ? 'no OS detected' : report.os.id);
  out.push(
    fit(
      `${osName} · ${formatPlatform(t.platform)} · ${report.packages.length} packages · ${formatBytes(report.size.uncompressed)} · ${report.size.files} files · user ${t.config.user || 'root'}`,
      WIDTH,
    ),
  );

  const ep = report.entrypoint;
  if (ep) {
    const what =
      ep.kind === 'elf-static'
        ? 'static executable'
        : ep.kind === 'elf-dynamic'
          ? `dynamic executable: ${ep.needs?.join(', ') || ep.interpreter}`
          : ep.kind === 'script'
            ? `script for ${ep.interpreter}`
            : ep.kind === 'missing'
              ? `${ep.program} is not in the image`
              : 'file';
    out.push(
      fit(
        `Runs: ${ep.command.join(' ')}${ep.path && ep.path !== ep.command[0] ? ` → ${ep.path}` : ''} (${ep.shell ? 'shell form; ' : ''}${what})`,
        WIDTH,
      ),
    );
  }

  const important = report.findings.filter((f) => f.severity !== 'info').slice(0, 6);
  if (important.length) {
    out.push('', 'Most important:');
    for (const f of important)
      out.push(
        fit(`  ${f.severity.toUpperCase().padEnd(9)}${f.title}${f.location ? `  ${f.location.path}` : ''}`, WIDTH),
      );
  }

  const vulns = report.vulnerabilities;
  if (vulns.length) {
    const counts = countBySeverity(vulns);
    const fixable = vulns.filter((v) => v.fixedVersion !== undefined).length;
    out.push(
      '',
      fit(
        `Vulnerabilities: ${vulns.length} (${VULN_SEVERITIES.filter((s) => counts[s])
          .map((s) => `${counts[s]} ${s}`)
          .join(', ')}), ${fixable} with a fix`,
        WIDTH,
      ),
    );
  } else if (report.warnings.some((w) => w.code === 'W_VULN_DB_MISSING'))
    out.push('', 'Vulnerabilities: not checked (no database; run `distrolens db update`)');
  else out.push('', 'Vulnerabilities: none known');
  if (report.maintenance)
    out.push(
      ...wrapWords(`Maintenance: ${maintenanceSummary(report.maintenance)}`, WIDTH - 4).map((l, i) =>
        i ? `    ${l}` : l,
      ),
    );

  const rows: string[][] = [];
  for (const key of SURFACE_LISTS) {
    const items = report.surface[key];
    if (!items.length) continue;
    const names = [...new Set(items.map((i) => i.name))];
    const label = SURFACE_LABELS[key];
    rows.push([
      `  ${label[0]!.toUpperCase()}${label.slice(1)}`,
      `${items.length}: ${fit(names.join(', '), WIDTH - 24)}`,
    ]);
  }
  out.push(
    '',
    rows.length ? 'Attack surface:' : 'Attack surface: none (no shell, package manager, network tools, setuid)',
  );
  if (rows.length) out.push(columns(rows));

  const users = report.surface.users;
  if (users.length) {
    const shown = users
      .filter((u) => u.uid === 0 || u.password === 'empty' || u.uid >= 1000 || u.name === 'nonroot')
      .slice(0, 5);
    out.push(
      '',
      `Users (${users.length}): ${shown.map((u) => `${u.name} ${u.uid}${u.password === 'empty' ? ' EMPTY PASSWORD' : ''}`).join(', ')}`,
    );
  }

  const s = report.size;
  out.push(
    '',
    fit(
      `Size: ${s.compressed !== undefined ? `${formatBytes(s.compressed)} compressed, ` : ''}${formatBytes(s.uncompressed)} uncompressed, ${formatBytes(s.squashed)} in files`,
      WIDTH,
    ),
  );
  out.push(`Efficiency: ${(s.efficiency * 100).toFixed(1)} % (dive's measure), ${formatBytes(s.wastedBytes)} wasted`);
  const layerRows = [['  #', 'ADDS', 'HIDDEN LATER', 'CREATED BY']];
  for (const l of s.layers)
    layerRows.push([
      `  ${l.index}`,
      formatBytes(l.addedBytes),
      formatBytes(l.hiddenBytes),
      fit((l.createdBy ?? '').replace(/^\/bin\/sh -c (#\(nop\)\s*)?/, ''), 40),
    ]);
  out.push(columns(layerRows));

  const categories = Object.entries(report.score.categories).filter(([, c]) => c.deduction > 0);
  out.push(
    '',
    `Score: ${report.score.value}/100${categories.length ? ` = 100 − ${categories.map(([k, c]) => `${k} ${c.deduction}`).join(' − ')}` : ''}`,
  );

  if (report.findings.length) {
    out.push('', `Findings (${report.findings.length}):`);
    for (const f of report.findings) {
      out.push(
        fit(
          `  ${f.severity.toUpperCase().padEnd(9)}${f.ruleId}${f.location ? `  ${f.location.path} (layer ${f.location.layer})` : ''}`,
          WIDTH,
        ),
      );
      out.push(`           ${wrap(f.message, 11).join('\n')}`);
    }
  }
  if (vulns.length) {
    // Most severe first; within a severity, the ones with a fix (actionable) first.
    const rank = (v: (typeof vulns)[number]) =>
      VULN_SEVERITIES.indexOf(v.severity === 'info' ? 'low' : v.severity) * 2 + (v.fixedVersion ? 0 : 1);
    const sorted = [...vulns].sort((a, b) => rank(a) - rank(b));
    // A severity another feed gave (Alpine's secfixes rate nothing) says which feed gave it.
    const borrowed = sorted.some((v) => v.ratedBy);
    const rows = [['  SEVERITY', 'ID', 'PACKAGE', 'INSTALLED', 'FIXED IN', ...(borrowed ? ['RATED BY'] : [])]];
    for (const v of sorted.slice(0, VULNS_SHOWN))
      rows.push([
        `  ${v.severity.toUpperCase()}`,
        v.id,
        fit(v.package.name, 20),
        fit(v.package.version, 16),
        fit(v.fixedVersion ?? '-', 16),
        ...(borrowed ? [v.ratedBy ?? '-'] : []),
      ]);
    out.push(
      '',
      `Vulnerabilities (${vulns.length}${vulns.length > VULNS_SHOWN ? `, the ${VULNS_SHOWN} most severe shown; all in --format json` : ''}):`,
      columns(rows),
    );
  }
  if (report.warnings.length)
    out.push('', 'Warnings:', ...report.warnings.flatMap((w) => wrap(`  ${w.code}: ${w.message}`, 4)));
  return `${out.join('\n')}\n`;
}
