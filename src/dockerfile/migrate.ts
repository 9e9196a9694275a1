import { classifyBase } from '../recommend/bases.js';
import { CATALOGUE, type BaseImage } from '../recommend/catalogue.js';
import { imageOf, isSecretName, runtimeOf, suggestedBase } from './lint.js';
import { execForm, parseDockerfile, stageChain, words, type Instruction, type Stage } from './parse.js';

/**
 * `migrate`: rewrites a Dockerfile so that the image that ships stands on a minimal base. The
 * final stage becomes a build stage (named, everything it ran stays there); a new final stage on
 * the target copies what the application needs at run time (the working directory, absolute COPY
 * destinations, binaries named by -o or by the command), runs as non-root, and starts in exec form.
 * Nothing is dropped silently: an instruction that cannot be carried over is kept as a comment and
 * a warning says why. Every instruction of the original is accounted for.
 */
export interface Change {
  readonly line?: number;
  readonly reason: string;
}

export interface Accounted {
  readonly line: number;
  readonly keyword: string;
  readonly outcome: 'kept' | 'moved' | 'rewritten' | 'commented';
}

export interface Migration {
  /** The base of the new final stage; undefined when the image already stands on a minimal one. */
  readonly target?: string;
  readonly text: string;
  readonly changes: readonly Change[];
  readonly warnings: readonly Change[];
  readonly accounting: readonly Accounted[];
}

/** Instructions that describe the image rather than build it: they move to the final stage. */
const METADATA = new Set([
  'CMD',
  'ENTRYPOINT',
  'HEALTHCHECK',
  'EXPOSE',
  'VOLUME',
  'STOPSIGNAL',
  'LABEL',
  'MAINTAINER',
  'ONBUILD',
]);
/** Python console scripts that are also runnable modules (`python -m NAME`). */
const PYTHON_MODULES = new Set([
  'gunicorn',
  'uvicorn',
  'flask',
  'celery',
  'hypercorn',
  'daphne',
  'waitress',
  'streamlit',
  'pytest',
]);
const NONROOT_UID = '65532';

function targetOf(ref: string): BaseImage | undefined {
  return CATALOGUE.find((b) => b.ref === ref || ref.startsWith(`${b.ref}:`) || ref.startsWith(`${b.ref}@`));
}

/** A free stage name for the former final stage. */
function builderName(stages: readonly Stage[]): string {
  const taken = new Set(stages.map((s) => s.name));
  return ['build', 'runtime-build', 'app-build'].find((n) => !taken.has(n)) ?? `stage-${stages.length}`;
}

/** `ENV A=1 B="x y"` or the legacy `ENV A 1` → name/value pairs, values as written. */
function envPairs(args: string): [string, string][] {
  const legacy = /^([A-Za-z_][A-Za-z0-9_]*)\s+(?![^=\s]*=)(.*)$/s.exec(args.trim());
  if (legacy) return [[legacy[1]!, legacy[2]!]];
  return [...args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)/g)].map((m) => [m[1]!, m[2]!]);
}

/** The names of an ENV instruction that lint flags as secrets. */
function envSecrets(args: string): string[] {
  return envPairs(args)
    .filter(([name]) => isSecretName(name))
    .map(([name]) => name);
}

/** Adapts a command to the target's own entrypoint (node, python3, java -jar). */
function adapt(
  command: string[],
  target: BaseImage | undefined,
  runtime: ReturnType<typeof runtimeOf>,
): { command: string[]; reason?: string; problem?: string } {
  const [exe = '', ...rest] = command;
  const base = exe.split('/').pop()!;
  if (target?.runtime === 'node') {
    if (/^node(js)?$/.test(base))
      return { command: rest, reason: `${target.ref} starts node itself: CMD keeps the script and its arguments` };
    if (/^(npm|yarn|pnpm|npx)$/.test(base))
      return {
        command,
        problem: `${base} is not in ${target.ref}: replace ${command.join(' ')} with the script it runs (CMD ["server.js"])`,
      };
  }
  if (target?.runtime === 'python') {
    if (/^python[\d.]*$/.test(base))
      return { command: rest, reason: `${target.ref} starts python itself: CMD keeps the script and its arguments` };
    if (PYTHON_MODULES.has(base))
      return {
        command: ['-m', base, ...rest],
        reason: `console scripts need a shebang interpreter that ${target.ref} does not have at that path: run ${base} as a module`,
      };
  }
  if (target?.runtime === 'java' && base === 'java')
    return { command: ['/usr/bin/java', ...rest], reason: `the JDK's java is /usr/bin/java in ${target.ref}` };
  if (runtime === 'node' && target?.runtime !== 'node')
    return { command, problem: `the application needs node, which ${target?.ref ?? 'the target'} does not have` };
  return { command };
}

export function migrateDockerfile(text: string, options: { to?: string } = {}): Migration {
  const file = parseDockerfile(text);
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  const final = file.stages[file.stages.length - 1];
  if (!final) return { text, changes: [], warnings: [{ reason: 'no FROM: nothing to migrate' }], accounting: [] };
  const baseRef = imageOf(file, final);
  const base = classifyBase(baseRef);
  const accounting: Accounted[] = [];
  if (!options.to && (base.kind === 'minimal' || base.kind === 'scratch')) {
    for (const ins of file.instructions) accounting.push({ line: ins.line, keyword: ins.keyword, outcome: 'kept' });
    return {
      text,
      changes: [{ line: final.line, reason: `${baseRef} is already a minimal base: nothing to migrate` }],
      warnings: [],
      accounting,
    };
  }
  const runtime = runtimeOf(file, final);
  const targetRef = options.to ?? suggestedBase(runtime, base.tag)!;
  const target = targetOf(targetRef);
  const changes: Change[] = [];
  const warnings: Change[] = [];
  const builder = final.name ?? builderName(file.stages);

  // The build part: everything before the final stage as it was, then the final stage renamed,
  // its build instructions kept in place, its metadata removed (it moves below).
  const out: string[] = lines.slice(0, final.line - 1);
  const fromLine = lines[final.line - 1]!;
  if (final.name) out.push(fromLine);
  else {
    out.push(`${fromLine.replace(/\s+$/, '')} AS ${builder}`);
    changes.push({
      line: final.line,
      reason: `the former final stage becomes the build stage "${builder}": everything it ran stays there`,
    });
  }
  accounting.push({ line: final.line, keyword: 'FROM', outcome: final.name ? 'kept' : 'rewritten' });
  let cursor = final.line; // 0-based index of the next source line to copy
  const moved: Instruction[] = [];
  for (const ins of final.instructions.slice(1)) {
    out.push(...lines.slice(cursor, ins.line - 1));
    if (METADATA.has(ins.keyword)) moved.push(ins);
    else {
      out.push(...lines.slice(ins.line - 1, ins.endLine));
      accounting.push({ line: ins.line, keyword: ins.keyword, outcome: 'kept' });
    }
    cursor = ins.endLine;
  }
  out.push(...lines.slice(cursor).filter((l, i, all) => i < all.length - 1 || l !== ''));
  while (out.length && out[out.length - 1] === '') out.pop();

  // What the application needs at run time.
  // The working directory in effect: the stage's own, or the one of the stage it builds on.
  const workdir = stageChain(file, final)
    .flatMap((s) => [...s.instructions].reverse())
    .find((i) => i.keyword === 'WORKDIR')
    ?.args.trim();
  // A compiled application needs its binary, not the sources it was built from.
  const compiled = runtime === 'go' || runtime === 'rust';
  const copies = new Set<string>();
  for (const ins of final.instructions) {
    if (ins.keyword === 'COPY' || ins.keyword === 'ADD') {
      const parts = ins.json ?? words(ins.args);
      const dest = parts[parts.length - 1] ?? '';
      if (dest.startsWith('/')) copies.add(dest.replace(/\/$/, '') || '/');
      else if (workdir && !compiled) copies.add(workdir);
    }
    if (ins.keyword === 'RUN')
      for (const m of (ins.json?.join(' ') ?? ins.args).matchAll(/\s-o\s+(\/\S+)/g)) copies.add(m[1]!);
  }
  if (workdir && !compiled) copies.add(workdir);
  const command = final.instructions.filter((i) => i.keyword === 'ENTRYPOINT' || i.keyword === 'CMD');
  for (const ins of command)
    for (const w of execForm(ins) ?? [])
      if (/^\/[\w./-]+$/.test(w) && !w.startsWith('/usr/bin/') && !w.startsWith('/bin/')) copies.add(w);
  // A path inside another one is copied with it.
  const paths = [...copies]
    .filter((p) => ![...copies].some((q) => q !== p && q !== '/' && p.startsWith(`${q}/`)))
    .sort();
  const python = /^python:(\d+\.\d+)/.exec(baseRef.split('/').pop() ?? '')?.[1];

  const finalLines: string[] = ['', `FROM ${targetRef}`];
  changes.push({
    reason: `new final stage on ${targetRef}${target ? ` (${target.family}, runs ${target.runtime})` : ''}: no shell, no package manager`,
  });
  // ENV settings are repeated in the final stage, except those lint flags as secrets: a secret
  // never goes into the new image, it becomes a runtime variable (or a build secret).
  const envs = final.instructions.filter((i) => i.keyword === 'ENV');
  let carried = 0;
  for (const env of envs) {
    const secrets = envSecrets(env.args);
    if (!secrets.length) {
      finalLines.push(...lines.slice(env.line - 1, env.endLine));
      carried++;
      continue;
    }
    const kept = envPairs(env.args).filter(([name]) => !secrets.includes(name));
    if (kept.length) finalLines.push(`ENV ${kept.map(([name, value]) => `${name}=${value}`).join(' ')}`);
    warnings.push({
      line: env.line,
      reason: `ENV ${secrets.join(', ')} looks like a secret and is not carried into the final stage: pass it at run time (docker run -e, a Kubernetes Secret), or at build time with RUN --mount=type=secret; rotate it, it was in the old image`,
    });
  }
  if (carried)
    changes.push({ reason: 'ENV settings are repeated in the final stage, where the application reads them' });
  if (workdir) finalLines.push(`WORKDIR ${workdir}`);
  for (const path of paths) finalLines.push(`COPY --from=${builder} ${path} ${path}`);
  if (paths.length) changes.push({ reason: `runtime files copied from the build stage: ${paths.join(', ')}` });
  else
    warnings.push({
      reason: `no WORKDIR, COPY or output path says where the application is: add COPY --from=${builder} lines for its files`,
    });
  // A runtime's major version changes with the base: say so, as for Python below.
  const node = /^node:(\d+)/.exec(baseRef.split('/').pop() ?? '')?.[1];
  if (runtime === 'node' && node && target?.runtimeVersion && target.runtimeVersion !== node)
    warnings.push({
      reason: `the build uses Node.js ${node} and ${target.ref} runs Node.js ${target.runtimeVersion}: check the application and its native modules on ${target.runtimeVersion} (build on node:${target.runtimeVersion})`,
    });
  if (runtime === 'python' && python) {
    const site = `/usr/local/lib/python${python}/site-packages`;
    finalLines.push(`COPY --from=${builder} ${site} ${site}`, `ENV PYTHONPATH=${site}`);
    changes.push({
      reason: `pip installed the dependencies into ${site} in the build stage: copied, and put on PYTHONPATH`,
    });
    if (target?.runtimeVersion && target.runtimeVersion !== python)
      warnings.push({
        reason: `the build uses Python ${python} and ${target.ref} runs ${target.runtimeVersion}: compiled extensions must match; build on python:${target.runtimeVersion}`,
      });
  }
  const installs = final.instructions.filter(
    (i) => i.keyword === 'RUN' && /\b(apt-get|apt|apk|yum|dnf)\s+(-\S+\s+)*(install|add)\b/.test(i.args),
  );
  for (const ins of installs) {
    warnings.push({
      line: ins.line,
      reason: `OS packages installed here stay in the build stage; they are not in ${targetRef}. Copy the runtime libraries the application loads, or use dependencies that bundle them`,
    });
  }
  const nonrootByDefault = (target?.user && target.user !== 'root') || /nonroot/.test(targetRef);
  if (!nonrootByDefault) {
    finalLines.push(`USER ${NONROOT_UID}:${NONROOT_UID}`);
    changes.push({ reason: `runs as ${NONROOT_UID} (nonroot in distroless and Chainguard images)` });
  }
  for (const ins of moved) {
    const source = lines.slice(ins.line - 1, ins.endLine).join('\n');
    if (ins.keyword === 'CMD' || ins.keyword === 'ENTRYPOINT') {
      const words = execForm(ins);
      const adapted = words ? adapt(words, target, runtime) : undefined;
      if (!adapted || adapted.problem) {
        finalLines.push(...source.split('\n').map((l) => `# ${l}`));
        warnings.push({
          line: ins.line,
          reason:
            adapted?.problem ??
            `${ins.keyword} relies on the shell (${ins.args.trim()}); ${targetRef} has none. Write the command in exec form`,
        });
        accounting.push({ line: ins.line, keyword: ins.keyword, outcome: 'commented' });
        continue;
      }
      const keyword =
        target?.entrypoint &&
        ins.keyword === 'ENTRYPOINT' &&
        adapted.command[0] !== '/usr/bin/java' &&
        !adapted.command[0]?.startsWith('/')
          ? 'CMD'
          : ins.keyword;
      finalLines.push(`${keyword} ${JSON.stringify(adapted.command)}`);
      const rewritten = !ins.json || adapted.reason !== undefined || keyword !== ins.keyword;
      if (!ins.json)
        changes.push({
          line: ins.line,
          reason: `${ins.keyword} in exec form: there is no shell to run the shell form, and signals reach the process`,
        });
      if (adapted.reason) changes.push({ line: ins.line, reason: adapted.reason });
      accounting.push({ line: ins.line, keyword: ins.keyword, outcome: rewritten ? 'rewritten' : 'moved' });
      continue;
    }
    if (ins.keyword === 'HEALTHCHECK' && /\b(curl|wget)\b/.test(ins.args)) {
      finalLines.push(...source.split('\n').map((l) => `# ${l}`));
      warnings.push({
        line: ins.line,
        reason: `the HEALTHCHECK calls ${/\b(curl|wget)\b/.exec(ins.args)![1]}, which ${targetRef} does not have. Probe from the orchestrator (Kubernetes httpGet) or ship a probe binary`,
      });
      accounting.push({ line: ins.line, keyword: ins.keyword, outcome: 'commented' });
      continue;
    }
    if (ins.keyword === 'EXPOSE' && ins.args.split(/\s+/).some((p) => Number.parseInt(p, 10) < 1024)) {
      warnings.push({
        line: ins.line,
        reason: `a non-root process cannot listen on ports below 1024 (${ins.args.trim()}); listen on 8080 or higher`,
      });
    }
    finalLines.push(source.replace(/^\s+/, ''));
    accounting.push({ line: ins.line, keyword: ins.keyword, outcome: 'moved' });
  }
  if (moved.length)
    changes.push({
      reason: `${[...new Set(moved.map((m) => m.keyword))].join(', ')} moved to the final stage, which is the image that runs`,
    });
  // The earlier stages: untouched.
  for (const ins of file.instructions.filter((i) => i.stage < final.index))
    accounting.push({ line: ins.line, keyword: ins.keyword, outcome: 'kept' });
  accounting.sort((a, b) => a.line - b.line);
  return { target: targetRef, text: `${[...out, ...finalLines].join('\n')}\n`, changes, warnings, accounting };
}

/** A unified diff of two texts (three lines of context), for showing a migration before writing it. */
export function unifiedDiff(before: string, after: string, name = 'Dockerfile', context = 3): string {
  const a = before.replace(/\n$/, '').split('\n');
  const b = after.replace(/\n$/, '').split('\n');
  // Longest common subsequence table (Dockerfiles are small).
  const lcs = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--)
    for (let j = b.length - 1; j >= 0; j--)
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const ops: { op: ' ' | '-' | '+'; text: string; ai: number; bi: number }[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) ops.push({ op: ' ', text: a[i]!, ai: i++, bi: j++ });
    else if (i < a.length && (j >= b.length || lcs[i + 1]![j]! >= lcs[i]![j + 1]!))
      ops.push({ op: '-', text: a[i]!, ai: i++, bi: j });
    else ops.push({ op: '+', text: b[j]!, ai: i, bi: j++ });
  }
  const out = [`--- a/${name}`, `+++ b/${name}`];
  // Changes closer than 2 × context share a hunk.
  const changed = ops.flatMap((o, k) => (o.op === ' ' ? [] : [k]));
  for (let g = 0; g < changed.length;) {
    let last = g;
    while (last + 1 < changed.length && changed[last + 1]! - changed[last]! <= 2 * context) last++;
    const hunk = ops.slice(Math.max(0, changed[g]! - context), Math.min(ops.length, changed[last]! + context + 1));
    const aLen = hunk.filter((o) => o.op !== '+').length;
    const bLen = hunk.filter((o) => o.op !== '-').length;
    out.push(
      `@@ -${hunk[0]!.ai + (aLen ? 1 : 0)},${aLen} +${hunk[0]!.bi + (bLen ? 1 : 0)},${bLen} @@`,
      ...hunk.map((o) => `${o.op}${o.text}`),
    );
    g = last + 1;
  }
  return out.length > 2 ? `${out.join('\n')}\n` : '';
}
