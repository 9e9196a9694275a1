import type { TarEntryType } from '../util/tar.js';

/** A path of the image filesystem and the layer that last wrote it. */
export interface FsEntry {
  /** Absolute, normalised, never contains "..". */
  readonly path: string;
  readonly type: TarEntryType;
  readonly size: number;
  /** Permission bits including setuid (0o4000), setgid (0o2000) and sticky (0o1000). */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** Symlink target as written, or the normalised path a hardlink points to. */
  readonly linkTarget?: string;
  /** 0-based index of the layer that last wrote this path. */
  readonly layer: number;
  readonly xattrs?: Readonly<Record<string, string>>;
  /** True for directories no layer declared, made to hold a declared child. */
  readonly implicit?: boolean;
  /** Where the body starts in the layer's uncompressed tar, when the walk copied it (BuildOptions.spool). */
  readonly offset?: number;
}

/** What one layer did to the layers below it. */
export interface LayerChanges {
  readonly layer: number;
  /** Every entry the layer holds (whiteout markers excluded), in archive order. */
  readonly entries: readonly FsEntry[];
  /** Paths this layer whited out (`.wh.` markers), and directories it made opaque. */
  readonly whiteouts: readonly string[];
  readonly opaques: readonly string[];
  /** Entries of lower layers this layer deleted with whiteouts or opaque directories. */
  readonly removed: readonly FsEntry[];
  /** Entries of lower layers this layer replaced with its own version of the path. */
  readonly overwritten: readonly FsEntry[];
  /** Files of lower layers this layer overwrote or removed, and their bytes. */
  readonly shadowed: { readonly paths: readonly string[]; readonly bytes: number };
  readonly uncompressedSize: number;
}

/** Content captured for a path a consumer asked for. */
export interface Captured {
  readonly data: Buffer;
  /** True when the file was larger than the capture limit and `data` is its beginning. */
  readonly truncated: boolean;
}

/** What extractors found in one file, by analyzer id (JSON-able values, small). */
export type Extracted = Readonly<Record<string, unknown>>;

/** What a walk keeps of one file: its bytes (maybe fewer than were read), what extractors found, or both. */
export interface Kept {
  readonly content?: Buffer;
  readonly extracted?: Extracted;
}

/** Which file contents to keep while walking, declared before the walk starts. */
export interface CaptureRequest {
  /** Called with each regular file's path, size and mode: false, true, or how many bytes to read. */
  readonly match: (path: string, size: number, mode: number) => boolean | number;
  /** Turns the bytes read (the file's first bytes, of its `size`) into what is kept; default: the bytes. */
  readonly keep?: (path: string, data: Buffer, mode: number, size: number) => Kept | undefined;
  /** Default per-file byte limit; longer files are kept truncated. */
  readonly maxBytes: number;
}
