import type { BlobCache } from '../cache/blobs.js';
import { scanImage, type VulnScanOptions } from '../scan/scan.js';
import { openSource, type OpenOptions } from '../sources/index.js';
import type { JobOrder, Progress } from './queue.js';
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

/** The vulnerability database's identity as stored with a report: its build time. */
export const vulnDbId = (options: VulnScanOptions | undefined): string => options?.builtAt?.toISOString() ?? 'none';

/**
 * The body of a scan job: pull the image from its registry, scan it, store the report; returns
 * the stored scan's id. Plain data in (the order), plain data out, progress as it goes. A crawl's
 * digest that has a report already (another tag, another worker) is not pulled again, and a
 * retried job stores its report once.
 */
export async function runScanJob(
  request: JobOrder,
  context: JobContext,
  progress: Progress,
  signal: AbortSignal,
): Promise<string> {
  if (request.source === 'crawl' && request.digest) {
    const known = await context.storage.findByDigest(request.digest);
    if (known) return known.id;
  }
  const downloads = new Map<string, { bytes: number; total: number }>();
  const source = await openSource(`registry:${request.reference}`, {
    ...context.open,
    ...(request.insecure ? { insecure: true } : {}),
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
    const saved = await context.storage.saveReport(report, {
      jobKey: request.jobId,
      ...(request.digest ? { digest: request.digest } : {}),
      vulnDb: vulnDbId(context.vulnerabilities),
    });
    // A user's scan joins the fleet under the reference asked for; a crawl recorded its tags already.
    if (request.source !== 'crawl' && saved.digest)
      await context.storage.recordTags([{ reference: request.reference, digest: saved.digest, source: 'scan' }]);
    return saved.id;
  } finally {
    await source.close();
  }
}
