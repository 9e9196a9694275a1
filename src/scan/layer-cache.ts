import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import type { Image, Layer } from '../image/types.js';
import type { ImageFacts } from '../core/report.js';
import type { LayerCache, LayerRecord } from '../fs/layered.js';

/**
 * Bump when the stored record's shape or key changes (2: extraction results apart from contents,
 * facts instead of reports; 3: keyed by the verified digest; 4: image strings redacted in the facts).
 */
const FORMAT = 4;

/**
 * Per-layer walk results on disk, keyed by the layer's verified digest and a key naming everything that
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

  /**
   * Records are keyed by what a walk verifies: the blob digest when there is one (a compressed
   * blob's digest is checked as it is read or downloaded, its diffID is only the config's claim),
   * else the diffID, which the walk of an uncompressed layer hashes. A crafted image whose config
   * claims another image's diffID thus gets a record of its own, never the other image's.
   */
  #path(layer: Layer): string | undefined {
    const identity = layer.digest ?? layer.diffId;
    if (!identity) return undefined; // a rootfs directory has no content address
    return join(this.#dir, `${createHash('sha256').update(`${FORMAT}\0${this.#key}\0${identity}`).digest('hex')}.v8`);
  }

  async get(layer: Layer): Promise<LayerRecord | undefined> {
    const path = this.#path(layer);
    if (!path) return undefined;
    try {
      const record = deserialize(await readFile(path)) as LayerRecord;
      // v8 gives Uint8Array back; the filesystem works with Buffers.
      for (const [key, captured] of record.contents)
        record.contents.set(key, {
          ...captured,
          data: Buffer.from(captured.data.buffer, captured.data.byteOffset, captured.data.byteLength),
        });
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
    await writeQuietly(path, serialize(record));
  }
}

/** Writes a file so that readers see all of it or nothing; a failure (full disk) is ignored. */
async function writeQuietly(path: string, data: Uint8Array | string): Promise<void> {
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await mkdir(join(path, '..'), { recursive: true });
    await writeFile(temp, data);
    await rename(temp, path);
  } catch {
    await rm(temp, { force: true });
  }
}

/**
 * Whole-image facts (the analysis, before vulnerabilities and judgement), keyed by everything the analysis depends on: the analyzers and
 * their versions, the tool version, the image config's digest, every layer's diffID, the source kind and
 * the reference. A re-scan of the same image reads one file. Images whose layers have no content
 * address (root filesystems) are never cached.
 */
export class ResultCache {
  readonly #dir: string;
  readonly #key: string;

  constructor(root: string, analyzersKey: string, toolVersion: string) {
    this.#dir = join(root, 'results');
    this.#key = `${FORMAT}\0${toolVersion}\0${analyzersKey}`;
  }

  #path(image: Image): string | undefined {
    // The config is named by its verified digest (its parsed form may be nested too deep to print).
    if (!image.configDigest || image.layers.some((l) => !l.diffId)) return undefined;
    const identity = [
      this.#key,
      image.configDigest,
      image.source.kind,
      image.source.reference ?? '',
      ...image.layers.map((l) => `${l.diffId}:${l.digest ?? ''}:${l.compressedSize ?? ''}`),
      JSON.stringify(image.warnings),
    ].join('\0');
    return join(this.#dir, `${createHash('sha256').update(identity).digest('hex')}.json`);
  }

  async get(image: Image): Promise<ImageFacts | undefined> {
    const path = this.#path(image);
    if (!path) return undefined;
    try {
      return JSON.parse(await readFile(path, 'utf8')) as ImageFacts;
    } catch {
      return undefined;
    }
  }

  async put(image: Image, facts: ImageFacts): Promise<void> {
    const path = this.#path(image);
    if (!path) return;
    await writeQuietly(path, JSON.stringify(facts));
  }
}
