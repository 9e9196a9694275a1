import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after } from 'node:test';
import { DistrolensError } from '../src/core/errors.js';
import { runCli } from '../src/cli/main.js';
import { openSource as open, type OpenOptions } from '../src/sources/index.js';
import type { ImageSource } from '../src/image/types.js';

/** The repository root (tests run from dist/test). */
export const REPO_ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
/** Real upstream data vendored into the repository (test/realdata/README.md says where each file comes from). */
export const REALDATA = process.env.DISTROLENS_REALDATA ?? resolve(REPO_ROOT, 'test/realdata');
/** The official JSON Schemas the output formats are validated against (test/vendor/schemas/README.md). */
export const SCHEMAS = resolve(REPO_ROOT, 'test/vendor/schemas');

export { tempDir } from './fixtures/temp.js';

/** Asserts that a promise rejects with a catalogue error of the given code, and returns it. */
export async function rejectsWithCode(promise: Promise<unknown>, code: string): Promise<DistrolensError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DistrolensError && error.code === code) return error;
    throw new Error(`expected ${code}, got ${error instanceof DistrolensError ? error.code : String(error)}`, {
      cause: error,
    });
  }
  throw new Error(`expected ${code}, but it resolved`);
}

/** Runs the CLI in process with captured streams; `columns`: stdout is a terminal that wide. */
export async function cli(
  argv: string[],
  env: NodeJS.ProcessEnv = {},
  cwd?: string,
  columns?: number,
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    stdout: { write: (t: string) => (stdout += t), ...(columns ? { isTTY: true, columns } : {}) },
    stderr: { write: (t: string) => (stderr += t) },
    // No scan of a test fetches feeds from the internet, unless the test names a mirror.
    env: env.DISTROLENS_DB_SOURCE ? env : { DISTROLENS_SKIP_DB_UPDATE: '1', ...env },
    ...(cwd ? { cwd } : {}),
  });
  return { code, stdout, stderr };
}

const opened: ImageSource[] = [];
after(() => Promise.all(opened.map((source) => source.close())));

/**
 * openSource for tests: the source is closed when the test file ends, so its temporary files
 * (an inflated archive, a blob cache when the test passes none) do not stay behind in /tmp.
 */
export async function openSource(input: string, options?: OpenOptions): Promise<ImageSource> {
  const source = await open(input, options);
  opened.push(source);
  return source;
}
