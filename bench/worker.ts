/**
 * One measured run, in its own process so that peak RSS belongs to it alone. Prints JSON:
 * { ms, rssBytes, files }. Modes: `floor BLOB…` gunzips blobs with node:zlib and discards the
 * output; `inspect INPUT CACHE_DIR|-` resolves the image and walks its whole filesystem;
 * `scan INPUT CACHE_DIR` runs the full scan with the blob and layer caches in CACHE_DIR.
 */
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { openSource } from '../src/sources/index.js';
import { BlobCache } from '../src/cache/blobs.js';
import { inspect } from '../src/scan/inspect.js';
import { scanImage } from '../src/scan/scan.js';

const [mode, ...args] = process.argv.slice(2);
const started = performance.now();
let files = 0;
if (mode === 'floor') {
  // The same layers, decompressed concurrently with the zlib settings distrolens uses, output discarded.
  await Promise.all(args.map((blob) => pipeline(createReadStream(blob, { highWaterMark: 1 << 20 }), createGunzip({ chunkSize: 1024 * 1024 }),
    new Writable({ write: (_chunk, _encoding, done) => done() }))));
} else if (mode === 'inspect') {
  const [input, cacheDir] = args as [string, string];
  const source = await openSource(input, { ...(cacheDir === '-' ? {} : { cache: new BlobCache(cacheDir) }), env: {} });
  const { fs } = await inspect(source);
  files = fs.size;
  await source.close();
} else if (mode === 'scan') {
  const [input, cacheDir] = args as [string, string];
  const source = await openSource(input, { cache: new BlobCache(cacheDir), env: {} });
  const layersOnly = args[2] === 'layers-only';
  const { report } = await scanImage(source, { cacheDir, ...(layersOnly ? { resultCache: false } : {}) });
  files = report.size.files;
  await source.close();
} else {
  throw new Error(`unknown mode ${mode}`);
}
const ms = performance.now() - started;
// VmHWM, not getrusage's maxrss: Linux carries ru_maxrss over exec from the forking parent.
const hwm = /VmHWM:\s+(\d+) kB/.exec(await readFile('/proc/self/status', 'utf8'));
process.stdout.write(`${JSON.stringify({ ms, rssBytes: Number(hwm?.[1] ?? 0) * 1024, files })}\n`);
