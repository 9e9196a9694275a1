import { terminalSafe } from '../report/format.js';
import { resolve } from 'node:path';
import { readFile } from 'node:fs/promises';
import { errors, fail } from '../core/errors.js';
import { parsePolicy, type Policy } from '../policy/index.js';
import type { Platform } from '../core/platform.js';
import type { Severity } from '../core/finding.js';
import type { Layer } from '../image/types.js';
import type { ImageSource } from '../image/types.js';
import { openSource, type OpenOptions } from '../sources/index.js';
import type { ParseArgsConfig } from 'node:util';
import { EXIT, writeAtomic, type CliIo } from './io.js';
import { IMAGE_FLAGS, openOptions, parseDuration, parseFailOn, parseFlags } from './options.js';
import { Progress } from './progress.js';
import { fetchFeedsFor, openVulnOptions } from './db.js';
import type { VulnScanOptions } from '../scan/scan.js';

/** What a command that reads one image does once the image is open. */
export interface ImageCommand<R> {
  readonly name: string;
  readonly help: string;
  /** Output formats it renders; the first is the default. */
  readonly formats: readonly string[];
  /** Options of its own, besides the shared image flags. */
  readonly flags?: NonNullable<ParseArgsConfig['options']>;
  run(
    source: ImageSource,
    context: {
      /** Every parsed flag, the command's own included. */
      readonly values: Readonly<Record<string, string | boolean | string[] | boolean[] | undefined>>;
      /** How sources are opened (cache, credentials, limits), for commands that open more images. */
      readonly open: OpenOptions;
      readonly platform?: Platform;
      readonly cacheDir?: string;
      readonly onBytes: (layer: Layer, bytes: number) => void;
      /** Aborts when --timeout runs out. */
      readonly signal?: AbortSignal;
      /** The vulnerability database and its options, when one has been built. */
      readonly vulnerabilities?: VulnScanOptions;
    },
  ): Promise<R>;
  /**
   * The result matched again against a database built after the scan (the first run's fetch of
   * the feeds the image needs), without reading the image again.
   */
  rematch?(result: R, vulnerabilities: VulnScanOptions): R;
  /** A last step with the network, after any rematch (scan: where the base's tag points now); not with --offline. */
  online?(result: R, context: { readonly open: OpenOptions; readonly vulnerabilities?: VulnScanOptions }): Promise<R>;
  /** `width`: the terminal's, when the output goes to one; undefined otherwise. */
  render(result: R, format: string, width?: number): string;
  /** --output names the image the command writes (minimize), not where its report goes. */
  readonly outputIsImage?: boolean;
  /** True when the command reports vulnerabilities (the database is opened for it). */
  readonly vulnerabilities?: boolean;
  /** The gate: an exit code and a message when the result fails it (--fail-on, --policy). */
  gate?(
    result: R,
    options: { readonly failOn?: Severity; readonly policy?: Policy },
  ): { readonly code: number; readonly message: string } | undefined;
}

export async function loadPolicy(path: string): Promise<Policy> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw fail('E_INPUT_NOT_FOUND', `policy file ${path} cannot be read`, 'check the path given to --policy');
  }
  return parsePolicy(text, path);
}

/**
 * `--format F` (repeatable): `F` goes to stdout or --output, `F=PATH` to its own file, so one scan
 * can write SARIF for code scanning and JSON for archiving in one run.
 */
export function parseFormats(
  values: readonly string[] | undefined,
  allowed: readonly string[],
  output: string | undefined,
): { format: string; path?: string }[] {
  const requested = (values?.length ? values : [allowed[0]!]).map((v) => {
    const eq = v.indexOf('=');
    return eq < 0 ? { format: v } : { format: v.slice(0, eq), path: v.slice(eq + 1) };
  });
  for (const r of requested) {
    if (!allowed.includes(r.format))
      throw errors.usage(`unknown format ${r.format}`, `use one of: ${allowed.join(', ')}`);
    if (r.path === '')
      throw errors.usage(`--format ${r.format}= needs a file name`, `e.g. --format ${r.format}=report.${r.format}`);
  }
  const bare = requested.filter((r) => r.path === undefined);
  if (bare.length > 1)
    throw errors.usage(
      'only one --format can go to standard output',
      'give the others a file: --format sarif=out.sarif',
    );
  return requested.map((r) => (r.path === undefined && output ? { format: r.format, path: output } : r));
}

/**
 * The shared shape of `inspect` and `scan`: flags, one INPUT, a source with progress on a
 * terminal, output to stdout or atomically to --output, the source closed whatever happens.
 */
export async function runImageCommand<R>(command: ImageCommand<R>, args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(args, { ...IMAGE_FLAGS, ...command.flags });
  if (values.help) {
    io.stdout.write(command.help);
    return EXIT.ok;
  }
  if (positionals.length !== 1) {
    throw errors.usage(
      positionals.length ? `${command.name} takes one INPUT` : `${command.name} needs an INPUT`,
      `e.g. distrolens ${command.name} alpine:3.20`,
    );
  }
  const outputs = parseFormats(values.format, command.formats, command.outputIsImage ? undefined : values.output);
  const logFormat = values['log-format'] ?? 'text';
  if (logFormat !== 'text' && logFormat !== 'json')
    throw errors.usage(`unknown --log-format ${logFormat}`, 'use --log-format text or --log-format json');
  // Output is never coloured; --no-color and NO_COLOR are accepted so that scripts can pass them.
  const failOn = parseFailOn(values['fail-on']);
  if ((failOn !== undefined || values.policy !== undefined) && !command.gate)
    throw errors.usage(`${command.name} does not gate`, 'use distrolens scan --fail-on SEVERITY or --policy FILE');
  // Read and validate the policy before any image work: a typo should not cost a pull.
  const policy =
    values.policy !== undefined ? await loadPolicy(resolve(io.cwd ?? process.cwd(), values.policy)) : undefined;
  const timeoutMs = typeof values.timeout === 'string' ? parseDuration(values.timeout, 'timeout') : undefined;
  const signal = timeoutMs !== undefined ? AbortSignal.timeout(timeoutMs) : undefined;
  const { open: unbounded, platform } = openOptions(values, io, positionals);
  const open = { ...unbounded, ...(signal ? { signal } : {}) };
  const progress = new Progress(io, values.quiet ?? false);
  // The database first: a broken one is reported before any image work.
  let vulns = command.vulnerabilities ? openVulnOptions(values, io) : undefined;
  let source: ImageSource;
  try {
    source = await openSource(positionals[0]!, {
      ...open,
      onDownload: (digest, bytes, total) => progress.update(digest, bytes, total, 'pulling'),
    });
  } catch (error) {
    vulns?.close();
    throw error;
  }
  try {
    if (values.offline && source.kind === 'registry') throw errors.offline(source.input);
    let result: R = await command
      .run(source, {
        values,
        open,
        ...(platform ? { platform } : {}),
        ...(open.cache ? { cacheDir: open.cache.root } : {}),
        // Keyed like the download of the same blob: a layer pulled then read is one layer.
        onBytes: (layer, bytes) => progress.update(layer.digest ?? `layer${layer.index}`, bytes, layer.compressedSize),
        ...(vulns?.options ? { vulnerabilities: vulns.options } : {}),
        ...(signal ? { signal } : {}),
      })
      .catch((error: unknown) => {
        // The budget ran out: whatever was interrupted, the answer is E_TIMEOUT.
        if (signal?.aborted) throw errors.timeout(`${command.name} of ${source.input}`, timeoutMs!);
        throw error;
      });
    progress.done();
    // No database yet: fetch the feeds this image needs, build it, and match again (never with
    // --offline, --skip-db-update or DISTROLENS_SKIP_DB_UPDATE).
    const skip = values.offline || values['skip-db-update'] || io.env.DISTROLENS_SKIP_DB_UPDATE === '1';
    if (vulns && !vulns.options && command.rematch && !skip) {
      const fetched = await fetchFeedsFor(result as never, values, io);
      if (fetched.options) {
        vulns.close();
        vulns = fetched;
        result = command.rematch(result, fetched.options);
      } else io.stderr.write(terminalSafe(`warning: the vulnerability feeds could not be fetched: ${fetched.error}\n`));
    }
    if (command.online && !values.offline)
      result = await command.online(result, { open, ...(vulns?.options ? { vulnerabilities: vulns.options } : {}) });
    if (vulns && !vulns.options && !values.quiet)
      io.stderr.write(
        'warning W_VULN_DB_MISSING: vulnerabilities were not checked (no database); run `distrolens db update`, or scan without --offline / --skip-db-update to fetch the feeds this image needs\n',
      );
    for (const { format, path } of outputs) {
      const width = !path && io.stdout.isTTY ? (io.stdout.columns ?? 80) : undefined;
      const text = command.render(result, format, width);
      if (path) await writeAtomic(resolve(io.cwd ?? process.cwd(), path), text);
      else io.stdout.write(text);
    }
    const verdict = command.gate?.(result, {
      ...(failOn !== undefined ? { failOn } : {}),
      ...(policy ? { policy } : {}),
    });
    if (verdict) {
      io.stderr.write(
        values['log-format'] === 'json'
          ? `${JSON.stringify({ level: 'error', code: 'GATE_FAILED', message: verdict.message })}\n`
          : terminalSafe(`${verdict.message}\n`),
      );
      return verdict.code;
    }
    return EXIT.ok;
  } finally {
    progress.done();
    vulns?.close();
    await source.close();
  }
}
