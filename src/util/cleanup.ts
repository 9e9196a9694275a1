import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Files and directories this process is writing and must not leave behind: removed when the
 * process is stopped by a signal (`removeOnSignal`, wired in the CLI's entry point), and, when a
 * process died without that chance (kill -9), found by the next run through the pid in their name
 * (`sweepStale`).
 */
const live = new Set<string>();

/** Registers a path to remove if the process is stopped; returns the unregister. */
export function removeOnExit(path: string): () => void {
  live.add(path);
  return () => void live.delete(path);
}

/** Removes every registered path, synchronously (a signal handler has no time for promises). */
export function removeAllNow(): void {
  for (const path of live) rmSync(path, { recursive: true, force: true });
  live.clear();
}

/** The tag a leftover carries: `<prefix><pid>-…`. */
export const ownedName = (prefix: string): string => `${prefix}${process.pid}-`;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes entries of `dir` named `<prefix><pid>-…` (or `<anything><prefix><pid>-…` with
 * `anywhere`) whose process is gone: what a killed run of distrolens left. Errors are ignored:
 * this is housekeeping.
 */
export function sweepStale(dir: string, prefix: string, anywhere = false): number {
  let removed = 0;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const name of names) {
    const at = anywhere ? name.indexOf(prefix) : name.startsWith(prefix) ? 0 : -1;
    if (at < 0) continue;
    const pid = Number(/^(\d+)-/.exec(name.slice(at + prefix.length))?.[1]);
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || alive(pid)) continue;
    try {
      rmSync(join(dir, name), { recursive: true, force: true });
      removed++;
    } catch {
      // another run may be removing it too
    }
  }
  return removed;
}

/**
 * Ends the process on SIGINT, SIGTERM and SIGHUP after removing what it was writing, with the
 * shell's exit code for the signal (130, 143, 129). For an entry point, never for a library.
 */
export function exitOnSignals(): void {
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const) {
    process.once(signal, () => {
      removeAllNow();
      process.exit(code);
    });
  }
}
