import { stat } from 'node:fs/promises';
import { EMPTY_CONFIG } from '../../image/config.js';
import { imageFromParts, type PartialOptions } from '../../image/partial.js';
import type { Image, ImageSource } from '../../image/types.js';
import { DEFAULT_PLATFORM } from '../../core/platform.js';

/**
 * A root filesystem, as a directory or a tarball (plain, gzip, xz or zstd), seen as a one-layer
 * image with an empty config: nothing is known about how it would run.
 */
export interface RootfsOptions extends PartialOptions {
  readonly input: string;
  readonly close?: () => Promise<void>;
}

export function rootfsSource(path: string, options: RootfsOptions): ImageSource {
  return {
    kind: 'rootfs',
    input: options.input,
    close: async () => options.close?.(),
    resolve: async (): Promise<Image> => {
      const info = await stat(path);
      return imageFromParts(
        {
          source: { kind: 'rootfs', input: options.input },
          platform: DEFAULT_PLATFORM,
          config: EMPTY_CONFIG,
          rawConfig: {},
          layers: [
            {
              mediaType: info.isDirectory() ? 'inode/directory' : 'application/x-tar',
              ...(info.isDirectory() ? {} : { compressedSize: info.size }),
              location: info.isDirectory()
                ? { kind: 'directory', path }
                : { kind: 'file', path, offset: 0, length: info.size },
            },
          ],
          warnings: [
            {
              code: 'W_ROOTFS_NO_CONFIG',
              message: 'a root filesystem has no image config: user, entrypoint and platform are unknown',
            },
          ],
        },
        options,
      );
    },
  };
}
