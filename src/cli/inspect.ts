import { errors } from '../core/errors.js';
import { renderInspectTable } from '../report/inspect-table.js';
import { renderJson } from '../report/format.js';
import { inspect } from '../scan/inspect.js';
import { openSource } from '../sources/index.js';
import { EXIT, writeAtomic, type CliIo } from './io.js';
import { IMAGE_FLAGS, openOptions, parseFlags } from './options.js';
import { Progress } from './progress.js';
import { resolve } from 'node:path';

export const INSPECT_HELP = `Usage: distrolens inspect INPUT [options]

Reads an image without a Docker daemon and prints its reference, digests, platform, config and
layers (digest, diffID, sizes, file count, the command that created it).

INPUT: alpine:3.20 | registry:REF | docker-archive:PATH[:TAG] | oci-archive:PATH[:TAG|@DIGEST]
       oci:DIR[:TAG|@DIGEST] | rootfs:PATH | docker-daemon:REF | a plain path (detected by content)

Options:
  --platform OS/ARCH[/VARIANT]  pick from a multi-platform index (default linux/amd64)
  -f, --format table|json       output format (default table)
  -o, --output FILE             write to FILE (atomically) instead of stdout
  --cache-dir DIR               blob cache (default $XDG_CACHE_HOME/distrolens)
  --no-cache                    use a temporary cache removed on exit
  --insecure                    plain HTTP to a non-loopback registry
  --username USER               registry user (or DISTROLENS_USERNAME); password from
                                DISTROLENS_PASSWORD or --password; token: DISTROLENS_REGISTRY_TOKEN
  --max-layer-size SIZE         refuse layers larger than this uncompressed (default 32G)
  --max-ratio N                 refuse layers that decompress more than N:1 (default 250)
  -q, --quiet                   no progress on stderr
  --debug                       print the cause chain of errors
`;

/** `distrolens inspect`: resolve, walk, describe. */
export async function inspectCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(args, IMAGE_FLAGS);
  if (values.help) {
    io.stdout.write(INSPECT_HELP);
    return EXIT.ok;
  }
  if (positionals.length !== 1) throw errors.usage(positionals.length ? 'inspect takes one INPUT' : 'inspect needs an INPUT', 'e.g. distrolens inspect alpine:3.20');
  const format = values.format ?? 'table';
  if (format !== 'table' && format !== 'json') throw errors.usage(`unknown format ${format}`, 'use --format table or --format json');
  const { open, platform } = openOptions(values, io);
  const progress = new Progress(io, values.quiet ?? false);
  const source = await openSource(positionals[0]!, {
    ...open,
    onDownload: (digest, bytes, total) => progress.update(digest, bytes, total, 'pulling'),
  });
  try {
    const { report } = await inspect(source, {
      ...(platform ? { platform } : {}),
      onBytes: (layer, bytes) => progress.update(`layer${layer.index}`, bytes, layer.compressedSize),
    });
    progress.done();
    const text = format === 'json' ? renderJson(report) : renderInspectTable(report);
    if (values.output) await writeAtomic(resolve(io.cwd ?? process.cwd(), values.output), text);
    else io.stdout.write(text);
    return EXIT.ok;
  } finally {
    progress.done();
    await source.close();
  }
}
