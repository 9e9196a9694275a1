import { spawn, spawnSync } from 'node:child_process';
import { lstat, mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fail } from '../core/errors.js';

/**
 * `minimize --trace`: runs a root file system on this machine in a chroot — with new mount and
 * PID namespaces where `unshare` can make them, and that namespace's own /proc; the network is
 * shared when there is a probe (so that a probe on 127.0.0.1 reaches the program), else new too —
 * as the image's user, with its environment and working directory, under `strace -f -e
 * trace=file`, and reports the absolute paths the program looked for and did not find, and what
 * the probe answered.
 */
export interface TraceOptions {
  readonly argv: readonly string[];
  readonly env: readonly string[];
  readonly workingDir: string;
  /** uid:gid (numeric) the program runs as. */
  readonly user: string;
  /** GET this URL once the program runs; its status and body are the behaviour compared. */
  readonly probe?: string;
  /** Or run this command on the host: its exit status and output are the behaviour compared. */
  readonly probeCommand?: readonly string[];
  /** How long the program may take to be ready, and runs at most without a probe. */
  readonly seconds: number;
}

export interface TraceRun {
  /** Absolute paths a file system call was refused with ENOENT (inside the chroot). */
  readonly notFound: ReadonlySet<string>;
  /** What the probe saw (or the program's exit code and output without a probe). */
  readonly behaviour: string;
  /** The probe answered with success (2xx, exit 0), or the program ran (or ended with 0) without one. */
  readonly ok: boolean;
}

/** A host tool's absolute path (the traced program gets the image's PATH, not ours). */
function hostTool(name: string): string | undefined {
  const found = spawnSync(
    'sh',
    ['-c', `PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin command -v ${name}`],
    {
      encoding: 'utf8',
    },
  );
  return found.status === 0 ? found.stdout.trim() || undefined : undefined;
}

/** Why this machine cannot trace (root, chroot and strace are needed); undefined when it can. */
export function traceAvailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'tracing runs the image in a chroot, which needs root';
  for (const tool of ['strace', 'chroot'])
    if (!hostTool(tool))
      return `tracing needs ${tool} (Debian: apt-get install ${tool === 'strace' ? 'strace' : 'coreutils'})`;
  return undefined;
}

const FILE_CALL = /^\d+\s+\w+\((?:AT_FDCWD,\s*|\d+<[^>]*>,\s*)?"((?:[^"\\]|\\.)*)".*=\s-1\sENOENT/;

/** The ENOENT paths of an strace log (`-f`, trace=file): absolute ones, /proc, /sys and /dev left out. */
export function notFoundPaths(log: string): Set<string> {
  const out = new Set<string>();
  for (const line of log.split('\n')) {
    const path = FILE_CALL.exec(line)?.[1];
    if (!path || !path.startsWith('/') || /^\/(proc|sys|dev)(\/|$)/.test(path)) continue;
    out.add(path.replace(/\/+$/, '') || '/');
  }
  return out;
}

async function probe(options: TraceOptions, signal: AbortSignal): Promise<string> {
  for (let i = 0; i < options.seconds * 10 && !signal.aborted; i++) {
    if (options.probe) {
      try {
        const response = await fetch(options.probe, { signal: AbortSignal.timeout(5_000) });
        return `${response.status} ${await response.text()}`;
      } catch {
        // not listening yet
      }
    } else if (options.probeCommand) {
      const run = spawnSync(options.probeCommand[0]!, options.probeCommand.slice(1), {
        encoding: 'utf8',
        timeout: 10_000,
      });
      if (run.status === 0) return `${run.status} ${run.stdout}`;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return 'no answer';
}

/** Runs the program in `root` under strace and probes it. */
export async function traceRun(root: string, options: TraceOptions): Promise<TraceRun> {
  const log = join(root, '..', `strace-${process.pid}-${Math.random().toString(36).slice(2)}.log`);
  const unshare = hostTool('unshare');
  const namespaces = unshare !== undefined && spawnSync(unshare, ['--mount', '--pid', '--fork', 'true']).status === 0;
  // A /proc of the new PID namespace for the program (a JVM will not start without one), mounted
  // on a real directory of the scratch tree: whatever the image put at /proc is replaced first, so
  // a link there can never lead the mount out of the root.
  const proc = join(root, 'proc');
  // With nothing to probe over the network, the program gets a network of its own (a loopback
  // that is down): it reaches nothing on this machine or beyond.
  const isolated =
    namespaces && !options.probe && !options.probeCommand && spawnSync(unshare, ['--net', 'true']).status === 0;
  if (namespaces) {
    if ((await lstat(proc).catch(() => undefined))?.isDirectory() !== true) {
      await rm(proc, { recursive: true, force: true });
      await mkdir(proc, { mode: 0o555 });
    }
  }
  const chroot = [hostTool('chroot')!, `--userspec=${options.user}`, root, ...options.argv];
  const argv = [
    '-f',
    '-qq',
    '-e',
    'trace=file',
    '-o',
    log,
    ...(namespaces
      ? [unshare, '--mount', '--pid', ...(isolated ? ['--net'] : []), '--fork', `--mount-proc=${proc}`, '--']
      : []),
    ...chroot,
  ];
  const env = Object.fromEntries(
    options.env.filter((e) => e.includes('=')).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]),
  );
  // Its own process group: the traced program and its children are ended with strace.
  const child = spawn(hostTool('strace')!, argv, { env, cwd: '/', stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output = `${output}${d.toString()}`.slice(-4096)));
  child.stderr.on('data', (d: Buffer) => (output = `${output}${d.toString()}`.slice(-4096)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.once('error', () => undefined);
  const stop = new AbortController();
  let behaviour: string;
  let ok: boolean;
  try {
    if (options.probe || options.probeCommand) {
      behaviour = await Promise.race([probe(options, stop.signal), exited.then((code) => `exited ${code}: ${output}`)]);
      ok = /^(2\d\d|0) /.test(behaviour);
    } else {
      const code = await Promise.race([
        exited,
        new Promise<'running'>((r) => setTimeout(() => r('running'), options.seconds * 1000)),
      ]);
      behaviour = code === 'running' ? 'running' : `exited ${code}: ${output}`;
      ok = code === 'running' || code === 0;
    }
  } finally {
    stop.abort();
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      child.kill('SIGKILL');
    }
    await exited;
  }
  const text = await readFile(log, 'utf8').catch(() => {
    throw fail(
      'E_INTERNAL',
      `strace wrote no log for ${options.argv.join(' ')}`,
      'check that strace runs on this machine',
    );
  });
  await rm(log, { force: true });
  return { notFound: notFoundPaths(text), behaviour, ok };
}
