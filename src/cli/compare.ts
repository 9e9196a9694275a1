import { resolve } from 'node:path';
import { errors } from '../core/errors.js';
import { renderJson } from '../report/format.js';
import { renderCompareMarkdown, renderCompareTable } from '../report/compare-table.js';
import { compareReports } from '../scan/compare.js';
import { renderCompareHtml } from '../report/html.js';
import { scanImage } from '../scan/scan.js';
import { openSource } from '../sources/index.js';
import { mapLimit } from '../util/concurrency.js';
import { parseFormats } from './image-command.js';
import { openVulnOptions } from './db.js';
import { EXIT, writeAtomic, type CliIo } from './io.js';
import { IMAGE_FLAGS, IMAGE_OPTIONS_HELP, openOptions, parseFlags } from './options.js';

export const COMPARE_HELP = `Usage: distrolens compare A B [C…] [options]

Scans each image (concurrently, sharing the cache) and shows them side by side: classification,
grade, size, packages (added, removed, changed versions), each attack-surface category, findings
and known vulnerabilities by severity (which CVEs the other image removes), opening with a verdict
paragraph. The first image is the baseline.

Options:
  -f, --format FORMAT[=FILE]    table (default), json, markdown, html

${IMAGE_OPTIONS_HELP}
`;

/** Images scanned at once: two keep both cores busy without doubling peak memory further. */
const COMPARE_CONCURRENCY = 2;

export async function compareCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(args, IMAGE_FLAGS);
  if (values.help) {
    io.stdout.write(COMPARE_HELP);
    return EXIT.ok;
  }
  if (positionals.length < 2)
    throw errors.usage(
      'compare needs at least two images',
      'e.g. distrolens compare debian:12-slim gcr.io/distroless/base-debian12',
    );
  const outputs = parseFormats(values.format, ['table', 'json', 'markdown', 'html'], values.output);
  const { open, platform } = openOptions(values, io, positionals);
  const vulns = openVulnOptions(values, io);
  let reports;
  try {
    reports = await mapLimit(positionals, COMPARE_CONCURRENCY, async (input) => {
      const source = await openSource(input, open);
      try {
        if (values.offline && source.kind === 'registry') throw errors.offline(source.input);
        return (
          await scanImage(source, {
            ...(platform ? { platform } : {}),
            ...(open.cache ? { cacheDir: open.cache.root } : {}),
            ...(vulns.options ? { vulnerabilities: vulns.options } : {}),
          })
        ).report;
      } finally {
        await source.close();
      }
    });
  } finally {
    vulns.close();
  }
  const comparison = compareReports(reports);
  for (const { format, path } of outputs) {
    const text =
      format === 'json'
        ? renderJson(comparison)
        : format === 'markdown'
          ? renderCompareMarkdown(comparison)
          : format === 'html'
            ? renderCompareHtml(comparison)
            : renderCompareTable(comparison);
    if (path) await writeAtomic(resolve(io.cwd ?? process.cwd(), path), text);
    else io.stdout.write(text);
  }
  return EXIT.ok;
}
