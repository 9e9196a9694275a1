import { formatBytes } from './units.js';
/**
 * The error catalogue: every error a user can meet has a code, a message that says what happened,
 * and a hint that says what to try next. One factory per situation keeps wording consistent.
 */
export const ERROR_CODES = [
  'E_ARCHIVE_INVALID',
  'E_AUTH_REQUIRED',
  'E_BLOB_TRUNCATED',
  'E_BUSY',
  'E_DAEMON_UNAVAILABLE',
  'E_DATABASE',
  'E_DECOMPRESSION_BOMB',
  'E_DIGEST_MISMATCH',
  'E_FEED_INVALID',
  'E_FILE_TOO_LARGE',
  'E_FORBIDDEN',
  'E_IMAGE_AMBIGUOUS',
  'E_IMAGE_INVALID',
  'E_INPUT_NOT_FOUND',
  'E_INPUT_UNRECOGNIZED',
  'E_INTERNAL',
  'E_IO',
  'E_MANIFEST_TOO_LARGE',
  'E_MANIFEST_UNSUPPORTED',
  'E_MEDIA_TYPE_UNSUPPORTED',
  'E_METHOD',
  'E_NETWORK',
  'E_NOT_FOUND',
  'E_OFFLINE',
  'E_PLATFORM_NOT_FOUND',
  'E_POLICY_INVALID',
  'E_RATE_LIMITED',
  'E_REFERENCE_FORBIDDEN',
  'E_REFERENCE_INVALID',
  'E_REGISTRY_AUTH_DENIED',
  'E_REGISTRY_AUTH_REQUIRED',
  'E_REGISTRY_ERROR',
  'E_REGISTRY_NOT_FOUND',
  'E_REGISTRY_RATE_LIMITED',
  'E_SYMLINK_LOOP',
  'E_TIMEOUT',
  'E_TOO_LARGE',
  'E_UNSAFE_PATH',
  'E_USAGE',
  'E_VULN_DB_INVALID',
  'E_VULN_DB_MISSING',
] as const;

/** Every error code, CLI and server alike (the server's answers carry them with an HTTP status). */
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface DistrolensErrorInit {
  readonly code: ErrorCode;
  readonly message: string;
  readonly hint?: string | undefined;
  readonly cause?: unknown;
}

/** An expected failure: printed as code, message and hint, never as a stack trace. */
export class DistrolensError extends Error {
  override readonly name = 'DistrolensError';
  readonly code: ErrorCode;
  readonly hint?: string | undefined;

  constructor(init: DistrolensErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.code = init.code;
    this.hint = init.hint;
  }
}

/** True for errors of this catalogue, optionally of one code. */
export function isDistrolensError(error: unknown, code?: ErrorCode): error is DistrolensError {
  return error instanceof DistrolensError && (code === undefined || error.code === code);
}

/** Builds an error of the catalogue; the factories below are the usual entry points. */
export function fail(code: ErrorCode, message: string, hint?: string, cause?: unknown): DistrolensError {
  return new DistrolensError({ code, message, hint, cause });
}

export const errors = {
  unsafePath: (path: string, why: string) =>
    fail(
      'E_UNSAFE_PATH',
      `unsafe path ${JSON.stringify(path)} in archive: ${why}`,
      'the archive tries to write outside its root; do not extract it, and check where it came from',
    ),
  digestMismatch: (what: string, expected: string, actual: string) =>
    fail(
      'E_DIGEST_MISMATCH',
      `${what}: digest mismatch (expected ${expected}, got ${actual})`,
      'the content is corrupt or was tampered with; pull or save the image again',
    ),
  truncated: (what: string, expected: number, actual: number) =>
    fail(
      'E_BLOB_TRUNCATED',
      `${what}: truncated (expected ${formatBytes(expected)}, got ${formatBytes(actual)})`,
      'the download or file was cut short; retry, or save the image again',
    ),
  bomb: (what: string, detail: string) =>
    fail(
      'E_DECOMPRESSION_BOMB',
      `${what}: ${detail}`,
      'raise --max-layer-size or --max-ratio if this layer is legitimate',
    ),
  notArchive: (path: string, detail: string) =>
    fail(
      'E_ARCHIVE_INVALID',
      `${path}: not a readable tar archive (${detail})`,
      'pass a docker save tar, an OCI layout (tar or directory) or a root filesystem tarball',
    ),
  imageInvalid: (what: string, detail: string) =>
    fail('E_IMAGE_INVALID', `${what}: ${detail}`, 'the image metadata is inconsistent; rebuild or re-save the image'),
  manifestTooLarge: (what: string, size: number, limit: number) =>
    fail(
      'E_MANIFEST_TOO_LARGE',
      `${what} is ${formatBytes(size)}, over the ${formatBytes(limit)} limit`,
      'a manifest or config this large is not a real image; check the source',
    ),
  mediaType: (mediaType: string, what: string) =>
    fail(
      'E_MEDIA_TYPE_UNSUPPORTED',
      `unsupported media type ${JSON.stringify(mediaType)} for ${what}`,
      'distrolens reads OCI and Docker schema 2 images; convert the image with skopeo copy',
    ),
  symlinkLoop: (path: string) =>
    fail('E_SYMLINK_LOOP', `too many levels of symbolic links resolving ${path}`, 'the image holds a symlink loop'),
  offline: (input: string) =>
    fail(
      'E_OFFLINE',
      `${input} is in a registry, and --offline forbids the network`,
      'scan a local archive (docker-archive:, oci:, rootfs:) or drop --offline',
    ),
  usage: (message: string, hint = 'run `distrolens --help` for usage') => fail('E_USAGE', message, hint),
  timeout: (what: string, ms: number) =>
    fail(
      'E_TIMEOUT',
      `${what} took longer than ${Math.round(ms / 1000)} s and was stopped`,
      'raise --timeout if the image is legitimately this large',
    ),
} as const;
