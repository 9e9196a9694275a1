import { renderInspectTable } from '../report/inspect-table.js';
import { renderJson } from '../report/format.js';
import { inspect } from '../scan/inspect.js';
import type { CliIo } from './io.js';
import { runImageCommand } from './image-command.js';
import { IMAGE_OPTIONS_HELP } from './options.js';

export const INSPECT_HELP = `Usage: distrolens inspect INPUT [options]

Reads an image without a Docker daemon and prints its reference, digests, platform, config and
layers (digest, diffID, sizes, file count, the command that created it).

Options:
  -f, --format table|json       output format (default table)

${IMAGE_OPTIONS_HELP}
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
      render: (report, format, width) => (format === 'json' ? renderJson(report) : renderInspectTable(report, width)),
    },
    args,
    io,
  );
