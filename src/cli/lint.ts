import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fail } from '../core/errors.js';
import { LINT_SCHEMA, type LintReport } from '../core/report.js';
import { LINT_RULE_LIST, lintDockerfile } from '../dockerfile/lint.js';
import { renderJson } from '../report/format.js';
import { renderLintTable } from '../report/lint-table.js';
import { renderLintSarif } from '../report/sarif.js';
import { TOOL } from '../version.js';
import { parseFormats } from './image-command.js';
import { EXIT, writeAtomic, type CliIo } from './io.js';
import { COMMON_FLAGS, COMMON_OPTIONS_HELP, failingFindings, parseFailOn, parseFlags } from './options.js';

export const LINT_HELP = `Usage: distrolens lint [Dockerfile…] [options]

Checks Dockerfiles (default: ./Dockerfile) for what matters for minimal and secure images: a
general-purpose base in the final stage, build tools shipped without a multi-stage build, package
installs without cache cleanup or pinned versions, shell-form CMD/ENTRYPOINT, root, healthchecks
needing curl/wget, ADD from URLs, secrets in ARG/ENV, latest or unpinned bases. Multi-stage
builds, ARG substitution, heredocs, continuations and parser directives are understood.

Options:
  -f, --format FORMAT[=FILE]  table (default), json, sarif; repeat to write several
  -o, --output FILE           write to FILE (atomically) instead of stdout
  --fail-on SEVERITY          exit 1 when a finding is at or above critical|high|medium|low|info
${COMMON_OPTIONS_HELP}
`;

export const LINT_FLAGS = {
  ...COMMON_FLAGS,
  format: { type: 'string', short: 'f', multiple: true },
  output: { type: 'string', short: 'o' },
  'fail-on': { type: 'string' },
} as const;

export async function lintCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(args, LINT_FLAGS);
  if (values.help) {
    io.stdout.write(LINT_HELP);
    return EXIT.ok;
  }
  const outputs = parseFormats(values.format, ['table', 'json', 'sarif'], values.output);
  const failOn = parseFailOn(values['fail-on']);
  const cwd = io.cwd ?? process.cwd();
  const files = await Promise.all(
    (positionals.length ? positionals : ['Dockerfile']).map(async (path) => {
      try {
        return { path, text: await readFile(resolve(cwd, path), 'utf8') };
      } catch {
        throw fail(
          'E_INPUT_NOT_FOUND',
          `${path} cannot be read`,
          positionals.length
            ? 'check the path'
            : 'run it where the Dockerfile is, or name the files: distrolens lint path/to/Dockerfile',
        );
      }
    }),
  );
  const report: LintReport = {
    schema: LINT_SCHEMA,
    tool: TOOL,
    files: files.map((f) => lintDockerfile(f.text, f.path)),
  };
  for (const { format, path } of outputs) {
    const text =
      format === 'json'
        ? renderJson(report)
        : format === 'sarif'
          ? renderLintSarif(report, LINT_RULE_LIST)
          : renderLintTable(report);
    if (path) await writeAtomic(resolve(cwd, path), text);
    else io.stdout.write(text);
  }
  const failing =
    failOn &&
    failingFindings(
      report.files.flatMap((f) => f.findings),
      failOn,
    );
  if (failing) {
    io.stderr.write(`gate failed: ${failing}\n`);
    return EXIT.policy;
  }
  return EXIT.ok;
}
