import { renderInspectTable } from '../report/inspect-table.js';
import { renderJson } from '../report/format.js';
import { inspect } from '../scan/inspect.js';
import type { CliIo } from './io.js';
import { runImageCommand } from './image-command.js';

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
  --registry HOST               the registry those credentials are for (or DISTROLENS_REGISTRY;
                                flags default to INPUT's registry); never sent elsewhere
  --max-layer-size SIZE         refuse layers larger than this uncompressed (default 32G)
  --max-ratio N                 refuse layers that decompress more than N:1 (default 250)
  -q, --quiet                   no progress on stderr
  --debug                       print the cause chain of errors
`;

/** `distrolens inspect`: resolve, walk, describe. */
export const inspectCommand = (args: string[], io: CliIo): Promise<number> =>
  runImageCommand(
    {
      name: 'inspect',
      help: INSPECT_HELP,
      formats: ['table', 'json'],
      run: async (source, { platform, onBytes, signal }) =>
        (await inspect(source, { ...(platform ? { platform } : {}), ...(signal ? { signal } : {}), onBytes })).report,
      render: (report, format) => (format === 'json' ? renderJson(report) : renderInspectTable(report)),
    },
    args,
    io,
  );
