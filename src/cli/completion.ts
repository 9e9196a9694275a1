import { errors } from '../core/errors.js';
import { SCAN_FORMATS } from '../report/formats.js';
import { DB_FLAGS } from './db.js';
import { EXIT, type CliIo } from './io.js';
import { LINT_FLAGS } from './lint.js';
import { MIGRATE_FLAGS } from './migrate.js';
import { COMMON_FLAGS, IMAGE_FLAGS, parseFlags } from './options.js';
import { SERVE_FLAGS } from './serve.js';
import { CRAWL_FLAGS, WORKER_FLAGS } from './fleet.js';
import { WORKLOADS_FLAGS } from './workloads.js';

export const COMPLETION_HELP = `Usage: distrolens completion bash|zsh|fish

Prints a completion script for the shell: commands, each command's flags, and the formats after
--format. Install it with, e.g.:
  distrolens completion bash > /etc/bash_completion.d/distrolens
  distrolens completion zsh > "\${fpath[1]}/_distrolens"
  distrolens completion fish > ~/.config/fish/completions/distrolens.fish
`;

/** Each command and the flags it takes: the same objects the commands parse with. */
const COMMANDS: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {
  scan: IMAGE_FLAGS,
  inspect: IMAGE_FLAGS,
  compare: IMAGE_FLAGS,
  workloads: WORKLOADS_FLAGS,
  recommend: { ...IMAGE_FLAGS, catalogue: {}, 'no-measure': {} },
  minimize: {
    ...IMAGE_FLAGS,
    keep: {},
    entry: {},
    'keep-user': {},
    base: {},
    trace: {},
    probe: {},
    'probe-cmd': {},
    'trace-seconds': {},
  },
  db: DB_FLAGS,
  lint: LINT_FLAGS,
  migrate: MIGRATE_FLAGS,
  serve: SERVE_FLAGS,
  crawl: CRAWL_FLAGS,
  worker: WORKER_FLAGS,
  completion: COMMON_FLAGS,
  help: {},
  version: {},
};

const flagsOf = (command: string): string[] => Object.keys(COMMANDS[command] ?? {}).map((f) => `--${f}`);

function bash(): string {
  const cases = Object.keys(COMMANDS)
    .map((c) => `    ${c}) opts="${flagsOf(c).join(' ')}" ;;`)
    .join('\n');
  return `# distrolens completion for bash (distrolens completion bash)
_distrolens() {
  local cur prev opts
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "${Object.keys(COMMANDS).join(' ')}" -- "$cur"))
    return
  fi
  case "$prev" in
    -f|--format) COMPREPLY=($(compgen -W "${SCAN_FORMATS.join(' ')} diff" -- "$cur")); return ;;
  esac
  case "\${COMP_WORDS[1]}" in
${cases}
  esac
  if [[ "$cur" == -* ]]; then COMPREPLY=($(compgen -W "$opts" -- "$cur")); else COMPREPLY=($(compgen -f -- "$cur")); fi
}
complete -F _distrolens distrolens
`;
}

function fish(): string {
  const lines = [
    '# distrolens completion for fish (distrolens completion fish)',
    `complete -c distrolens -f -n __fish_use_subcommand -a "${Object.keys(COMMANDS).join(' ')}"`,
  ];
  for (const command of Object.keys(COMMANDS))
    for (const flag of Object.keys(COMMANDS[command]!))
      lines.push(
        `complete -c distrolens -n "__fish_seen_subcommand_from ${command}" -l ${flag}${flag === 'format' ? ` -xa "${SCAN_FORMATS.join(' ')}"` : ''}`,
      );
  return `${lines.join('\n')}\n`;
}

/** `distrolens completion SHELL`: zsh takes the bash script through bashcompinit. */
export async function completionCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(args, COMMON_FLAGS);
  if (values.help) {
    io.stdout.write(COMPLETION_HELP);
    return EXIT.ok;
  }
  const shell = positionals[0];
  if (shell === 'bash') io.stdout.write(bash());
  else if (shell === 'zsh')
    io.stdout.write(`#compdef distrolens\nautoload -U +X bashcompinit && bashcompinit\n${bash()}`);
  else if (shell === 'fish') io.stdout.write(fish());
  else
    throw errors.usage(
      `completion for ${JSON.stringify(shell ?? '')} is not available`,
      'use: distrolens completion bash|zsh|fish',
    );
  return EXIT.ok;
}
