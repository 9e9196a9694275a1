import type { EntrypointInfo } from '../../core/report.js';
import { elfLinkage, isElf } from '../common/elf.js';
import type { Analyzer, AnalyzerInput, AnalyzerOutput } from '../types.js';

/**
 * What the image runs: the command (ENTRYPOINT + CMD), the executable it resolves to in the image
 * (PATH from the config), and how that executable runs — a static or dynamic ELF with the shared
 * libraries it needs, or a script and its interpreter. `recommend` chooses a base from this.
 */
interface Executable {
  readonly interpreter?: string;
  readonly needed?: readonly string[];
  readonly shebang?: string;
}

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const SHELL_FORM = /^\/bin\/(ba|da|a)?sh$/;

export const entrypointAnalyzer = {
  id: 'entrypoint',
  version: 2,
  extract: {
    match: (_path: string, size: number, mode: number) => (mode & 0o111) !== 0 && size >= 4,
    run: (data: Buffer): Executable | undefined => {
      if (isElf(data)) {
        const linkage = elfLinkage(data);
        return linkage
          ? { ...(linkage.interpreter ? { interpreter: linkage.interpreter } : {}), needed: linkage.needed }
          : undefined;
      }
      if (data[0] === 0x23 && data[1] === 0x21)
        return { shebang: data.subarray(2, 256).toString('utf8').split('\n')[0]!.trim() };
      return undefined;
    },
  },
  analyze({ fs, image, extracted }: AnalyzerInput<Executable>): AnalyzerOutput {
    const command = [...(image.config.entrypoint ?? []), ...(image.config.cmd ?? [])];
    if (!command.length) return {};
    // `sh -c "…"` runs the shell; the program is the first word of the script.
    const shell = SHELL_FORM.test(command[0]!) && command[1] === '-c';
    const script = (command[2] ?? '').trim().split(/\s+/);
    const program = shell ? (script[0] === 'exec' ? (script[1] ?? '') : script[0]!) : command[0]!;
    const pathVar = image.config.env.find((e) => e.startsWith('PATH='))?.slice(5) ?? DEFAULT_PATH;
    const candidates = program.includes('/')
      ? [program.startsWith('/') ? program : `${image.config.workingDir || '/'}/${program}`.replace(/\/+/g, '/')]
      : pathVar
          .split(':')
          .filter(Boolean)
          .map((dir) => `${dir}/${program}`);
    for (const candidate of candidates) {
      const entry = fs.file(candidate);
      if (!entry || entry.type !== 'file') continue;
      const facts = extracted(entry.path);
      const info: EntrypointInfo = {
        command,
        ...(shell ? { shell: true } : {}),
        program,
        path: entry.path,
        kind:
          facts?.shebang !== undefined
            ? 'script'
            : facts?.needed
              ? facts.interpreter || facts.needed.length
                ? 'elf-dynamic'
                : 'elf-static'
              : 'other',
        ...(facts?.interpreter
          ? { interpreter: facts.interpreter }
          : facts?.shebang
            ? { interpreter: facts.shebang }
            : {}),
        ...(facts?.needed?.length ? { needs: facts.needed } : {}),
      };
      return { entrypoint: info };
    }
    return { entrypoint: { command, ...(shell ? { shell: true } : {}), program, kind: 'missing' } };
  },
} satisfies Analyzer<Executable>;
