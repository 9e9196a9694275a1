import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Digest } from '../../core/digest.js';
import { errors, isDistrolensError } from '../../core/errors.js';
import { DEFAULT_PLATFORM } from '../../core/platform.js';
import type { BlobCache } from '../../cache/blobs.js';
import { MANIFEST_ACCEPT } from '../../image/media.js';
import { MAX_CONFIG_BYTES, MAX_MANIFEST_BYTES } from '../../image/manifest.js';
import { imageFromParts, type PartialOptions } from '../../image/partial.js';
import { coalesce } from '../../util/compression.js';
import { partsFromManifest, resolveManifest, sha256, verifyBytes } from '../../image/resolve.js';
import type { Descriptor, Image, ImageSource, ResolveOptions } from '../../image/types.js';
import { RegistryClient, type ClientOptions } from './client.js';
import type { HttpResponse } from './http.js';
import { formatReference, type Reference } from './reference.js';

export interface RegistrySourceOptions extends PartialOptions, ClientOptions {
  readonly input: string;
  readonly cache: BlobCache;
  /** Download progress per blob: bytes so far and total. */
  readonly onDownload?: ((digest: Digest, bytes: number, total: number) => void) | undefined;
}

/** Reads a response body, refusing more than `limit` bytes (Content-Length is only a hint). */
export async function readLimited(response: HttpResponse, limit: number, what: string): Promise<Buffer> {
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (declared > limit) throw errors.manifestTooLarge(what, declared, limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    size += chunk.length;
    if (size > limit) throw errors.manifestTooLarge(what, size, limit);
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

/** An image in an OCI distribution registry, pulled without a daemon into the blob cache. */
export function registrySource(ref: Reference, options: RegistrySourceOptions): ImageSource {
  const client = new RegistryClient(ref.registry, options);
  const repo = ref.repository;
  const { cache } = options;

  const fetchManifest = async (reference: string, what: string): Promise<{ bytes: Buffer; mediaType: string }> => {
    const response = await client.request(`/v2/${repo}/manifests/${reference}`, {
      repository: repo,
      headers: { accept: MANIFEST_ACCEPT },
      what,
    });
    const mediaType = (response.headers.get('content-type') ?? '').split(';')[0]!.trim();
    return { bytes: await readLimited(response, MAX_MANIFEST_BYTES, what), mediaType };
  };

  /** Small documents by digest: from the cache, else from the registry (verified, then cached). */
  const fetchByDigest = async (descriptor: Descriptor): Promise<Buffer> => {
    const isConfig = descriptor.mediaType.includes('config');
    const limit = isConfig ? MAX_CONFIG_BYTES : MAX_MANIFEST_BYTES;
    const cached = await cache.readBytes(descriptor.digest, limit);
    if (cached && sha256(cached) === descriptor.digest) return cached;
    const what = `${isConfig ? 'config' : 'manifest'} ${descriptor.digest}`;
    let bytes: Buffer;
    if (isConfig) {
      const response = await client.request(`/v2/${repo}/blobs/${descriptor.digest}`, { repository: repo, what });
      bytes = await readLimited(response, limit, what);
    } else {
      bytes = (await fetchManifest(descriptor.digest, what)).bytes;
    }
    verifyBytes(bytes, descriptor.digest, what);
    await cache.putBytes(descriptor.digest, bytes);
    return bytes;
  };

  const downloads = new Map<Digest, Promise<void>>();

  /**
   * A layer blob as a stream. From the cache when it is there; otherwise straight from the
   * registry while it is written to the cache (one pass: the walk does not wait for the
   * download). A cut connection resumes with a Range request, so the walker never notices;
   * size and digest are checked at the end and only a verified blob enters the cache.
   */
  async function* blobStream(descriptor: Descriptor): AsyncGenerator<Uint8Array> {
    const what = `layer ${descriptor.digest}`;
    await downloads.get(descriptor.digest)?.catch(() => undefined);
    const cached = await cache.get(descriptor.digest, descriptor.size);
    if (cached) {
      yield* createReadStream(cached, { highWaterMark: 1 << 20 });
      return;
    }
    let finished!: () => void;
    let failed!: (error: unknown) => void;
    const done = new Promise<void>((resolve, reject) => ((finished = resolve), (failed = reject)));
    done.catch(() => {}); // observed by later openers only
    downloads.set(descriptor.digest, done);
    const writer = await cache.writer(descriptor.digest, descriptor.size, what);
    const attempts = options.retry?.attempts ?? 3;
    try {
      for (let attempt = 1; ; attempt++) {
        const resume = writer.size;
        const init = { repository: repo, what, ...(resume ? { headers: { range: `bytes=${resume}-` } } : {}) };
        const path = `/v2/${repo}/blobs/${descriptor.digest}`;
        const response = await client.blob(path, init);
        // A server that ignores Range sends everything again: skip what we already have.
        let skip = resume && response.status !== 206 ? resume : 0;
        try {
          // Network reads arrive in small pieces; write and pass on large ones.
          for await (const data of coalesce(response.body)) {
            let chunk = data;
            if (skip) {
              const drop = Math.min(skip, chunk.length);
              skip -= drop;
              chunk = chunk.subarray(drop);
              if (!chunk.length) continue;
            }
            await writer.write(chunk);
            options.onDownload?.(descriptor.digest, writer.size, descriptor.size);
            yield chunk;
          }
          if (writer.size < descriptor.size && attempt < attempts) continue; // closed early: resume
          break;
        } catch (error) {
          // A socket cut mid-body: resume if tries are left.
          if (isDistrolensError(error) || attempt >= attempts) throw error;
        }
      }
      await writer.commit();
      finished();
    } catch (error) {
      await writer.abort();
      failed(error);
      throw error;
    } finally {
      // The walker stopped early (an error in the layer): nothing half-written stays behind.
      await writer.abort();
      failed(new Error('download abandoned'));
    }
  }

  return {
    kind: 'registry',
    input: options.input,
    close: async () => {},
    resolve: async (resolveOptions: ResolveOptions = {}): Promise<Image> => {
      const reference = ref.digest ?? ref.tag ?? 'latest';
      const what = formatReference(ref);
      const root = await fetchManifest(reference, what);
      const digest = ref.digest ?? sha256(root.bytes);
      if (ref.digest) verifyBytes(root.bytes, ref.digest, what);
      const resolved = await resolveManifest(
        { bytes: root.bytes, mediaType: root.mediaType, digest, what },
        resolveOptions.platform ?? DEFAULT_PLATFORM,
        fetchByDigest,
      );
      const configBytes = await fetchByDigest(resolved.manifest.config);
      const parts = await partsFromManifest({
        source: { kind: 'registry', input: options.input, reference: formatReference(ref) },
        resolved,
        configBytes,
        locate: async (descriptor) =>
          descriptor.urls?.length && descriptor.mediaType.includes('foreign')
            ? undefined
            : {
                // blobStream verifies the digest of what it downloads; a blob already in the cache is
                // hashed by the walk (unless an earlier walk verified it), as a layout's blobs are.
                ...((await cache.get(descriptor.digest, descriptor.size)) ? {} : { verified: true }),
                location: {
                  kind: 'stream',
                  key: `${cache.root}\0${descriptor.digest}`,
                  open: async () => blobStream(descriptor),
                  recheck: async () => {
                    // A cached copy is re-hashed (and dropped when damaged); otherwise download and verify in full.
                    await cache.check(descriptor.digest, `layer ${descriptor.digest}`);
                    for await (const _ of blobStream(descriptor)) {
                      /* verified at the end of the stream */
                    }
                  },
                },
              },
      });
      return imageFromParts(parts, options);
    },
  };
}

/** The digest a tag points at: Docker-Content-Digest of a HEAD, else the hash of the manifest. */
export async function tagDigest(client: RegistryClient, repository: string, tag: string): Promise<Digest> {
  const what = `manifest ${repository}:${tag}`;
  const head = await client.request(`/v2/${repository}/manifests/${tag}`, {
    method: 'HEAD',
    repository,
    headers: { accept: MANIFEST_ACCEPT },
    what,
  });
  head.discard();
  const digest = head.headers.get('docker-content-digest');
  if (digest && /^sha256:[0-9a-f]{64}$/.test(digest)) return digest as Digest;
  const response = await client.request(`/v2/${repository}/manifests/${tag}`, {
    repository,
    headers: { accept: MANIFEST_ACCEPT },
    what,
  });
  return `sha256:${createHash('sha256')
    .update(await readLimited(response, MAX_MANIFEST_BYTES, what))
    .digest('hex')}`;
}

export { RegistryClient } from './client.js';
export { parseReference, formatReference, type Reference } from './reference.js';
export { dockerConfigAuth, type RegistryAuth } from './credentials.js';
