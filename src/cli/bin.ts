#!/usr/bin/env node
import { runCli } from './main.js';
import { exitOnSignals } from '../util/cleanup.js';

/**
 * A reader that stops early (`distrolens scan … | head`) closes the pipe. Writes after that are
 * dropped instead of failing with EPIPE, and the command runs to its end, so the exit code is
 * still the verdict (a gate in `set -o pipefail` CI sees it).
 */
function tolerant(stream: NodeJS.WriteStream): {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number | undefined;
} {
  let closed = false;
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    closed = true;
  });
  return {
    write: (text: string) => closed || stream.write(text),
    get isTTY() {
      return stream.isTTY;
    },
    get columns() {
      return stream.isTTY ? stream.columns : undefined;
    },
  };
}

// Stopped by a signal: what this run was writing (temporary directories, a database being built)
// is removed before the process ends, with the shell's exit code for the signal.
// (`serve` and `worker` close cleanly on their own handlers: scans end or go back to the queue.)
if (process.argv[2] !== 'serve' && process.argv[2] !== 'worker') exitOnSignals();

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: tolerant(process.stdout),
  stderr: tolerant(process.stderr),
  env: process.env,
});
