import { purl, type Package } from '../../core/package.js';
import type { ReportWarning } from '../../core/report.js';
import type { Analyzer, AnalyzerInput, AnalyzerOutput } from '../types.js';

/** `…/node_modules/<name>/package.json` or `…/node_modules/@scope/<name>/package.json`, nothing deeper. */
const MANIFEST = /\/node_modules\/((?:@[^/]+\/)?[^/@][^/]*)\/package\.json$/;
/** Asked of every file: the cheap test first. */
const isManifest = (path: string): boolean => path.endsWith('/package.json') && MANIFEST.test(path);
/** package.json files larger than this are not manifests worth reading. */
const MAX_MANIFEST = 1024 * 1024;

/** The licence of a package.json: `license` as a string or `{ type }`, or the old `licenses` array. */
export function npmLicenses(doc: Record<string, unknown>): string[] {
  const one = (value: unknown): string | undefined =>
    typeof value === 'string'
      ? value
      : value && typeof value === 'object' && typeof (value as { type?: unknown }).type === 'string'
        ? (value as { type: string }).type
        : undefined;
  const license = one(doc.license);
  if (license) return [license];
  return Array.isArray(doc.licenses) ? doc.licenses.map(one).filter((l): l is string => !!l) : [];
}

/** Packages installed under node_modules, npm's own included (e.g. /usr/lib/node_modules/npm). */
export const npmAnalyzer = {
  id: 'npm',
  version: 1,
  reads: (path: string, size: number) => size <= MAX_MANIFEST && isManifest(path),
  analyze({ fs }: AnalyzerInput): AnalyzerOutput {
    const packages: Package[] = [];
    const warnings: ReportWarning[] = [];
    for (const entry of fs.capturedFiles()) {
      if (!isManifest(entry.path)) continue;
      const content = fs.content(entry.path);
      if (!content) continue;
      let doc: Record<string, unknown>;
      try {
        doc = JSON.parse(content.data.toString('utf8')) as Record<string, unknown>;
      } catch {
        warnings.push({ code: 'W_NPM_MANIFEST_INVALID', message: `${entry.path} is not valid JSON` });
        continue;
      }
      if (typeof doc.name !== 'string' || typeof doc.version !== 'string' || !doc.name || !doc.version) continue;
      const [namespace, name] = doc.name.startsWith('@')
        ? (doc.name.split('/', 2) as [string, string])
        : [undefined, doc.name];
      const licenses = npmLicenses(doc);
      packages.push({
        type: 'npm',
        name: doc.name,
        version: doc.version,
        ...(licenses.length ? { licenses } : {}),
        purl: purl('npm', namespace, name, doc.version),
        locations: [{ path: entry.path, layer: entry.layer }],
      });
    }
    return { packages, warnings };
  },
} satisfies Analyzer;
