import { purl, type Package } from '../../core/package.js';
import type { Analyzer, AnalyzerInput, AnalyzerOutput } from '../types.js';

/** Installed distributions: `*.dist-info/METADATA`, `*.egg-info/PKG-INFO`, or an `*.egg-info` file. */
const METADATA = /\.dist-info\/METADATA$|\.egg-info\/PKG-INFO$|\.egg-info$/;
/** Asked of every file: the cheap test first. */
const isMetadata = (path: string): boolean =>
  (path.endsWith('/METADATA') || path.endsWith('/PKG-INFO') || path.endsWith('.egg-info')) && METADATA.test(path);
const MAX_METADATA = 4 * 1024 * 1024;

export interface PythonMetadata {
  readonly name: string;
  readonly version: string;
  readonly licenses: readonly string[];
}

/**
 * Core metadata (https://packaging.python.org/en/latest/specifications/core-metadata/): email-style
 * headers up to the first blank line. Licences, first that is present: License-Expression, License,
 * `License ::` classifiers (their last part), License-File (as file://NAME).
 */
export function parsePythonMetadata(text: string): PythonMetadata | undefined {
  const headers: [string, string][] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line === '') break;
    if (/^[ \t]/.test(line) && headers.length) {
      headers[headers.length - 1]![1] += `\n${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon > 0) headers.push([line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()]);
  }
  const get = (key: string) => headers.find(([k]) => k === key)?.[1];
  const name = get('name');
  const version = get('version');
  if (!name || !version) return undefined;
  const expression = get('license-expression');
  const license = get('license');
  const classifiers = headers
    .filter(([k, v]) => k === 'classifier' && v.startsWith('License ::'))
    .map(([, v]) => v.split(' :: '))
    .filter((parts) => parts.length > 2)
    .map((parts) => parts[parts.length - 1]!);
  const file = get('license-file');
  const licenses = expression
    ? [expression]
    : license
      ? [license]
      : classifiers.length
        ? classifiers
        : file
          ? [`file://${file}`]
          : [];
  return { name, version, licenses };
}

/** PEP 503 normalised name for the purl: lower case, runs of -_. become -. */
const normalise = (name: string): string => name.toLowerCase().replace(/[-_.]+/g, '-');

export const pythonAnalyzer = {
  id: 'python',
  version: 1,
  reads: (path: string, size: number) => size <= MAX_METADATA && isMetadata(path),
  analyze({ fs }: AnalyzerInput): AnalyzerOutput {
    const packages: Package[] = [];
    for (const entry of fs.capturedFiles()) {
      if (!isMetadata(entry.path)) continue;
      const content = fs.content(entry.path);
      const meta = content && parsePythonMetadata(content.data.toString('utf8'));
      if (!meta) continue;
      packages.push({
        type: 'pypi',
        name: meta.name,
        version: meta.version,
        ...(meta.licenses.length ? { licenses: meta.licenses } : {}),
        purl: purl('pypi', undefined, normalise(meta.name), meta.version),
        locations: [{ path: entry.path, layer: entry.layer }],
      });
    }
    return { packages };
  },
} satisfies Analyzer;
