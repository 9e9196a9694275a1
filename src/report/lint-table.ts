import type { LintReport } from '../core/report.js';
import { truncate, wrapWords } from './format.js';

const WIDTH = 80;

/** The human view of `lint`: per file, each finding with its line, then its message. */
export function renderLintTable(report: LintReport): string {
  const out: string[] = [];
  for (const file of report.files) {
    const counts = ['critical', 'high', 'medium', 'low', 'info']
      .map((s) => [s, file.findings.filter((f) => f.severity === s).length] as const)
      .filter(([, n]) => n);
    out.push(
      `${file.path}: ${file.stages} stage(s), ${file.findings.length ? counts.map(([s, n]) => `${n} ${s}`).join(', ') : 'no findings'}`,
    );
    for (const f of file.findings) {
      out.push(
        truncate(
          `  ${String(f.location.line).padStart(4)}  ${f.severity.toUpperCase().padEnd(8)} ${f.ruleId}  ${f.title}`,
          WIDTH,
        ),
      );
      out.push(...wrapWords(f.message, WIDTH - 8).map((l) => `        ${l}`));
    }
    out.push('');
  }
  return `${out.join('\n').replace(/\n+$/, '')}\n`;
}
