import { errors, fail } from '../core/errors.js';
import { parseDigest, type Digest } from '../core/digest.js';
import type { Platform } from '../core/platform.js';
import type { Descriptor } from './types.js';
import { isImageConfig, isIndex, isLayer, isManifest, isSchema1, MediaType } from './media.js';

/** 4 MiB, the limit the distribution registry itself enforces for manifests. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
/** Image configs carry history and env; 16 MiB is far above the largest seen in practice. */
export const MAX_CONFIG_BYTES = 16 * 1024 * 1024;
/** More layers than this is not an image (Docker caps at 127, overlayfs at ~500). */
export const MAX_LAYERS = 1000;
/** Index entries: real multi-arch indexes list tens; this bounds work on a hostile one. */
export const MAX_INDEX_ENTRIES = 10_000;

export interface ParsedIndex {
  readonly kind: 'index';
  readonly mediaType: string;
  readonly manifests: readonly Descriptor[];
}

export interface ParsedManifest {
  readonly kind: 'manifest';
  readonly mediaType: string;
  readonly config: Descriptor;
  readonly layers: readonly Descriptor[];
}

function object(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw errors.imageInvalid(what, 'expected a JSON object');
  return value as Record<string, unknown>;
}

/** Parses JSON from untrusted bytes under a size limit. */
export function parseJson(bytes: Uint8Array, what: string, limit = MAX_MANIFEST_BYTES): Record<string, unknown> {
  if (bytes.length > limit) throw errors.manifestTooLarge(what, bytes.length, limit);
  try {
    return object(JSON.parse(Buffer.from(bytes).toString('utf8')), what);
  } catch (error) {
    if (error instanceof SyntaxError) throw errors.imageInvalid(what, `invalid JSON (${error.message})`);
    throw error;
  }
}

function parsePlatformField(value: unknown): Platform | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const p = value as Record<string, unknown>;
  if (typeof p.os !== 'string' || typeof p.architecture !== 'string') return undefined;
  return typeof p.variant === 'string' && p.variant
    ? { os: p.os, architecture: p.architecture, variant: p.variant }
    : { os: p.os, architecture: p.architecture };
}

/** Parses a descriptor; `what` names it in errors. */
export function parseDescriptor(value: unknown, what: string): Descriptor {
  const d = object(value, what);
  const size = d.size;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0)
    throw errors.imageInvalid(what, 'descriptor without a valid size');
  const platform = parsePlatformField(d.platform);
  return {
    mediaType: typeof d.mediaType === 'string' ? d.mediaType : '',
    digest: parseDigest(d.digest, `${what} digest`),
    size,
    ...(platform ? { platform } : {}),
    ...(typeof d.annotations === 'object' && d.annotations
      ? { annotations: d.annotations as Record<string, string> }
      : {}),
    ...(Array.isArray(d.urls) ? { urls: d.urls.filter((u): u is string => typeof u === 'string') } : {}),
  };
}

/**
 * Parses an index or a manifest. `mediaType` is the Content-Type or descriptor type when known;
 * the document's own mediaType field wins, and the shape decides when neither says.
 */
export function parseManifestDocument(
  bytes: Uint8Array,
  what: string,
  mediaType?: string,
): ParsedIndex | ParsedManifest {
  const doc = parseJson(bytes, what);
  const type = (typeof doc.mediaType === 'string' && doc.mediaType) || mediaType || '';
  if (isSchema1(type) || doc.schemaVersion === 1) {
    throw fail(
      'E_MANIFEST_UNSUPPORTED',
      `${what} is a Docker schema 1 manifest, which is deprecated and unsupported`,
      're-push the image with a current Docker or with `skopeo copy` to convert it to schema 2 or OCI',
    );
  }
  if (isIndex(type) || (!isManifest(type) && Array.isArray(doc.manifests))) {
    if (!Array.isArray(doc.manifests)) throw errors.imageInvalid(what, 'index without manifests');
    if (doc.manifests.length > MAX_INDEX_ENTRIES)
      throw errors.imageInvalid(what, `index lists ${doc.manifests.length} manifests`);
    return {
      kind: 'index',
      mediaType: type || MediaType.ociIndex,
      manifests: doc.manifests.map((m, i) => parseDescriptor(m, `${what} manifests[${i}]`)),
    };
  }
  if (isManifest(type) || (doc.config && Array.isArray(doc.layers))) {
    const config = parseDescriptor(doc.config, `${what} config`);
    if (!isImageConfig(config.mediaType)) {
      throw errors.mediaType(config.mediaType, `${what} config (an OCI artifact, not a container image)`);
    }
    if (!Array.isArray(doc.layers)) throw errors.imageInvalid(what, 'manifest without layers');
    if (doc.layers.length > MAX_LAYERS) throw errors.imageInvalid(what, `manifest lists ${doc.layers.length} layers`);
    const layers = doc.layers.map((l, i) => parseDescriptor(l, `${what} layers[${i}]`));
    for (const layer of layers) {
      if (!isLayer(layer.mediaType)) throw errors.mediaType(layer.mediaType, `${what} layer ${layer.digest}`);
    }
    return { kind: 'manifest', mediaType: type || MediaType.ociManifest, config, layers };
  }
  throw errors.mediaType(type || '(none)', what);
}

/** BuildKit attaches provenance/SBOM manifests to indexes; they are not runnable images. */
export function isAttestation(descriptor: Descriptor): boolean {
  return (
    descriptor.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest' ||
    (descriptor.platform?.os === 'unknown' && descriptor.platform.architecture === 'unknown')
  );
}

/** The variant an architecture has when none is written (arm64 is v8, arm defaults to v7). */
function normalVariant(platform: Platform): string | undefined {
  if (platform.variant) return platform.variant;
  if (platform.architecture === 'arm64') return 'v8';
  if (platform.architecture === 'arm') return 'v7';
  return undefined;
}

/** True when `offered` runs on `wanted`; a wanted platform without variant accepts any variant. */
export function platformMatches(offered: Platform, wanted: Platform): boolean {
  if (offered.os !== wanted.os || offered.architecture !== wanted.architecture) return false;
  return wanted.variant === undefined || normalVariant(offered) === normalVariant(wanted);
}

/**
 * Picks the manifest for a platform from an index. Nested indexes are returned too: the caller
 * fetches and resolves them recursively.
 */
export function selectFromIndex(
  index: ParsedIndex,
  wanted: Platform,
): { chosen: Descriptor | undefined; platforms: Platform[] } {
  const runnable = index.manifests.filter((m) => !isAttestation(m));
  const platforms = runnable.flatMap((m) => (m.platform ? [m.platform] : []));
  const matching = runnable.filter((m) => m.platform && platformMatches(m.platform, wanted));
  // Prefer the default variant (arm64/v8) over others when the user named none.
  const chosen =
    matching.find((m) => normalVariant(m.platform!) === normalVariant(wanted)) ??
    matching[0] ??
    runnable.find((m) => !m.platform && isIndex(m.mediaType));
  return { chosen, platforms };
}

export type DigestOf = (descriptor: Descriptor) => Digest;
