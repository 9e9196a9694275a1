import { resolve } from 'node:path';
import { errors } from '../core/errors.js';
import { renderJson } from '../report/format.js';
import { renderScanTable } from '../report/scan-table.js';
import { scanImage } from '../scan/scan.js';
import { openSource } from '../sources/index.js';
import { EXIT, writeAtomic, type CliIo } from './io.js';
import { IMAGE_FLAGS, openOptions, parseFlags } from './options.js';
import { Progress } from './progress.js';

export const SCAN_HELP = `Usage: distrolens scan INPUT [options]

Measures an image: OS and classification (distroless, distroless-debug, minimal, general,
scratch), packages, attack surface (shells, package managers, network tools, interpreters, build
tools, privilege tools, setuid/setgid, world-writable, capabilities), accounts (empty passwords,
extra root accounts), config (root user, shell form, secrets in env), size and waste (dive's
definitions), with findings and a score from A to F.

INPUT and options: as for \`distrolens inspect --help\`.
  -f, --format table|json   output format (default table)
`;

/** `distrolens scan`: the main job. */
export async function scanCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(args, IMAGE_FLAGS);
  if (values.help) {
    io.stdout.write(SCAN_HELP);
    return EXIT.ok;
  }
  if (positionals.length !== 1) throw errors.usage(positionals.length ? 'scan takes one INPUT' : 'scan needs an INPUT', 'e.g. distrolens scan alpine:3.20');
  const format = values.format ?? 'table';
  if (format !== 'table' && format !== 'json') throw errors.usage(`unknown format ${format}`, 'use --format table or --format json');
  const { open, platform } = openOptions(values, io);
  const progress = new Progress(io, values.quiet ?? false);
  const source = await openSource(positionals[0]!, { ...open, onDownload: (digest, bytes, total) => progress.update(digest, bytes, total, 'pulling') });
  try {
    const { report } = await scanImage(source, {
      ...(platform ? { platform } : {}),
      ...(open.cache ? { cacheDir: open.cache.root } : {}),
      onBytes: (layer, bytes) => progress.update(`layer${layer.index}`, bytes, layer.compressedSize),
    });
    progress.done();
    const text = format === 'json' ? renderJson(report) : renderScanTable(report);
    if (values.output) await writeAtomic(resolve(io.cwd ?? process.cwd(), values.output), text);
    else io.stdout.write(text);
    return EXIT.ok;
  } finally {
    progress.done();
    await source.close();
  }
}
