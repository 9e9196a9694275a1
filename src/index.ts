/** The public library API: named re-exports only. */
export { DistrolensError, isDistrolensError, type ErrorCode } from './core/errors.js';
export { parsePlatform, formatPlatform, DEFAULT_PLATFORM, type Platform } from './core/platform.js';
export type { Digest } from './core/digest.js';
export { REPORT_SCHEMA, type InspectReport, type Target, type TargetLayer } from './core/report.js';
export type { Image, ImageSource, Layer, ImageConfig, SourceKind } from './image/types.js';
export { openSource, type OpenOptions } from './sources/index.js';
export { BlobCache } from './cache/blobs.js';
export { buildFs, LayeredFs, type BuildOptions } from './fs/layered.js';
export type { FsEntry, LayerChanges, CaptureRequest, Captured } from './fs/types.js';
export { inspect, describeTarget } from './scan/inspect.js';
export { runCli } from './cli/main.js';
export { VERSION } from './version.js';
