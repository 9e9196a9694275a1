import { removeOnExit, sweepStale } from '../util/cleanup.js';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fail } from '../core/errors.js';
import { mapLimit } from '../util/concurrency.js';
import { DEFAULT_RETRY, backOff, type RetryPolicy } from '../util/retry.js';
import { DbBuilder, VulnDb, type DbStatus } from './db.js';
import { DEFAULT_SOURCES, readFeedFile, type FeedSource } from './feeds.js';

/**
 * `db update`: fetch the feeds (or read a local mirror), build a new database file beside the
 * current one, and rename it into place. Any failure leaves the current database as it was.
 */
export interface UpdateOptions {
  /** Where the database lives. */
  readonly dbPath: string;
  /** A mirror URL, a directory, or one feed file; absent: the public feeds (DEFAULT_SOURCES). */
  readonly source?: string;
  /** Refuse to touch the network (a URL source or the defaults fail). */
  readonly offline?: boolean;
  /** Only these feeds of the defaults or of a mirror (what one image needs: feedsFor). */
  readonly only?: readonly string[];
  readonly onProgress?: (name: string, bytes: number, total?: number) => void;
  readonly onWarning?: (message: string) => void;
  readonly now?: () => Date;
  /** Files besides the feeds that belong in the same database (repository indexes, end-of-life data). */
  readonly readers?: readonly DataReader[];
  /** Their public sources, fetched with the feeds (and mapped onto a mirror like them). */
  readonly extraSources?: readonly FeedSource[];
}

/**
 * A reader of another kind of file kept in the database, tried before the feeds. `read` returns
 * what the file was (and how many records it gave), or undefined when it does not recognise it;
 * `finish` writes what it gathered, inside the build's transaction (so a failure leaves the
 * current database as it was).
 */
export interface DataReader {
  read(path: string, name: string, builder: DbBuilder): Promise<{ kind: string; records: number } | undefined>;
  finish(builder: DbBuilder): void;
}

/** A feed to read: already on disk, or to download first. */
interface Item {
  readonly name: string;
  readonly url?: string;
  readonly path?: string;
}

/** Files a directory source may hold: feeds, and what readers recognise (indexes, end-of-life tables). */
const FEED_FILE = /\.(zip|json|ya?ml|md|csv|gz|xz)$|(^|[/_])(Packages|APKINDEX|Release|InRelease)$/i;
const VULN_FEED_FILE = /\.(zip|json|ya?ml)$/i;
const DOWNLOADS_IN_FLIGHT = 4;
/** Feeds are large and few: three tries, backing off as the registry client does. */
const RETRY: RetryPolicy = { ...DEFAULT_RETRY, attempts: 3 };

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(path)));
    else if (entry.isFile() && FEED_FILE.test(entry.name)) out.push(path);
  }
  return out.sort();
}

/** What `--source` names, as a list of feeds. */
async function itemsOf(source: string | undefined, offline: boolean, defaults: readonly FeedSource[]): Promise<Item[]> {
  const remote = (list: readonly FeedSource[]): Item[] => {
    if (offline)
      throw fail(
        'E_OFFLINE',
        'db update needs the network for its sources, and --offline forbids it',
        'pass --source DIR or FILE with a local mirror, or drop --offline',
      );
    return list.map((s) => ({ name: s.name, url: s.url }));
  };
  if (source === undefined) return remote(defaults);
  if (/^https?:\/\//i.test(source)) {
    const base = source.replace(/\/+$/, '');
    // One feed file by URL, or a mirror that serves the default sources under their names.
    if (FEED_FILE.test(new URL(base).pathname)) return remote([{ name: basename(new URL(base).pathname), url: base }]);
    return remote(
      defaults.map((s) => ({
        name: s.name,
        url: `${base}/${s.name.split('/').map(encodeURIComponent).join('/')}`,
      })),
    );
  }
  const info = await stat(source).catch(() => undefined);
  if (!info)
    throw fail(
      'E_INPUT_NOT_FOUND',
      `--source ${source} does not exist`,
      'pass a mirror URL, a directory of feed files, or one feed file',
    );
  if (info.isFile()) return [{ name: basename(source), path: source }];
  const files = await filesUnder(source);
  if (!files.length)
    throw fail(
      'E_FEED_INVALID',
      `--source ${source} holds no feed files (.zip, .json, .yaml, Packages, APKINDEX, .md, .csv)`,
      'lay it out like the public sources: osv/<Ecosystem>/all.zip, alpine-secdb/<release>/main.json, debian/dists/<suite>/main/binary-amd64/Packages.xz',
    );
  return files.map((path) => ({ name: relative(source, path), path }));
}

/** Streams a download to `path` with progress; checks length and GCS's MD5 when sent; returns its sha256 and size, or undefined on 404. */
async function download(
  item: Item,
  path: string,
  options: UpdateOptions,
  signal: AbortSignal,
): Promise<{ sha256: string; bytes: number } | undefined> {
  for (let attempt = 1; ; attempt++) {
    let response: Response;
    try {
      response = await fetch(item.url!, { signal, redirect: 'follow' });
    } catch (error) {
      if (attempt < RETRY.attempts && !signal.aborted) {
        await backOff(RETRY, attempt, undefined, signal);
        continue;
      }
      throw fail(
        'E_NETWORK',
        `${item.url}: ${(error as Error).message}`,
        'check the network or use --source with a local mirror',
        error,
      );
    }
    if (response.status === 404) return undefined;
    if (!response.ok || !response.body) {
      if ((response.status === 429 || response.status >= 500) && attempt < RETRY.attempts) {
        await response.body?.cancel();
        await backOff(RETRY, attempt, response.headers.get('retry-after'), signal);
        continue;
      }
      throw fail(
        'E_NETWORK',
        `${item.url}: HTTP ${response.status}`,
        'the feed server refused; retry later or use --source with a mirror',
      );
    }
    const total = Number(response.headers.get('content-length') ?? NaN);
    const md5 = /md5=([^,]+)/.exec(response.headers.get('x-goog-hash') ?? '')?.[1];
    const sha256 = createHash('sha256');
    const md5Hash = createHash('md5');
    let bytes = 0;
    const count = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        bytes += chunk.length;
        sha256.update(chunk);
        md5Hash.update(chunk);
        options.onProgress?.(item.name, bytes, Number.isFinite(total) ? total : undefined);
        done(null, chunk);
      },
    });
    await pipeline(
      Readable.fromWeb(response.body as never),
      count,
      createWriteStream(path, { flags: 'w', mode: 0o600 }),
      { signal },
    );
    if (Number.isFinite(total) && bytes !== total)
      throw fail(
        'E_BLOB_TRUNCATED',
        `${item.url}: truncated (expected ${total} bytes, got ${bytes})`,
        'retry; the download was cut short',
      );
    const gotMd5 = md5Hash.digest('base64');
    if (md5 && md5 !== gotMd5)
      throw fail(
        'E_DIGEST_MISMATCH',
        `${item.url}: MD5 ${gotMd5} differs from the server's ${md5}`,
        'retry; the download is corrupt',
      );
    return { sha256: sha256.digest('hex'), bytes };
  }
}

/** Runs an update; returns the new database's status. */
export async function updateDb(options: UpdateOptions): Promise<DbStatus> {
  const all = await itemsOf(options.source, options.offline ?? false, [
    ...DEFAULT_SOURCES,
    ...(options.extraSources ?? []),
  ]);
  const items = options.only ? all.filter((item) => options.only!.includes(item.name)) : all;
  const dir = dirname(options.dbPath);
  await mkdir(dir, { recursive: true });
  // What a killed update left (its pid is in the names) goes first; this one's is removed if stopped.
  sweepStale(dir, '.update-');
  sweepStale(dir, '.tmp-', true);
  const stamp = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const work = join(dir, `.update-${stamp}`);
  const next = `${options.dbPath}.tmp-${stamp}`;
  const unregister = [work, next, `${next}-journal`, `${next}-wal`, `${next}-shm`].map(removeOnExit);
  let builder: DbBuilder | undefined;
  try {
    await mkdir(work);
    // Downloads run concurrently; the build reads the files one at a time, in a stable order.
    const fetched = await mapLimit(items, DOWNLOADS_IN_FLIGHT, async (item, index, signal) => {
      if (!item.url) return { item, path: item.path!, ...(await stat(item.path!).then((s) => ({ bytes: s.size }))) };
      const path = join(work, String(index));
      const got = await download(item, path, options, signal);
      return got ? { item, path, ...got } : { item, missing: true as const };
    });
    const missing = fetched.filter((f) => 'missing' in f).map((f) => f.item.name);
    if (missing.length) {
      // A mirror rarely carries every feed; one line says which ones it lacked.
      options.onWarning?.(
        `${missing.length} feed(s) not found at the source and skipped: ${missing.slice(0, 4).join(', ')}${missing.length > 4 ? ` and ${missing.length - 4} more (see db status)` : ''}`,
      );
    }
    builder = new DbBuilder(next);
    for (const f of fetched) {
      const location = f.item.url ?? f.item.path!;
      if ('missing' in f) {
        builder.addSource({ name: f.item.name, location, records: 0, status: 'missing' });
        continue;
      }
      const before = builder.records;
      let kind;
      let records: number | undefined;
      try {
        for (const reader of options.readers ?? []) {
          const read = await reader.read(f.path, f.item.name, builder);
          if (read) ({ kind, records } = read);
          if (read) break;
        }
        if (!kind && VULN_FEED_FILE.test(f.item.name))
          kind = readFeedFile(f.path, (record) => builder!.add(record, f.item.name));
      } catch (error) {
        throw fail(
          'E_FEED_INVALID',
          `${f.item.name}: ${(error as Error).message}`,
          'the feed file is corrupt; download it again (the current database is unchanged)',
          error,
        );
      }
      if (!kind) {
        if (f.item.url || items.length === 1)
          throw fail(
            'E_FEED_INVALID',
            `${f.item.name}: not an OSV export, OSV record or secfixes database`,
            'check the source; the current database is unchanged',
          );
        options.onWarning?.(`${f.item.name}: not a feed file (skipped)`);
        continue;
      }
      builder.addSource({
        name: f.item.name,
        location,
        kind,
        records: records ?? builder.records - before,
        status: 'ok',
        ...('bytes' in f && f.bytes !== undefined ? { bytes: f.bytes } : {}),
        ...('sha256' in f && f.sha256 ? { sha256: f.sha256 } : {}),
      });
    }
    // A source that yielded nothing (a mistyped mirror URL) must not replace a working database.
    if (!builder.sources)
      throw fail(
        'E_FEED_INVALID',
        `no feed could be read from ${options.source ?? 'the public sources'}`,
        'check the mirror URL or directory; the current database is unchanged',
      );
    for (const reader of options.readers ?? []) reader.finish(builder);
    builder.finish(options.now?.() ?? new Date());
    builder = undefined;
    await rename(next, options.dbPath);
  } finally {
    builder?.abandon();
    await rm(next, { force: true });
    await rm(`${next}-journal`, { force: true });
    await rm(work, { recursive: true, force: true });
    for (const done of unregister) done();
  }
  const db = VulnDb.open(options.dbPath)!;
  try {
    return db.status();
  } finally {
    db.close();
  }
}
