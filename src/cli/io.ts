import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** The streams and environment a command runs with; tests pass their own. */
export interface CliIo {
  readonly stdout: { write(text: string): unknown; isTTY?: boolean; columns?: number | undefined };
  readonly stderr: { write(text: string): unknown; isTTY?: boolean; columns?: number | undefined };
  readonly env: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

/** Exit codes, the same for every command (documented in the README). */
export const EXIT = {
  ok: 0,
  /** The gate failed: the image breaks the policy or --fail-on threshold. */
  policy: 1,
  /** Bad usage or bad input: wrong flags, unreadable image, registry refusal. */
  input: 2,
  /** A bug in distrolens. */
  internal: 3,
} as const;

/** Writes a file atomically: a temporary sibling renamed over the target, never half-written. */
export async function writeAtomic(path: string, text: string): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(temp, text, { flag: 'wx' });
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** Resolves on SIGINT, SIGTERM or `signal` aborting: how the long-running commands (serve, worker) wait. */
export function untilStopped(signal?: AbortSignal): Promise<void> {
  return new Promise<void>((done) => {
    const stop = () => done();
    signal?.addEventListener('abort', stop, { once: true });
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
