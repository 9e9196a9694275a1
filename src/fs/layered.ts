import { errors, isDistrolensError } from '../core/errors.js';
import type { Image, Layer, LayerStats } from '../image/types.js';
import { mapLimit } from '../util/concurrency.js';
import { baseName, joinInRoot, normalizeEntryPath, normalizeLinkTarget, parentOf, whiteoutOf } from './path.js';
import type { Captured, CaptureRequest, Extracted, FsEntry, LayerChanges } from './types.js';

/**
 * The squashed, read-only filesystem of an image. Layers are walked concurrently (one streaming
 * pass each, keeping bytes only for requested paths), then applied in order with the OCI
 * whiteout rules: a `.wh.name` entry deletes `name` from lower layers, `.wh..wh..opq` hides all
 * lower children of its directory, and entries of the same layer survive its own whiteouts.
 */
export interface BuildOptions {
  readonly capture?: CaptureRequest;
  /** Layers walked at once; 4 keeps two cores busy decompressing while others download. */
  readonly concurrency?: number;
  readonly signal?: AbortSignal | undefined;
  /** Called when a layer's walk finishes. */
  readonly onLayer?: (layer: Layer, stats: LayerStats) => void;
  /** Compressed bytes read so far for one layer (progress bars). */
  readonly onBytes?: (layer: Layer, bytes: number) => void;
  /** Walk results of layers seen before (keyed by diffID and what was captured). */
  readonly layerCache?: LayerCache;
  /**
   * Where to copy each layer's uncompressed tar as it is walked (Layer.walk's copyTo); its
   * entries then carry their body's offset in the copy. A copied layer is always walked (the
   * layer cache is not read for it); what the walk found is cached without the offsets, for the
   * scans that follow.
   */
  readonly spool?: (layer: Layer) => string;
}

/** A store of walk results; a miss walks the layer and fills it. */
export interface LayerCache {
  get(layer: Layer): Promise<LayerRecord | undefined>;
  put(layer: Layer, record: LayerRecord): Promise<void>;
}

export const DEFAULT_LAYER_CONCURRENCY = 4;
/** Symlink hops before a path is declared a loop (Linux's MAXSYMLINKS is 40). */
const MAX_SYMLINK_HOPS = 40;

/** What one walk of a layer produced; what a layer cache stores. */
export interface LayerRecord {
  readonly entries: FsEntry[];
  readonly whiteouts: string[];
  readonly opaques: string[];
  readonly contents: Map<string, Captured>;
  /** What extractors found in the layer's files, apart from their bytes. */
  readonly extracted: Map<string, Extracted>;
  readonly stats: LayerStats;
}

/**
 * Kept bytes in a buffer of their own. A small file's body is a view into the 1 MiB chunk it
 * was decompressed into: keeping the view would keep the whole chunk (a scan keeps ~2,000 small
 * files, spread over hundreds of chunks).
 */
function detached(data: Buffer): Buffer {
  if (data.buffer.byteLength <= 64 * 1024 || data.length >= data.buffer.byteLength / 2) return data;
  const own = Buffer.allocUnsafeSlow(data.length);
  data.copy(own);
  return own;
}

async function walkLayer(layer: Layer, options: BuildOptions): Promise<LayerRecord> {
  const entries: FsEntry[] = [];
  const whiteouts: string[] = [];
  const opaques: string[] = [];
  const contents = new Map<string, Captured>();
  const extracted = new Map<string, Extracted>();
  const copyTo = options.spool?.(layer);
  // Synchronous unless a body is read: an await per entry is most of the cost of a walk.
  const stats = await layer.walk(
    (entry) => {
      const path = normalizeEntryPath(entry.name);
      const marker = whiteoutOf(path);
      if (marker === 'aufs-meta') return;
      if (marker?.kind === 'opaque') return void opaques.push(marker.dir);
      if (marker?.kind === 'whiteout') return void whiteouts.push(marker.target);
      if (path === '/' && entry.type === 'dir') return;
      const linkTarget =
        entry.type === 'hardlink'
          ? normalizeLinkTarget(entry.linkname)
          : entry.type === 'symlink'
            ? entry.linkname
            : undefined;
      entries.push({
        path,
        type: entry.type,
        size: entry.size,
        mode: entry.mode,
        uid: entry.uid,
        gid: entry.gid,
        layer: layer.index,
        ...(linkTarget !== undefined ? { linkTarget } : {}),
        ...(entry.xattrs ? { xattrs: entry.xattrs } : {}),
        ...(copyTo !== undefined ? { offset: entry.offset } : {}),
      });
      const capture = options.capture;
      const wanted = capture && entry.type === 'file' ? capture.match(path, entry.size, entry.mode) : false;
      if (wanted === false) return;
      const limit = wanted === true ? capture!.maxBytes : wanted;
      return entry.read(limit).then((read) => {
        const kept = capture!.keep ? capture!.keep(path, read, entry.mode, entry.size) : { content: read };
        if (kept?.content)
          contents.set(path, { data: detached(kept.content), truncated: entry.size > kept.content.length });
        if (kept?.extracted) extracted.set(path, kept.extracted);
      });
    },
    {
      signal: options.signal,
      ...(options.onBytes ? { onBytes: (bytes: number) => options.onBytes!(layer, bytes) } : {}),
      ...(copyTo !== undefined ? { copyTo } : {}),
    },
  );
  options.onLayer?.(layer, stats);
  return { entries, whiteouts, opaques, contents, extracted, stats };
}

/** A record as a walk without a copy makes it: offsets point into a copy that is not kept. */
function withoutOffsets(record: LayerRecord): LayerRecord {
  return { ...record, entries: record.entries.map(({ offset: _offset, ...entry }) => entry) };
}

/**
 * Walks every layer of an image and returns its squashed filesystem. Each layer is applied as
 * soon as it and every layer below it are walked, while the layers above are still being read:
 * the main thread waits on decompression at times during a walk, and what it applies then is not
 * left for after the last layer.
 */
export async function buildFs(image: Image, options: BuildOptions = {}): Promise<LayeredFs> {
  const fs = new LayeredFs();
  const walked: (LayerRecord | undefined)[] = [];
  const applyReady = (): void => {
    for (let next = fs.layers.length; walked[next]; next = fs.layers.length) fs.apply(walked[next]!);
  };
  // A walked layer is written to the layer cache while it and the layers after it are applied.
  const writes: Promise<void>[] = [];
  const walking = mapLimit(
    image.layers,
    options.concurrency ?? DEFAULT_LAYER_CONCURRENCY,
    async (layer, index, signal) => {
      const cached = options.spool ? undefined : await options.layerCache?.get(layer);
      if (cached) options.onLayer?.(layer, cached.stats);
      const record = cached ?? (await walkLayer(layer, { ...options, signal }));
      if (!cached && options.layerCache)
        writes.push(options.layerCache.put(layer, options.spool ? withoutOffsets(record) : record));
      walked[index] = record;
      applyReady();
    },
    options.signal,
  );
  await walking.finally(() => Promise.allSettled(writes));
  await Promise.all(writes);
  return fs;
}

const byPath = (a: FsEntry, b: FsEntry): number => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

export class LayeredFs {
  readonly #nodes = new Map<string, FsEntry>();
  /**
   * Names in each directory, for whiteouts and opaque directories: built when a layer first has
   * one, then kept up to date. Most layers have none, and keeping it for every entry is most of
   * the cost of applying a layer.
   */
  #children: Map<string, Set<string>> | undefined;
  readonly #contents = new Map<string, Captured>();
  readonly #extracted = new Map<string, Extracted>();
  /** Content of files that later layers deleted or overwrote: still in the image, still readable. */
  readonly #hiddenContents = new Map<FsEntry, Captured>();
  readonly layers: LayerChanges[] = [];
  /** Per layer: bytes of its files that later layers deleted or overwrote. */
  readonly hiddenBytes: number[] = [];

  /** Applies walked layers in order (tests build records by hand). */
  static fromRecords(records: readonly LayerRecord[]): LayeredFs {
    const fs = new LayeredFs();
    for (const record of records) fs.apply(record);
    return fs;
  }

  #link(entry: FsEntry, parent = parentOf(entry.path)): void {
    this.#nodes.set(entry.path, entry);
    if (this.#children) this.#addChild(this.#children, entry.path, parent);
  }

  #addChild(children: Map<string, Set<string>>, path: string, parent = parentOf(path)): void {
    if (path === '/') return;
    let set = children.get(parent);
    if (!set) children.set(parent, (set = new Set()));
    set.add(path.slice(parent.length === 1 ? 1 : parent.length + 1));
  }

  #childIndex(): Map<string, Set<string>> {
    if (!this.#children) {
      const children = new Map<string, Set<string>>();
      for (const path of this.#nodes.keys()) this.#addChild(children, path);
      this.#children = children;
    }
    return this.#children;
  }

  /**
   * Removes a path and everything under it, recording what was removed, children before their
   * directory. A stack, not recursion: a layer can hold paths thousands of directories deep.
   */
  #unlink(path: string, removed: FsEntry[]): void {
    const children = this.#childIndex();
    const stack: { path: string; kids: string[] | undefined; next: number }[] = [{ path, kids: undefined, next: 0 }];
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      top.kids ??= [...(children.get(top.path) ?? [])];
      if (top.next < top.kids.length) {
        const name = top.kids[top.next++]!;
        stack.push({ path: `${top.path === '/' ? '' : top.path}/${name}`, kids: undefined, next: 0 });
        continue;
      }
      stack.pop();
      children.delete(top.path);
      const node = this.#nodes.get(top.path);
      if (node && top.path !== '/') {
        this.#nodes.delete(top.path);
        this.#hide(node);
        children.get(parentOf(top.path))?.delete(baseName(top.path));
        removed.push(node);
      }
    }
  }

  /** Moves the content of a node that stops being visible to the hidden store. */
  #hide(node: FsEntry): void {
    const content = this.#contents.get(node.path);
    if (content) this.#hiddenContents.set(node, content);
    this.#contents.delete(node.path);
    this.#extracted.delete(node.path);
  }

  /**
   * Makes `dir` a directory, creating it and its missing parents as implicit directories; a lower
   * layer's file or symlink where this layer puts a directory is replaced. Climbs with a loop.
   */
  #ensureDir(dir: string, layer: number): void {
    if (this.#nodes.get(dir)?.type === 'dir') return; // the usual case: the parent is there
    const missing: string[] = [];
    for (let at = dir; at !== '/'; at = parentOf(at)) {
      const existing = this.#nodes.get(at);
      if (existing?.type === 'dir') break;
      if (existing) this.#unlink(at, []);
      missing.push(at);
    }
    for (let i = missing.length - 1; i >= 0; i--) {
      const path = missing[i]!;
      const parent = parentOf(path);
      this.#link({ path, type: 'dir', size: 0, mode: 0o755, uid: 0, gid: 0, layer, implicit: true }, parent);
    }
  }

  /** Applies the next layer on top of those applied so far. */
  apply(record: LayerRecord): void {
    const layer = this.layers.length;
    this.#sorted = undefined;
    this.#captured = undefined;
    const removed: FsEntry[] = [];
    for (const dir of record.opaques) {
      for (const name of [...(this.#childIndex().get(dir) ?? [])])
        this.#unlink(`${dir === '/' ? '' : dir}/${name}`, removed);
    }
    for (const target of record.whiteouts) this.#unlink(target, removed);
    const overwritten: FsEntry[] = [];
    for (const entry of record.entries) {
      const existing = this.#nodes.get(entry.path);
      if (existing && existing.layer < layer) {
        if (existing.type !== 'dir') overwritten.push(existing);
        else if (entry.type !== 'dir') this.#unlink(entry.path, overwritten);
      }
      if (existing && existing.type !== 'dir') this.#hide(existing);
      const parent = parentOf(entry.path);
      this.#ensureDir(parent, layer);
      this.#link(entry, parent);
    }
    for (const [path, captured] of record.contents) this.#contents.set(path, captured);
    for (const [path, found] of record.extracted) this.#extracted.set(path, found);
    const shadowedFiles = [...removed, ...overwritten].filter((e) => e.type === 'file');
    this.hiddenBytes.push(0);
    for (const e of shadowedFiles) this.hiddenBytes[e.layer] = (this.hiddenBytes[e.layer] ?? 0) + e.size;
    this.layers.push({
      layer,
      entries: record.entries,
      whiteouts: record.whiteouts,
      opaques: record.opaques,
      removed,
      overwritten: overwritten.filter((e) => e.type !== 'dir'),
      shadowed: {
        paths: shadowedFiles.map((e) => e.path).sort(),
        bytes: shadowedFiles.reduce((sum, e) => sum + e.size, 0),
      },
      uncompressedSize: record.stats.uncompressedSize,
    });
  }

  /**
   * Resolves symlinks in every component, inside the image root only: absolute targets start
   * at the image root and ".." never climbs above it (chroot semantics, as runc's securejoin).
   * With `follow: false` the last component is not followed. Undefined when a component is missing.
   */
  resolve(path: string, options: { follow?: boolean } = {}): string | undefined {
    const follow = options.follow ?? true;
    let pending = joinInRoot('/', path).split('/').filter(Boolean);
    let current = '/';
    let hops = 0;
    while (pending.length) {
      const name = pending.shift()!;
      const next = `${current === '/' ? '' : current}/${name}`;
      const node = this.#nodes.get(next);
      if (!node) return undefined;
      if (node.type === 'symlink' && (pending.length > 0 || follow)) {
        if (++hops > MAX_SYMLINK_HOPS) throw errors.symlinkLoop(path);
        const target = joinInRoot(current, node.linkTarget ?? '');
        pending = [...target.split('/').filter(Boolean), ...pending];
        current = '/';
        continue;
      }
      current = next;
    }
    return current;
  }

  /** The entry at a path; follows symlinks unless `follow` is false. */
  stat(path: string, options: { follow?: boolean } = {}): FsEntry | undefined {
    const resolved = this.resolve(path, options);
    return resolved === undefined ? undefined : this.#nodes.get(resolved);
  }

  /** Like stat without following the last component (the path itself). */
  lstat(path: string): FsEntry | undefined {
    return this.stat(path, { follow: false });
  }

  /** The entries of a directory, sorted by name. */
  list(dir: string): FsEntry[] {
    const resolved = this.resolve(dir);
    if (resolved === undefined) return [];
    // What is under a directory is one run of the sorted entries; its children have no further slash.
    const prefix = resolved === '/' ? '/' : `${resolved}/`;
    const sorted = this.entries();
    let low = 0;
    for (let high = sorted.length; low < high;) {
      const middle = (low + high) >>> 1;
      if (sorted[middle]!.path < prefix) low = middle + 1;
      else high = middle;
    }
    const out: FsEntry[] = [];
    for (let i = low; i < sorted.length && sorted[i]!.path.startsWith(prefix); i++) {
      const { path } = sorted[i]!;
      if (path.length > prefix.length && path.indexOf('/', prefix.length) < 0) out.push(sorted[i]!);
    }
    return out;
  }

  #sorted: readonly FsEntry[] | undefined;
  #captured: readonly FsEntry[] | undefined;

  /** Every entry of the squashed filesystem, sorted by path (computed once: the tree is final). */
  entries(): readonly FsEntry[] {
    this.#sorted ??= [...this.#nodes.values()].sort(byPath);
    return this.#sorted;
  }

  /**
   * The visible regular files whose content or extraction results were kept, sorted by path: what
   * an analyzer that reads contents (package manifests, extracted binaries) looks at, a few
   * thousand of an image's paths.
   */
  capturedFiles(): readonly FsEntry[] {
    if (!this.#captured) {
      const files = new Set<FsEntry>();
      for (const kept of [this.#contents, this.#extracted]) {
        for (const path of kept.keys()) {
          const node = this.#nodes.get(path);
          if (node?.type === 'file') files.add(node);
        }
      }
      this.#captured = [...files].sort(byPath);
    }
    return this.#captured;
  }

  /** Number of visible paths. */
  get size(): number {
    return this.#nodes.size;
  }

  /** Captured content of a file version that a later layer deleted or overwrote. */
  hiddenContent(entry: FsEntry): Captured | undefined {
    return this.#hiddenContents.get(entry);
  }

  /** Every file version a later layer deleted or overwrote, with the layer that hid it. */
  hiddenFiles(): { readonly entry: FsEntry; readonly hiddenBy: number }[] {
    return this.layers.flatMap((l) =>
      [...l.removed, ...l.overwritten].filter((e) => e.type === 'file').map((entry) => ({ entry, hiddenBy: l.layer })),
    );
  }

  /**
   * The regular file a path leads to, symlinks and hardlinks followed; undefined when it is absent,
   * dangling, a symlink loop or not a regular file. What "is there a file here" means everywhere.
   */
  file(path: string): FsEntry | undefined {
    const direct = this.#nodes.get(path);
    if (direct?.type === 'file') return direct; // the common case needs no resolution
    try {
      let entry = this.stat(path);
      for (let hops = 0; entry?.type === 'hardlink' && hops < MAX_SYMLINK_HOPS; hops++)
        entry = this.stat(entry.linkTarget!);
      return entry?.type === 'file' ? entry : undefined;
    } catch (error) {
      if (isDistrolensError(error, 'E_SYMLINK_LOOP')) return undefined;
      throw error;
    }
  }

  /**
   * Content captured for a file (following symlinks and hardlinks); undefined when the file is
   * absent or was not declared for capture before the walk.
   */
  content(path: string): Captured | undefined {
    const entry = this.file(path);
    return entry ? this.#contents.get(entry.path) : undefined;
  }

  /** What extractors found in a file during the walk, by analyzer id (symlinks and hardlinks followed). */
  extracted(path: string): Extracted | undefined {
    const entry = this.file(path);
    return entry ? this.#extracted.get(entry.path) : undefined;
  }
}
