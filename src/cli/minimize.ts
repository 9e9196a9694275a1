import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeLayoutArchive } from '../minimize/layout.js';
import { openSource, pushLayoutTo } from '../sources/index.js';
import { errors, fail } from '../core/errors.js';
import { formatBytes, renderJson, wrapWords } from '../report/format.js';
import { minimize, type MinimizeResult } from '../minimize/index.js';
import { traceAvailable } from '../minimize/trace.js';
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
  -o, --output DEST             where the result goes: DIR or oci:DIR (an OCI layout, replaced
                                atomically), oci-archive:FILE, docker-archive:FILE (docker load
                                takes it), or registry:REF (pushed with your credentials)
  --keep PATH                   keep a file or a directory tree as well (repeatable)
  --entry CMD                   another command the image runs, e.g. --entry "node /app/worker.js"
                                (repeatable)
  --keep-user                   keep the image's user even when it is root
  --base REF                    build on this base (e.g. gcr.io/distroless/cc-debian12, any input
                                form): its files first, then only what it lacks; recorded as the
                                result's org.opencontainers.image.base.name
  --trace                       run the result on this machine (root: a chroot with new mount and
                                PID namespaces, the image's user, environment and directory) under
                                strace; what it looked for and the original has is added, and it
                                runs again, until nothing is missing; then its behaviour is
                                compared with the original's
  --probe URL                   with --trace: GET this loopback URL once the program runs (the
                                answer is the behaviour compared), e.g. http://127.0.0.1:8080/
  --probe-cmd CMD               with --trace: run CMD on this machine instead (its exit status and
                                output are compared)
  --trace-seconds N             how long a traced run may take to answer (default 10)
  -f, --format FORMAT           table (default), json

The result was computed, not run: check it before shipping (the report says so).

${IMAGE_OPTIONS_HELP}
`;

function renderTable(r: MinimizeResult): string {
  const [before, after] = r.comparison.images;
  const out = [
    `${r.input} → ${r.output.destination} (${r.output.manifestDigest})`,
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
    r.trace
      ? `Traced: ${r.trace.iterations} run(s) of the result, ${r.trace.added.length} path(s) added (${r.trace.added.slice(0, 5).join(', ')}${r.trace.added.length > 5 ? ', …' : ''}); ${r.trace.same ? 'it behaved as the original' : `it did NOT behave as the original: ${JSON.stringify(r.trace.minimized)} against ${JSON.stringify(r.trace.original)}`}.`
      : 'Not run: the result was computed from the image, not run. Run it (or its tests, or --trace) before shipping.',
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
        base: { type: 'string' },
        trace: { type: 'boolean' },
        probe: { type: 'string' },
        'probe-cmd': { type: 'string' },
        'trace-seconds': { type: 'string' },
      },
      vulnerabilities: true,
      run: async (source, { values, open, cacheDir, vulnerabilities, signal }) => {
        if (typeof values.output !== 'string' || !values.output)
          throw errors.usage('minimize needs --output DIR', 'e.g. distrolens minimize app.tar --output app-min');
        const trace = values.trace === true || values.probe !== undefined || values['probe-cmd'] !== undefined;
        if (trace) {
          const why = traceAvailable();
          if (why)
            throw fail(
              'E_USAGE',
              `--trace cannot run here: ${why}`,
              'run as root on a Linux machine with strace, or drop --trace',
            );
        }
        const seconds = values['trace-seconds'] !== undefined ? Number(values['trace-seconds']) : 10;
        if (!(seconds > 0))
          throw errors.usage(`invalid --trace-seconds ${String(values['trace-seconds'])}`, 'give a number of seconds');
        if (
          typeof values.probe === 'string' &&
          !/^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?\//.test(values.probe)
        )
          throw errors.usage(
            `--probe ${values.probe} is not a loopback URL`,
            'the program runs on this machine: e.g. --probe http://127.0.0.1:8080/healthz',
          );
        // Where the result goes: a layout directory (oci:DIR or DIR), an archive, or a registry.
        const target = values.output;
        const kind = /^(oci-archive|docker-archive|registry|oci):/.exec(target)?.[1] ?? 'oci';
        const where = target.replace(/^(oci-archive|docker-archive|registry|oci):/, '');
        const cwd = io.cwd ?? process.cwd();
        const layout =
          kind === 'oci'
            ? resolve(cwd, where)
            : join(cacheDir ?? tmpdir(), `.minimize-out-${process.pid}-${randomBytes(4).toString('hex')}`);
        const label =
          kind === 'registry' ? `registry:${where}` : `${kind}:${kind === 'oci' ? layout : resolve(cwd, where)}`;
        const base = typeof values.base === 'string' ? await openSource(values.base, open) : undefined;
        try {
          const result = await minimize(source, {
            label,
            ...(base && typeof values.base === 'string'
              ? { base, baseName: values.base.replace(/^registry:/, '') }
              : {}),
            ...(trace
              ? {
                  trace: {
                    seconds,
                    ...(typeof values.probe === 'string' ? { probe: values.probe } : {}),
                    ...(typeof values['probe-cmd'] === 'string'
                      ? { probeCommand: values['probe-cmd'].split(/\s+/).filter(Boolean) }
                      : {}),
                  },
                }
              : {}),
            output: layout,
            keep: (values.keep as string[] | undefined) ?? [],
            entries: ((values.entry as string[] | undefined) ?? []).map((e) => e.split(/\s+/).filter(Boolean)),
            keepUser: values['keep-user'] === true,
            ...(cacheDir ? { cacheDir } : {}),
            ...(vulnerabilities ? { vulnerabilities } : {}),
            ...(signal ? { signal } : {}),
          });
          if (kind === 'oci-archive' || kind === 'docker-archive')
            await writeLayoutArchive(layout, resolve(cwd, where), kind === 'docker-archive');
          else if (kind === 'registry') {
            const pushed = await pushLayoutTo(where, layout, open);
            if (pushed !== result.output.manifestDigest)
              throw fail('E_INTERNAL', `pushed ${pushed}, expected ${result.output.manifestDigest}`);
          }
          return result;
        } finally {
          await base?.close();
          if (kind !== 'oci') await rm(layout, { recursive: true, force: true });
        }
      },
      render: (r, format) => (format === 'json' ? renderJson(r) : renderTable(r)),
    },
    args,
    io,
  );
