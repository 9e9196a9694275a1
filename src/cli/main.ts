import { terminalSafe } from '../report/format.js';
import { redactText } from '../core/redact.js';
import { DistrolensError } from '../core/errors.js';
import { VERSION } from '../version.js';
import { EXIT, type CliIo } from './io.js';
import { closest } from '../util/suggest.js';

const HELP = `distrolens ${VERSION}: measure container images against distroless, without a Docker daemon

Usage: distrolens COMMAND [options]

Commands:
  scan INPUT      attack surface, accounts, packages, config, size: findings and a grade
  compare A B…    scan images and show them side by side, with a verdict
  inspect INPUT   resolve an image and show its digests, platform, config and layers
  db update       build the local vulnerability database (db status: what it holds)
  recommend INPUT which distroless or Chainguard base fits the image, what changes and breaks
  minimize INPUT  the image reduced to what its program needs, as an OCI layout, compared
  lint [FILE…]    check Dockerfiles for what keeps images big and exposed
  migrate FILE    rewrite a Dockerfile into a multi-stage build on a minimal base
  serve           HTTP API and web UI over all scanned images
  workloads M…    judge every image where it runs: Kubernetes manifests, pod security, joined risks
  crawl REGISTRY  have a server scan a registry, a list of references or a cluster's images (fleet)
  worker          take scan jobs from the fleet's PostgreSQL queue (serve --database)
  completion SH   a completion script for bash, zsh or fish

Run distrolens COMMAND --help (or distrolens help COMMAND) for the options of a command;
distrolens version (or -v) prints the version.
Exit codes: 0 ok, 1 policy failed, 2 usage or input error, 3 internal error.
`;

type Command = (args: string[], io: CliIo) => Promise<number>;

/** Each command's module is loaded when it runs: a start-up pays only for the command it runs. */
const COMMANDS: Record<string, () => Promise<Command>> = {
  inspect: async () => (await import('./inspect.js')).inspectCommand,
  scan: async () => (await import('./scan.js')).scanCommand,
  compare: async () => (await import('./compare.js')).compareCommand,
  db: async () => (await import('./db.js')).dbCommand,
  recommend: async () => (await import('./recommend.js')).recommendCommand,
  minimize: async () => (await import('./minimize.js')).minimizeCommand,
  lint: async () => (await import('./lint.js')).lintCommand,
  migrate: async () => (await import('./migrate.js')).migrateCommand,
  serve: async () => (await import('./serve.js')).serveCommand,
  completion: async () => (await import('./completion.js')).completionCommand,
  workloads: async () => (await import('./workloads.js')).workloadsCommand,
  crawl: async () => (await import('./fleet.js')).crawlCommand,
  worker: async () => (await import('./fleet.js')).workerCommand,
};

function causeChain(error: unknown): string[] {
  const lines: string[] = [];
  for (let cause = (error as { cause?: unknown })?.cause; cause; cause = (cause as { cause?: unknown }).cause) {
    lines.push(
      `  caused by: ${cause instanceof Error ? `${cause.name}: ${cause.message}` : typeof cause === 'string' ? cause : JSON.stringify(cause)}`,
    );
  }
  return lines;
}

/** `--log-format json`: one JSON object per line on stderr, for log collectors. */
function logFormat(argv: readonly string[]): 'text' | 'json' {
  const at = argv.findIndex((a) => a === '--log-format' || a.startsWith('--log-format='));
  const value = at < 0 ? 'text' : argv[at]!.includes('=') ? argv[at]!.split('=')[1] : argv[at + 1];
  return value === 'json' ? 'json' : 'text';
}

/** Runs the CLI with injected streams; returns the exit code. Never throws. */
/** System errors that are this machine's state, with what to do about each. */
const IO_ERRORS = new Map([
  ['ENOSPC', 'the disk is full: free space, or point --cache-dir (or TMPDIR) at a larger disk'],
  ['EDQUOT', 'the disk quota is exceeded: free space, or point --cache-dir (or TMPDIR) elsewhere'],
  ['EACCES', 'no permission there: choose a directory you can write (--output, --cache-dir)'],
  ['EPERM', 'the operation is not permitted there: choose another directory'],
  ['EROFS', 'that file system is read-only: choose a writable directory'],
  ['EMFILE', 'too many open files: raise the limit (ulimit -n)'],
  ['ENOTDIR', 'a part of that path is a file, not a directory: choose another path'],
]);

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  const debug = argv.includes('--debug');
  const json = logFormat(argv) === 'json';
  const stderr = json ? { ...io.stderr, isTTY: false } : io.stderr;
  // Nothing an image holds reaches the terminal as a control sequence: stdout carries reports
  // only (no colours, no cursor moves), so every write goes through terminalSafe.
  const out = io.stdout;
  const stdout = {
    write: (text: string) => out.write(terminalSafe(text)),
    isTTY: out.isTTY ?? false,
    ...(out.columns !== undefined ? { columns: out.columns } : {}),
  };
  io = { ...io, stdout, stderr };
  const report = (level: 'error', code: string, message: string, hint?: string): void => {
    io.stderr.write(
      json
        ? `${JSON.stringify({ level, code, message: redactText(message), ...(hint ? { hint: redactText(hint) } : {}) })}\n`
        : terminalSafe(`error ${code}: ${redactText(message)}\n${hint ? `  hint: ${redactText(hint)}\n` : ''}`),
    );
  };
  try {
    // `help CMD` is `CMD --help`.
    if (command === 'help' && rest[0] && Object.hasOwn(COMMANDS, rest[0])) return await runCli([rest[0], '--help'], io);
    if (!command || command === '--help' || command === '-h' || command === 'help') {
      io.stdout.write(HELP);
      return command ? EXIT.ok : EXIT.input;
    }
    if (command === '--version' || command === '-V' || command === '-v' || command === 'version') {
      io.stdout.write(`${VERSION}\n`);
      return EXIT.ok;
    }
    const load = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
    if (!load) {
      // `--verison` is a typo of `--version`; `scna` of `scan`.
      const dashes = /^-*/.exec(command)![0];
      const word = closest(
        command.slice(dashes.length),
        dashes ? ['help', 'version'] : [...Object.keys(COMMANDS), 'help', 'version'],
      );
      const guess = word && `${dashes}${word}`;
      report(
        'error',
        'E_USAGE',
        `unknown command ${JSON.stringify(command)}${guess ? `: did you mean "${guess}"?` : ''}`,
        guess ? `run distrolens ${guess} --help` : 'run distrolens --help',
      );
      return EXIT.input;
    }
    return await (
      await load()
    )(rest, io);
  } catch (error) {
    if (error instanceof DistrolensError) {
      const internal = error.code === 'E_INTERNAL';
      report('error', error.code, error.message, error.hint);
      if (debug) io.stderr.write(`${causeChain(error).join('\n')}\n${internal ? `${error.stack}\n` : ''}`);
      return internal ? EXIT.internal : EXIT.input;
    }
    // This machine refused a read or write (a full disk, a read-only or foreign directory): not a bug.
    const errno = (error as NodeJS.ErrnoException | undefined)?.code;
    if (errno && IO_ERRORS.has(errno)) {
      const { path, syscall } = error as NodeJS.ErrnoException;
      report('error', 'E_IO', `${syscall ?? 'i/o'} ${path ?? ''}: ${errno}`.replace(' :', ':'), IO_ERRORS.get(errno));
      return EXIT.input;
    }
    const message = error instanceof Error ? error.message : String(error);
    report('error', 'E_INTERNAL', message, 'this is a bug in distrolens; rerun with --debug and report it');
    if (debug && error instanceof Error) io.stderr.write(`${error.stack}\n${causeChain(error).join('\n')}\n`);
    return EXIT.internal;
  }
}
