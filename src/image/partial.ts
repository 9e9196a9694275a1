import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Digest } from '../core/digest.js';
import { errors, isDistrolensError } from '../core/errors.js';
import type { Platform } from '../core/platform.js';
import { FileRangeReader, StreamReader, type ByteReader } from '../util/bytes.js';
import {
  ByteCounter,
  DEFAULT_INFLATE_LIMITS,
  detectCompression,
  hashing,
  inflate,
  type InflateLimits,
} from '../util/compression.js';
import { walkTar, type TarEntry } from '../util/tar.js';
import { walkDirectory } from '../util/dirwalk.js';
import { FileSink } from '../util/file-sink.js';
import { tarHeader, tarPadding, TAR_END } from '../util/tar-write.js';
import type { BlobLocation, Image, ImageConfig, Layer, LayerStats, WalkOptions, Warning } from './types.js';

/**
 * What a source must provide; everything else about an image is derived here once
 * (go-containerregistry's `partial` package): layer walking, decompression, digest checks.
 */
export interface LayerPart {
  readonly digest?: Digest;
  readonly diffId?: Digest;
  readonly mediaType: string;
  readonly compressedSize?: number;
  readonly createdBy?: string;
  readonly location: BlobLocation;
  /** True when the source already verified the blob digest (e.g. a registry download). */
  readonly verified?: boolean;
}

export interface ImageParts {
  readonly source: Image['source'];
  readonly manifestDigest?: Digest;
  readonly manifestMediaType?: string;
  readonly configDigest?: Digest;
  readonly platform: Platform;
  readonly platforms?: readonly Platform[];
  readonly config: ImageConfig;
  readonly rawConfig: Readonly<Record<string, unknown>>;
  readonly layers: readonly LayerPart[];
  readonly warnings?: readonly Warning[];
}

/**
 * Remembers layers on disk whose digests were checked, so later walks of the same unchanged
 * file can seek past contents instead of hashing every byte. Backed by the cache directory.
 */
export interface VerifiedStore {
  has(key: string): Promise<boolean>;
  add(key: string): Promise<void>;
}

export interface PartialOptions {
  readonly limits?: InflateLimits | undefined;
  readonly verified?: VerifiedStore;
}

const CHUNK = 1024 * 1024;

function fileChunks(path: string, offset: number, length: number): AsyncIterable<Uint8Array> {
  if (length === 0) return (async function* () {})();
  return createReadStream(path, { start: offset, end: offset + length - 1, highWaterMark: CHUNK });
}

async function readHead(location: Extract<BlobLocation, { kind: 'file' }>): Promise<Buffer> {
  const reader = new FileRangeReader(location.path, location.offset, location.length);
  try {
    return Buffer.from(await reader.read(6));
  } finally {
    await reader.close();
  }
}

/** Puts already-read bytes back in front of a stream. */
async function* prepend(head: Uint8Array, rest: AsyncIterator<Uint8Array>): AsyncGenerator<Uint8Array> {
  if (head.length) yield head;
  for (let next = await rest.next(); !next.done; next = await rest.next()) yield next.value;
}

async function peek(
  chunks: AsyncIterable<Uint8Array>,
): Promise<{ head: Uint8Array; stream: AsyncIterable<Uint8Array> }> {
  const iterator = chunks[Symbol.asyncIterator]();
  const first = await iterator.next();
  const head = first.done ? new Uint8Array(0) : first.value;
  return { head, stream: prepend(head, iterator) };
}

/**
 * What identifies a layer's bytes for the verified store: the file, its size and mtime and the
 * digests it was checked against. A changed file gets a new key and is verified again.
 */
async function verifiedKey(part: LayerPart): Promise<string | undefined> {
  const { location } = part;
  if (!part.diffId || location.kind === 'directory') return undefined;
  let identity: string;
  if (location.kind === 'file') {
    const info = await stat(location.path);
    identity = `file\0${location.path}\0${location.offset}\0${location.length}\0${info.size}\0${info.mtimeMs}`;
  } else if (location.key) identity = `stream\0${location.key}`;
  else return undefined;
  return createHash('sha256')
    .update(`${identity}\0${part.digest ?? ''}\0${part.diffId}`)
    .digest('hex');
}

/**
 * A directory walked as a layer, copied as a tar: each entry's header and body, its `offset`
 * where the body starts in the copy.
 */
function copyingDirectory(
  copy: FileSink,
  visit: (entry: TarEntry) => void | Promise<void>,
): (entry: TarEntry) => Promise<void> {
  return async (entry) => {
    const { type, mode, uid, gid, size, linkname } = entry;
    // What a directory walk cannot hold in a tar (a device, a socket) is visited, not copied.
    if (type !== 'file' && type !== 'dir' && type !== 'symlink' && type !== 'hardlink') return visit(entry);
    const path = entry.name.replace(/^\/+/, '');
    const header = tarHeader({ path, type, mode, uid, gid, mtime: 0, size, ...(linkname ? { linkname } : {}) });
    await copy.write(header);
    const offset = copy.position;
    await visit({ ...entry, offset });
    if (type !== 'file') return;
    const body = await entry.read();
    await copy.write(body);
    await copy.write(tarPadding(body.length));
  };
}

function describe(part: LayerPart, index: number): string {
  return `layer ${index} (${part.digest ?? part.diffId ?? 'rootfs'})`;
}

function makeLayer(part: LayerPart, index: number, options: PartialOptions): Layer {
  const limits = options.limits ?? DEFAULT_INFLATE_LIMITS;
  const what = describe(part, index);

  const walk = async (
    visit: (entry: TarEntry) => void | Promise<void>,
    walkOptions: WalkOptions = {},
  ): Promise<LayerStats> => {
    const { location } = part;
    if (location.kind === 'directory') {
      const copy = walkOptions.copyTo ? new FileSink(walkOptions.copyTo) : undefined;
      try {
        const { entries, bytes } = await walkDirectory(
          location.path,
          copy ? copyingDirectory(copy, visit) : visit,
          walkOptions.signal,
        );
        await copy?.write(TAR_END);
        await copy?.close();
        return { uncompressedSize: bytes, entries };
      } catch (error) {
        copy?.destroy();
        throw error;
      }
    }
    // Bytes verified on an earlier walk are trusted: no hashing, and plain tars on disk are seeked.
    const key = options.verified ? await verifiedKey(part) : undefined;
    const trusted = !walkOptions.verifyDiffId && key !== undefined && (await options.verified!.has(key));
    const seekable =
      trusted &&
      !walkOptions.copyTo &&
      location.kind === 'file' &&
      detectCompression(await readHead(location)) === 'none';
    let copy: FileSink | undefined;

    const compressed = new ByteCounter();
    let blobHash: ReturnType<typeof createHash> | undefined;
    let diffHash: ReturnType<typeof createHash> | undefined;
    let reader: ByteReader;
    if (seekable && location.kind === 'file') {
      reader = new FileRangeReader(location.path, location.offset, location.length);
    } else {
      const raw =
        location.kind === 'file' ? fileChunks(location.path, location.offset, location.length) : await location.open();
      const { head, stream } = await peek(raw);
      const compression = detectCompression(head);
      let source: AsyncIterable<Uint8Array> = compressed.count(stream);
      if (walkOptions.onBytes) source = reportBytes(source, walkOptions.onBytes);
      const sameDigest = compression === 'none' && part.digest !== undefined && part.digest === part.diffId;
      if (!trusted && part.digest && !part.verified && !sameDigest)
        source = hashing(source, (blobHash = createHash('sha256')));
      // Verify what is read, as go-containerregistry does: a compressed blob whose digest is (or
      // was, on download) checked pins its decompressed bytes, so hashing them again is only for
      // the conformance check (verifyDiffId). Plain layers are checked against their diffID.
      const blobChecked =
        compression !== 'none' && part.digest !== undefined && (part.verified === true || blobHash !== undefined);
      const diffChecked = !trusted && part.diffId !== undefined && (walkOptions.verifyDiffId === true || !blobChecked);
      // Bytes a digest checks as they are read (here, or by the source as it downloads) need no gzip
      // CRC as well. Bytes trusted from an earlier walk keep it: it catches a cached copy gone bad.
      let plain = inflate(source, compression, what, limits, !trusted && (blobChecked || diffChecked));
      if (diffChecked) plain = hashing(plain, (diffHash = createHash('sha256')));
      // Made last, once nothing before the walk's own cleanup can fail and leave it open.
      if (walkOptions.copyTo) copy = new FileSink(walkOptions.copyTo);
      reader = new StreamReader(copy ? copy.tee(plain) : plain);
    }

    let entries = 0;
    try {
      entries = await walkTar(reader, { what }, (entry) => {
        walkOptions.signal?.throwIfAborted();
        return visit(entry);
      });
      await reader.drain();
      await copy?.close();
    } catch (error) {
      copy?.destroy();
      if (isDistrolensError(error, 'E_ARCHIVE_INVALID') && location.kind === 'stream') await location.recheck?.();
      throw error;
    } finally {
      await reader.close();
    }
    const uncompressedSize = reader.position;
    if (part.compressedSize !== undefined && !seekable && compressed.bytes !== part.compressedSize) {
      if (compressed.bytes < part.compressedSize) throw errors.truncated(what, part.compressedSize, compressed.bytes);
      throw errors.digestMismatch(what, `${part.compressedSize} bytes`, `${compressed.bytes} bytes`);
    }
    if (blobHash && part.digest) {
      const actual = `sha256:${blobHash.digest('hex')}`;
      if (actual !== part.digest) throw errors.digestMismatch(what, part.digest, actual);
    }
    if (diffHash && part.diffId) {
      const actual = `sha256:${diffHash.digest('hex')}`;
      if (actual !== part.diffId) throw errors.digestMismatch(`${what} diff_id`, part.diffId, actual);
    }
    if (key && !trusted && (diffHash || blobHash || part.verified)) await options.verified?.add(key);
    return { uncompressedSize, entries };
  };

  return {
    index,
    mediaType: part.mediaType,
    ...(part.digest ? { digest: part.digest } : {}),
    ...(part.diffId ? { diffId: part.diffId } : {}),
    ...(part.compressedSize !== undefined ? { compressedSize: part.compressedSize } : {}),
    ...(part.createdBy !== undefined ? { createdBy: part.createdBy } : {}),
    walk,
  };
}

async function* reportBytes(
  source: AsyncIterable<Uint8Array>,
  onBytes: (bytes: number) => void,
): AsyncGenerator<Uint8Array> {
  let total = 0;
  for await (const chunk of source) {
    total += chunk.length;
    onBytes(total);
    yield chunk;
  }
}

/** Builds the full Image from the small core a source provides. */
export function imageFromParts(parts: ImageParts, options: PartialOptions = {}): Image {
  return {
    source: parts.source,
    ...(parts.manifestDigest ? { manifestDigest: parts.manifestDigest } : {}),
    ...(parts.manifestMediaType ? { manifestMediaType: parts.manifestMediaType } : {}),
    ...(parts.configDigest ? { configDigest: parts.configDigest } : {}),
    platform: parts.platform,
    platforms: parts.platforms ?? [],
    config: parts.config,
    rawConfig: parts.rawConfig,
    layers: parts.layers.map((part, index) => makeLayer(part, index, options)),
    warnings: parts.warnings ?? [],
  };
}
