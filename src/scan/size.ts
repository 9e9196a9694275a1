import type { SizeSummary } from '../core/report.js';
import { redactText } from '../core/redact.js';
import type { FsEntry } from '../fs/types.js';
import type { LayeredFs } from '../fs/layered.js';
import type { Image } from '../image/types.js';
import { diveEfficiency } from '../analyzers/index.js';

/** How many of the largest files the report lists. */
const LARGEST_FILES = 10;

/**
 * The image's weight: compressed and uncompressed bytes, the squashed filesystem, dive's
 * efficiency and wasted bytes, what each layer adds and what later layers hide, the largest files.
 */
export function sizeSummary(image: Image, fs: LayeredFs): SizeSummary {
  const { efficiency, wastedBytes, inefficiencies } = diveEfficiency(fs.layers);
  let files = 0;
  let squashed = 0;
  let top: FsEntry[] = [];
  for (const e of fs.entries()) {
    if (e.type === 'dir') continue;
    files++;
    if (e.type !== 'file') continue;
    squashed += e.size;
    // Keep the largest few without sorting every file.
    if (top.length < LARGEST_FILES || e.size > top[top.length - 1]!.size) {
      top.push(e);
      top.sort((a, b) => b.size - a.size || (a.path < b.path ? -1 : 1));
      if (top.length > LARGEST_FILES) top = top.slice(0, LARGEST_FILES);
    }
  }
  const largest = top.map((e) => ({ path: e.path, size: e.size, layer: e.layer }));
  const compressed = image.layers.every((l) => l.compressedSize !== undefined)
    ? image.layers.reduce((s, l) => s + (l.compressedSize ?? 0), 0)
    : undefined;
  return {
    ...(compressed !== undefined ? { compressed } : {}),
    uncompressed: fs.layers.reduce((s, l) => s + l.uncompressedSize, 0),
    squashed,
    wastedBytes,
    efficiency,
    files,
    layers: fs.layers.map((l, index) => ({
      index,
      addedBytes: l.entries.reduce((s, e) => s + (e.type === 'file' ? e.size : 0), 0),
      hiddenBytes: fs.hiddenBytes[index] ?? 0,
      ...(image.layers[index]?.createdBy !== undefined ? { createdBy: redactText(image.layers[index].createdBy) } : {}),
    })),
    largest,
    inefficiencies: inefficiencies.slice(0, 20),
  };
}
