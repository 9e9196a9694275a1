import { SEVERITIES, type Severity } from '../core/finding.js';
import type { Package } from '../core/package.js';
import type { Report } from '../core/report.js';
import { TOOL } from '../version.js';
import { countBySeverity } from '../core/vulnerability.js';
import {
  COMPARE_SCHEMA,
  COMPARED_CATEGORIES,
  type ComparedCategory,
  type Comparison,
  type ImageDiff,
  type ImageSummary,
  maintenanceWords,
  summariseMaintenance,
} from '../core/compare.js';

const CATEGORIES = COMPARED_CATEGORIES;
type Category = ComparedCategory;

const key = (p: Package): string => `${p.type}:${p.name}`;
const names = (report: Report, category: Category): Set<string> => new Set(report.surface[category].map((i) => i.name));

function summarise(r: Report): ImageSummary {
  return {
    input: r.target.input,
    ...(r.target.reference ? { reference: r.target.reference } : {}),
    classification: r.os.classification,
    grade: r.score.grade,
    score: r.score.value,
    size: {
      ...(r.size.compressed !== undefined ? { compressed: r.size.compressed } : {}),
      uncompressed: r.size.uncompressed,
      squashed: r.size.squashed,
      files: r.size.files,
    },
    packages: r.packages.length,
    surface: Object.fromEntries(CATEGORIES.map((c) => [c, r.surface[c].length])) as Record<Category, number>,
    findings: Object.fromEntries(
      SEVERITIES.map((s) => [s, r.findings.filter((f) => f.severity === s).length]),
    ) as Record<Severity, number>,
    vulnerabilities: countBySeverity(r.vulnerabilities),
    user: r.target.config.user || 'root',
    ...(r.maintenance ? { maintenance: summariseMaintenance(r.maintenance) } : {}),
  };
}

function diff(base: Report, other: Report): ImageDiff {
  const a = new Map(base.packages.map((p) => [key(p), p]));
  const b = new Map(other.packages.map((p) => [key(p), p]));
  const added = [...b.keys()]
    .filter((k) => !a.has(k))
    .map((k) => b.get(k)!.purl)
    .sort();
  const removed = [...a.keys()]
    .filter((k) => !b.has(k))
    .map((k) => a.get(k)!.purl)
    .sort();
  const changed = [...a.keys()]
    .filter((k) => b.has(k) && a.get(k)!.version !== b.get(k)!.version)
    .map((k) => ({ name: k, from: a.get(k)!.version, to: b.get(k)!.version }))
    .sort((x, y) => (x.name < y.name ? -1 : 1));
  const surface = Object.fromEntries(
    CATEGORIES.map((c) => {
      const before = names(base, c);
      const after = names(other, c);
      return [
        c,
        {
          removed: [...before].filter((n) => !after.has(n)).sort(),
          added: [...after].filter((n) => !before.has(n)).sort(),
        },
      ];
    }),
  ) as unknown as ImageDiff['surface'];
  const findings = Object.fromEntries(
    SEVERITIES.map((s) => [
      s,
      other.findings.filter((f) => f.severity === s).length - base.findings.filter((f) => f.severity === s).length,
    ]),
  ) as Record<Severity, number>;
  const before = new Set(base.vulnerabilities.map((v) => v.id));
  const after = new Set(other.vulnerabilities.map((v) => v.id));
  const vulnerabilities = {
    removed: [...before].filter((id) => !after.has(id)).sort(),
    added: [...after].filter((id) => !before.has(id)).sort(),
  };
  return {
    packages: { added, removed, changed },
    surface,
    findings,
    vulnerabilities,
    sizeBytes: other.size.uncompressed - base.size.uncompressed,
  };
}

const LABEL: Record<Category, string> = {
  shells: 'shell',
  packageManagers: 'package manager',
  networkTools: 'network tool',
  interpreters: 'interpreter',
  buildTools: 'build tool',
  privilegeTools: 'privilege tool',
  setuid: 'setuid binary',
  setgid: 'setgid binary',
  worldWritable: 'world-writable path',
  capabilities: 'file with capabilities',
};
const plural = (n: number, word: string): string =>
  `${n} ${word}${n === 1 ? '' : word.endsWith('y') ? '' : 's'}`.replace(/binarys$/, 'binaries');

function mb(bytes: number): string {
  return `${(Math.abs(bytes) / 1e6).toFixed(1)} MB`;
}

/** The image's name in the sentence: the reference, else the input, whole (the sentence is pasted as it is). */
function displayName(r: Report): string {
  return r.target.reference ?? r.target.input;
}

/** One paragraph a person can paste into a design review. */
function verdictOf(base: Report, other: Report, d: ImageDiff): string {
  const name = displayName;
  const gone: string[] = [];
  const came: string[] = [];
  for (const c of CATEGORIES) {
    const before = base.surface[c].length;
    const after = other.surface[c].length;
    if (before && !after) gone.push(`no ${LABEL[c]}`);
    else if (after < before) gone.push(`${plural(before - after, LABEL[c])} fewer`);
    else if (after > before) came.push(`${plural(after - before, LABEL[c])} more`);
  }
  const size =
    d.sizeBytes === 0
      ? 'the same size'
      : `${mb(d.sizeBytes)} ${d.sizeBytes < 0 ? 'smaller' : 'larger'} (${((d.sizeBytes / Math.max(1, base.size.uncompressed)) * 100).toFixed(0)} %)`;
  const packages = other.packages.length - base.packages.length;
  const serious = (r: Report) => r.findings.filter((f) => f.severity === 'critical' || f.severity === 'high').length;
  return [
    `${name(other)} (${other.os.classification}, grade ${other.score.grade}) compared with ${name(base)} (${base.os.classification}, grade ${base.score.grade}):`,
    gone.length ? `${gone.join(', ')};` : '',
    came.length ? `but ${came.join(', ')};` : '',
    `${size};`,
    `${packages === 0 ? 'the same number of' : `${Math.abs(packages)} ${packages < 0 ? 'fewer' : 'more'}`} packages (${d.packages.changed.length} at other versions);`,
    `${serious(other)} critical or high findings against ${serious(base)};`,
    vulnerabilitySentence(base, other, d),
    maintenanceSentence(base, other),
    `runs as ${other.target.config.user || 'root'} instead of ${base.target.config.user || 'root'}.`.replace(
      /runs as (\S+) instead of \1\./,
      'runs as $1 in both.',
    ),
  ]
    .filter(Boolean)
    .join(' ');
}

/** "removes 41 of 57 known vulnerabilities (3 of 4 critical or high) and adds 2;" (empty without a database). */
function vulnerabilitySentence(base: Report, other: Report, d: ImageDiff): string {
  const ids = (r: Report) => new Set(r.vulnerabilities.map((v) => v.id));
  const serious = (r: Report) =>
    new Set(r.vulnerabilities.filter((v) => v.severity === 'critical' || v.severity === 'high').map((v) => v.id));
  const total = ids(base).size;
  if (!total && !ids(other).size)
    return base.warnings.some((w) => w.code === 'W_VULN_DB_MISSING') ? '' : 'no known vulnerabilities in either;';
  const seriousBase = serious(base);
  const seriousRemoved = d.vulnerabilities.removed.filter((id) => seriousBase.has(id)).length;
  return `removes ${d.vulnerabilities.removed.length} of ${total} known vulnerabilities (${seriousRemoved} of ${seriousBase.size} critical or high)${d.vulnerabilities.added.length ? ` and adds ${d.vulnerabilities.added.length}` : ''};`;
}

/** "maintenance: 101 packages, 14 behind, … against 23 packages, 0 behind, …; burden 19.2 → 2.3;" */
function maintenanceSentence(base: Report, other: Report): string {
  if (!base.maintenance || !other.maintenance) return '';
  const [a, b] = [summariseMaintenance(base.maintenance), summariseMaintenance(other.maintenance)];
  return `maintenance: ${maintenanceWords(b)} against ${maintenanceWords(a)}; burden ${b.burden} against ${a.burden};`;
}

/** Compares scans: the first is the baseline every other image is compared with. */
export function compareReports(reports: readonly Report[]): Comparison {
  const [base, ...others] = reports;
  if (!base) throw new Error('compareReports needs at least one report');
  const diffs = others.map((r) => diff(base, r));
  return {
    schema: COMPARE_SCHEMA,
    tool: TOOL,
    verdict: others.map((r, i) => verdictOf(base, r, diffs[i]!)).join('\n\n'),
    images: reports.map(summarise),
    diffs,
  };
}
