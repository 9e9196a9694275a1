import { purl, type Package } from '../../core/package.js';
import type { Analyzer, AnalyzerInput, AnalyzerOutput } from '../types.js';
import { readGoBuildInfo, type GoBuildInfo } from './buildinfo.js';

/** Smaller executables are scripts and stubs, not Go programs (the smallest Go binary is ~1 MB). */
const MIN_GO_BINARY = 64 * 1024;

/** `github.com/aquasecurity/go-version` → namespace `github.com/aquasecurity`, name `go-version`. */
function goPurl(path: string, version: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0
    ? purl('golang', undefined, path, version)
    : purl('golang', path.slice(0, slash), path.slice(slash + 1), version);
}

/** Go modules compiled into binaries, from their embedded build information (like `go version -m`). */
export const golangAnalyzer = {
  id: 'golang',
  version: 1,
  extract: {
    match: (_path: string, size: number, mode: number) => (mode & 0o111) !== 0 && size >= MIN_GO_BINARY,
    run: (data: Buffer) => readGoBuildInfo(data),
  },
  analyze({ fs, extracted }: AnalyzerInput<GoBuildInfo>): AnalyzerOutput {
    const packages: Package[] = [];
    for (const entry of fs.capturedFiles()) {
      if (!(entry.mode & 0o111)) continue;
      const info = extracted(entry.path);
      if (!info) continue;
      const location = [{ path: entry.path, layer: entry.layer }];
      const add = (name: string, version: string) =>
        packages.push({ type: 'golang', name, version, purl: goPurl(name, version), locations: location });
      if (info.main) add(info.main.path, info.main.version || '(devel)');
      add('stdlib', `v${info.goVersion.replace(/^go/, '').split(' ')[0]}`);
      for (const dep of info.deps) add(dep.path, dep.version || '(devel)');
    }
    return { packages };
  },
} satisfies Analyzer<GoBuildInfo>;
