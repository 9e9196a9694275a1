import { join } from 'node:path';
import { errors, fail } from '../core/errors.js';
import { formatBytes, renderJson } from '../report/format.js';
import type { VulnScanOptions } from '../scan/scan.js';
import { DB_FILE_NAME, VulnDb, type DbStatus } from '../vuln/db.js';
import { DEFAULT_SOURCES, feedsFor } from '../vuln/feeds.js';
import { MAINTENANCE_SOURCES, MaintenanceReader, maintenanceSourcesFor } from '../maintenance/store.js';
import { updateDb } from '../vuln/update.js';
import { EXIT, type CliIo } from './io.js';
import { cacheRoot, COMMON_FLAGS, COMMON_OPTIONS_HELP, parseFlags } from './options.js';
import { Progress } from './progress.js';

export const DB_HELP = `Usage: distrolens db update [--source URL|DIR|FILE] [options]
       distrolens db status [--format table|json] [options]

update  builds the local vulnerability database from the OSV exports (Debian, Ubuntu, Alpine,
        Wolfi, Chainguard, Red Hat, Rocky, AlmaLinux, npm, PyPI, Go, Maven, crates.io, RubyGems,
        NuGet), Alpine's secdb and the Wolfi/Chainguard security.json, with the maintenance data:
        endoflife.date's tables and the distributions' repository indexes (Debian, Ubuntu
        Packages; Alpine, Wolfi APKINDEX), for the packages an image has behind its release.
        The new database is built beside the current one and swapped in when complete: a failed
        update changes nothing.
status  shows the database's sources, record counts, schema version and age.

Options:
  --source URL|DIR|FILE  a mirror (URL or directory laid out like the feeds: osv/Debian/all.zip,
                         alpine-secdb/v3.20/main.json, debian/dists/bookworm/main/binary-amd64/Packages.xz,
                         alpine/v3.20/main/x86_64/APKINDEX.tar.gz, eol/debian.md, …) or one file,
                         instead of the public sources; files are recognised by their content
  --offline              never touch the network (a URL source is refused)
  --cache-dir DIR        where the database lives (DIR/db/${DB_FILE_NAME}; default $XDG_CACHE_HOME/distrolens)
  -f, --format FORMAT    status output: table (default) or json
${COMMON_OPTIONS_HELP}
`;

export const DB_FLAGS = {
  ...COMMON_FLAGS,
  source: { type: 'string' },
  offline: { type: 'boolean' },
  'cache-dir': { type: 'string' },
  format: { type: 'string', short: 'f' },
} as const;

/** Where the vulnerability database lives for these flags. */
export const dbPathOf = (values: { 'cache-dir'?: string }, io: CliIo): string =>
  join(cacheRoot(values, io), 'db', DB_FILE_NAME);

/** Default age, in days, past which a scan warns that the database is stale. */
export const DEFAULT_DB_MAX_AGE_DAYS = 7;

/**
 * The vulnerability part of a scan: the database if one was built (it is never downloaded
 * implicitly), --ignore-unfixed and the staleness limit. `close` releases the database.
 */
export function openVulnOptions(
  values: { 'cache-dir'?: string; 'ignore-unfixed'?: boolean; 'db-max-age'?: string },
  io: CliIo,
): { options?: VulnScanOptions; close(): void } {
  const maxAge = values['db-max-age'] !== undefined ? Number(values['db-max-age']) : DEFAULT_DB_MAX_AGE_DAYS;
  if (!(maxAge >= 0))
    throw errors.usage(`invalid --db-max-age ${values['db-max-age']}`, 'give a number of days, e.g. --db-max-age 7');
  const db = VulnDb.open(dbPathOf(values, io));
  if (!db) return { close: () => undefined };
  return {
    options: { source: db, builtAt: db.builtAt, maxAgeDays: maxAge, ignoreUnfixed: values['ignore-unfixed'] ?? false },
    close: () => db.close(),
  };
}

function renderStatus(status: DbStatus, now: Date): string {
  const age = (now.getTime() - Date.parse(status.builtAt)) / 86_400_000;
  const lines = [
    `Database:   ${status.path}`,
    `Schema:     ${status.schemaVersion}`,
    `Built:      ${status.builtAt} (${age < 1 ? 'today' : `${Math.floor(age)} day(s) ago`})`,
    `Advisories: ${status.advisories} for ${status.packages} package names`,
    '',
    'Ecosystem            Advisories',
    ...status.ecosystems.map((e) => `${e.ecosystem.padEnd(20)} ${String(e.advisories).padStart(10)}`),
    '',
    'Source                                    Records  Size      Status',
    ...status.sources.map(
      (s) =>
        `${s.name.padEnd(40).slice(0, 40)} ${String(s.records).padStart(8)}  ${(s.bytes !== undefined ? formatBytes(s.bytes) : '-').padEnd(9)} ${s.status}`,
    ),
  ];
  return `${lines.join('\n')}\n`;
}

/** `distrolens db update|status`. */
export async function dbCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(args, DB_FLAGS);
  if (values.help || positionals.length === 0) {
    io.stdout.write(DB_HELP);
    return values.help ? EXIT.ok : EXIT.input;
  }
  const [action, ...extra] = positionals;
  if (extra.length) throw errors.usage(`db ${action} takes no arguments`, 'see distrolens db --help');
  const path = dbPathOf(values, io);
  if (action === 'update') {
    const progress = new Progress(io, values.quiet ?? false, 'feed(s)');
    let status: DbStatus;
    const maintenance = new MaintenanceReader();
    try {
      status = await updateDb({
        dbPath: path,
        ...(values.source !== undefined ? { source: values.source } : {}),
        offline: values.offline ?? false,
        readers: [maintenance],
        extraSources: MAINTENANCE_SOURCES,
        onProgress: (name, bytes, total) => progress.update(name, bytes, total, 'downloading'),
        onWarning: (message) => {
          progress.done();
          io.stderr.write(`warning: ${message}\n`);
        },
      });
    } finally {
      progress.done();
    }
    if (maintenance.unidentified.length)
      io.stderr.write(
        `warning: ${maintenance.unidentified.length} repository index(es) name no release (a suite such as bookworm-security or v3.20 in the path) and were skipped: ${maintenance.unidentified.slice(0, 3).join(', ')}\n`,
      );
    const missing = status.sources.filter((s) => s.status !== 'ok').length;
    io.stderr.write(
      `database updated: ${status.advisories} advisories from ${status.sources.length - missing} source(s)${missing ? `, ${missing} not found` : ''} → ${path}\n`,
    );
    return EXIT.ok;
  }
  if (action === 'status') {
    const format = values.format ?? 'table';
    if (format !== 'table' && format !== 'json') throw errors.usage(`unknown format ${format}`, 'use table or json');
    const db = VulnDb.open(path);
    if (!db)
      throw fail(
        'E_VULN_DB_MISSING',
        `no vulnerability database at ${path}`,
        `run \`distrolens db update\` (${DEFAULT_SOURCES.length} public feeds, or --source with a mirror)`,
      );
    try {
      const status = db.status();
      io.stdout.write(format === 'json' ? renderJson(status) : renderStatus(status, new Date()));
    } finally {
      db.close();
    }
    return EXIT.ok;
  }
  throw errors.usage(`unknown db action ${JSON.stringify(action)}`, 'use distrolens db update or distrolens db status');
}

/**
 * The first scan without a database fetches the feeds its image needs (feedsFor: its
 * distribution's and its language packages'), from the public sources or DISTROLENS_DB_SOURCE (a
 * mirror), with progress on a terminal, and builds the database; later scans reuse it (and warn
 * when it is stale). Undefined when the fetch failed: the scan goes on without vulnerabilities
 * and says so.
 */
export async function fetchFeedsFor(
  report: {
    readonly os: { readonly id: string; readonly versionId?: string };
    readonly packages: readonly { readonly type: string }[];
  },
  values: { 'cache-dir'?: string; quiet?: boolean; 'ignore-unfixed'?: boolean; 'db-max-age'?: string },
  io: CliIo,
): Promise<{ options?: VulnScanOptions; close(): void; error?: string }> {
  const feeds = feedsFor(report.os, new Set(report.packages.map((p) => p.type)));
  const only = feeds.length ? [...feeds, ...maintenanceSourcesFor(report.os)] : [];
  if (!only.length) return { close: () => undefined, error: 'no feed covers this image' };
  const progress = new Progress(io, values.quiet ?? false, 'feed(s)');
  try {
    await updateDb({
      dbPath: dbPathOf(values, io),
      ...(io.env.DISTROLENS_DB_SOURCE ? { source: io.env.DISTROLENS_DB_SOURCE } : {}),
      only,
      readers: [new MaintenanceReader()],
      extraSources: MAINTENANCE_SOURCES,
      onProgress: (name, bytes, total) => progress.update(name, bytes, total, 'fetching vulnerability feeds'),
    });
  } catch (error) {
    return { close: () => undefined, error: error instanceof Error ? error.message : String(error) };
  } finally {
    progress.done();
  }
  if (!values.quiet) io.stderr.write(`vulnerability database built from ${only.join(', ')}\n`);
  return openVulnOptions(values, io);
}
