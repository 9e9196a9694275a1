import { readinessSteps, worstFinding, type WorkloadsReport } from '../core/workloads.js';
import { columns, wrapWords } from './format.js';

/** The human view of `workloads`: a line per workload, then the findings of each container. */
export function renderWorkloadsTable(report: WorkloadsReport): string {
  const rows = [['WORKLOAD', 'PSS LEVEL', 'USER', 'IMAGE', 'WORST FINDING']];
  for (const w of report.workloads) {
    const worst = worstFinding(w);
    const users = [
      ...new Set(
        w.containers.map((c) =>
          c.effectiveUser.uid !== undefined ? String(c.effectiveUser.uid) : (c.effectiveUser.name ?? '?'),
        ),
      ),
    ];
    const images = [...new Set(w.containers.map((c) => (c.grade ? `${c.grade} ${c.classification}` : 'not scanned')))];
    rows.push([
      `${w.kind}/${w.namespace}/${w.name}`,
      w.podSecurity.level,
      users.join(','),
      images.join(', '),
      worst ? `${worst.severity.toUpperCase()} ${worst.ruleId}` : '-',
    ]);
  }
  const out = [columns(rows)];
  for (const w of report.workloads) {
    for (const c of w.containers) {
      const joined = c.findings.filter((f) => f.severity !== 'info');
      if (!joined.length && !(c.admission && !c.admission.allowed)) continue;
      out.push(
        '',
        `${w.kind}/${w.namespace}/${w.name} · ${c.type} ${c.name} (${c.image}) · ${w.location.file}:${w.location.line}`,
      );
      for (const f of joined)
        out.push(
          `  ${f.severity.toUpperCase().padEnd(9)}${f.ruleId}`,
          ...wrapWords(f.message, 90).map((l) => `           ${l}`),
        );
    }
    const steps = readinessSteps(w.restricted);
    if (w.restricted.ready && !steps.length) continue;
    out.push('', `${w.kind}/${w.namespace}/${w.name} (${w.podSecurity.level}) · to reach restricted, read-only:`);
    for (const step of steps) out.push(...wrapWords(step, 95).map((l, i) => `${i ? '    ' : '  - '}${l}`));
  }
  const s = report.summary;
  out.push(
    '',
    `${s.workloads} workload(s), ${s.containers} container(s): ${Object.entries(s.byLevel)
      .map(([k, n]) => `${n} ${k}`)
      .join(', ')}; images ${
      Object.entries(s.byClassification)
        .map(([k, n]) => `${n} ${k}`)
        .join(', ') || 'not scanned'
    }`,
  );
  for (const img of report.images.filter((i) => i.error))
    out.push(`image ${img.image} could not be scanned: ${img.error}`);
  for (const w of report.warnings) out.push(`warning ${w.code}: ${w.message}`);
  return `${out.join('\n')}\n`;
}
