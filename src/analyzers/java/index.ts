import { purl, type Package } from '../../core/package.js';
import type { Analyzer, AnalyzerInput, AnalyzerOutput } from '../types.js';
import { javaArtifacts, type JavaArtifact } from './archive.js';
import { baseName } from '../../fs/path.js';

const ARCHIVE = /\.(jar|war|ear|par|sar|jpi|hpi|kar|nar)$/i;

/** Maven artifacts in Java archives, read from the archive bytes during the walk. */
export const javaAnalyzer = {
  id: 'java',
  version: 1,
  extract: {
    match: (path: string, size: number) => size > 22 && ARCHIVE.test(path),
    run: (data: Buffer, path: string) => javaArtifacts(data, baseName(path)),
  },
  analyze({ fs, extracted }: AnalyzerInput<JavaArtifact[]>): AnalyzerOutput {
    const packages: Package[] = [];
    for (const entry of fs.capturedFiles()) {
      if (!ARCHIVE.test(entry.path)) continue;
      const artifacts = extracted(entry.path);
      for (const a of artifacts ?? []) {
        const [group, artifact] = a.name.includes(':')
          ? (a.name.split(':', 2) as [string, string])
          : [undefined, a.name];
        packages.push({
          type: 'maven',
          name: a.name,
          version: a.version,
          ...(a.licenses?.length ? { licenses: a.licenses } : {}),
          purl: purl('maven', group, artifact, a.version),
          // The image path of the outermost archive; the chain inside it is in the name's context.
          locations: [{ path: `${entry.path.slice(0, entry.path.lastIndexOf('/') + 1)}${a.path}`, layer: entry.layer }],
        });
      }
    }
    return { packages };
  },
} satisfies Analyzer<JavaArtifact[]>;
