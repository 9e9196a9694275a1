import { errors, fail } from '../../core/errors.js';
import { isDigest, type Digest } from '../../core/digest.js';
import { parseImageConfig } from '../../image/config.js';
import { MAX_CONFIG_BYTES, MAX_LAYERS, MAX_MANIFEST_BYTES, parseJson } from '../../image/manifest.js';
import { MediaType } from '../../image/media.js';
import { imageFromParts, type LayerPart, type PartialOptions } from '../../image/partial.js';
import { verifyBytes } from '../../image/resolve.js';
import type { Image, ImageSource, ResolveOptions, Warning } from '../../image/types.js';
import type { FileTree } from '../../util/filetree.js';

/**
 * `docker save` archives: the legacy layout (`manifest.json`, `<id>/layer.tar`, `<id>.json`) and
 * the Docker 25+ hybrid that is also an OCI layout (`blobs/sha256/…`, `index.json`).
 * https://github.com/moby/moby/blob/master/image/spec/v1.2.md
 */
interface SaveEntry {
  readonly Config: string;
  readonly RepoTags: readonly string[];
  readonly Layers: readonly string[];
}

function parseSaveManifest(bytes: Buffer, origin: string): SaveEntry[] {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw errors.imageInvalid(`${origin}: manifest.json`, 'invalid JSON');
  }
  if (!Array.isArray(doc) || doc.length === 0)
    throw errors.imageInvalid(`${origin}: manifest.json`, 'expected a non-empty list of images');
  return doc.map((entry, i) => {
    const e = entry as Record<string, unknown>;
    if (typeof e?.Config !== 'string' || !Array.isArray(e.Layers) || e.Layers.some((l) => typeof l !== 'string')) {
      throw errors.imageInvalid(`${origin}: manifest.json[${i}]`, 'missing Config or Layers');
    }
    if (e.Layers.length > MAX_LAYERS)
      throw errors.imageInvalid(`${origin}: manifest.json[${i}]`, `${e.Layers.length} layers`);
    const tags = Array.isArray(e.RepoTags) ? e.RepoTags.filter((t): t is string => typeof t === 'string') : [];
    return { Config: e.Config, RepoTags: tags, Layers: e.Layers as string[] };
  });
}

/** A digest spelled by a blob path: `blobs/sha256/<hex>` or the legacy `<hex>.json`. */
function digestFromPath(path: string): Digest | undefined {
  const match = /(?:^|\/)(?:blobs\/sha256\/)?([a-f0-9]{64})(?:\.json)?$/.exec(path);
  const digest = match ? `sha256:${match[1]}` : undefined;
  return isDigest(digest) && (path.startsWith('blobs/') || path.endsWith('.json')) ? digest : undefined;
}

/** Loose tag match: `alpine:3.9` equals `docker.io/library/alpine:3.9`, a bare name means `:latest`. */
export function tagMatches(repoTag: string, wanted: string): boolean {
  const norm = (tag: string): string => {
    let t = tag.replace(/^docker\.io\//, '').replace(/^library\//, '');
    if (!/:[^/]+$/.test(t)) t += ':latest';
    return t;
  };
  return norm(repoTag) === norm(wanted);
}

export interface DockerArchiveOptions extends PartialOptions {
  /** Selects one image by tag when the archive holds several. */
  readonly tag?: string;
  readonly kind?: 'docker-archive' | 'docker-daemon';
  /** The reference to report, when the caller knows it better than the archive's tags. */
  readonly reference?: string;
  readonly input: string;
  readonly close?: () => Promise<void>;
}

/** Opens a docker-save archive already indexed as a FileTree. */
export function dockerArchiveSource(tree: FileTree, options: DockerArchiveOptions): ImageSource {
  const kind = options.kind ?? 'docker-archive';
  return {
    kind,
    input: options.input,
    close: async () => options.close?.(),
    resolve: async (_resolveOptions?: ResolveOptions): Promise<Image> => {
      const entries = parseSaveManifest(await tree.read('manifest.json', MAX_MANIFEST_BYTES), tree.origin);
      let entry: SaveEntry;
      if (options.tag) {
        const found = entries.filter((e) => e.RepoTags.some((t) => tagMatches(t, options.tag!)));
        if (found.length === 0) {
          const tags = entries.flatMap((e) => e.RepoTags);
          throw fail(
            'E_INPUT_NOT_FOUND',
            `${tree.origin} holds no image tagged ${options.tag}`,
            tags.length ? `it holds: ${tags.join(', ')}` : 'the archive has no tags; omit the tag',
          );
        }
        entry = found[0]!;
      } else if (entries.length > 1) {
        const tags = entries.map((e, i) => e.RepoTags.join(', ') || `(untagged #${i})`);
        throw fail(
          'E_IMAGE_AMBIGUOUS',
          `${tree.origin} holds ${entries.length} images: ${tags.join('; ')}`,
          `pick one with docker-archive:${tree.origin}:TAG`,
        );
      } else entry = entries[0]!;

      const configPath = entry.Config;
      const configBytes = await tree.read(configPath, MAX_CONFIG_BYTES);
      const configDigest = digestFromPath(configPath);
      if (configDigest) verifyBytes(configBytes, configDigest, `config ${configPath}`);
      const rawConfig = parseJson(configBytes, `config ${configPath}`, MAX_CONFIG_BYTES);
      const parsed = parseImageConfig(rawConfig, `config ${configPath}`);
      if (parsed.diffIds.length !== entry.Layers.length) {
        throw errors.imageInvalid(
          tree.origin,
          `config lists ${parsed.diffIds.length} diff_ids for ${entry.Layers.length} layers`,
        );
      }
      const warnings: Warning[] = [];
      if (parsed.historyMismatch)
        warnings.push({
          code: 'W_HISTORY_MISMATCH',
          message: 'config history does not match the layers; layer commands are unknown',
        });
      const layers: LayerPart[] = [];
      for (const [index, path] of entry.Layers.entries()) {
        const location = await tree.locate(path);
        const digest = digestFromPath(path);
        layers.push({
          ...(digest ? { digest } : {}),
          diffId: parsed.diffIds[index]!,
          mediaType: MediaType.dockerLayerTar,
          compressedSize: location.length,
          ...(parsed.layerHistory[index] !== undefined ? { createdBy: parsed.layerHistory[index] } : {}),
          location: { kind: 'file', ...location },
        });
      }
      return imageFromParts(
        {
          source: {
            kind,
            input: options.input,
            ...((options.reference ?? entry.RepoTags[0]) ? { reference: options.reference ?? entry.RepoTags[0] } : {}),
          },
          ...(configDigest ? { configDigest } : {}),
          platform: parsed.platform,
          config: parsed.config,
          rawConfig,
          layers,
          warnings,
        },
        options,
      );
    },
  };
}
