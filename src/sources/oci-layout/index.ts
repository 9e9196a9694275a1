import type { Digest } from '../../core/digest.js';
import { fail } from '../../core/errors.js';
import { DEFAULT_PLATFORM } from '../../core/platform.js';
import { isAttestation, MAX_CONFIG_BYTES, MAX_MANIFEST_BYTES, parseManifestDocument } from '../../image/manifest.js';
import { imageFromParts, type PartialOptions } from '../../image/partial.js';
import { partsFromManifest, resolveManifest, verifyBytes } from '../../image/resolve.js';
import type { Descriptor, Image, ImageSource, ResolveOptions } from '../../image/types.js';
import type { FileTree } from '../../util/filetree.js';

/**
 * OCI image layouts, as a directory (`oci:DIR`) or a tar (`oci-archive:PATH`).
 * https://github.com/opencontainers/image-spec/blob/main/image-layout.md
 * `:TAG` matches `org.opencontainers.image.ref.name` (or containerd's full image name);
 * `@sha256:…` matches a manifest or index digest listed in index.json or in an index it nests.
 */
export interface OciLayoutOptions extends PartialOptions {
  readonly kind: 'oci-layout' | 'oci-archive';
  readonly input: string;
  readonly tag?: string;
  readonly digest?: Digest;
  readonly close?: () => Promise<void>;
}

const REF_NAME = 'org.opencontainers.image.ref.name';
const CONTAINERD_NAME = 'io.containerd.image.name';
const MAX_SEARCH_DEPTH = 4;

const blobPath = (digest: Digest): string => `blobs/sha256/${digest.slice('sha256:'.length)}`;

function refNames(descriptor: Descriptor): string[] {
  const a = descriptor.annotations ?? {};
  return [a[REF_NAME], a[CONTAINERD_NAME]].filter((n): n is string => typeof n === 'string');
}

const tagMatches = (descriptor: Descriptor, tag: string): boolean =>
  refNames(descriptor).some((name) => name === tag || name.endsWith(`:${tag}`));

interface Root {
  readonly bytes: Uint8Array;
  readonly mediaType?: string;
  readonly digest?: Digest;
  readonly what: string;
}

/** Opens an OCI layout already indexed as a FileTree. */
export function ociLayoutSource(tree: FileTree, options: OciLayoutOptions): ImageSource {
  const fetch = async (descriptor: Descriptor): Promise<Buffer> => {
    const limit = descriptor.mediaType.includes('config') ? MAX_CONFIG_BYTES : MAX_MANIFEST_BYTES;
    const bytes = await tree.read(blobPath(descriptor.digest), limit);
    verifyBytes(bytes, descriptor.digest, `blob ${descriptor.digest}`);
    return bytes;
  };
  const rootOf = async (d: Descriptor): Promise<Root> => ({
    bytes: await fetch(d),
    mediaType: d.mediaType,
    digest: d.digest,
    what: `manifest ${d.digest}`,
  });

  const findByDigest = async (
    descriptors: readonly Descriptor[],
    digest: Digest,
    depth = 0,
  ): Promise<Descriptor | undefined> => {
    const direct = descriptors.find((m) => m.digest === digest);
    if (direct || depth >= MAX_SEARCH_DEPTH) return direct;
    for (const d of descriptors) {
      if (!d.mediaType.includes('index') && !d.mediaType.includes('list')) continue;
      const doc = parseManifestDocument(await fetch(d), `index ${d.digest}`, d.mediaType);
      const found = doc.kind === 'index' ? await findByDigest(doc.manifests, digest, depth + 1) : undefined;
      if (found) return found;
    }
    return undefined;
  };

  /** Chooses where resolution starts: a selected manifest/index, or index.json itself. */
  const chooseRoot = async (indexBytes: Buffer, manifests: readonly Descriptor[]): Promise<Root> => {
    const whole: Root = { bytes: indexBytes, what: `${tree.origin}: index.json` };
    const candidates = manifests.filter((m) => !isAttestation(m));
    if (options.digest) {
      const found = await findByDigest(candidates, options.digest);
      if (!found)
        throw fail(
          'E_INPUT_NOT_FOUND',
          `${tree.origin} has no manifest ${options.digest}`,
          'check the digest, or select by :TAG',
        );
      return rootOf(found);
    }
    if (options.tag) {
      const tagged = candidates.filter((m) => tagMatches(m, options.tag!));
      if (tagged.length === 0) {
        const names = [...new Set(candidates.flatMap(refNames))].sort();
        throw fail(
          'E_INPUT_NOT_FOUND',
          `${tree.origin} has no image tagged ${options.tag}`,
          names.length ? `it has: ${names.join(', ')}` : 'the layout has no tags; select by @sha256:… instead',
        );
      }
      if (tagged.length === 1) return rootOf(tagged[0]!);
      // One tag on several platform manifests: a multi-platform set written flat into index.json.
      return {
        bytes: Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: tagged })),
        what: `${whole.what} (${options.tag})`,
      };
    }
    if (candidates.length === 1) return rootOf(candidates[0]!);
    const names = [...new Set(candidates.flatMap(refNames))].sort();
    if (names.length > 1 && candidates.every((m) => !m.platform)) {
      const prefix = options.kind === 'oci-layout' ? 'oci:' : 'oci-archive:';
      throw fail(
        'E_IMAGE_AMBIGUOUS',
        `${tree.origin} holds ${candidates.length} images: ${names.join(', ')}`,
        `pick one with ${prefix}${tree.origin}:TAG`,
      );
    }
    return whole;
  };

  return {
    kind: options.kind,
    input: options.input,
    close: async () => options.close?.(),
    resolve: async (resolveOptions: ResolveOptions = {}): Promise<Image> => {
      if (!(await tree.has('oci-layout'))) {
        throw fail(
          'E_ARCHIVE_INVALID',
          `${tree.origin} is not an OCI image layout (no oci-layout file)`,
          'pass a layout written by skopeo, umoci, buildah or `docker save`',
        );
      }
      const indexBytes = await tree.read('index.json', MAX_MANIFEST_BYTES);
      const index = parseManifestDocument(indexBytes, `${tree.origin}: index.json`);
      if (index.kind !== 'index')
        throw fail('E_ARCHIVE_INVALID', `${tree.origin}: index.json is not an index`, 'the layout is malformed');
      const root = await chooseRoot(indexBytes, index.manifests);
      const resolved = await resolveManifest(root, resolveOptions.platform ?? DEFAULT_PLATFORM, fetch);
      const parts = await partsFromManifest({
        source: { kind: options.kind, input: options.input, ...(options.tag ? { reference: options.tag } : {}) },
        resolved,
        configBytes: await fetch(resolved.manifest.config),
        locate: async (descriptor) =>
          (await tree.has(blobPath(descriptor.digest)))
            ? { location: { kind: 'file', ...(await tree.locate(blobPath(descriptor.digest))) } }
            : undefined,
      });
      return imageFromParts(parts, options);
    },
  };
}
