import { compareFindings, type Finding } from '../core/finding.js';
import { comparePackages, isOsPackage, type Package } from '../core/package.js';
import { REPORT_SCHEMA, type EntrypointInfo, type Report, type ReportWarning, type SizeSummary } from '../core/report.js';
import type { Surface, SurfaceItem, UserAccount } from '../core/surface.js';
import type { CaptureRequest, FsEntry } from '../fs/types.js';
import { builtinAnalyzers, detectOs, diveEfficiency, type Analyzer, type ImageMeta } from '../analyzers/index.js';
import { buildFs, type BuildOptions, type LayeredFs } from '../fs/layered.js';
import type { Image, ImageSource, ResolveOptions } from '../image/types.js';
import { computeScore } from '../score/index.js';
import { matchPackages, type VulnSource } from '../vuln/match.js';
import { TOOL } from '../version.js';
import { classify } from './classify.js';
import { describeTarget } from './inspect.js';
import { DiskLayerCache, ResultCache } from './layer-cache.js';
import { baseName } from '../fs/path.js';

export interface ScanOptions extends ResolveOptions, Omit<BuildOptions, 'signal' | 'capture' | 'layerCache'> {
  readonly analyzers?: readonly Analyzer[];
  /** Where per-layer and whole-image results are kept between scans (the cache directory). */
  readonly cacheDir?: string;
  /** false: keep per-layer results only (re-analyse every time, e.g. to measure the layer cache). */
  readonly resultCache?: boolean;
  /** Injected clock, for reproducible output. */
  readonly now?: () => Date;
  /** Where known vulnerabilities are looked up (the local database); absent: none are reported. */
  readonly vulnerabilities?: VulnScanOptions;
}

export interface VulnScanOptions {
  readonly source: VulnSource;
  /** Drop vulnerabilities with no known fix (--ignore-unfixed). */
  readonly ignoreUnfixed?: boolean;
  /** When the database was built, and how old it may be before the report warns. */
  readonly builtAt?: Date;
  readonly maxAgeDays?: number;
}

/** Every rule the built-in analyzers can report (for SARIF and the rules page). */
export const builtinRules = builtinAnalyzers.flatMap((a) => a.rules ?? []);

/** Largest content kept for an analyzer: package databases reach a few MB (Ubuntu's status ~1 MB). */
export const MAX_CAPTURE_BYTES = 16 * 1024 * 1024;
/** Binaries and archives larger than this are not opened for extraction (one at a time per layer). */
export const MAX_EXTRACT_BYTES = 256 * 1024 * 1024;
/** Marks kept content that is extraction results (JSON), not the file's bytes. */
const EXTRACTED = Buffer.from('\0distrolens-extracted\0');

/** Runs the extractors that want a file; undefined when none found anything. */
function extractAll(analyzers: readonly Analyzer[], path: string, data: Buffer, mode: number): Buffer | undefined {
  const results: Record<string, unknown> = {};
  for (const analyzer of analyzers) {
    if (!analyzer.extract?.match(path, data.length, mode)) continue;
    try {
      const result = analyzer.extract.run(data, path);
      if (result !== undefined) results[analyzer.id] = result;
    } catch {
      // A malformed binary or archive yields nothing; it is not an error of the scan.
    }
  }
  return Object.keys(results).length ? Buffer.concat([EXTRACTED, Buffer.from(JSON.stringify(results))]) : undefined;
}

/** Extraction results by the bytes that hold them: several analyzers read the same binary's. */
const extractions = new WeakMap<Buffer, Record<string, unknown>>();

function extractedFor(fs: LayeredFs, analyzer: Analyzer, path: string): unknown {
  const content = fs.content(path);
  if (!content || !content.data.subarray(0, EXTRACTED.length).equals(EXTRACTED)) return undefined;
  let results = extractions.get(content.data);
  if (!results) extractions.set(content.data, (results = JSON.parse(content.data.subarray(EXTRACTED.length).toString('utf8')) as Record<string, unknown>));
  return results[analyzer.id];
}
const LARGEST_FILES = 10;

/**
 * What a walk keeps, asked about every file of every layer (32,000 times for a Debian image with
 * nodejs, on the thread the walk is waiting for): the analyzers' tests are taken out once into
 * arrays of functions called in plain loops. Extraction results replace the bytes they came from;
 * other captured files are kept as read.
 */
function captureFor(analyzers: readonly Analyzer[]): CaptureRequest {
  const reads = analyzers.flatMap((a) => (a.reads ? [a.reads] : []));
  const extractors = analyzers.filter((a) => a.extract);
  const matches = extractors.map((a) => a.extract!.match);
  /** The largest limit any analyzer asks for this file; 0 when none wants it. */
  const readLimit = (path: string, size: number): number => {
    let limit = 0;
    for (let i = 0; i < reads.length; i++) {
      const want = reads[i]!(path, size);
      if (want !== false) limit = Math.max(limit, want === true ? MAX_CAPTURE_BYTES : want);
    }
    return limit;
  };
  const extracts = (path: string, size: number, mode: number): boolean => {
    if (size > MAX_EXTRACT_BYTES) return false;
    for (let i = 0; i < matches.length; i++) if (matches[i]!(path, size, mode)) return true;
    return false;
  };
  return {
    match: (path, size, mode) => {
      const limit = extracts(path, size, mode) ? Math.max(readLimit(path, size), MAX_EXTRACT_BYTES) : readLimit(path, size);
      return limit === 0 ? false : limit;
    },
    keep: (path, data, mode) => extractAll(extractors, path, data, mode) ?? (readLimit(path, data.length) > 0 ? data : undefined),
    maxBytes: MAX_CAPTURE_BYTES,
  };
}

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

const byPath = (a: SurfaceItem, b: SurfaceItem): number => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

function sizeSummary(image: Image, fs: LayeredFs): SizeSummary {
  const { efficiency, wastedBytes, inefficiencies } = diveEfficiency(fs.layers);
  let files = 0;
  let squashed = 0;
  let top: FsEntry[] = [];
  for (const e of fs.entries()) {
    if (e.type === 'dir') continue;
    files++;
    if (e.type !== 'file') continue;
    squashed += e.size;
    // Keep the largest few without sorting every file.
    if (top.length < LARGEST_FILES || e.size > top[top.length - 1]!.size) {
      top.push(e);
      top.sort((a, b) => b.size - a.size || (a.path < b.path ? -1 : 1));
      if (top.length > LARGEST_FILES) top = top.slice(0, LARGEST_FILES);
    }
  }
  const largest = top.map((e) => ({ path: e.path, size: e.size, layer: e.layer }));
  const compressed = image.layers.every((l) => l.compressedSize !== undefined) ? image.layers.reduce((s, l) => s + (l.compressedSize ?? 0), 0) : undefined;
  return {
    ...(compressed !== undefined ? { compressed } : {}),
    uncompressed: fs.layers.reduce((s, l) => s + l.uncompressedSize, 0),
    squashed,
    wastedBytes,
    efficiency,
    files,
    layers: fs.layers.map((l, index) => ({
      index,
      addedBytes: l.entries.reduce((s, e) => s + (e.type === 'file' ? e.size : 0), 0),
      hiddenBytes: fs.hiddenBytes[index] ?? 0,
      ...(image.layers[index]?.createdBy !== undefined ? { createdBy: image.layers[index]!.createdBy } : {}),
    })),
    largest,
    inefficiencies: inefficiencies.slice(0, 20),
  };
}

/**
 * The main job: resolve, walk every layer once (keeping only the files analyzers declared),
 * detect the OS, run the analyzers, classify, score. Lists are sorted so two runs on the same
 * input give the same JSON apart from createdAt.
 */
export async function scanImage(source: ImageSource, options: ScanOptions = {}): Promise<{ report: Report; image: Image; fs?: LayeredFs }> {
  const analyzers = options.analyzers ?? builtinAnalyzers;
  const image = await source.resolve(options);
  // Everything that decides what a walk keeps is in the key: analyzers, versions, limits.
  const cacheKey = [...analyzers.map((a) => `${a.id}@${a.version}`), MAX_CAPTURE_BYTES, MAX_EXTRACT_BYTES].join(',');
  const now = options.now ?? (() => new Date());
  const results = options.cacheDir && options.resultCache !== false ? new ResultCache(options.cacheDir, cacheKey, TOOL.version) : undefined;
  const cached = await results?.get(image);
  if (cached) {
    // The same image, analyzers and versions: the analysis is what it was. Only the input differs.
    const report = { ...cached, createdAt: now().toISOString(), target: { ...cached.target, input: image.source.input } };
    return { report: withVulnerabilities(report, options.vulnerabilities, now), image };
  }
  const { report, fs } = await analyze(image, analyzers, cacheKey, { ...options, now });
  await results?.put(image, report);
  return { report: withVulnerabilities(report, options.vulnerabilities, now), image, fs };
}


/**
 * Adds known vulnerabilities to an analysed report and scores them. Done on every scan, after the
 * cached analysis, so that a database update shows up without re-reading the image.
 */
export function withVulnerabilities(report: Report, options: VulnScanOptions | undefined, now: () => Date): Report {
  const warnings: ReportWarning[] = [];
  if (!options) {
    warnings.push({ code: 'W_VULN_DB_MISSING', message: 'no vulnerability database: vulnerabilities were not checked; run `distrolens db update`' });
    return { ...report, warnings: sortWarnings([...report.warnings, ...warnings]) };
  }
  const { vulnerabilities, skippedGit } = matchPackages(report.packages, report.os, options.source, { ignoreUnfixed: options.ignoreUnfixed ?? false });
  if (skippedGit) warnings.push({ code: 'W_VULN_GIT_RANGES', message: `${skippedGit} advisory range(s) are given as git commits and cannot be compared with package versions; they were skipped` });
  if (options.builtAt && options.maxAgeDays !== undefined) {
    const age = (now().getTime() - options.builtAt.getTime()) / 86_400_000;
    if (age > options.maxAgeDays) {
      warnings.push({ code: 'W_VULN_DB_STALE', message: `the vulnerability database is ${Math.floor(age)} days old (limit ${options.maxAgeDays}); run \`distrolens db update\`` });
    }
  }
  const osPackages = report.packages.filter(isOsPackage).length;
  return {
    ...report,
    vulnerabilities,
    score: computeScore(report.findings, osPackages, vulnerabilities),
    warnings: sortWarnings([...report.warnings, ...warnings]),
  };
}

const sortWarnings = (warnings: ReportWarning[]): ReportWarning[] =>
  warnings.sort((a, b) => (a.code < b.code ? -1 : a.code > b.code ? 1 : a.message < b.message ? -1 : 1));

async function analyze(image: Image, analyzers: readonly Analyzer[], cacheKey: string, options: ScanOptions & { now: () => Date }): Promise<{ report: Report; fs: LayeredFs }> {
  const fs = await buildFs(image, {
    ...options,
    ...(options.cacheDir ? { layerCache: new DiskLayerCache(options.cacheDir, cacheKey) } : {}),
    capture: captureFor(analyzers),
  });
  const target = describeTarget(image, fs);
  const meta: ImageMeta = {
    input: target.input, source: target.source, config: image.config, platform: image.platform,
    ...(target.reference ? { reference: target.reference } : {}),
    layers: target.layers,
  };
  const os = detectOs(fs);
  const packages: Package[] = [];
  const findings: Finding[] = [];
  const warnings: ReportWarning[] = [...image.warnings];
  const surface: Record<string, SurfaceItem[]> = {};
  let users: UserAccount[] = [];
  let entrypoint: EntrypointInfo | undefined;
  for (const analyzer of analyzers) {
    const out = await analyzer.analyze({ fs, image: meta, os, extracted: (path) => extractedFor(fs, analyzer, path) });
    packages.push(...(out.packages ?? []));
    findings.push(...(out.findings ?? []));
    warnings.push(...(out.warnings ?? []));
    for (const [key, items] of Object.entries(out.surface ?? {})) (surface[key] ??= []).push(...(items ?? []));
    if (out.users) users = [...out.users];
    if (out.entrypoint) entrypoint = out.entrypoint;
  }
  const kept = withoutOwnedBinaries(packages, fs);
  const osPackages = kept.filter(isOsPackage).length;
  const sorted = (key: string): SurfaceItem[] => (surface[key] ?? []).sort(byPath);
  const fullSurface: Surface = {
    shells: sorted('shells'), packageManagers: sorted('packageManagers'), networkTools: sorted('networkTools'),
    interpreters: sorted('interpreters'), buildTools: sorted('buildTools'), privilegeTools: sorted('privilegeTools'),
    setuid: sorted('setuid'), setgid: sorted('setgid'), worldWritable: sorted('worldWritable'), capabilities: sorted('capabilities'),
    users: users.sort((a, b) => a.uid - b.uid || (a.name < b.name ? -1 : 1)),
  };
  // busybox's dpkg/rpm applets do not make a general-purpose distribution.
  const packageManagers = fullSurface.packageManagers.filter((p) => p.via !== 'busybox').length;
  const { classification, reason } = classify({ os, shells: fullSurface.shells.length, packageManagers, osPackages });
  findings.sort(compareFindings);
  const report: Report = {
    schema: REPORT_SCHEMA,
    tool: TOOL,
    createdAt: options.now().toISOString(),
    target,
    os: {
      id: os.id,
      ...(os.versionId ? { versionId: os.versionId } : {}),
      ...(os.prettyName ? { prettyName: os.prettyName } : {}),
      classification,
      classificationReason: reason,
    },
    size: sizeSummary(image, fs),
    packages: kept.map(({ files: _files, ...p }) => p).sort(comparePackages),
    surface: fullSurface,
    findings,
    vulnerabilities: [],
    ...(entrypoint ? { entrypoint } : {}),
    score: computeScore(findings, osPackages),
    warnings: sortWarnings(warnings),
  };
  return { report, fs };
}
