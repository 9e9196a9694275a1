/**
 * A Dockerfile parser with BuildKit's syntax (https://docs.docker.com/reference/dockerfile/):
 * parser directives (`# syntax=`, `# escape=`, `# check=`) before anything else, line
 * continuations with the escape character (comment lines inside them dropped), heredocs
 * (`<<EOF`, `<<-EOF` stripping tabs, quoted delimiters), exec (JSON) and shell forms, `--flag`
 * options, stages with `AS name`, and ARG/ENV substitution (`$V`, `${V}`, `${V:-default}`,
 * `${V:+alt}`) where Docker applies it. Every instruction keeps its line range, so findings and
 * rewrites point at the source.
 */
export interface Heredoc {
  readonly delimiter: string;
  readonly body: string;
  /** False for a quoted delimiter (`<<"EOF"`): the body is taken literally. */
  readonly expand: boolean;
}

export interface Instruction {
  /** Upper case: FROM, RUN, COPY… */
  readonly keyword: string;
  /** The arguments as written, continuations joined (flags included, heredoc bodies not). */
  readonly raw: string;
  /** Arguments after the --flags. */
  readonly args: string;
  readonly flags: Readonly<Record<string, string>>;
  /** Set for the exec (JSON array) form of RUN, CMD, ENTRYPOINT, SHELL, COPY, ADD, VOLUME. */
  readonly json?: readonly string[];
  readonly heredocs: readonly Heredoc[];
  /** 1-based, first and last source line (heredoc bodies included). */
  readonly line: number;
  readonly endLine: number;
  /** The stage it belongs to; -1 before the first FROM (global ARGs). */
  readonly stage: number;
}

export interface Stage {
  readonly index: number;
  readonly name?: string;
  /** The base as written and with build arguments substituted. */
  readonly base: string;
  readonly baseResolved: string;
  readonly platform?: string;
  readonly line: number;
  readonly instructions: readonly Instruction[];
}

export interface Dockerfile {
  readonly directives: Readonly<Record<string, string>>;
  readonly escape: string;
  readonly instructions: readonly Instruction[];
  readonly stages: readonly Stage[];
  /** ARGs declared before the first FROM, with their defaults. */
  readonly globalArgs: Readonly<Record<string, string | undefined>>;
  /** Lines that are not instructions Docker knows (kept as problems, not thrown). */
  readonly errors: readonly { readonly line: number; readonly message: string }[];
}

export const KEYWORDS = [
  'ADD',
  'ARG',
  'CMD',
  'COPY',
  'ENTRYPOINT',
  'ENV',
  'EXPOSE',
  'FROM',
  'HEALTHCHECK',
  'LABEL',
  'MAINTAINER',
  'ONBUILD',
  'RUN',
  'SHELL',
  'STOPSIGNAL',
  'USER',
  'VOLUME',
  'WORKDIR',
];
const JSON_FORMS = new Set(['RUN', 'CMD', 'ENTRYPOINT', 'SHELL', 'COPY', 'ADD', 'VOLUME']);
const FLAGGED = new Set(['FROM', 'RUN', 'COPY', 'ADD', 'HEALTHCHECK']);
const HEREDOC = /<<(-?)(["']?)([A-Za-z_][A-Za-z0-9_]*)\2/g;

/** Substitutes `$V`, `${V}`, `${V:-d}`, `${V-d}`, `${V:+a}`, `${V+a}` from `vars`; unknown names become empty. */
export function substitute(text: string, vars: Readonly<Record<string, string | undefined>>, escape = '\\'): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === escape && text[i + 1] === '$') {
      out += '$';
      i++;
      continue;
    }
    if (c !== '$') {
      out += c;
      continue;
    }
    const braced = /^\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])([^}]*))?\}/.exec(text.slice(i + 1));
    const bare = braced ? undefined : /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i + 1));
    if (braced) {
      const [whole, name, op, word] = braced;
      const value = vars[name!];
      const set = op?.startsWith(':') ? value !== undefined && value !== '' : value !== undefined;
      out += op?.endsWith('-')
        ? set
          ? value!
          : substitute(word ?? '', vars, escape)
        : op?.endsWith('+')
          ? set
            ? substitute(word ?? '', vars, escape)
            : ''
          : (value ?? '');
      i += whole.length;
    } else if (bare) {
      out += vars[bare[0]] ?? '';
      i += bare[0].length;
    } else out += c;
  }
  return out;
}

/** Splits `--name=value` options off the front of an instruction's arguments. */
function splitFlags(text: string): { flags: Record<string, string>; rest: string } {
  const flags: Record<string, string> = {};
  let rest = text;
  for (let m = /^--([a-z][a-z-]*)(?:=(\S*))?\s*/.exec(rest); m; m = /^--([a-z][a-z-]*)(?:=(\S*))?\s*/.exec(rest)) {
    flags[m[1]!] = m[2] ?? 'true';
    rest = rest.slice(m[0].length);
  }
  return { flags, rest };
}

function jsonForm(args: string): string[] | undefined {
  if (!args.startsWith('[')) return undefined;
  try {
    const value = JSON.parse(args) as unknown;
    return Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Splits a shell-like word list, honouring quotes (for ENV, LABEL, ARG, FROM arguments). */
export function words(text: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  let current = '';
  let last = -1;
  for (const m of text.matchAll(re)) {
    const piece = m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] ?? m[3]!);
    if (last === m.index && current) current += piece;
    else {
      if (current || last >= 0) out.push(current);
      current = piece;
    }
    last = m.index + m[0].length;
  }
  if (last >= 0) out.push(current);
  return out;
}

/** `KEY=value KEY2="v 2"` (or ENV's legacy `KEY value`) as pairs; a bare `KEY` (ARG without default) has no value. */
export function keyValues(args: string, legacyForm = false): [string, string | undefined][] {
  const legacy = /^([^\s=]+)\s+(.*)$/s.exec(args);
  if (legacyForm && legacy && !args.split(/\s+/)[0]!.includes('=')) return [[legacy[1]!, legacy[2]!.trim()]];
  return words(args).map((w) => {
    const eq = w.indexOf('=');
    return eq < 0 ? [w, undefined] : [w.slice(0, eq), w.slice(eq + 1)];
  });
}

export function parseDockerfile(text: string): Dockerfile {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  const directives: Record<string, string> = {};
  let i = 0;
  // Directives: `# key=value` lines at the very top, before any blank line, comment or instruction.
  for (; i < lines.length; i++) {
    const m = /^#\s*([a-zA-Z]+)\s*=\s*(.*?)\s*$/.exec(lines[i]!);
    if (!m || m[1]!.toLowerCase() in directives) break;
    directives[m[1]!.toLowerCase()] = m[2]!;
  }
  const escape = directives.escape === '`' ? '`' : '\\';
  const instructions: Instruction[] = [];
  const errors: { line: number; message: string }[] = [];
  const stages: {
    index: number;
    name?: string;
    base: string;
    baseResolved: string;
    platform?: string;
    line: number;
    instructions: Instruction[];
  }[] = [];
  const globalArgs: Record<string, string | undefined> = {};
  for (; i < lines.length; i++) {
    const first = lines[i]!;
    if (/^\s*(#.*)?$/.test(first)) continue;
    const start = i;
    // Join continuation lines; comment and empty lines inside a continuation are dropped.
    let joined = '';
    let line = first;
    for (;;) {
      const trimmed = line.replace(/\s+$/, '');
      if (trimmed.endsWith(escape)) {
        joined += `${trimmed.slice(0, -1)} `;
        i++;
        while (i < lines.length && /^\s*(#.*)?$/.test(lines[i]!)) i++;
        if (i >= lines.length) break;
        line = lines[i]!;
      } else {
        joined += trimmed;
        break;
      }
    }
    const m = /^\s*([A-Za-z]+)(?:\s+(.*))?$/s.exec(joined);
    const keyword = m?.[1]?.toUpperCase();
    if (!m || !keyword || !KEYWORDS.includes(keyword)) {
      errors.push({ line: start + 1, message: `unknown instruction ${JSON.stringify(joined.trim().split(/\s+/)[0])}` });
      continue;
    }
    const raw = (m[2] ?? '').trim();
    // Heredocs: bodies follow the instruction line, each up to its delimiter.
    const heredocs: Heredoc[] = [];
    if (keyword === 'RUN' || keyword === 'COPY' || keyword === 'ADD') {
      for (const h of raw.matchAll(HEREDOC)) {
        const body: string[] = [];
        for (i++; i < lines.length; i++) {
          const l = h[1] ? lines[i]!.replace(/^\t+/, '') : lines[i]!;
          if (l === h[3]) break;
          body.push(l);
        }
        heredocs.push({ delimiter: h[3]!, body: body.join('\n'), expand: !h[2] });
      }
    }
    const { flags, rest } = FLAGGED.has(keyword) ? splitFlags(raw) : { flags: {}, rest: raw };
    const json = JSON_FORMS.has(keyword) ? jsonForm(rest) : undefined;
    const instruction: Instruction = {
      keyword,
      raw,
      args: rest,
      flags,
      ...(json ? { json } : {}),
      heredocs,
      line: start + 1,
      endLine: i + 1,
      stage: keyword === 'FROM' ? stages.length : stages.length - 1,
    };
    instructions.push(instruction);
    if (keyword === 'FROM') {
      const [base = '', as, name] = words(rest);
      const baseResolved = substitute(base, globalArgs, escape);
      stages.push({
        index: stages.length,
        ...(as?.toLowerCase() === 'as' && name ? { name: name.toLowerCase() } : {}),
        base,
        baseResolved,
        ...(flags.platform ? { platform: flags.platform } : {}),
        line: start + 1,
        instructions: [],
      });
      stages[stages.length - 1]!.instructions.push(instruction);
      continue;
    }
    if (keyword === 'ARG' && !stages.length) for (const [key, value] of keyValues(rest)) globalArgs[key] = value;
    if (!stages.length) {
      if (keyword !== 'ARG') errors.push({ line: start + 1, message: `${keyword} before the first FROM` });
      continue;
    }
    stages[stages.length - 1]!.instructions.push(instruction);
  }
  if (!stages.length && !errors.length) errors.push({ line: 1, message: 'no FROM instruction' });
  return { directives, escape, instructions, stages, globalArgs, errors };
}

/**
 * A stage and the stages it is built on (`FROM build`), nearest first; the last one stands on an
 * image. A base can only name an earlier stage, so the chain ends.
 */
export function stageChain(file: Dockerfile, stage: Stage): Stage[] {
  const chain = [stage];
  for (let s = stage; ;) {
    const parent = file.stages.find((p) => p.index < s.index && p.name === s.baseResolved.toLowerCase());
    if (!parent) return chain;
    chain.push((s = parent));
  }
}

const SHELL_FEATURES = /[$`|&;<>*?(){}\\]|(^|\s)(if|for|while|case)\s/;

/** The command of CMD/ENTRYPOINT/RUN as exec-form words (`exec` dropped), or undefined when it needs a shell. */
export function execForm(ins: Instruction): string[] | undefined {
  if (ins.json) return [...ins.json];
  const text = ins.args.trim().replace(/^exec\s+/, '');
  return SHELL_FEATURES.test(text) ? undefined : words(text);
}
