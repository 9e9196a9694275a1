import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import type { Layer } from '../image/types.js';
import type { LayerCache, LayerRecord } from '../fs/layered.js';

/** Bump when the stored record's shape changes. */
const FORMAT = 1;

/**
 * Per-layer walk results on disk, keyed by the layer's diffID and a key naming everything that
 * decides what a walk keeps (analyzer ids and versions, capture limits). Scanning an image that
 * shares a base with one scanned before walks only its new layers. Records are written to a
 * temporary file and renamed, so concurrent scans never read half a record; an unreadable record
 * is a miss.
 */
export class DiskLayerCache implements LayerCache {
  readonly #dir: string;
  readonly #key: string;

  constructor(root: string, key: string) {
    this.#dir = join(root, 'layers');
    this.#key = key;
  }

  #path(layer: Layer): string | undefined {
    if (!layer.diffId) return undefined; // a rootfs directory has no content address
    return join(this.#dir, `${createHash('sha256').update(`${FORMAT}\0${this.#key}\0${layer.diffId}`).digest('hex')}.v8`);
  }

  async get(layer: Layer): Promise<LayerRecord | undefined> {
    const path = this.#path(layer);
    if (!path) return undefined;
    try {
      const record = deserialize(await readFile(path)) as LayerRecord;
      // v8 gives Uint8Array back; the filesystem works with Buffers.
      for (const [key, captured] of record.contents) record.contents.set(key, { ...captured, data: Buffer.from(captured.data.buffer, captured.data.byteOffset, captured.data.byteLength) });
      // The same layer can sit at another position in another image.
      if (record.entries.length && record.entries[0]!.layer !== layer.index) {
        return { ...record, entries: record.entries.map((e) => ({ ...e, layer: layer.index })) };
      }
      return record;
    } catch {
      return undefined;
    }
  }

  async put(layer: Layer, record: LayerRecord): Promise<void> {
    const path = this.#path(layer);
    if (!path) return;
    await mkdir(this.#dir, { recursive: true });
    const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await writeFile(temp, serialize(record));
      await rename(temp, path);
    } catch {
      await rm(temp, { force: true }); // a full disk must not fail the scan
    }
  }
}
