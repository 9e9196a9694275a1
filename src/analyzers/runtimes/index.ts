import { purl, type Package } from '../../core/package.js';
import type { Analyzer, AnalyzerInput, AnalyzerOutput } from '../types.js';

/**
 * Runtimes that no package database records: Node.js from the official tarball (distroless keeps
 * it at /nodejs/bin/node), Python built from source (/usr/local), a JDK unpacked from an archive.
 * Identified from the binary itself, or from the file the runtime ships to say its version.
 * Files owned by an OS package are dropped later by the scan (no second report as "binary").
 */
const isNodeBinary = (path: string): boolean => path.endsWith('/node') || path.endsWith('/nodejs');
const NODE_VERSION = /nodejs\.org\/download\/release\/v(\d+\.\d+\.\d+)\//;
const PY_PATCHLEVEL = /\/include\/python(\d+\.\d+)[a-z]*\/patchlevel\.h$/;
const isJavaRelease = (path: string): boolean => path.endsWith('/release');
/** Tested before the expression: most paths are not headers at all. */
const pythonHeader = (path: string): RegExpExecArray | null =>
  path.endsWith('/patchlevel.h') ? PY_PATCHLEVEL.exec(path) : null;

export interface RuntimeFacts {
  readonly name: string;
  readonly version: string;
}

const binaryPackage = (name: string, version: string, path: string, layer: number): Package => ({
  type: 'binary',
  name,
  version,
  purl: purl('generic', undefined, name, version),
  locations: [{ path, layer }],
});

export const runtimesAnalyzer = {
  id: 'runtimes',
  version: 1,
  reads: (path: string, size: number) => size < 64 * 1024 && (isJavaRelease(path) || pythonHeader(path) !== null),
  extract: {
    match: (path: string, _size: number, mode: number) => (mode & 0o111) !== 0 && isNodeBinary(path),
    run: (data: Buffer): RuntimeFacts | undefined => {
      const version = NODE_VERSION.exec(data.toString('latin1'))?.[1];
      return version ? { name: 'node', version } : undefined;
    },
  },
  analyze({ fs, extracted }: AnalyzerInput<RuntimeFacts>): AnalyzerOutput {
    const packages: Package[] = [];
    for (const entry of fs.capturedFiles()) {
      if (isNodeBinary(entry.path)) {
        const facts = extracted(entry.path);
        if (facts) packages.push(binaryPackage(facts.name, facts.version, entry.path, entry.layer));
        continue;
      }
      const python = pythonHeader(entry.path);
      if (python) {
        const version = /#define\s+PY_VERSION\s+"([^"]+)"/.exec(
          fs.content(entry.path)?.data.toString('utf8') ?? '',
        )?.[1];
        if (!version) continue;
        // Report it where it runs: the interpreter next to the headers when there is one.
        const prefix = entry.path.slice(0, entry.path.indexOf('/include/'));
        const binary = [`${prefix}/bin/python${python[1]}`, `${prefix}/bin/python3`]
          .map((p) => fs.lstat(p))
          .find(Boolean);
        packages.push(binaryPackage('python', version, binary?.path ?? entry.path, binary?.layer ?? entry.layer));
        continue;
      }
      if (isJavaRelease(entry.path)) {
        const home = entry.path.slice(0, -'/release'.length);
        const java = fs.lstat(`${home}/bin/java`);
        if (!java) continue;
        const text = fs.content(entry.path)?.data.toString('utf8') ?? '';
        const version = /^JAVA_VERSION="([^"]+)"/m.exec(text)?.[1];
        if (version) packages.push(binaryPackage('openjdk', version, java.path, java.layer));
      }
    }
    return { packages };
  },
} satisfies Analyzer<RuntimeFacts>;
