import { errors } from '../core/errors.js';
import type { Image, LayerStats } from './types.js';

/**
 * The conformance check every source must pass (go-containerregistry's validate.Image): the config
 * lists one diff_id per layer, every layer streams to its end, its compressed bytes match the
 * manifest's size and digest and its uncompressed bytes match the diff_id (Layer.walk verifies
 * both when asked to), and it is a readable tar.
 */
export async function validateImage(image: Image): Promise<LayerStats[]> {
  const stats: LayerStats[] = [];
  for (const layer of image.layers) {
    if (image.source.kind !== 'rootfs' && !layer.diffId)
      throw errors.imageInvalid(image.source.input, `layer ${layer.index} has no diff_id`);
    let entries = 0;
    const result = await layer.walk(
      () => {
        entries++;
      },
      { verifyDiffId: true },
    );
    if (result.entries !== entries)
      throw errors.imageInvalid(image.source.input, `layer ${layer.index} entry count is inconsistent`);
    if (layer.compressedSize !== undefined && layer.compressedSize > 0 && result.uncompressedSize === 0) {
      throw errors.imageInvalid(image.source.input, `layer ${layer.index} is empty`);
    }
    stats.push(result);
  }
  return stats;
}
