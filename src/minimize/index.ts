import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseApkInstalled } from '../analyzers/apk/parse.js';
import { parseFileList } from '../analyzers/dpkg/parse.js';
import { builtinAnalyzers, type Analyzer } from '../analyzers/index.js';
import type { Comparison } from '../core/compare.js';
import type { ImageConfig } from '../core/config.js';
import { fail } from '../core/errors.js';
import type { Package } from '../core/package.js';
import type { Report, ToolInfo } from '../core/report.js';
import { SURFACE_LISTS, type SurfaceList } from '../core/surface.js';
import { buildFs, type LayeredFs } from '../fs/layered.js';
import type { ImageSource } from '../image/types.js';
import { compareReports } from '../scan/compare.js';
import { scanImage, type VulnScanOptions } from '../scan/scan.js';
import { openSource } from '../sources/index.js';
import { TOOL } from '../version.js';
import { binaryFacts, staticClosure, type BinaryFacts } from './closure.js';
import { extractVisible, withParents, writeLayersFromImage, writeLayoutIndex, type LayerFile } from './layout.js';
import { traceRun, type TraceOptions } from './trace.js';

/** Version tag of `minimize --format json`. */
export const MINIMIZE_SCHEMA = 'distrolens/minimize@1';
/** The user a minimized image runs as unless --keep-user: distroless's nonroot. */
export const NONROOT = { uid: 65532, name: 'nonroot' };

/** Rounds of run, add what was looked for, write again: a program that needs more is cut off here. */
const MAX_TRACE_ROUNDS = 5;

export interface TraceReport {
  /** Runs of the minimized image. */
  iterations: number;
  /** Paths the runs looked for that the static closure had left out. */
  readonly added: string[];
  /** What the probe saw on the original and on the result (or how the program ended). */
  original?: string;
  minimized?: string;
  /** Both answered alike, and the original answered with success (a broken original proves nothing). */
  same?: boolean;
}

/** The command's settings for a trace: the image's command (or the first --entry), its env and directory. */
function traceOptions(
  config: ImageConfig,
  runAs: { uid: number; gid: number },
  trace: NonNullable<MinimizeOptions['trace']>,
  entries: MinimizeOptions['entries'],
): TraceOptions {
  const command = [...(config.entrypoint ?? []), ...(config.cmd ?? [])];
  const argv = command.length ? command : [...(entries?.[0] ?? [])];
  return {
    argv,
    env: config.env,
    workingDir: config.workingDir || '/',
    user: `${runAs.uid}:${runAs.gid}`,
    ...(trace.probe ? { probe: trace.probe } : {}),
    ...(trace.probeCommand ? { probeCommand: trace.probeCommand } : {}),
    seconds: trace.seconds ?? 10,
  };
}

export interface MinimizeOptions {
  /** A base to build on (gcr.io/distroless/cc-debian12): its files first, then what it lacks. */
  readonly base?: ImageSource;
  /** The base's name, recorded as the result's org.opencontainers.image.base.name. */
  readonly baseName?: string;
  /** How the result is named in the report (`oci-archive:app.tar`, `registry:…`); default oci:OUTPUT. */
  readonly label?: string;
  /** Run the result (chroot, strace) and add what it looked for; compare its behaviour with the original's. */
  readonly trace?: { readonly probe?: string; readonly probeCommand?: readonly string[]; readonly seconds?: number };
  /** The OCI layout directory to write (replaced atomically). */
  readonly output: string;
  readonly keep?: readonly string[];
  readonly entries?: readonly (readonly string[])[];
  readonly keepUser?: boolean;
  readonly cacheDir?: string;
  readonly vulnerabilities?: VulnScanOptions;
  readonly signal?: AbortSignal;
  readonly now?: () => Date;
}

export interface MinimizeResult {
  readonly schema: typeof MINIMIZE_SCHEMA;
  readonly tool: ToolInfo;
  readonly input: string;
  readonly output: { readonly destination: string; readonly manifestDigest: string; readonly user: string };
  /** True when `--trace` ran the result and it behaved as the original; false: not run, or not the same. */
  readonly traced: boolean;
  readonly trace?: TraceReport;
  readonly kept: readonly {
    readonly path: string;
    readonly reason: string;
    readonly layer: 'runtime' | 'application';
  }[];
  /** What the program needs that the image itself lacks. */
  readonly missing: readonly string[];
  /** What left, by surface category (paths of the original). */
  readonly removed: Readonly<Partial<Record<SurfaceList, readonly string[]>>>;
  /** OS packages whose files were kept (recorded in the result's package metadata). */
  readonly packages: readonly string[];
  readonly comparison: Comparison;
}

/**
 * What the closure reads, gathered during the scan's own walk of the layers (no extracted copy):
 * each executable's or shared object's facts as a program, and the few text files it consults.
 */
const closureReader = {
  id: 'minimize',
  version: 2,
  reads: (path: string, size: number) =>
    size <= 256 * 1024 && /^\/etc\/(ld\.so\.conf(\.d\/[^/]+)?|nsswitch\.conf|passwd|group)$/.test(path),
  extract: {
    match: (path: string, size: number, mode: number) =>
      size >= 4 && ((mode & 0o111) !== 0 || /\.(so(\.[0-9]+)*|node)$/.test(path)),
    run: (data: Buffer) => binaryFacts(data),
  },
  analyze: () => ({}),
} satisfies Analyzer<BinaryFacts>;

const isUnder = (path: string, dir: string) => path === dir || path.startsWith(`${dir}/`);

/**
 * The files each OS package owns, from what the scan captured (the report leaves them out): dpkg's
 * info/<pkg>.list, a distroless status.d/<pkg>.md5sums, apk's installed database.
 */
function ownedFiles(fs: LayeredFs, packages: readonly Package[]): Map<Package, readonly string[]> {
  const owned = new Map<Package, readonly string[]>();
  const read = (path: string) => fs.content(path)?.data.toString('utf8');
  const apk = new Map<string, readonly string[]>();
  for (const db of ['/lib/apk/db/installed', '/usr/lib/apk/db/installed']) {
    const text = read(db);
    if (text) for (const r of parseApkInstalled(text)) apk.set(`${r.name}@${r.version}`, r.files);
  }
  for (const p of packages) {
    if (p.type === 'deb') {
      const dir = '/var/lib/dpkg';
      const list = read(`${dir}/info/${p.name}:${p.arch}.list`) ?? read(`${dir}/info/${p.name}.list`);
      const md5 = list === undefined ? read(`${dir}/status.d/${p.name}.md5sums`) : undefined;
      const text = list ?? md5;
      if (text !== undefined) owned.set(p, parseFileList(text, list === undefined));
    } else if (p.type === 'apk') {
      const files = apk.get(`${p.name}@${p.version}`);
      if (files) owned.set(p, files);
    }
  }
  return owned;
}

/** Distroless-style package records for the packages whose files were kept. */
function packageRecords(
  owned: ReadonlyMap<Package, readonly string[]>,
  kept: ReadonlySet<string>,
  resolvePath: (path: string) => string | undefined,
): { files: LayerFile[]; names: string[] } {
  const files: LayerFile[] = [];
  const names: string[] = [];
  const record = { type: 'file' as const, mode: 0o644, uid: 0, gid: 0 };
  const apk: string[] = [];
  // A package lists paths as it installed them (/lib/… on a merged-/usr system): compared resolved.
  for (const [p, owns] of owned) {
    if (!owns.some((f) => kept.has(f) || kept.has(resolvePath(f) ?? f))) continue;
    names.push(`${p.type}:${p.name}`);
    if (p.type === 'deb') {
      const stanza = [
        `Package: ${p.name}`,
        ...(p.source
          ? [`Source: ${p.source}${p.sourceVersion && p.sourceVersion !== p.version ? ` (${p.sourceVersion})` : ''}`]
          : []),
        `Version: ${p.version}`,
        ...(p.arch ? [`Architecture: ${p.arch}`] : []),
        ...(p.licenses?.length ? [] : []),
        '',
      ].join('\n');
      files.push({ path: `/var/lib/dpkg/status.d/${p.name}`, entry: record, content: Buffer.from(`${stanza}\n`) });
    } else if (p.type === 'apk') {
      apk.push(
        [
          `P:${p.name}`,
          `V:${p.version}`,
          ...(p.arch ? [`A:${p.arch}`] : []),
          ...(p.source ? [`o:${p.source}`] : []),
          '',
          '',
        ].join('\n'),
      );
    }
  }
  if (apk.length) files.push({ path: '/lib/apk/db/installed', entry: record, content: Buffer.from(apk.join('')) });
  return { files, names: names.sort() };
}

/**
 * `minimize`: the image reduced to what its program needs (the static closure), written as an OCI
 * layout with the original config (user nonroot unless kept), one layer for the runtime and one
 * for the application, reproducibly, with package records so scanners still see what is inside;
 * then scanned and compared with the original.
 */
export async function minimize(source: ImageSource, options: MinimizeOptions): Promise<MinimizeResult> {
  const now = options.now ?? (() => new Date());
  const scanned = await scanImage(source, {
    resultCache: false,
    analyzers: [...builtinAnalyzers, closureReader],
    ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
    ...(options.vulnerabilities ? { vulnerabilities: options.vulnerabilities } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    now,
  });
  const before = scanned.report;
  const image = scanned.image;
  const fs = scanned.fs as LayeredFs;
  const work = join(options.cacheDir ?? tmpdir(), `.minimize-${process.pid}-${randomBytes(4).toString('hex')}`);
  const output = resolve(options.output);
  const staging = `${output}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  // The base, when one is asked for: what it holds is not written again.
  const base = options.base ? await options.base.resolve({ platform: image.platform }) : undefined;
  const baseFs = base ? await buildFs(base, { ...(options.signal ? { signal: options.signal } : {}) }) : undefined;
  const inBase = (path: string): boolean => {
    const mine = fs.lstat(path);
    const theirs = baseFs?.lstat(path);
    return (
      mine !== undefined &&
      theirs !== undefined &&
      mine.type === theirs.type &&
      (mine.type !== 'file' || mine.size === theirs.size) &&
      (mine.type !== 'symlink' || mine.linkTarget === theirs.linkTarget)
    );
  };
  // The user: non-root unless asked to keep it, with its passwd and group lines.
  const user = image.config.user;
  const runAs = (user === '' || /^(root|0)(:|$)/.test(user)) && !options.keepUser ? String(NONROOT.uid) : user;
  try {
    const root = join(work, 'rootfs');
    // The numeric ids the trace runs as: a name is looked up in the image's accounts.
    // No USER is root.
    const [name = 'root', group] = (runAs || 'root').split(':');
    const account = before.surface.users.find((u) => u.name === name || String(u.uid) === name);
    const ids = {
      uid: /^\d+$/.test(name) ? Number(name) : (account?.uid ?? (name === 'root' ? 0 : NONROOT.uid)),
      gid:
        group && /^\d+$/.test(group)
          ? Number(group)
          : (account?.gid ?? (/^\d+$/.test(name) ? Number(name) : NONROOT.uid)),
    };
    // A chroot does not contain root: the traced program never runs as uid 0 on this machine.
    if (options.trace && ids.uid === 0)
      throw fail(
        'E_USAGE',
        '--trace would run the image as root on this machine (--keep-user on a root image)',
        'drop --keep-user (the result then runs as 65532) or trace without it',
      );
    const extra = new Map<string, string>();
    const traced: TraceReport = { iterations: 0, added: [] };
    let built: Awaited<ReturnType<typeof build>>;
    for (;;) {
      built = await build(extra);
      if (!options.trace) break;
      // Run the result; what it looked for and the original has is added, until nothing is.
      traced.iterations++;
      const minRoot = join(work, `min-${traced.iterations}`);
      const result = await openSource(`oci:${output}`);
      try {
        const resolved = await result.resolve();
        await extractVisible(resolved, await buildFs(resolved), minRoot, options.signal);
      } finally {
        await result.close();
      }
      const run = await traceRun(minRoot, traceOptions(image.config, ids, options.trace, options.entries));
      const added = [...run.notFound].filter((p) => {
        const resolved = fs.resolve(p);
        return (
          resolved !== undefined &&
          !built.closure.kept.has(resolved) &&
          !extra.has(p) &&
          fs.lstat(resolved)?.type !== 'dir'
        );
      });
      traced.minimized = run.behaviour;
      if (!added.length || traced.iterations >= MAX_TRACE_ROUNDS) break;
      for (const p of added) {
        extra.set(p, `looked for by the program when it ran (--trace, round ${traced.iterations})`);
        traced.added.push(p);
      }
    }
    if (options.trace) {
      await extractVisible(image, fs, root, options.signal);
      const original = await traceRun(root, traceOptions(image.config, ids, options.trace, options.entries));
      traced.original = original.behaviour;
      traced.same = original.ok && original.behaviour === traced.minimized;
    }
    const { closure, manifestDigest, records, app } = built;
    const result = await openSource(`oci:${output}`);
    let after: Report;
    try {
      after = (
        await scanImage(result, {
          ...(options.vulnerabilities ? { vulnerabilities: options.vulnerabilities } : {}),
          now,
        })
      ).report;
    } finally {
      await result.close();
    }
    const removed: Partial<Record<SurfaceList, string[]>> = {};
    for (const list of SURFACE_LISTS) {
      const left = new Set((after.surface[list] as readonly { path: string }[]).map((i) => i.path));
      const gone = (before.surface[list] as readonly { path: string }[]).map((i) => i.path).filter((p) => !left.has(p));
      if (gone.length) removed[list] = [...new Set(gone)].sort();
    }
    return {
      schema: MINIMIZE_SCHEMA,
      tool: TOOL,
      input: source.input,
      output: { destination: options.label ?? `oci:${output}`, manifestDigest, user: runAs },
      traced: options.trace ? traced.same === true : false,
      ...(options.trace ? { trace: traced } : {}),
      kept: [...closure.kept]
        .map(([path, reason]) => ({ path, reason, layer: app(path) ? ('application' as const) : ('runtime' as const) }))
        .sort((a, b) => (a.path < b.path ? -1 : 1)),
      missing: closure.missing,
      removed,
      packages: records.names,
      comparison: compareReports([
        before,
        options.label ? { ...after, target: { ...after.target, input: options.label } } : after,
      ]),
    };
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  } finally {
    await rm(work, { recursive: true, force: true });
  }

  /** The closure with these extra paths, written to the output. */
  async function build(extraPaths: ReadonlyMap<string, string>) {
    const closure = await staticClosure({
      fs,
      binary: (path) => (fs.extracted(path)?.[closureReader.id] as BinaryFacts | undefined) ?? undefined,
      text: (path) => fs.content(path)?.data.toString('utf8'),
      config: image.config,
      ...(options.entries ? { entries: options.entries } : {}),
      ...(options.keep ? { keep: options.keep } : {}),
      extra: extraPaths,
    });
    const owned = ownedFiles(fs, before.packages);
    const keptPaths = new Set([...closure.kept.keys()].filter((path) => !inBase(path)));
    const app = (path: string) => closure.applications.some((dir) => isUnder(path, dir));
    const fileOf = (path: string): LayerFile | undefined => {
      const node = fs.lstat(path);
      if (!node || (node.type !== 'file' && node.type !== 'dir' && node.type !== 'symlink' && node.type !== 'hardlink'))
        return undefined;
      return { path, entry: node.type === 'hardlink' ? { ...node, type: 'file' } : node };
    };
    const generated: LayerFile[] = [{ path: '/tmp', entry: { type: 'dir', mode: 0o1777, uid: 0, gid: 0 } }];
    if (runAs !== user)
      for (const [path, line] of [
        [
          '/etc/passwd',
          `${NONROOT.name}:x:${NONROOT.uid}:${NONROOT.uid}:${NONROOT.name}:/home/${NONROOT.name}:/sbin/nologin\n`,
        ],
        ['/etc/group', `${NONROOT.name}:x:${NONROOT.uid}:\n`],
      ] as const) {
        const resolved = fs.resolve(path);
        const text = resolved ? (fs.content(resolved)?.data.toString('utf8') ?? '') : '';
        const lines = text && !text.endsWith('\n') ? `${text}\n` : text;
        const content = lines.split('\n').some((l) => l.startsWith(`${NONROOT.name}:`)) ? lines : `${lines}${line}`;
        keptPaths.delete(resolved ?? path);
        generated.push({
          path: resolved ?? path,
          entry: { type: 'file', mode: 0o644, uid: 0, gid: 0 },
          content: Buffer.from(content),
        });
      }
    const records = packageRecords(owned, keptPaths, (path) => fs.resolve(path));
    const generatedPaths = new Set([...generated, ...records.files].map((f) => f.path));
    const runtimeFiles: LayerFile[] = [];
    const appFiles: LayerFile[] = [];
    for (const path of keptPaths) {
      if (generatedPaths.has(path)) continue;
      const file = fileOf(path);
      if (file) (app(path) ? appFiles : runtimeFiles).push(file);
    }
    const runtimeAll = [...runtimeFiles, ...generated, ...records.files];
    const runtimeLayer = [
      ...runtimeAll,
      ...withParents(
        runtimeAll.map((f) => f.path),
        fs,
      ),
    ];
    const appLayer = [
      ...appFiles,
      ...withParents(
        appFiles.map((f) => f.path),
        fs,
      ),
    ];
    // Up front in each layer: its directories and generated files; the walk writes the rest.
    const upfront = (files: LayerFile[]) => [
      ...new Map(files.filter((f) => f.content || f.entry.type === 'dir').map((f) => [f.path, f])).values(),
    ];
    const layerOf = new Map<string, number>();
    for (const f of runtimeLayer) layerOf.set(f.path, 0);
    for (const f of appLayer) layerOf.set(f.path, 1);
    await mkdir(join(staging, 'blobs', 'sha256'), { recursive: true });
    const created = image.config.created ? Math.max(0, Math.floor(Date.parse(image.config.created) / 1000)) : 0;
    const blobs = join(staging, 'blobs', 'sha256');
    // The base's files, squashed into one layer below ours (its digests change; its content does not).
    const baseLayers =
      base && baseFs
        ? await writeLayersFromImage(
            base,
            baseFs,
            () => 0,
            [
              baseFs
                .entries()
                .filter((e) => e.type === 'dir' && e.path !== '/')
                .map((e) => ({ path: e.path, entry: e })),
            ],
            blobs,
            created,
            options.signal,
          )
        : [];
    const layers = [
      ...baseLayers,
      ...(await writeLayersFromImage(
        image,
        fs,
        (path) => layerOf.get(path),
        appLayer.length ? [upfront(runtimeLayer), upfront(appLayer)] : [upfront(runtimeLayer)],
        blobs,
        created,
        options.signal,
      )),
    ];
    const raw = image.rawConfig as { config?: Record<string, unknown> };
    const config = {
      ...image.rawConfig,
      config: {
        ...raw.config,
        User: runAs,
        ...(options.baseName
          ? {
              Labels: {
                ...(raw.config?.Labels as Record<string, string> | undefined),
                'org.opencontainers.image.base.name': options.baseName,
              },
            }
          : {}),
      },
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
      history: layers.map((_l, i) => ({
        ...(image.config.created ? { created: image.config.created } : {}),
        created_by: `distrolens minimize: ${['base', 'runtime', 'application'][i - baseLayers.length + 1]}`,
      })),
    };
    const { manifestDigest } = await writeLayoutIndex(staging, config, layers);
    await mkdir(dirname(output), { recursive: true });
    await rm(output, { recursive: true, force: true });
    await rename(staging, output);
    return { closure, manifestDigest, records, app };
  }
}
