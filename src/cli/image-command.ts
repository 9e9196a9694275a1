import { resolve } from 'node:path';
import { errors } from '../core/errors.js';
import type { Platform } from '../core/platform.js';
import type { Layer } from '../image/types.js';
import type { ImageSource } from '../image/types.js';
import { openSource } from '../sources/index.js';
import { EXIT, writeAtomic, type CliIo } from './io.js';
import { IMAGE_FLAGS, openOptions, parseFlags } from './options.js';
import { Progress } from './progress.js';

/** What a command that reads one image does once the image is open. */
export interface ImageCommand {
  readonly name: string;
  readonly help: string;
  /** Runs on the open source and returns the text for the chosen format. */
  run(source: ImageSource, context: {
    readonly format: 'table' | 'json';
    readonly platform?: Platform;
    readonly cacheDir?: string;
    readonly onBytes: (layer: Layer, bytes: number) => void;
  }): Promise<string>;
}

/**
 * The shared shape of `inspect` and `scan`: flags, one INPUT, a source with progress on a
 * terminal, output to stdout or atomically to --output, the source closed whatever happens.
 */
export async function runImageCommand(command: ImageCommand, args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(args, IMAGE_FLAGS);
  if (values.help) {
    io.stdout.write(command.help);
    return EXIT.ok;
  }
  if (positionals.length !== 1) {
    throw errors.usage(positionals.length ? `${command.name} takes one INPUT` : `${command.name} needs an INPUT`, `e.g. distrolens ${command.name} alpine:3.20`);
  }
  const format = values.format ?? 'table';
  if (format !== 'table' && format !== 'json') throw errors.usage(`unknown format ${format}`, 'use --format table or --format json');
  const { open, platform } = openOptions(values, io);
  const progress = new Progress(io, values.quiet ?? false);
  const source = await openSource(positionals[0]!, { ...open, onDownload: (digest, bytes, total) => progress.update(digest, bytes, total, 'pulling') });
  try {
    const text = await command.run(source, {
      format,
      ...(platform ? { platform } : {}),
      ...(open.cache ? { cacheDir: open.cache.root } : {}),
      onBytes: (layer, bytes) => progress.update(`layer${layer.index}`, bytes, layer.compressedSize),
    });
    progress.done();
    if (values.output) await writeAtomic(resolve(io.cwd ?? process.cwd(), values.output), text);
    else io.stdout.write(text);
    return EXIT.ok;
  } finally {
    progress.done();
    await source.close();
  }
}
