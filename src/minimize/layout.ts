import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { copyFile, mkdir, readFile, readdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { Digest } from '../core/digest.js';
import type { LayeredFs } from '../fs/layered.js';
import { normalizeEntryPath, parentOf, whiteoutOf } from '../fs/path.js';
import type { FsEntry } from '../fs/types.js';
import { MediaType } from '../image/media.js';
import type { Image } from '../image/types.js';
import type { TarEntry } from '../util/tar.js';
import { tarHeader, tarPadding, TAR_END } from '../util/tar-write.js';

/** Files being written at once while a layer is walked. */
const WRITES_IN_FLIGHT = 64;

/**
 * Visits each tar entry of the image that the squashed view shows, from the layer that last wrote
 * it: normalised paths, whiteouts skipped, and only paths with no symlink on their way (so a
 * writer that joins them to a directory never writes through a link).
 */
async function walkVisible(
  image: Image,
  fs: LayeredFs,
  visit: (entry: TarEntry, node: FsEntry) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  for (const layer of image.layers) {
    await layer.walk(
      async (entry) => {
        let path: string;
        try {
          path = normalizeEntryPath(entry.name);
        } catch {
          return;
        }
        if (path === '/' || whiteoutOf(path) !== undefined) return;
        if (fs.resolve(path, { follow: false }) !== path) return;
        const node = fs.lstat(path);
        if (node && node.layer === layer.index) await visit(entry, node);
      },
      { ...(signal ? { signal } : {}) },
    );
  }
}

/**
 * The image's visible tree written to a directory: each path the squashed filesystem shows, from
 * the layer that last wrote it, nothing else. Paths come normalised from the layered view (no
 * "..", whiteouts applied) and a path is written only when no symlink is on its way, so nothing is
 * ever written outside `root`; symlinks are created as links, never followed.
 */
export async function extractVisible(image: Image, fs: LayeredFs, root: string, signal?: AbortSignal): Promise<void> {
  await mkdir(root, { recursive: true });
  // Directories first, parents before children: files then need no mkdir of their own.
  for (const node of fs.entries())
    if (node.type === 'dir' && node.path !== '/' && fs.resolve(node.path, { follow: false }) === node.path)
      await mkdir(join(root, node.path), { recursive: true, mode: (node.mode & 0o777) | 0o700 });
  // Writes run while the walk goes on (the disk, not the walk, is the slow part), a bounded number at once.
  const pending = new Set<Promise<void>>();
  const later = async (write: Promise<void>) => {
    const done: Promise<void> = write.finally(() => pending.delete(done));
    pending.add(done);
    if (pending.size >= WRITES_IN_FLIGHT) await Promise.race(pending);
  };
  await walkVisible(
    image,
    fs,
    async (entry, node) => {
      const target = join(root, node.path);
      if (node.type === 'file' && entry.type === 'file') {
        // Permission bits only: no setuid or setgid file is ever made on this machine.
        await later(writeFile(target, await entry.read(), { flag: 'wx', mode: node.mode & 0o777 }));
      } else if (node.type === 'symlink' && entry.type === 'symlink') {
        await later(symlink(node.linkTarget ?? '', target));
      } else if (node.type === 'hardlink' && entry.type === 'hardlink' && node.linkTarget) {
        await Promise.all(pending);
        await copyFile(join(root, node.linkTarget), target).catch(() => undefined);
      }
    },
    signal,
  );
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
  readonly diffId: Digest;
  readonly size: number;
  readonly uncompressed: number;
}

/** A gzip layer being written: tar bytes in, hashed on both sides. */
class LayerStream {
  readonly #tar = createHash('sha256');
  readonly #gz = createHash('sha256');
  // Level 1: a third of level 6's time for ~9 % more bytes (bench:minimize, docs/benchmarks.md).
  readonly #gzip = createGzip({ level: 1 });
  readonly #temp: string;
  readonly #done: Promise<void>;
  #uncompressed = 0;
  #size = 0;

  constructor(private readonly blobs: string) {
    this.#temp = join(blobs, `.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`);
    const gz = this.#gz;
    const count = async function* (source: AsyncIterable<Buffer>, self: LayerStream) {
      for await (const chunk of source) {
        gz.update(chunk);
        self.#size += chunk.length;
        yield chunk;
      }
    };
    this.#done = pipeline(
      this.#gzip,
      (source: AsyncIterable<Buffer>) => count(source, this),
      createWriteStream(this.#temp),
    );
  }

  async write(chunk: Buffer): Promise<void> {
    this.#tar.update(chunk);
    this.#uncompressed += chunk.length;
    if (!this.#gzip.write(chunk)) await new Promise<void>((r) => this.#gzip.once('drain', r));
  }

  async end(): Promise<WrittenLayer> {
    await this.write(TAR_END);
    this.#gzip.end();
    await this.#done;
    const digest: Digest = `sha256:${this.#gz.digest('hex')}`;
    const diffId: Digest = `sha256:${this.#tar.digest('hex')}`;
    await rename(this.#temp, join(this.blobs, digest.slice(7)));
    return { digest, diffId, size: this.#size, uncompressed: this.#uncompressed };
  }
}

/**
 * Writes the layers of a minimized image straight from the original's layers, without an
 * extracted copy: first each layer's directories and generated files (sorted), then one walk of
 * the image writing each kept file, link or symlink from the layer that last wrote it, into the
 * layer `layerOf` assigns it. The walk's order is the image's own, so the same input gives the
 * same bytes.
 */
export async function writeLayersFromImage(
  image: Image,
  fs: LayeredFs,
  layerOf: (path: string) => number | undefined,
  upfront: readonly (readonly LayerFile[])[],
  blobs: string,
  mtime: number,
  signal?: AbortSignal,
): Promise<WrittenLayer[]> {
  const streams = upfront.map(() => new LayerStream(blobs));
  const header = (f: LayerFile, type: 'file' | 'dir' | 'symlink' | 'hardlink', size: number, linkname?: string) =>
    tarHeader({
      path: f.path.replace(/^\//, ''),
      type,
      mode: f.entry.mode,
      uid: f.entry.uid,
      gid: f.entry.gid,
      mtime,
      size,
      ...(linkname !== undefined ? { linkname } : {}),
    });
  const written = upfront.map((files) => new Set(files.map((f) => f.path)));
  for (const [i, files] of upfront.entries()) {
    for (const f of [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
      const type = f.entry.type === 'dir' ? 'dir' : f.entry.type === 'symlink' ? 'symlink' : 'file';
      const content = f.content ?? Buffer.alloc(0);
      await streams[i]!.write(
        header(f, type, content.length, type === 'symlink' ? (f.entry.linkTarget ?? '') : undefined),
      );
      if (type === 'file') {
        await streams[i]!.write(content);
        await streams[i]!.write(tarPadding(content.length));
      }
    }
  }
  await walkVisible(
    image,
    fs,
    async (entry, node) => {
      const path = node.path;
      const target = layerOf(path);
      if (target === undefined || written[target]!.has(path) || node.type === 'dir') return;
      const file = { path, entry: node };
      const out = streams[target]!;
      if (node.type === 'file' && entry.type === 'file') {
        const data = await entry.read();
        await out.write(header(file, 'file', data.length));
        await out.write(data);
        await out.write(tarPadding(data.length));
      } else if (node.type === 'symlink') {
        await out.write(header(file, 'symlink', 0, node.linkTarget ?? ''));
      } else if (node.type === 'hardlink' && node.linkTarget && written[target]!.has(node.linkTarget)) {
        await out.write(header(file, 'hardlink', 0, node.linkTarget.replace(/^\//, '')));
      } else return;
      written[target]!.add(path);
    },
    signal,
  );
  const layers: WrittenLayer[] = [];
  for (const s of streams) layers.push(await s.end());
  return layers;
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
