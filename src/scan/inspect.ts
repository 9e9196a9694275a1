import { redactArgs, redactEnvEntry, redactLabels, redactText } from '../core/redact.js';
import { REPORT_SCHEMA, type InspectReport, type Target } from '../core/report.js';
import { buildFs, type BuildOptions, type LayeredFs } from '../fs/layered.js';
import type { Image, ResolveOptions } from '../image/types.js';
import type { ImageSource } from '../image/types.js';
import { TOOL } from '../version.js';

/** The target description of an image, with per-layer sizes measured by walking the layers. */
export function describeTarget(image: Image, fs: LayeredFs): Target {
  return {
    input: image.source.input,
    source: image.source.kind,
    ...(image.source.reference ? { reference: image.source.reference } : {}),
    ...(image.manifestDigest ? { manifestDigest: image.manifestDigest } : {}),
    ...(image.configDigest ? { configDigest: image.configDigest } : {}),
    platform: image.platform,
    platforms: image.platforms,
    config: {
      ...image.config,
      env: image.config.env.map(redactEnvEntry),
      entrypoint: image.config.entrypoint && redactArgs(image.config.entrypoint),
      cmd: image.config.cmd && redactArgs(image.config.cmd),
      labels: redactLabels(image.config.labels),
      ...(image.config.healthcheck ? { healthcheck: { test: redactArgs(image.config.healthcheck.test) } } : {}),
    },
    layers: image.layers.map((layer, index) => {
      const changes = fs.layers[index]!;
      return {
        index,
        ...(layer.digest ? { digest: layer.digest } : {}),
        ...(layer.diffId ? { diffId: layer.diffId } : {}),
        mediaType: layer.mediaType,
        size: changes.uncompressedSize,
        ...(layer.compressedSize !== undefined ? { compressedSize: layer.compressedSize } : {}),
        files: changes.entries.length,
        ...(layer.createdBy !== undefined ? { createdBy: redactText(layer.createdBy) } : {}),
      };
    }),
  };
}

export interface InspectOptions extends ResolveOptions, Omit<BuildOptions, 'signal'> {}

/** Resolves a source, walks every layer (verifying digests) and describes the image. */
export async function inspect(
  source: ImageSource,
  options: InspectOptions = {},
): Promise<{ report: InspectReport; image: Image; fs: LayeredFs }> {
  const image = await source.resolve(options);
  const fs = await buildFs(image, options);
  const report: InspectReport = {
    schema: REPORT_SCHEMA,
    tool: TOOL,
    target: describeTarget(image, fs),
    warnings: [...image.warnings],
  };
  return { report, image, fs };
}
