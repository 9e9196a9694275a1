import { createHash } from 'node:crypto';
import { closeSync, createWriteStream, openSync, read, readSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Digest } from '../core/digest.js';
import { fail } from '../core/errors.js';
import { buildFs, type LayeredFs } from '../fs/layered.js';
import { parentOf } from '../fs/path.js';
import type { FsEntry } from '../fs/types.js';
import { MediaType } from '../image/media.js';
import type { Image, Layer } from '../image/types.js';
import { FileRangeReader } from '../util/bytes.js';
import { FileSink } from '../util/file-sink.js';
import { ParallelGzip, streamGzip } from '../util/gzip.js';
import { walkTar } from '../util/tar.js';
import { tarHeader, tarPadding, TAR_END } from '../util/tar-write.js';

const readAt = promisify(read);
/** Files being written at once while a tree is extracted. */
const WRITES_IN_FLIGHT = 64;
/** A large file is read this much at a time while a layer is written: compression goes on meanwhile. */
const SLICE_BYTES = 4 * 1024 * 1024;

/**
 * An image's layers as their walk copied them (BuildOptions.spool): one plain tar per layer in a
 * directory, so that a file's bytes are one positional read away instead of a second
 * decompression of its layer. Entries of a squashed view built with `path` as its spool carry
 * their offset in it.
 */
export class LayerSpool {
  readonly #dir: string;
  readonly #fds = new Map<number, number>();

  constructor(dir: string) {
    this.#dir = dir;
  }

  /** Where a layer is copied (BuildOptions.spool); the directory must exist. */
  readonly path = (layer: Pick<Layer, 'index'>): string => join(this.#dir, `${layer.index}.tar`);

  /** Makes the spool's directory. */
  async open(): Promise<this> {
    await mkdir(this.#dir, { recursive: true });
    return this;
  }

  #fd(layer: number): number {
    let fd = this.#fds.get(layer);
    if (fd === undefined) this.#fds.set(layer, (fd = openSync(this.path({ index: layer }), 'r')));
    return fd;
  }

  /**
   * The bytes of a regular file of the view (a hardlink: its target's), at most `max`, read into
   * `into` when it is large enough (a buffer used again and again: its pages are already mapped).
   * Synchronous: the closure asks for a few dozen files, from the page cache.
   */
  readSync(fs: LayeredFs, node: FsEntry, max = node.size, into?: Buffer): Buffer {
    const file = bodyOf(fs, node);
    const size = Math.min(max, file.size);
    const data = into && into.length >= size ? into.subarray(0, size) : Buffer.allocUnsafe(size);
    this.#readInto(data, file, node.path);
    return data;
  }

  #readInto(data: Buffer, file: { layer: number; offset: number }, path: string, from = 0): void {
    for (let got = 0; got < data.length;) {
      const n = readSync(this.#fd(file.layer), data, got, data.length - got, file.offset + from + got);
      if (n === 0) throw fail('E_INTERNAL', `${this.path({ index: file.layer })} ends inside ${path}`);
      got += n;
    }
  }

  /** A file's size and its bytes to come, read a slice at a time (a large file is never one buffer). */
  body(fs: LayeredFs, node: FsEntry): { size: number; slices: Iterable<Buffer> } {
    return { size: bodyOf(fs, node).size, slices: this.slices(fs, node) };
  }

  /** The bytes a slice at a time. */
  *slices(fs: LayeredFs, node: FsEntry, slice = SLICE_BYTES): Generator<Buffer> {
    const file = bodyOf(fs, node);
    for (let done = 0; done < file.size;) {
      const data = Buffer.allocUnsafe(Math.min(slice, file.size - done));
      this.#readInto(data, file, node.path, done);
      done += data.length;
      yield data;
    }
  }

  /** The bytes read on the thread pool (an extraction writes many files at once), from the same open copies. */
  async read(fs: LayeredFs, node: FsEntry): Promise<Buffer> {
    const file = bodyOf(fs, node);
    const data = Buffer.allocUnsafe(file.size);
    for (let got = 0; got < data.length;) {
      const { bytesRead } = await readAt(this.#fd(file.layer), data, got, data.length - got, file.offset + got);
      if (bytesRead === 0) throw fail('E_INTERNAL', `${this.path({ index: file.layer })} ends inside ${node.path}`);
      got += bytesRead;
    }
    return data;
  }

  close(): void {
    for (const fd of this.#fds.values()) closeSync(fd);
    this.#fds.clear();
  }
}

/** Every entry of the squashed view with no symlink on its way (what an extraction can write). */
export function visibleEntries(fs: LayeredFs): FsEntry[] {
  return fs.entries().filter((node) => node.path !== '/' && fs.resolve(node.path, { follow: false }) === node.path);
}

/** An image's visible tree in a directory, its layers copied to `scratch` on the way (then removed). */
export async function extractImage(image: Image, root: string, scratch: string, signal?: AbortSignal): Promise<void> {
  const spool = await new LayerSpool(scratch).open();
  try {
    await extractVisible(await buildFs(image, { spool: spool.path, ...(signal ? { signal } : {}) }), spool, root);
  } finally {
    spool.close();
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * The entry whose body holds a file's bytes in the layer copies: its own, or a hardlink's
 * target's; undefined when there is none (a hardlink to a directory, or to nothing).
 */
export function fileBody(fs: LayeredFs, node: FsEntry): (FsEntry & { offset: number }) | undefined {
  const file = node.type === 'hardlink' && node.linkTarget ? fs.lstat(node.linkTarget) : node;
  return file?.type === 'file' && file.offset !== undefined ? (file as FsEntry & { offset: number }) : undefined;
}

/** Where a file's bytes are in its layer's copy. */
function bodyOf(fs: LayeredFs, node: FsEntry): { layer: number; offset: number; size: number } {
  const file = fileBody(fs, node);
  if (!file) throw fail('E_INTERNAL', `${node.path} has no bytes in the layer copies`);
  return { layer: file.layer, offset: file.offset, size: file.size };
}

/**
 * The image's visible tree written to a directory: each path the squashed filesystem shows,
 * nothing else, its bytes from the layer copies. Paths come normalised from the layered view (no
 * "..", whiteouts applied) and a path is written only when no symlink is on its way, so nothing
 * is ever written outside `root`; symlinks are created as links, never followed.
 */
export async function extractVisible(fs: LayeredFs, spool: LayerSpool, root: string): Promise<void> {
  await mkdir(root, { recursive: true });
  const visible = visibleEntries(fs);
  // Directories first, parents before children: files then need no mkdir of their own.
  for (const node of visible)
    if (node.type === 'dir') await mkdir(join(root, node.path), { recursive: true, mode: (node.mode & 0o777) | 0o700 });
  // Writes run a bounded number at once (the disk, not the reads, is the slow part).
  const pending = new Set<Promise<void>>();
  const later = async (write: () => Promise<void>) => {
    const done: Promise<void> = write().finally(() => pending.delete(done));
    pending.add(done);
    if (pending.size >= WRITES_IN_FLIGHT) await Promise.race(pending);
  };
  for (const node of visible) {
    const target = join(root, node.path);
    // Permission bits only: no setuid or setgid file is ever made on this machine. A hardlink
    // becomes a copy of its target's bytes, found in the image (never through this machine's links).
    if ((node.type === 'file' || node.type === 'hardlink') && fileBody(fs, node))
      await later(async () => writeFile(target, await spool.read(fs, node), { flag: 'wx', mode: node.mode & 0o777 }));
    else if (node.type === 'symlink') await later(() => symlink(node.linkTarget ?? '', target));
  }
  await Promise.all(pending);
}

/** One file of a minimized layer: kept from the image (its entry), or generated (its content). */
export interface LayerFile {
  readonly path: string;
  readonly entry: Pick<FsEntry, 'type' | 'mode' | 'uid' | 'gid' | 'linkTarget'>;
  /** Generated content (status.d records, passwd with the nonroot user). */
  readonly content?: Buffer;
}

export interface WrittenLayer {
  readonly digest: Digest;
  /** The plain copy of its tar, when one was asked for. */
  readonly copy?: string;
  readonly diffId: Digest;
  readonly size: number;
  readonly uncompressed: number;
}

/** A gzip layer being written: tar bytes in, hashed on both sides, and copied plain when asked. */
class LayerStream {
  readonly #tar = createHash('sha256');
  readonly #gz = createHash('sha256');
  readonly #temp: string;
  readonly #file: FileSink;
  readonly #copy: FileSink | undefined;
  // Level 1: a third of level 6's time for ~9 % more bytes (bench:minimize, docs/benchmarks.md).
  readonly #gzip: Pick<ParallelGzip, 'write' | 'end'>;
  #uncompressed = 0;

  constructor(
    private readonly blobs: string,
    compressor: Compressor,
    private readonly copyTo?: string,
  ) {
    this.#temp = join(blobs, `.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`);
    this.#file = new FileSink(this.#temp);
    this.#copy = copyTo ? new FileSink(copyTo) : undefined;
    const sink = async (chunk: Buffer) => {
      this.#gz.update(chunk);
      await this.#file.write(chunk);
    };
    this.#gzip = compressor === 'parallel' ? new ParallelGzip(sink) : streamGzip(sink);
  }

  async write(chunk: Buffer): Promise<void> {
    this.#tar.update(chunk);
    this.#uncompressed += chunk.length;
    await this.#copy?.write(chunk);
    await this.#gzip.write(chunk);
  }

  async end(): Promise<WrittenLayer> {
    await this.write(TAR_END);
    await this.#gzip.end();
    await this.#file.close();
    await this.#copy?.close();
    const digest: Digest = `sha256:${this.#gz.digest('hex')}`;
    const diffId: Digest = `sha256:${this.#tar.digest('hex')}`;
    await rename(this.#temp, join(this.blobs, digest.slice(7)));
    return {
      digest,
      diffId,
      size: this.#file.position,
      uncompressed: this.#uncompressed,
      ...(this.copyTo ? { copy: this.copyTo } : {}),
    };
  }

  destroy(): void {
    this.#file.destroy();
    this.#copy?.destroy();
  }
}

/** How layers are compressed: gzip on every core (the default), or Node's one-thread stream (its twin). */
export type Compressor = 'parallel' | 'stream';

/**
 * Writes the layers of a minimized image, each its files in path order (parents before
 * children): directories and symlinks from their entries, generated files from their content,
 * files of the image from the layer copies. A hardlink whose target is not earlier in the same
 * layer is written as a file. Fixed times and order: the same input gives the same bytes. The
 * layers are compressed at once, each on its own thread of the pool.
 */
export async function writeLayers(
  layers: readonly (readonly LayerFile[])[],
  body: (path: string) => { readonly size: number; readonly slices: Iterable<Buffer> },
  blobs: string,
  options: {
    mtime: number;
    signal?: AbortSignal | undefined;
    compressor?: Compressor;
    /** Where to copy each layer's tar, plain (its index in `layers`): the result is scanned from there. */
    copyTo?: (index: number) => string;
  },
): Promise<WrittenLayer[]> {
  const { mtime, signal } = options;
  return Promise.all(
    layers.map(async (files, index) => {
      const out = new LayerStream(blobs, options.compressor ?? 'parallel', options.copyTo?.(index));
      try {
        const written = new Set<string>();
        const byPath = [...new Map(files.map((f) => [f.path, f])).values()].sort((a, b) =>
          a.path < b.path ? -1 : a.path > b.path ? 1 : 0,
        );
        for (const f of byPath) {
          signal?.throwIfAborted();
          const { type, linkTarget } = f.entry;
          const header = (kind: 'file' | 'dir' | 'symlink' | 'hardlink', size: number, linkname?: string) =>
            tarHeader({
              path: f.path.replace(/^\//, ''),
              type: kind,
              mode: f.entry.mode,
              uid: f.entry.uid,
              gid: f.entry.gid,
              mtime,
              size,
              ...(linkname !== undefined ? { linkname } : {}),
            });
          if (type === 'dir') await out.write(header('dir', 0));
          else if (type === 'symlink') await out.write(header('symlink', 0, linkTarget ?? ''));
          else if (type === 'hardlink' && linkTarget && written.has(linkTarget))
            await out.write(header('hardlink', 0, linkTarget.replace(/^\//, '')));
          else if (type === 'file' || type === 'hardlink') {
            const { size, slices } = f.content ? { size: f.content.length, slices: [f.content] } : body(f.path);
            await out.write(header('file', size));
            let bytes = 0;
            for (const slice of slices) {
              await out.write(slice);
              bytes += slice.length;
            }
            if (bytes !== size) throw fail('E_INTERNAL', `${f.path}: ${bytes} bytes written of ${size}`);
            await out.write(tarPadding(size));
          } else continue;
          written.add(f.path);
        }
        return await out.end();
      } catch (error) {
        out.destroy();
        throw error;
      }
    }),
  );
}

/**
 * A layer read from a plain copy of its tar (what writeLayers copied) instead of its blob: the
 * same bytes (their digest is the layer's diff_id), with nothing to decompress and bodies seeked past.
 */
export function fromCopy(layer: Layer, path: string): Layer {
  return {
    ...layer,
    walk: async (visit, options = {}) => {
      const reader = new FileRangeReader(path, 0, (await stat(path)).size);
      try {
        const entries = await walkTar(reader, { what: `layer ${layer.index} (${path})` }, (entry) => {
          options.signal?.throwIfAborted();
          return visit(entry);
        });
        await reader.drain();
        return { uncompressedSize: reader.position, entries };
      } finally {
        await reader.close();
      }
    },
  };
}

/** Writes a blob by content; returns its descriptor fields. */
async function writeBlob(blobs: string, data: Buffer): Promise<{ digest: Digest; size: number }> {
  const digest: Digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
  await writeFile(join(blobs, digest.slice(7)), data);
  return { digest, size: data.length };
}

/** Writes the OCI image layout (config, manifest, index) around layers already in `blobs`. */
export async function writeLayoutIndex(
  layout: string,
  config: Record<string, unknown>,
  layers: readonly WrittenLayer[],
  refName?: string,
): Promise<{ manifestDigest: Digest; configDigest: Digest }> {
  const blobs = join(layout, 'blobs', 'sha256');
  const configBlob = await writeBlob(blobs, Buffer.from(JSON.stringify(config)));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, ...configBlob },
      layers: layers.map((l) => ({ mediaType: MediaType.ociLayerGzip, digest: l.digest, size: l.size })),
    }),
  );
  const manifestBlob = await writeBlob(blobs, manifest);
  await writeFile(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(
    join(layout, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociIndex,
      manifests: [
        {
          mediaType: MediaType.ociManifest,
          ...manifestBlob,
          ...(refName ? { annotations: { 'org.opencontainers.image.ref.name': refName } } : {}),
        },
      ],
    }),
  );
  return { manifestDigest: manifestBlob.digest, configDigest: configBlob.digest };
}

/** Every ancestor directory of the paths, as the image has them (parents first in the tar). */
export function withParents(paths: Iterable<string>, fs: LayeredFs): LayerFile[] {
  const out = new Map<string, LayerFile>();
  for (const path of paths) {
    for (let dir = parentOf(path); dir !== '/' && !out.has(dir); dir = parentOf(dir)) {
      const node = fs.lstat(dir);
      out.set(dir, {
        path: dir,
        entry: node?.type === 'dir' ? node : { type: 'dir', mode: 0o755, uid: 0, gid: 0 },
      });
    }
  }
  return [...out.values()];
}

/**
 * An OCI layout directory as one archive: `oci-archive` (the layout's files), or `docker-archive`
 * (the same plus docker's manifest.json, as `docker save` writes since Docker 25, so that
 * `docker load` takes it). Files in sorted order, fixed times: reproducible. Written beside the
 * target and renamed over it.
 */
export async function writeLayoutArchive(
  layout: string,
  file: string,
  docker: boolean,
  refName?: string,
): Promise<void> {
  const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  const names = [
    'oci-layout',
    'index.json',
    ...(await readdir(join(layout, 'blobs', 'sha256'))).map((b) => `blobs/sha256/${b}`),
  ];
  const extra = new Map<string, Buffer>();
  if (docker) {
    const manifest = JSON.parse(
      await readFile(join(layout, 'blobs', 'sha256', index.manifests[0]!.digest.slice(7)), 'utf8'),
    ) as { config: { digest: string }; layers: { digest: string }[] };
    extra.set(
      'manifest.json',
      Buffer.from(
        JSON.stringify([
          {
            Config: `blobs/sha256/${manifest.config.digest.slice(7)}`,
            RepoTags: refName ? [refName] : [],
            Layers: manifest.layers.map((l) => `blobs/sha256/${l.digest.slice(7)}`),
          },
        ]),
      ),
    );
  }
  const temp = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const out = createWriteStream(temp);
  const write = (chunk: Buffer) =>
    new Promise<void>((resolve, reject) => out.write(chunk, (e) => (e ? reject(e) : resolve())));
  try {
    const dirs = ['blobs', 'blobs/sha256'];
    for (const dir of dirs)
      await write(tarHeader({ path: dir, type: 'dir', mode: 0o755, uid: 0, gid: 0, mtime: 0, size: 0 }));
    for (const name of [...names, ...extra.keys()].sort()) {
      const data = extra.get(name) ?? (await readFile(join(layout, name)));
      await write(tarHeader({ path: name, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 0, size: data.length }));
      await write(data);
      await write(tarPadding(data.length));
    }
    await write(TAR_END);
    await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
    await rename(temp, file);
  } catch (error) {
    out.destroy();
    await rm(temp, { force: true });
    throw error;
  }
}
