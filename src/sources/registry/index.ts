import { createReadStream } from 'node:fs';
import type { Digest } from '../../core/digest.js';
import { errors, isDistrolensError } from '../../core/errors.js';
import { DEFAULT_PLATFORM } from '../../core/platform.js';
import type { BlobCache } from '../../cache/blobs.js';
import { MANIFEST_ACCEPT } from '../../image/media.js';
import { MAX_CONFIG_BYTES, MAX_MANIFEST_BYTES } from '../../image/manifest.js';
import { imageFromParts, type PartialOptions } from '../../image/partial.js';
import { partsFromManifest, resolveManifest, sha256, verifyBytes } from '../../image/resolve.js';
import type { Descriptor, Image, ImageSource, ResolveOptions } from '../../image/types.js';
import { RegistryClient, type ClientOptions } from './client.js';
import { formatReference, type Reference } from './reference.js';

export interface RegistrySourceOptions extends PartialOptions, ClientOptions {
  readonly input: string;
  readonly cache: BlobCache;
  /** Download progress per blob: bytes so far and total. */
  readonly onDownload?: (digest: Digest, bytes: number, total: number) => void;
}

/** Reads a response body, refusing more than `limit` bytes (Content-Length is only a hint). */
export async function readLimited(response: Response, limit: number, what: string): Promise<Buffer> {
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (declared > limit) throw errors.manifestTooLarge(what, declared, limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body ?? []) {
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
    const response = await client.request(`/v2/${repo}/manifests/${reference}`, { repository: repo, headers: { accept: MANIFEST_ACCEPT }, what });
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

  const downloads = new Map<Digest, Promise<string>>();
  /** Makes sure a layer blob is in the cache, downloading it once per process, with retries. */
  const ensureBlob = (descriptor: Descriptor): Promise<string> => {
    let pending = downloads.get(descriptor.digest);
    if (!pending) {
      pending = (async () => {
        const cached = await cache.get(descriptor.digest, descriptor.size);
        if (cached) return cached;
        const what = `layer ${descriptor.digest}`;
        const attempts = options.retry?.attempts ?? 3;
        for (let attempt = 1; ; attempt++) {
          try {
            const response = await client.request(`/v2/${repo}/blobs/${descriptor.digest}`, { repository: repo, what });
            const onDownload = options.onDownload;
            let received = 0;
            const body = (async function* () {
              for await (const chunk of response.body ?? []) {
                received += chunk.length;
                onDownload?.(descriptor.digest, received, descriptor.size);
                yield chunk as Uint8Array;
              }
            })();
            return await cache.put(descriptor.digest, body, descriptor.size, what);
          } catch (error) {
            // A cut connection shows up as a truncated blob or a socket error: fetch it again.
            const retryable = isDistrolensError(error, 'E_BLOB_TRUNCATED') || (error instanceof TypeError && !isDistrolensError(error));
            if (!retryable || attempt >= attempts) throw error;
          }
        }
      })();
      downloads.set(descriptor.digest, pending);
    }
    return pending;
  };

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
      const resolved = await resolveManifest({ bytes: root.bytes, mediaType: root.mediaType, digest, what },
        resolveOptions.platform ?? DEFAULT_PLATFORM, fetchByDigest);
      const configBytes = await fetchByDigest(resolved.manifest.config);
      const parts = await partsFromManifest({
        source: { kind: 'registry', input: options.input, reference: formatReference(ref) },
        resolved,
        configBytes,
        locate: async (descriptor) => (descriptor.urls?.length && descriptor.mediaType.includes('foreign') ? undefined : {
          verified: true,
          location: {
            kind: 'stream',
            open: async () => createReadStream(await ensureBlob(descriptor), { highWaterMark: 1 << 20 }),
          },
        }),
      });
      return imageFromParts(parts, options);
    },
  };
}

export { RegistryClient } from './client.js';
export { parseReference, formatReference, type Reference } from './reference.js';
export { dockerConfigAuth, type RegistryAuth } from './credentials.js';
