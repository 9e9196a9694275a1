/**
 * One measured run, in its own process so that peak RSS belongs to it alone. Prints JSON:
 * { ms, rssBytes, files }. Modes: `floor BLOB…` gunzips blobs with node:zlib and discards the
 * output; `floor-raw BLOB…` the same without gzip's CRC-32 (distrolens's reading of blobs that a
 * digest checks); `inspect INPUT CACHE_DIR|-` resolves the image and walks its whole filesystem;
 * `scan INPUT CACHE_DIR` runs the full scan with the blob and layer caches in CACHE_DIR.
 * Vulnerability database (bench/vuln.ts): `feed-floor DIR` reads every record of the feed files
 * under DIR; `db-update DIR CACHE_DIR` builds the database; `match CACHE_DIR N` matches N packages
 * (files = vulnerabilities found).
 */
import { createReadStream } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';

// Each mode imports what it uses, as each CLI command does: peak RSS includes loaded code.
const [mode, ...args] = process.argv.slice(2);
/** Set after each mode's imports: loading code is not what is measured, memory for it is. */
let started = 0;
let files = 0;
if (mode === 'floor') {
  // The same layers, decompressed concurrently with the zlib settings distrolens uses, output discarded.
  const { INFLATE_CHUNK } = await import('../src/util/compression.js');
  started = performance.now();
  await Promise.all(
    args.map((blob) =>
      pipeline(
        createReadStream(blob, { highWaterMark: 1 << 20 }),
        createGunzip({ chunkSize: INFLATE_CHUNK }),
        new Writable({ write: (_chunk, _encoding, done) => done() }),
      ),
    ),
  );
} else if (mode === 'floor-raw') {
  // For reference: the same with gzip's CRC-32 left out, as distrolens reads digest-checked blobs.
  const { inflate } = await import('../src/util/compression.js');
  started = performance.now();
  await Promise.all(
    args.map(async (blob) => {
      for await (const _ of inflate(
        createReadStream(blob, { highWaterMark: 1 << 20 }),
        'gzip',
        blob,
        undefined,
        true,
      )) {
        /* discard */
      }
    }),
  );
} else if (mode === 'inspect') {
  const [input, cacheDir] = args as [string, string];
  const [{ openSource }, { BlobCache }, { inspect }] = await Promise.all([
    import('../src/sources/index.js'),
    import('../src/cache/blobs.js'),
    import('../src/scan/inspect.js'),
  ]);
  started = performance.now();
  const source = await openSource(input, { ...(cacheDir === '-' ? {} : { cache: new BlobCache(cacheDir) }), env: {} });
  const { fs } = await inspect(source);
  files = fs.size;
  await source.close();
} else if (mode === 'scan') {
  const [input, cacheDir] = args as [string, string];
  const [{ openSource }, { BlobCache }, { scanImage }] = await Promise.all([
    import('../src/sources/index.js'),
    import('../src/cache/blobs.js'),
    import('../src/scan/scan.js'),
  ]);
  started = performance.now();
  const source = await openSource(input, { cache: new BlobCache(cacheDir), env: {} });
  const layersOnly = args[2] === 'layers-only';
  const { report } = await scanImage(source, { cacheDir, ...(layersOnly ? { resultCache: false } : {}) });
  files = report.size.files;
  await source.close();
} else if (mode === 'feed-floor') {
  const { readFeedFile } = await import('../src/vuln/feeds.js');
  started = performance.now();
  for (const file of (await readdir(args[0]!, { recursive: true })).filter((f) => f.endsWith('.zip'))) {
    readFeedFile(join(args[0]!, file), () => files++);
  }
} else if (mode === 'db-update') {
  const { updateDb } = await import('../src/vuln/update.js');
  started = performance.now();
  const status = await updateDb({ source: args[0]!, dbPath: join(args[1]!, 'db', 'vulnerabilities.db') });
  files = status.advisories;
} else if (mode === 'match') {
  const [{ VulnDb }, { matchPackages }, { purl }, { PACKAGES, name }] = await Promise.all([
    import('../src/vuln/db.js'),
    import('../src/vuln/match.js'),
    import('../src/core/package.js'),
    import('./vuln.js'),
  ]);
  started = performance.now();
  const db = VulnDb.open(join(args[0]!, 'db', 'vulnerabilities.db'))!;
  const n = Number(args[1]);
  const pkg = (
    type: import('../src/core/package.js').Package['type'],
    i: number,
    version: string,
  ): import('../src/core/package.js').Package => ({
    type,
    name: name(type, i),
    version,
    ...(type === 'deb' ? { source: name(type, i), sourceVersion: version } : {}),
    purl: purl(type, undefined, name(type, i), version),
    locations: [{ path: '/', layer: 0 }],
  });
  // An image's packages: OS packages and an application's npm tree, spread over the names.
  const deb = Array.from({ length: Math.floor(n * 0.45) }, (_, i) =>
    pkg('deb', (i * 7) % PACKAGES.deb, `${1 + (i % 9)}.${i % 7}-1`),
  );
  const npm = Array.from({ length: Math.floor(n * 0.45) }, (_, i) =>
    pkg('npm', (i * 13) % PACKAGES.npm, `${i % 3}.${i % 20}.0`),
  );
  const apk = Array.from({ length: n - deb.length - npm.length }, (_, i) =>
    pkg('apk', (i * 3) % PACKAGES.apk, `${1 + (i % 9)}.0.0-r0`),
  );
  files =
    matchPackages([...deb, ...npm], { id: 'debian', versionId: '12' }, db).vulnerabilities.length +
    matchPackages(apk, { id: 'alpine', versionId: '3.20.3' }, db).vulnerabilities.length;
  db.close();
} else {
  throw new Error(`unknown mode ${mode}`);
}
const ms = performance.now() - started;
// VmHWM, not getrusage's maxrss: Linux carries ru_maxrss over exec from the forking parent.
const hwm = /VmHWM:\s+(\d+) kB/.exec(await readFile('/proc/self/status', 'utf8'));
process.stdout.write(`${JSON.stringify({ ms, rssBytes: Number(hwm?.[1] ?? 0) * 1024, files })}\n`);
