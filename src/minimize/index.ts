import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseApkInstalled } from '../analyzers/apk/parse.js';
import { parseFileList } from '../analyzers/dpkg/parse.js';
import { RPM_DBS, rpmdbBlobs } from '../analyzers/rpm/index.js';
import { parseRpmHeader } from '../analyzers/rpm/header.js';
import type { Comparison } from '../core/compare.js';
import type { ImageConfig } from '../core/config.js';
import { fail } from '../core/errors.js';
import type { Package } from '../core/package.js';
import type { Report, ToolInfo } from '../core/report.js';
import { SURFACE_LISTS, type SurfaceList } from '../core/surface.js';
import { buildFs, type LayeredFs } from '../fs/layered.js';
import { parentOf } from '../fs/path.js';
import type { ImageSource } from '../image/types.js';
import { compareReports } from '../scan/compare.js';
import { scanImage, type VulnScanOptions } from '../scan/scan.js';
import { openSource } from '../sources/index.js';
import { MAX_EXTRACT_BYTES } from '../scan/capture.js';
import { TempDir } from '../util/temp.js';
import { TOOL } from '../version.js';
import { binaryFacts, staticClosure, type BinaryFacts } from './closure.js';
import {
  extractImage,
  extractVisible,
  fromCopy,
  fileBody,
  LayerSpool,
  visibleEntries,
  withParents,
  writeLayers,
  writeLayoutIndex,
  type LayerFile,
} from './layout.js';
import { traceRun, type TraceOptions } from './trace.js';

/** Version tag of `minimize --format json`. */
export const MINIMIZE_SCHEMA = 'distrolens/minimize@1';
/** The user a minimized image runs as unless --keep-user: distroless's nonroot. */
export const NONROOT = { uid: 65532, name: 'nonroot' };

/** Text files the closure reads (ld.so.conf, nsswitch.conf) are small; a larger one is not one of them. */
const MAX_TEXT_BYTES = 256 * 1024;
/** Shared objects and native addons, executable or not. */
const LIBRARY_NAME = /\.(so(\.[0-9]+)*|node)$/;
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

const isUnder = (path: string, dir: string) => path === dir || path.startsWith(`${dir}/`);

/** What a package owns: its files, and for rpm its header as the database held it. */
interface Owned {
  readonly files: readonly string[];
  readonly rpm?: { readonly blob: Buffer; readonly db: string };
}

/**
 * The files each OS package owns, from what the scan captured (the report leaves them out): dpkg's
 * info/<pkg>.list, a distroless status.d/<pkg>.md5sums, apk's installed database, rpm's headers.
 */
async function ownedFiles(fs: LayeredFs, packages: readonly Package[]): Promise<Map<Package, Owned>> {
  const owned = new Map<Package, Owned>();
  const read = (path: string) => fs.content(path)?.data.toString('utf8');
  const apk = new Map<string, readonly string[]>();
  for (const db of ['/lib/apk/db/installed', '/usr/lib/apk/db/installed']) {
    const text = read(db);
    if (text) for (const r of parseApkInstalled(text)) apk.set(`${r.name}@${r.version}`, r.files);
  }
  const rpm = new Map<string, Owned>();
  if (packages.some((p) => p.type === 'rpm'))
    for (const db of RPM_DBS) {
      const data = fs.content(db)?.data;
      if (!data || db.endsWith('-wal')) continue;
      // The scan read the same database: what it could not read is in its warnings already.
      const blobs = await Promise.resolve(rpmdbBlobs(db, data, fs.content(`${db}-wal`)?.data)).catch(() => []);
      for (const blob of blobs) {
        try {
          const h = parseRpmHeader(blob);
          const version = `${h.epoch ? `${h.epoch}:` : ''}${h.version}-${h.release}`;
          rpm.set(`${h.name}@${version}`, { files: h.files, rpm: { blob, db } });
        } catch {
          // An unreadable header is not a package the scan listed.
        }
      }
    }
  for (const p of packages) {
    if (p.type === 'deb') {
      const dir = '/var/lib/dpkg';
      const list = read(`${dir}/info/${p.name}:${p.arch}.list`) ?? read(`${dir}/info/${p.name}.list`);
      const md5 = list === undefined ? read(`${dir}/status.d/${p.name}.md5sums`) : undefined;
      const text = list ?? md5;
      if (text !== undefined) owned.set(p, { files: parseFileList(text, list === undefined) });
    } else if (p.type === 'apk') {
      const files = apk.get(`${p.name}@${p.version}`);
      if (files) owned.set(p, { files });
    } else if (p.type === 'rpm') {
      const found = rpm.get(`${p.name}@${p.version}`);
      if (found) owned.set(p, found);
    }
  }
  return owned;
}

/**
 * Distroless-style package records for the packages whose files were kept: a status.d stanza per
 * Debian package, an apk installed database, and for rpm a new SQLite rpmdb (rpm ≥ 4.16's format,
 * which scanners read whatever backend the original used) holding the kept packages' headers as
 * the original database had them. Its index tables are left for `rpm --rebuilddb`.
 */
async function packageRecords(
  owned: ReadonlyMap<Package, Owned>,
  kept: ReadonlySet<string>,
  resolvePath: (path: string) => string | undefined,
  scratch: string,
): Promise<{ files: LayerFile[]; names: string[] }> {
  const files: LayerFile[] = [];
  const names: string[] = [];
  const record = { type: 'file' as const, mode: 0o644, uid: 0, gid: 0 };
  const apk: string[] = [];
  const rpm = new Map<string, Buffer[]>();
  // A package lists paths as it installed them (/lib/… on a merged-/usr system): compared resolved.
  for (const [p, owns] of owned) {
    if (!owns.files.some((f) => kept.has(f) || kept.has(resolvePath(f) ?? f))) continue;
    names.push(`${p.type}:${p.name}`);
    if (p.type === 'deb') {
      const stanza = [
        `Package: ${p.name}`,
        ...(p.source
          ? [`Source: ${p.source}${p.sourceVersion && p.sourceVersion !== p.version ? ` (${p.sourceVersion})` : ''}`]
          : []),
        `Version: ${p.version}`,
        ...(p.arch ? [`Architecture: ${p.arch}`] : []),
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
    } else if (p.type === 'rpm' && owns.rpm) {
      const dir = resolvePath(parentOf(owns.rpm.db)) ?? parentOf(owns.rpm.db);
      rpm.set(dir, [...(rpm.get(dir) ?? []), owns.rpm.blob]);
    }
  }
  if (apk.length) files.push({ path: '/lib/apk/db/installed', entry: record, content: Buffer.from(apk.join('')) });
  for (const [dir, blobs] of [...rpm].sort(([a], [b]) => (a < b ? -1 : 1)))
    files.push({ path: `${dir}/rpmdb.sqlite`, entry: record, content: await sqliteRpmdb(blobs, scratch) });
  return { files, names: names.sort() };
}

/** An rpmdb.sqlite holding these headers, in this order (its bytes: the same headers give the same file). */
async function sqliteRpmdb(blobs: readonly Buffer[], scratch: string): Promise<Buffer> {
  const file = join(scratch, `rpmdb-${randomBytes(4).toString('hex')}.sqlite`);
  // better-sqlite3 is CommonJS; loaded only for an image with rpm packages.
  const Database = createRequire(import.meta.url)('better-sqlite3') as new (path: string) => {
    exec(sql: string): void;
    prepare(sql: string): { run(...params: unknown[]): unknown };
    close(): void;
  };
  const db = new Database(file);
  try {
    // rpm's own schema for the table (lib/backend/sqlite.c); rowid order is the install order.
    db.exec('CREATE TABLE IF NOT EXISTS Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)');
    const insert = db.prepare('INSERT INTO Packages (blob) VALUES (?)');
    db.exec('BEGIN');
    for (const blob of blobs) insert.run(blob);
    db.exec('COMMIT');
  } finally {
    db.close();
  }
  try {
    return await readFile(file);
  } finally {
    await rm(file, { force: true });
  }
}

/**
 * `minimize`: the image reduced to what its program needs (the static closure), written as an OCI
 * layout with the original config (user nonroot unless kept), one layer for the runtime and one
 * for the application, reproducibly, with package records so scanners still see what is inside;
 * then scanned and compared with the original.
 */
export async function minimize(source: ImageSource, options: MinimizeOptions): Promise<MinimizeResult> {
  const now = options.now ?? (() => new Date());
  // Removed at the end, or by the signal handler when the process is stopped (it holds a copy of the image).
  const parent = options.cacheDir ?? tmpdir();
  await mkdir(parent, { recursive: true });
  const temp = await TempDir.create(parent);
  const work = temp.path;
  const output = resolve(options.output);
  const staging = `${output}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  // The scan copies each layer's tar to the work directory as it reads it: the files kept are
  // read from there, not decompressed again (the result needs scratch space the image's size).
  const spool = new LayerSpool(join(work, 'layers'));
  const baseSpool = new LayerSpool(join(work, 'base'));
  try {
    await spool.open();
    return await minimizeWith(source, options, { now, work, output, staging, spool, baseSpool });
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  } finally {
    spool.close();
    baseSpool.close();
    await temp.close();
  }
}

/** The work of `minimize` once its scratch space is set up (and removed by the caller, whatever happens). */
async function minimizeWith(
  source: ImageSource,
  options: MinimizeOptions,
  scratch: {
    now: () => Date;
    work: string;
    output: string;
    staging: string;
    spool: LayerSpool;
    baseSpool: LayerSpool;
  },
): Promise<MinimizeResult> {
  const { now, work, output, staging, spool, baseSpool } = scratch;
  const scanned = await scanImage(source, {
    resultCache: false,
    spool: spool.path,
    ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
    ...(options.vulnerabilities ? { vulnerabilities: options.vulnerabilities } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    now,
  });
  const before = scanned.report;
  const image = scanned.image;
  const fs = scanned.fs as LayeredFs;
  // The base, when one is asked for: what it holds is not written again.
  const base = options.base ? await options.base.resolve({ platform: image.platform }) : undefined;
  const baseFs = base
    ? await buildFs(base, {
        spool: (await baseSpool.open()).path,
        ...(options.signal ? { signal: options.signal } : {}),
      })
    : undefined;
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
  // What the closure knows of a file: read from the layer copies once, when it first asks.
  const facts = new Map<string, BinaryFacts | undefined>();
  // One buffer for every program read (facts keep no reference to the bytes), grown to the largest.
  let readBuffer = Buffer.alloc(0);
  const binary = (path: string): BinaryFacts | undefined => {
    if (!facts.has(path)) {
      const node = fs.lstat(path);
      const file = node && fileBody(fs, node);
      // Programs and libraries only: an application tree's thousands of scripts are not read.
      const program =
        file !== undefined &&
        file.size >= 4 &&
        file.size <= MAX_EXTRACT_BYTES &&
        ((file.mode & 0o111) !== 0 || LIBRARY_NAME.test(path));
      if (program && readBuffer.length < file.size) readBuffer = Buffer.allocUnsafeSlow(file.size);
      facts.set(path, program ? binaryFacts(spool.readSync(fs, file, file.size, readBuffer)) : undefined);
    }
    return facts.get(path);
  };
  const text = (path: string): string | undefined => {
    const node = fs.lstat(path);
    return node?.type === 'file' && node.size <= MAX_TEXT_BYTES ? spool.readSync(fs, node).toString('utf8') : undefined;
  };
  // The user: non-root unless asked to keep it, with its passwd and group lines.
  const user = image.config.user;
  const runAs = (user === '' || /^(root|0)(:|$)/.test(user)) && !options.keepUser ? String(NONROOT.uid) : user;
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
  const owned = await ownedFiles(fs, before.packages);
  let builds = 0;
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
      await extractImage(
        await result.resolve(),
        minRoot,
        join(work, `min-${traced.iterations}-layers`),
        options.signal,
      );
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
    await extractVisible(fs, spool, root);
    const original = await traceRun(root, traceOptions(image.config, ids, options.trace, options.entries));
    traced.original = original.behaviour;
    traced.same = original.ok && original.behaviour === traced.minimized;
  }
  const { closure, manifestDigest, records, app, layers } = built;
  // The result scanned as written, its layers read from the plain copies of their tars.
  const result = await openSource(`oci:${output}`);
  let after: Report;
  try {
    const written = await result.resolve();
    const copied = {
      ...written,
      layers: written.layers.map((layer, i) => {
        const copy = layers[i]?.copy;
        return copy && layers[i]?.diffId === layer.diffId ? fromCopy(layer, copy) : layer;
      }),
    };
    after = (
      await scanImage(
        { ...result, resolve: async () => copied },
        { ...(options.vulnerabilities ? { vulnerabilities: options.vulnerabilities } : {}), now },
      )
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

  /** The closure with these extra paths, written to the output. */
  async function build(extraPaths: ReadonlyMap<string, string>) {
    const closure = await staticClosure({
      fs,
      binary,
      text,
      config: image.config,
      ...(options.entries ? { entries: options.entries } : {}),
      ...(options.keep ? { keep: options.keep } : {}),
      extra: extraPaths,
    });
    const keptPaths = new Set([...closure.kept.keys()].filter((path) => !inBase(path)));
    const app = (path: string) => closure.applications.some((dir) => isUnder(path, dir));
    const fileOf = (path: string): LayerFile | undefined => {
      const node = fs.lstat(path);
      // A file or hardlink is written with its bytes: one whose bytes are nowhere (a hardlink to a
      // directory or to nothing) is left out.
      if (!node || !(node.type === 'dir' || node.type === 'symlink' || fileBody(fs, node))) return undefined;
      return { path, entry: node };
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
    const records = await packageRecords(owned, keptPaths, (path) => fs.resolve(path), work);
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
    await mkdir(join(staging, 'blobs', 'sha256'), { recursive: true });
    const created = image.config.created ? Math.max(0, Math.floor(Date.parse(image.config.created) / 1000)) : 0;
    const blobs = join(staging, 'blobs', 'sha256');
    // Read synchronously, a slice at a time: the thread pool is busy deflating, and the copies are
    // in the page cache.
    const bytesOf = (from: LayeredFs, copies: LayerSpool) => (path: string) => copies.body(from, from.lstat(path)!);
    // Plain copies of the tars, for the scan of the result (named per build: --trace builds again).
    const copyTo = (name: string) => (i: number) => join(work, `written-${++builds}-${name}-${i}.tar`);
    const settings = { mtime: created, signal: options.signal };
    // The base's files, squashed into one layer below ours (its digests change; its content does not).
    const [baseLayers, ownLayers] = await Promise.all([
      base && baseFs
        ? writeLayers(
            [visibleEntries(baseFs).map((node) => ({ path: node.path, entry: node }))],
            bytesOf(baseFs, baseSpool),
            blobs,
            { ...settings, copyTo: copyTo('base') },
          )
        : [],
      writeLayers(appLayer.length ? [runtimeLayer, appLayer] : [runtimeLayer], bytesOf(fs, spool), blobs, {
        ...settings,
        copyTo: copyTo('own'),
      }),
    ]);
    const layers = [...baseLayers, ...ownLayers];
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
    return { closure, manifestDigest, records, app, layers };
  }
}
