import { createHash } from 'node:crypto';
import type { Digest } from '../core/digest.js';
import { errors, fail } from '../core/errors.js';
import { formatPlatform, type Platform } from '../core/platform.js';
import { parseImageConfig } from './config.js';
import {
  MAX_CONFIG_BYTES,
  parseJson,
  parseManifestDocument,
  selectFromIndex,
  type ParsedManifest,
} from './manifest.js';
import { isForeignLayer } from './media.js';
import type { ImageParts, LayerPart } from './partial.js';
import type { BlobLocation, Descriptor, Image, Warning } from './types.js';

/** sha256 of some bytes as a digest. */
export function sha256(bytes: Uint8Array): Digest {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** Throws unless the bytes hash to the digest. */
export function verifyBytes(bytes: Uint8Array, digest: Digest, what: string): void {
  const actual = sha256(bytes);
  if (actual !== digest) throw errors.digestMismatch(what, digest, actual);
}

/** Nested indexes deeper than this are refused (real ones nest at most twice). */
const MAX_INDEX_DEPTH = 4;

export interface ResolvedManifest {
  readonly manifest: ParsedManifest;
  readonly digest?: Digest;
  readonly platforms: readonly Platform[];
}

/**
 * Walks from a root document (an index or a manifest) to the manifest for `platform`, fetching
 * nested documents through `fetch`, which must return verified bytes for a descriptor.
 */
export async function resolveManifest(
  root: { bytes: Uint8Array; mediaType?: string; digest?: Digest; what: string },
  platform: Platform,
  fetch: (descriptor: Descriptor) => Promise<Uint8Array>,
): Promise<ResolvedManifest> {
  let doc = parseManifestDocument(root.bytes, root.what, root.mediaType);
  let digest = root.digest;
  let platforms: Platform[] = [];
  for (let depth = 0; doc.kind === 'index'; depth++) {
    if (depth >= MAX_INDEX_DEPTH)
      throw errors.imageInvalid(root.what, `indexes nested more than ${MAX_INDEX_DEPTH} deep`);
    const selection = selectFromIndex(doc, platform);
    if (selection.platforms.length) platforms = selection.platforms;
    if (!selection.chosen) {
      const offered = [...new Set(platforms.map(formatPlatform))].sort();
      throw fail(
        'E_PLATFORM_NOT_FOUND',
        `no image for ${formatPlatform(platform)} in ${root.what}` +
          (offered.length ? ` (it has: ${offered.join(', ')})` : ''),
        offered.length ? `pass --platform with one of: ${offered.join(', ')}` : 'the index lists no runnable image',
      );
    }
    const chosen = selection.chosen;
    doc = parseManifestDocument(await fetch(chosen), `manifest ${chosen.digest}`, chosen.mediaType);
    digest = chosen.digest;
  }
  return { manifest: doc, ...(digest ? { digest } : {}), platforms };
}

/** Locates a layer blob; returns undefined for blobs the source does not hold (foreign layers). */
export type LocateLayer = (
  descriptor: Descriptor,
  index: number,
) => Promise<{ location: BlobLocation; verified?: boolean } | undefined>;

/** Assembles ImageParts from a manifest, its config bytes (already verified) and a blob locator. */
export async function partsFromManifest(init: {
  source: Image['source'];
  resolved: ResolvedManifest;
  manifestMediaType?: string;
  configBytes: Uint8Array;
  locate: LocateLayer;
}): Promise<ImageParts> {
  const { manifest } = init.resolved;
  const what = `config ${manifest.config.digest}`;
  const rawConfig = parseJson(init.configBytes, what, MAX_CONFIG_BYTES);
  const parsed = parseImageConfig(rawConfig, what);
  if (parsed.diffIds.length !== manifest.layers.length) {
    throw errors.imageInvalid(what, `lists ${parsed.diffIds.length} diff_ids for ${manifest.layers.length} layers`);
  }
  const warnings: Warning[] = [];
  if (parsed.historyMismatch)
    warnings.push({
      code: 'W_HISTORY_MISMATCH',
      message: 'config history does not match the layers; layer commands are unknown',
    });
  const layers: LayerPart[] = [];
  for (const [index, descriptor] of manifest.layers.entries()) {
    const found = await init.locate(descriptor, index);
    if (!found) {
      if (isForeignLayer(descriptor.mediaType)) {
        warnings.push({
          code: 'W_FOREIGN_LAYER',
          message: `layer ${index} (${descriptor.digest}) is a foreign/non-distributable layer and was not read`,
        });
        continue;
      }
      throw errors.imageInvalid(init.source.input, `layer ${descriptor.digest} is missing`);
    }
    layers.push({
      digest: descriptor.digest,
      diffId: parsed.diffIds[index]!,
      mediaType: descriptor.mediaType,
      compressedSize: descriptor.size,
      ...(parsed.layerHistory[index] !== undefined ? { createdBy: parsed.layerHistory[index] } : {}),
      location: found.location,
      ...(found.verified ? { verified: true } : {}),
    });
  }
  return {
    source: init.source,
    ...(init.resolved.digest ? { manifestDigest: init.resolved.digest } : {}),
    manifestMediaType: manifest.mediaType,
    configDigest: manifest.config.digest,
    platform: parsed.platform,
    platforms: init.resolved.platforms,
    config: parsed.config,
    rawConfig,
    layers,
    warnings,
  };
}
