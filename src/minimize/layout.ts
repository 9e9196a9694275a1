import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, copyFile, mkdir, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { Digest } from '../core/digest.js';
import { fail } from '../core/errors.js';
import type { LayeredFs } from '../fs/layered.js';
import { normalizeEntryPath, parentOf, whiteoutOf } from '../fs/path.js';
import type { FsEntry } from '../fs/types.js';
import { MediaType } from '../image/media.js';
import type { Image } from '../image/types.js';
import { tarHeader, tarPadding, TAR_END } from '../util/tar-write.js';

/**
 * The image's visible tree written to a directory: each path the squashed filesystem shows, from
 * the layer that last wrote it, nothing else. Paths come normalised from the layered view (no
 * "..", whiteouts applied) and a path is written only when no symlink is on its way, so nothing is
 * ever written outside `root`; symlinks are created as links, never followed.
 */
export async function extractVisible(image: Image, fs: LayeredFs, root: string, signal?: AbortSignal): Promise<void> {
  await mkdir(root, { recursive: true });
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
        if (!node || node.layer !== layer.index) return;
        const target = join(root, path);
        if (node.type === 'dir') {
          await mkdir(target, { recursive: true });
          await chmod(target, node.mode & 0o777);
        } else if (node.type === 'file' && entry.type === 'file') {
          await mkdir(dirname(target), { recursive: true });
          // Permission bits only: no setuid or setgid file is ever made on this machine.
          await writeFile(target, await entry.read(), { flag: 'w' });
          await chmod(target, node.mode & 0o777);
        } else if (node.type === 'symlink' && entry.type === 'symlink') {
          await mkdir(dirname(target), { recursive: true });
          await rm(target, { force: true });
          await symlink(node.linkTarget ?? '', target);
        } else if (node.type === 'hardlink' && entry.type === 'hardlink' && node.linkTarget) {
          await mkdir(dirname(target), { recursive: true });
          await copyFile(join(root, node.linkTarget), target).catch(() => undefined);
        }
      },
      { ...(signal ? { signal } : {}) },
    );
  }
}

/** One file of a layer being written: from the extracted tree, or generated. */
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

/**
 * Writes one gzip layer into `blobs`: parents before children, sorted, fixed times and owners as
 * the image had them, so the same input gives the same digests.
 */
export async function writeLayer(
  files: readonly LayerFile[],
  root: string,
  blobs: string,
  mtime: number,
): Promise<WrittenLayer> {
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const tar = createHash('sha256');
  const gz = createHash('sha256');
  let uncompressed = 0;
  let size = 0;
  const temp = join(blobs, `.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`);
  async function* body(): AsyncGenerator<Buffer> {
    for (const f of sorted) {
      const type = f.entry.type === 'dir' ? 'dir' : f.entry.type === 'symlink' ? 'symlink' : 'file';
      const source = join(root, f.path);
      let length = f.content?.length ?? 0;
      if (type === 'file' && !f.content) {
        length = (await stat(source)).size;
      }
      yield tarHeader({
        path: f.path.replace(/^\//, ''),
        type,
        mode: f.entry.mode,
        uid: f.entry.uid,
        gid: f.entry.gid,
        mtime,
        size: length,
        ...(type === 'symlink' ? { linkname: f.entry.linkTarget ?? '' } : {}),
      });
      if (type !== 'file') continue;
      if (f.content) yield f.content;
      else {
        let read = 0;
        for await (const chunk of createReadStream(source)) {
          read += (chunk as Buffer).length;
          yield chunk as Buffer;
        }
        if (read !== length) throw fail('E_INTERNAL', `${f.path} changed while the layer was written`);
      }
      yield tarPadding(length);
    }
    yield TAR_END;
  }
  async function* hashTar(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const chunk of source) {
      tar.update(chunk);
      uncompressed += chunk.length;
      yield chunk;
    }
  }
  async function* hashGz(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const chunk of source) {
      gz.update(chunk);
      size += chunk.length;
      yield chunk;
    }
  }
  await pipeline(body, hashTar, createGzip({ level: 6 }), hashGz, createWriteStream(temp));
  const digest: Digest = `sha256:${gz.digest('hex')}`;
  const diffId: Digest = `sha256:${tar.digest('hex')}`;
  await rename(temp, join(blobs, digest.slice(7)));
  return { digest, diffId, size, uncompressed };
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
