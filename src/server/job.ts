import type { BlobCache } from '../cache/blobs.js';
import { scanImage, type VulnScanOptions } from '../scan/scan.js';
import { openSource, type OpenOptions } from '../sources/index.js';
import type { Progress, ScanRequest } from './queue.js';
import type { Storage } from './storage.js';

/** What a scan job needs besides its request: the same for the server's own queue and for a remote worker. */
export interface JobContext {
  readonly storage: Storage;
  /** Blob cache for pulls, and the directory of the layer and result caches. */
  readonly cache: BlobCache;
  readonly cacheDir: string;
  /** Credentials and limits for pulls (as the CLI builds them). */
  readonly open?: Omit<OpenOptions, 'cache' | 'onDownload' | 'signal'>;
  readonly vulnerabilities?: VulnScanOptions;
}

/**
 * The body of a scan job: pull the image from its registry, scan it, store the report; returns
 * the stored scan's id. Plain data in (the request), plain data out, progress as it goes.
 */
export async function runScanJob(
  request: ScanRequest,
  context: JobContext,
  progress: Progress,
  signal: AbortSignal,
): Promise<string> {
  const downloads = new Map<string, { bytes: number; total: number }>();
  const source = await openSource(`registry:${request.reference}`, {
    ...context.open,
    cache: context.cache,
    signal,
    onDownload: (digest, bytes, total) => {
      downloads.set(digest, { bytes, total });
      let sum = 0;
      let all = 0;
      for (const d of downloads.values()) {
        sum += d.bytes;
        all += d.total;
      }
      progress('pulling', sum, all);
    },
  });
  try {
    progress('reading');
    const { report } = await scanImage(source, {
      cacheDir: context.cacheDir,
      signal,
      ...(context.vulnerabilities ? { vulnerabilities: context.vulnerabilities } : {}),
      onBytes: (layer, bytes) => progress(`reading layer ${layer.index}`, bytes, layer.compressedSize),
    });
    progress('storing');
    return (await context.storage.saveReport(report)).id;
  } finally {
    await source.close();
  }
}
