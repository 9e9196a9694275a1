import { comparePackages, isOsPackage, type Package } from '../core/package.js';
import type { EntrypointInfo, ImageFacts, ReportWarning } from '../core/report.js';
import { redactArgs } from '../core/redact.js';
import { SURFACE_LISTS, type Surface, type SurfaceItem, type SurfaceList, type UserAccount } from '../core/surface.js';
import { osDetector, type Analyzer, type AnalyzerOutput, type ImageMeta, type OsInfo } from '../analyzers/index.js';
import type { LayeredFs } from '../fs/layered.js';
import { baseName } from '../fs/path.js';
import type { Image } from '../image/types.js';
import { classify } from './classify.js';
import { describeTarget } from './inspect.js';
import { sizeSummary } from './size.js';

/**
 * Runs one analyzer with the extraction results of its own extractor. They were stored by its id
 * when its `extract.run` returned them (scan/capture.ts), so they have its type: this is the one
 * place that says so to the compiler.
 */
function runAnalyzer<X, E>(
  analyzer: Analyzer<X, E>,
  fs: LayeredFs,
  image: ImageMeta,
  os: OsInfo,
): AnalyzerOutput<E> | Promise<AnalyzerOutput<E>> {
  return analyzer.analyze({ fs, image, os, extracted: (path) => fs.extracted(path)?.[analyzer.id] as X | undefined });
}

const byPath = (a: SurfaceItem, b: SurfaceItem): number => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

export const sortWarnings = (warnings: ReportWarning[]): ReportWarning[] =>
  warnings.sort((a, b) => (a.code < b.code ? -1 : a.code > b.code ? 1 : a.message < b.message ? -1 : 1));

/**
 * A runtime binary that an OS package installed is that package: not reported a second time.
 * Only the few OS package files named like a binary package's file are resolved (/bin vs /usr/bin).
 */
function withoutOwnedBinaries(packages: readonly Package[], fs: LayeredFs): Package[] {
  const binaries = packages.filter((p) => p.type === 'binary');
  if (!binaries.length) return [...packages];
  const suffixes = [...new Set(binaries.flatMap((p) => p.locations.map((l) => `/${baseName(l.path)}`)))];
  const canonical = (path: string): string => fs.file(path)?.path ?? path;
  const owned = new Set<string>();
  for (const p of packages) {
    if (!isOsPackage(p)) continue;
    for (const file of p.files ?? []) {
      if (suffixes.some((suffix) => file.endsWith(suffix))) owned.add(canonical(file));
    }
  }
  return packages.filter((p) => p.type !== 'binary' || !p.locations.some((l) => owned.has(canonical(l.path))));
}

/**
 * The analyzers' outputs merged by rule, in the order of the analyzer list: packages, surface
 * items and warnings are concatenated; an account (name and uid) is kept once, as the first
 * analyzer to report it saw it; the entrypoint is the first one reported; evidence stays under each analyzer's id.
 */
export function mergeOutputs(outputs: readonly { readonly id: string; readonly output: AnalyzerOutput<unknown> }[]) {
  const packages: Package[] = [];
  const warnings: ReportWarning[] = [];
  const surface = new Map<SurfaceList, SurfaceItem[]>(SURFACE_LISTS.map((list) => [list, []]));
  const users = new Map<string, UserAccount>();
  const evidence: Record<string, unknown> = {};
  let entrypoint: EntrypointInfo | undefined;
  for (const { id, output } of outputs) {
    packages.push(...(output.packages ?? []));
    warnings.push(...(output.warnings ?? []));
    for (const list of SURFACE_LISTS) surface.get(list)!.push(...(output.surface?.[list] ?? []));
    for (const user of output.users ?? [])
      if (!users.has(`${user.name}:${user.uid}`)) users.set(`${user.name}:${user.uid}`, user);
    entrypoint ??= output.entrypoint;
    if (output.evidence !== undefined) evidence[id] = output.evidence;
  }
  return { packages, warnings, surface, users: [...users.values()], entrypoint, evidence };
}

/**
 * From a walked filesystem to the image's facts: OS detection first (every analyzer reads it),
 * then the analyzers in order, their outputs merged, the image classified and weighed. No
 * judgement here: findings and the score come from `judge`.
 */
export async function assembleFacts(image: Image, fs: LayeredFs, analyzers: readonly Analyzer[]): Promise<ImageFacts> {
  const target = describeTarget(image, fs);
  const meta: ImageMeta = {
    input: target.input,
    source: target.source,
    config: image.config,
    platform: image.platform,
    ...(target.reference ? { reference: target.reference } : {}),
    layers: target.layers,
  };
  const os = osDetector.detect(fs);
  const outputs = [];
  for (const analyzer of analyzers)
    outputs.push({ id: analyzer.id, output: await runAnalyzer(analyzer, fs, meta, os) });
  const merged = mergeOutputs(outputs);
  const packages = withoutOwnedBinaries(merged.packages, fs);
  const list = (key: SurfaceList): SurfaceItem[] => merged.surface.get(key)!.sort(byPath);
  const surface: Surface = {
    ...(Object.fromEntries(SURFACE_LISTS.map((key) => [key, list(key)])) as Record<SurfaceList, SurfaceItem[]>),
    users: merged.users.sort((a, b) => a.uid - b.uid || (a.name < b.name ? -1 : 1)),
  };
  // busybox's dpkg/rpm applets do not make a general-purpose distribution.
  const packageManagers = surface.packageManagers.filter((p) => p.via !== 'busybox').length;
  const osPackages = packages.filter(isOsPackage).length;
  const { classification, reason } = classify({ os, shells: surface.shells.length, packageManagers, osPackages });
  return {
    target,
    os: {
      id: os.id,
      ...(os.versionId ? { versionId: os.versionId } : {}),
      ...(os.prettyName ? { prettyName: os.prettyName } : {}),
      classification,
      classificationReason: reason,
    },
    size: sizeSummary(image, fs),
    packages: packages.map(({ files: _files, ...p }) => p).sort(comparePackages),
    surface,
    vulnerabilities: [],
    ...(merged.entrypoint
      ? { entrypoint: { ...merged.entrypoint, command: redactArgs(merged.entrypoint.command) } }
      : {}),
    evidence: merged.evidence,
    warnings: sortWarnings([...image.warnings, ...merged.warnings]),
  };
}
