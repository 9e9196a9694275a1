import { resolve } from 'node:path';
import { errors } from '../core/errors.js';
import { formatBytes, renderJson, wrapWords } from '../report/format.js';
import { minimize, type MinimizeResult } from '../minimize/index.js';
import type { CliIo } from './io.js';
import { runImageCommand } from './image-command.js';
import { IMAGE_OPTIONS_HELP } from './options.js';

export const MINIMIZE_HELP = `Usage: distrolens minimize INPUT --output DIR [options]

Turns an image into one that holds only what its program needs, computed from the image itself
(no Docker daemon, nothing run): the command (ENTRYPOINT + CMD), its ELF interpreter and shared
libraries as ld.so resolves them, libraries and files its binaries name, NSS modules, script
interpreters, the application folder of node, python or java, and the files processes read at
run time (passwd, group, nsswitch.conf, hosts, CA certificates, openssl.cnf, time zones). The
result is an OCI layout with the original config (running as 65532 unless --keep-user), one
layer for the runtime and one for the application, the same digests for the same input, and
package records (/var/lib/dpkg/status.d, apk's database) for the packages whose files were
kept, so scanners still see what is inside. It is scanned and compared with the original.

Options:
  -o, --output DIR              where the OCI layout is written (replaced atomically); scan it
                                with oci:DIR
  --keep PATH                   keep a file or a directory tree as well (repeatable)
  --entry CMD                   another command the image runs, e.g. --entry "node /app/worker.js"
                                (repeatable)
  --keep-user                   keep the image's user even when it is root
  -f, --format FORMAT           table (default), json

The result was computed, not run: check it before shipping (the report says so).

${IMAGE_OPTIONS_HELP}
`;

function renderTable(r: MinimizeResult): string {
  const [before, after] = r.comparison.images;
  const out = [
    `${r.input} → ${r.output.layout} (${r.output.manifestDigest})`,
    '',
    ...wrapWords(r.comparison.verdict, 80),
    '',
    `Size: ${formatBytes(before!.size.uncompressed)} → ${formatBytes(after!.size.uncompressed)} (${((after!.size.uncompressed / Math.max(1, before!.size.uncompressed)) * 100).toFixed(1)} %), files ${before!.size.files} → ${after!.size.files}, packages ${before!.packages} → ${after!.packages}, grade ${before!.grade} → ${after!.grade}, user ${r.output.user}`,
  ];
  const removed = Object.entries(r.removed);
  if (removed.length) {
    out.push('', 'Removed:');
    for (const [list, paths] of removed)
      out.push(
        ...wrapWords(`${list} (${paths.length}): ${paths.join(', ')}`, 76).map((l, i) => (i ? `    ${l}` : `  ${l}`)),
      );
  }
  const byReason = new Map<string, number>();
  for (const k of r.kept) {
    const reason = k.reason.replace(/ of \/\S+| by \/\S+|\(.*\)$/g, '').trim();
    byReason.set(reason, (byReason.get(reason) ?? 0) + 1);
  }
  out.push('', `Kept: ${r.kept.length} path(s) (--format json lists each with its reason)`);
  for (const [reason, n] of [...byReason].sort((a, b) => b[1] - a[1]).slice(0, 10))
    out.push(`  ${String(n).padStart(6)}  ${reason}`);
  if (r.missing.length) out.push('', ...wrapWords(`Needed but not in the image: ${r.missing.join(', ')}`, 80));
  out.push(
    '',
    r.traced
      ? 'Traced: the result ran and behaved as the original.'
      : 'Not run: the result was computed from the image, not run. Run it (or its tests) before shipping.',
  );
  return `${out.join('\n')}\n`;
}

export const minimizeCommand = (args: string[], io: CliIo): Promise<number> =>
  runImageCommand<MinimizeResult>(
    {
      name: 'minimize',
      help: MINIMIZE_HELP,
      formats: ['table', 'json'],
      outputIsImage: true,
      flags: {
        keep: { type: 'string', multiple: true },
        entry: { type: 'string', multiple: true },
        'keep-user': { type: 'boolean' },
      },
      vulnerabilities: true,
      run: async (source, { values, cacheDir, vulnerabilities, signal }) => {
        if (typeof values.output !== 'string' || !values.output)
          throw errors.usage('minimize needs --output DIR', 'e.g. distrolens minimize app.tar --output app-min');
        return minimize(source, {
          output: resolve(io.cwd ?? process.cwd(), values.output.replace(/^oci:/, '')),
          keep: (values.keep as string[] | undefined) ?? [],
          entries: ((values.entry as string[] | undefined) ?? []).map((e) => e.split(/\s+/).filter(Boolean)),
          keepUser: values['keep-user'] === true,
          ...(cacheDir ? { cacheDir } : {}),
          ...(vulnerabilities ? { vulnerabilities } : {}),
          ...(signal ? { signal } : {}),
        });
      },
      render: (r, format) => (format === 'json' ? renderJson(r) : renderTable(r)),
    },
    args,
    io,
  );
