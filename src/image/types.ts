import type { ReportWarning as Warning } from '../core/warnings.js';
import type { Digest } from '../core/digest.js';
import type { Platform } from '../core/platform.js';
import type { TarEntry } from '../util/tar.js';
import type { ImageConfig } from '../core/config.js';

/** Where an image came from; matches the input prefixes users type. */
export type SourceKind = 'registry' | 'docker-archive' | 'oci-archive' | 'oci-layout' | 'rootfs' | 'docker-daemon';

/** A content descriptor as in the OCI spec. */
export interface Descriptor {
  readonly mediaType: string;
  readonly digest: Digest;
  readonly size: number;
  readonly platform?: Platform;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly urls?: readonly string[];
}

export type { ImageConfig } from '../core/config.js';

/** How a layer's bytes are reached: a range of a local file (seekable) or a stream. */
export type BlobLocation =
  | { readonly kind: 'file'; readonly path: string; readonly offset: number; readonly length: number }
  | {
      readonly kind: 'stream';
      open(): Promise<AsyncIterable<Uint8Array>>;
      /** Identifies the bytes for the verified store (e.g. a content-addressed cache entry). */
      readonly key?: string;
      /**
       * Called when the layer failed to decompress or parse: throws a digest mismatch when the
       * blob itself is corrupt (the more precise diagnosis), returns when the blob is intact.
       */
      recheck?(): Promise<void>;
    }
  /** A root filesystem directory, walked as if it were a layer tar. */
  | { readonly kind: 'directory'; readonly path: string };

/** A stored non-fatal problem, kept in the report rather than thrown. */
export type { ReportWarning as Warning } from '../core/warnings.js';

/** Per-layer counts measured while walking it. */
export interface LayerStats {
  readonly uncompressedSize: number;
  readonly entries: number;
}

export interface WalkOptions {
  readonly signal?: AbortSignal | undefined;
  /** Also hash the decompressed bytes against the config's diff_id when the blob digest is checked. */
  readonly verifyDiffId?: boolean;
  /** Fired with compressed bytes read so far; drives progress bars. */
  readonly onBytes?: (bytes: number) => void;
  /**
   * Also writes the layer's uncompressed tar to this new file as it is read (every entry's
   * `offset` is then where its body starts in that file): `minimize` takes the files it keeps
   * from there instead of decompressing the layer again.
   */
  readonly copyTo?: string;
}

/** One layer, base first. `walk` can be called again; each call streams the layer once. */
export interface Layer {
  readonly index: number;
  readonly digest?: Digest;
  readonly diffId?: Digest;
  readonly mediaType: string;
  readonly compressedSize?: number;
  readonly createdBy?: string;
  /** Visits every tar entry in order, then verifies the digests. */
  walk(visit: (entry: TarEntry) => void | Promise<void>, options?: WalkOptions): Promise<LayerStats>;
}

/** A resolved image: metadata read and verified, layer bytes untouched until walked. */
export interface Image {
  readonly source: { readonly kind: SourceKind; readonly input: string; readonly reference?: string };
  readonly manifestDigest?: Digest;
  readonly manifestMediaType?: string;
  readonly configDigest?: Digest;
  readonly platform: Platform;
  /** Platforms offered by the index this image was chosen from (empty when there was none). */
  readonly platforms: readonly Platform[];
  readonly config: ImageConfig;
  /** The raw config JSON, for consumers that need more than ImageConfig. */
  readonly rawConfig: Readonly<Record<string, unknown>>;
  readonly layers: readonly Layer[];
  readonly warnings: readonly Warning[];
}

/** Resolves an input into an image. Cheap to construct; no I/O until resolve(). */
export interface ImageSource {
  readonly kind: SourceKind;
  readonly input: string;
  resolve(options?: ResolveOptions): Promise<Image>;
  /** Releases temporary files; safe to call twice. */
  close(): Promise<void>;
}

export interface ResolveOptions {
  readonly platform?: Platform;
  readonly signal?: AbortSignal | undefined;
}
