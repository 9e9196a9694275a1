import { fail } from './errors.js';

/** A content address: `sha256:` followed by 64 lower-case hex digits. */
export type Digest = `sha256:${string}`;

const DIGEST = /^sha256:[a-f0-9]{64}$/;

/** True when the string is a sha256 digest in canonical form. */
export function isDigest(value: unknown): value is Digest {
  return typeof value === 'string' && DIGEST.test(value);
}

/** Validates a digest taken from untrusted metadata; other algorithms are refused by name. */
export function parseDigest(value: unknown, what = 'digest'): Digest {
  if (isDigest(value)) return value;
  const shown = typeof value === 'string' ? value.slice(0, 80) : String(value);
  const algorithm = typeof value === 'string' ? value.split(':')[0] : '';
  if (algorithm && algorithm !== 'sha256' && typeof value === 'string' && value.includes(':')) {
    throw fail(
      'E_IMAGE_INVALID',
      `${what} uses unsupported digest algorithm ${algorithm}`,
      'distrolens verifies sha256 digests only',
    );
  }
  throw fail(
    'E_IMAGE_INVALID',
    `${what} ${JSON.stringify(shown)} is not a sha256 digest`,
    'the image metadata is malformed; re-save or re-push the image',
  );
}

/** The hex part of a digest, used for file names in blob stores. */
export function digestHex(digest: Digest): string {
  return digest.slice('sha256:'.length);
}
