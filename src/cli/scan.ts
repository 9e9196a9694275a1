import { renderJson } from '../report/format.js';
import { renderScanTable } from '../report/scan-table.js';
import { scanImage } from '../scan/scan.js';
import type { CliIo } from './io.js';
import { runImageCommand } from './image-command.js';

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
export const scanCommand = (args: string[], io: CliIo): Promise<number> => runImageCommand({
  name: 'scan',
  help: SCAN_HELP,
  run: async (source, { format, platform, cacheDir, onBytes }) => {
    const { report } = await scanImage(source, { ...(platform ? { platform } : {}), ...(cacheDir ? { cacheDir } : {}), onBytes });
    return format === 'json' ? renderJson(report) : renderScanTable(report);
  },
}, args, io);
