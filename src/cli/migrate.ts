import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { migrateDockerfile, unifiedDiff } from '../dockerfile/migrate.js';
import { renderJson, terminalSafe } from '../report/format.js';
import { TOOL } from '../version.js';
import { EXIT, writeAtomic, type CliIo } from './io.js';
import { COMMON_FLAGS, COMMON_OPTIONS_HELP, parseFlags } from './options.js';
import { errors, fail } from '../core/errors.js';

export const MIGRATE_HELP = `Usage: distrolens migrate Dockerfile [--to IMAGE] [--write] [--format diff|json]

Rewrites the Dockerfile into a multi-stage build whose final stage is a distroless or Chainguard
base (the one \`recommend\` would choose from the base and the build, or --to IMAGE): build steps
stay in a builder stage, runtime files are copied over, shell-form commands become exec form (or
are flagged when they need a shell), a non-root user is set, healthchecks needing curl are flagged.
Prints a unified diff on stdout and the reason for each change on stderr; an instruction it cannot
translate is kept as a comment with a warning, never dropped.

Options:
  --to IMAGE        the final base (default: chosen from the Dockerfile)
  --write           replace the Dockerfile (atomically) instead of printing the diff
  -f, --format F    diff (default) or json (the new Dockerfile, changes, warnings, accounting)
${COMMON_OPTIONS_HELP}
`;

export const MIGRATE_FLAGS = {
  ...COMMON_FLAGS,
  to: { type: 'string' },
  write: { type: 'boolean' },
  format: { type: 'string', short: 'f' },
} as const;

export async function migrateCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(args, MIGRATE_FLAGS);
  if (values.help) {
    io.stdout.write(MIGRATE_HELP);
    return EXIT.ok;
  }
  if (positionals.length !== 1)
    throw errors.usage('migrate takes one Dockerfile', 'e.g. distrolens migrate Dockerfile --write');
  const format = values.format ?? 'diff';
  if (format !== 'diff' && format !== 'json') throw errors.usage(`unknown format ${format}`, 'use diff or json');
  const path = resolve(io.cwd ?? process.cwd(), positionals[0]!);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw fail('E_INPUT_NOT_FOUND', `${positionals[0]} cannot be read`, 'check the path to the Dockerfile');
  }
  const migration = migrateDockerfile(text, values.to ? { to: values.to } : {});
  const explain = (): void => {
    if (values.quiet) return;
    for (const c of migration.changes)
      io.stderr.write(terminalSafe(`change${c.line ? ` (line ${c.line})` : ''}: ${c.reason}\n`));
    for (const w of migration.warnings)
      io.stderr.write(terminalSafe(`warning${w.line ? ` (line ${w.line})` : ''}: ${w.reason}\n`));
  };
  if (values.write) {
    if (migration.text !== text) await writeAtomic(path, migration.text);
    explain();
    io.stderr.write(
      migration.text === text
        ? `${positionals[0]}: nothing to change\n`
        : `${positionals[0]}: rewritten for ${migration.target}\n`,
    );
    return EXIT.ok;
  }
  if (format === 'json')
    io.stdout.write(renderJson({ schema: 'distrolens/migrate@1', tool: TOOL, file: positionals[0], ...migration }));
  else io.stdout.write(unifiedDiff(text, migration.text, positionals[0]));
  explain();
  return EXIT.ok;
}
