import type { CaptureRequest, Extracted, Kept } from '../fs/types.js';
import type { Extractor } from '../analyzers/types.js';

/** Largest content kept for a reader: package databases reach a few MB (Ubuntu's status ~1 MB). */
export const MAX_CAPTURE_BYTES = 16 * 1024 * 1024;
/** Binaries and archives larger than this are not opened for extraction (one at a time per layer). */
export const MAX_EXTRACT_BYTES = 256 * 1024 * 1024;

/** What declares, before the walk, which files it reads and what it extracts (analyzers, OS detection). */
export interface Reader {
  readonly id: string;
  readonly reads?: (path: string, size: number) => boolean | number;
  readonly extract?: Extractor<unknown>;
}

/** Runs the extractors that want a file, each kept under its reader's id; undefined when none found anything. */
function extractAll(
  extractors: readonly { id: string; extract: Extractor<unknown> }[],
  path: string,
  data: Buffer,
  mode: number,
): Extracted | undefined {
  let results: Record<string, unknown> | undefined;
  for (const { id, extract } of extractors) {
    if (!extract.match(path, data.length, mode)) continue;
    try {
      const result = extract.run(data, path);
      if (result !== undefined) (results ??= {})[id] = result;
    } catch {
      // A malformed binary or archive yields nothing; it is not an error of the scan.
    }
  }
  return results;
}

/**
 * What a walk keeps, asked about every file of every layer (tens of thousands of times per image,
 * on the thread the walk is waiting for): the readers' tests are taken out once into
 * arrays of functions called in plain loops. A file is read up to the largest limit anyone asks
 * for; its bytes are kept up to the largest `reads` limit, and what extractors found is kept
 * beside them, never in their place.
 */
export function capturePlan(readers: readonly Reader[]): CaptureRequest {
  const reads = readers.flatMap((r) => (r.reads ? [r.reads] : []));
  const extractors = readers.flatMap((r) => (r.extract ? [{ id: r.id, extract: r.extract }] : []));
  const matches = extractors.map((e) => e.extract.match);
  /** The largest limit any reader asks for this file; 0 when none wants it. */
  const readLimit = (path: string, size: number): number => {
    let limit = 0;
    for (let i = 0; i < reads.length; i++) {
      const want = reads[i]!(path, size);
      if (want !== false) limit = Math.max(limit, want === true ? MAX_CAPTURE_BYTES : want);
    }
    return limit;
  };
  const extracts = (path: string, size: number, mode: number): boolean => {
    if (size > MAX_EXTRACT_BYTES) return false;
    for (let i = 0; i < matches.length; i++) if (matches[i]!(path, size, mode)) return true;
    return false;
  };
  return {
    match: (path, size, mode) => {
      const limit = extracts(path, size, mode)
        ? Math.max(readLimit(path, size), MAX_EXTRACT_BYTES)
        : readLimit(path, size);
      return limit === 0 ? false : limit;
    },
    keep: (path, data, mode, size): Kept | undefined => {
      const extracted = extractors.length ? extractAll(extractors, path, data, mode) : undefined;
      const limit = readLimit(path, size);
      const content = limit === 0 ? undefined : data.length > limit ? data.subarray(0, limit) : data;
      return content || extracted
        ? { ...(content ? { content } : {}), ...(extracted ? { extracted } : {}) }
        : undefined;
    },
    maxBytes: MAX_CAPTURE_BYTES,
  };
}
