import { SEVERITIES, fingerprint, type Rule, type SourceFinding } from '../core/finding.js';
import { classifyBase, type BaseInfo } from '../recommend/bases.js';
import { candidatesFor, type Runtime } from '../recommend/catalogue.js';
import { execForm, parseDockerfile, stageChain, type Dockerfile, type Instruction, type Stage } from './parse.js';

/**
 * Dockerfile checks for minimal and secure images, each a rule with a stable id, like the image
 * rules: what the final stage is built on, whether build tools reach it, how packages are
 * installed, how it starts, as whom, and what it leaks.
 */
const rule = (
  id: string,
  severity: Rule['severity'],
  title: string,
  rationale: string,
  references: string[] = [],
): Rule => ({ id: `dockerfile/${id}`, severity, title, rationale, references });

/** An ARG or ENV name that says it holds a secret (a path, URL, host or user name to one does not). */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name) && !/_(FILE|PATH|URL|HOST|USER(NAME)?)$/i.test(name);
}

export const LINT_RULES = {
  generalBase: rule(
    'general-base',
    'medium',
    'The final stage is built on a general-purpose base',
    'A full distribution brings a shell, a package manager and hundreds of packages the application never uses: attack surface and CVEs to patch. A distroless or Chainguard base fits most services.',
    ['https://github.com/GoogleContainerTools/distroless', 'CIS Docker Benchmark 4.1'],
  ),
  singleStage: rule(
    'single-stage-build',
    'high',
    'Build tools end up in the final image (no multi-stage build)',
    'Compilers, package managers and dev dependencies installed to build the application stay in the image that runs it. Build in one stage, copy the result into a minimal one.',
    ['https://docs.docker.com/build/building/multi-stage/'],
  ),
  packageCache: rule(
    'package-cache',
    'low',
    'Package install leaves its cache in the layer',
    'apt lists, apk and pip caches installed in a RUN stay in that layer even if a later RUN deletes them: megabytes of weight for nothing.',
    ['hadolint DL3009', 'hadolint DL3019', 'hadolint DL3042'],
  ),
  unpinned: rule(
    'unpinned-packages',
    'low',
    'Packages are installed without a pinned version',
    'An unpinned install takes whatever the mirror has on build day: builds are not reproducible and a regression arrives unannounced.',
    ['hadolint DL3008', 'hadolint DL3018', 'hadolint DL3013'],
  ),
  shellForm: rule(
    'shell-form',
    'low',
    'CMD or ENTRYPOINT in shell form',
    'The shell form runs through /bin/sh -c: it fails on an image without a shell, and the shell does not forward SIGTERM to the application.',
    ['hadolint DL3025'],
  ),
  rootUser: rule(
    'root-user',
    'high',
    'The final stage runs as root',
    'A process running as root turns a container escape or a writable mount into host compromise (Azurescape, 2021). Set a non-root USER.',
    ['CIS Docker Benchmark 4.1', 'https://unit42.paloaltonetworks.com/azure-container-instances/'],
  ),
  healthcheckTool: rule(
    'healthcheck-tool',
    'medium',
    'HEALTHCHECK needs a tool the stage does not have',
    'A healthcheck that calls curl or wget fails when the image has neither: the container is marked unhealthy and restarted forever. Probe from the orchestrator or ship a small probe binary.',
  ),
  addUrl: rule(
    'add-url',
    'medium',
    'ADD downloads from a URL',
    'ADD with a URL fetches at build time without verifying what it got. Download with a pinned checksum (ADD --checksum=sha256:…) or in a build stage.',
    ['hadolint DL3020', 'CIS Docker Benchmark 4.9'],
  ),
  secretArgEnv: rule(
    'secret-in-arg-env',
    'high',
    'A secret is passed through ARG or ENV',
    'ARG and ENV values are stored in the image history and config, readable by anyone who can pull the image. Use build secrets (RUN --mount=type=secret) or runtime configuration.',
    ['https://docs.docker.com/build/building/secrets/'],
  ),
  latestTag: rule(
    'latest-tag',
    'medium',
    'Base image is latest or untagged',
    'latest moves: the same Dockerfile builds a different image tomorrow, with different packages and vulnerabilities.',
    ['hadolint DL3006', 'hadolint DL3007'],
  ),
  unpinnedDigest: rule(
    'unpinned-digest',
    'low',
    'Base image is not pinned by digest',
    'A tag can be re-pushed. Pinning the base by @sha256 makes builds reproducible; a bot (Renovate, Dependabot) keeps the digest current.',
  ),
  syntax: rule(
    'syntax',
    'medium',
    'Line Docker cannot parse',
    'An unknown instruction or an instruction before FROM fails the build.',
  ),
} as const;

export const LINT_RULE_LIST: readonly Rule[] = Object.values(LINT_RULES);

const SECRET_NAME = /(pass(word|wd)?|secret|token|api[_-]?key|private[_-]?key|credential|access[_-]?key)/i;
const BUILD_TOOLS =
  /\b(gcc|g\+\+|clang|make|build-essential|cmake|(apt-get|apt|apk|yum|dnf|microdnf)\s+(install|add)|npm\s+(ci|install|i)\b|yarn(\s+install)?\b|pnpm\s+install|pip3?\s+install|go\s+build|mvn|gradle|cargo\s+build|dotnet\s+(build|publish))/;

interface Context {
  readonly file: Dockerfile;
  readonly path: string;
  readonly out: SourceFinding[];
}

function report(
  ctx: Context,
  r: Rule,
  ins: { line: number; endLine?: number },
  message: string,
  severity = r.severity,
  key = '',
): void {
  ctx.out.push({
    ruleId: r.id,
    severity,
    title: r.title,
    message,
    references: r.references,
    location: {
      path: ctx.path,
      line: ins.line,
      ...(ins.endLine !== undefined && ins.endLine !== ins.line ? { endLine: ins.endLine } : {}),
    },
    fingerprint: fingerprint(r.id, ctx.path, key || String(ins.line)),
  });
}

/** The base a stage ultimately stands on: another stage's name is followed to its image. */
export const imageOf = (file: Dockerfile, stage: Stage): string => stageChain(file, stage).pop()!.baseResolved;

/** The command text of RUN instructions, heredoc bodies included. */
const runText = (ins: Instruction): string =>
  [ins.json ? ins.json.join(' ') : ins.args, ...ins.heredocs.map((h) => h.body)].join('\n');

/** The runtime a stage carries: its base's, or what its RUN lines install. */
export function runtimeOf(file: Dockerfile, stage: Stage): Runtime | 'go' | 'rust' | undefined {
  const base = classifyBase(imageOf(file, stage));
  if (base.runtime) return base.runtime;
  const runs = stage.instructions
    .filter((i) => i.keyword === 'RUN')
    .map(runText)
    .join('\n');
  if (/\bnodejs\b/.test(runs)) return 'node';
  if (/\bpython3?\b/.test(runs)) return 'python';
  if (/\b(openjdk|default-jre|temurin)/.test(runs)) return 'java';
  if (/\bnginx\b/.test(runs)) return 'nginx';
  return undefined;
}

/**
 * The distroless base that fits a stage's runtime (Go and Rust build to static binaries), of the
 * runtime version the base's tag names when the catalogue has it (eclipse-temurin:21 → java21).
 */
export function suggestedBase(runtime: ReturnType<typeof runtimeOf>, baseTag?: string): string | undefined {
  const r: Runtime = runtime === 'go' || runtime === 'rust' ? 'static' : (runtime ?? 'glibc');
  const candidates = candidatesFor(r, []);
  const version = /^(\d+(?:\.\d+)?)/.exec(baseTag ?? '')?.[1];
  const sameVersion = (c: (typeof candidates)[number]) =>
    version !== undefined &&
    c.runtimeVersion !== undefined &&
    (version === c.runtimeVersion || version.split('.')[0] === c.runtimeVersion);
  return (
    candidates.find((c) => c.family === 'distroless' && sameVersion(c)) ??
    candidates.find((c) => c.family === 'distroless') ??
    candidates[0]
  )?.ref;
}

const hasTool = (stage: Stage, base: BaseInfo, baseRef: string, tool: 'curl' | 'wget'): boolean => {
  const installed = stage.instructions.some(
    (i) => i.keyword === 'RUN' && new RegExp(`(install|add)\\b[^\\n;&|]*\\b${tool}\\b`).test(runText(i)),
  );
  if (installed) return true;
  if (base.kind !== 'general') return false;
  // Alpine's busybox has wget; the full (not -slim, not -alpine) Debian-based language images ship both.
  const name = baseRef.split('/').pop() ?? '';
  if (tool === 'wget' && /alpine/.test(name)) return true;
  return /^(node|python|golang|ruby|php|buildpack-deps|openjdk|rust)(:|$)/.test(name) && !/slim|alpine/.test(name);
};

function lintStage(ctx: Context, stage: Stage, final: boolean): void {
  const baseRef = imageOf(ctx.file, stage);
  const isStageRef =
    baseRef !== stage.baseResolved ||
    ctx.file.stages.some((s) => s.index < stage.index && s.name === stage.baseResolved.toLowerCase());
  const base = classifyBase(baseRef);
  const from = stage.instructions[0]!;
  if (!isStageRef && base.kind !== 'scratch') {
    if (!base.digest && (!base.tag || base.tag === 'latest'))
      report(
        ctx,
        LINT_RULES.latestTag,
        from,
        `FROM ${stage.base}: ${base.tag ? 'the latest tag' : 'no tag, which means latest'}. Pin a version tag (and a digest).`,
      );
    else if (!base.digest)
      report(
        ctx,
        LINT_RULES.unpinnedDigest,
        from,
        `FROM ${stage.base} is not pinned by digest; write ${stage.baseResolved}@sha256:… and let a bot keep it current.`,
      );
  }
  for (const ins of stage.instructions) {
    if (ins.keyword === 'RUN') lintRun(ctx, ins);
    if (ins.keyword === 'ADD' && /(^|\s)https?:\/\//.test(ins.args) && !ins.flags.checksum) {
      report(
        ctx,
        LINT_RULES.addUrl,
        ins,
        `ADD ${ins.args.split(/\s+/)[0]} downloads without a checksum. Use ADD --checksum=sha256:… or fetch it in a build stage and verify it.`,
      );
    }
    if (ins.keyword === 'ARG' || ins.keyword === 'ENV') {
      for (const name of ins.args
        .split(/\s+/)
        .map((w) => w.split('=')[0]!)
        .filter((n) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(n))) {
        if (isSecretName(name)) {
          // Only the final stage's ARG and ENV reach the shipped image's history; a build stage's stay in build logs and caches.
          report(
            ctx,
            LINT_RULES.secretArgEnv,
            ins,
            `${ins.keyword} ${name} looks like a secret (the value is not shown). ${final ? 'It stays in the image history and config' : 'It is in this build stage only, but in build logs and the build cache'}; use RUN --mount=type=secret,id=${name.toLowerCase()} or pass it at run time.`,
            final ? undefined : 'low',
            `${ins.keyword}:${name}`,
          );
        }
      }
    }
  }
  if (!final) return;
  if (base.kind === 'general' || base.kind === 'unknown') {
    const suggestion = suggestedBase(runtimeOf(ctx.file, stage), base.tag);
    if (base.kind === 'general')
      report(
        ctx,
        LINT_RULES.generalBase,
        from,
        `The image that ships is built on ${baseRef}, a general-purpose base with a shell and a package manager.${suggestion ? ` ${suggestion} fits this application: run \`distrolens migrate\` for a multi-stage rewrite.` : ''}`,
      );
  }
  const user = lastUserLine(stage)?.args.trim() ?? base.user;
  if (!user || /^(root|0)(:.*)?$/.test(user)) {
    report(
      ctx,
      LINT_RULES.rootUser,
      lastUserLine(stage) ?? from,
      `${user ? `USER ${user}` : 'No USER'} in the final stage: the process runs as root. Add USER 65532 (distroless and Chainguard ship nonroot as 65532).`,
    );
  }
  for (const ins of stage.instructions) {
    if ((ins.keyword === 'CMD' || ins.keyword === 'ENTRYPOINT') && !ins.json && ins.args) {
      const severity = base.hasShell ? 'low' : 'high';
      const exec = execForm(ins);
      report(
        ctx,
        LINT_RULES.shellForm,
        ins,
        `${ins.keyword} ${ins.args} is in shell form${base.hasShell ? '' : `, and ${baseRef} has no shell: the container cannot start`}. ${exec ? `Write it in exec form: ${ins.keyword} ${JSON.stringify(exec)}.` : 'It relies on the shell ($VARS, &&, pipes): move that logic into the application or a script the image can run, and write the command in exec form.'}`,
        severity,
      );
    }
    if (ins.keyword === 'HEALTHCHECK' && !/^none$/i.test(ins.args.trim())) {
      const tool = /\b(curl|wget)\b/.exec(ins.args)?.[1] as 'curl' | 'wget' | undefined;
      if (tool && !hasTool(stage, base, baseRef, tool)) {
        report(
          ctx,
          LINT_RULES.healthcheckTool,
          ins,
          `HEALTHCHECK calls ${tool}, which ${baseRef} does not have and this stage does not install: the check always fails. Use an orchestrator probe (Kubernetes httpGet) or a probe binary built with the application.`,
          base.kind === 'general' ? 'medium' : 'high',
        );
      }
    }
  }
  if (ctx.file.stages.length === 1) {
    const builds = stage.instructions.filter((i) => i.keyword === 'RUN' && BUILD_TOOLS.test(runText(i)));
    if (builds.length)
      report(
        ctx,
        LINT_RULES.singleStage,
        builds[0]!,
        `A single stage installs or builds (${BUILD_TOOLS.exec(runText(builds[0]!))![0]}…) and ships: the tools and caches of the build stay in the image. Build in one stage and COPY --from it into a minimal final stage.`,
      );
  }
}

const lastUserLine = (stage: Stage): Instruction | undefined =>
  [...stage.instructions].reverse().find((i) => i.keyword === 'USER');

function lintRun(ctx: Context, ins: Instruction): void {
  const text = runText(ins);
  const cached = /type=cache/.test(ins.flags.mount ?? '');
  for (const segment of text.split(/&&|;|\|\||\n/)) {
    const apt = /\bapt(?:-get)?\s+(?:-\S+\s+)*install\s+(.*)/.exec(segment);
    const apk = /\bapk\s+(?:-\S+\s+)*add\s+(.*)/.exec(segment);
    const pip = /\bpip3?\s+install\s+(.*)/.exec(segment);
    const packages = (list: string) =>
      list.split(/\s+/).filter((w) => w && !w.startsWith('-') && !w.startsWith('$') && !w.includes('/'));
    if (apt) {
      const loose = packages(apt[1]!).filter((p) => !p.includes('='));
      if (loose.length)
        report(
          ctx,
          LINT_RULES.unpinned,
          ins,
          `apt-get install ${loose.join(' ')} without versions (pkg=version).`,
          undefined,
          `apt:${ins.line}`,
        );
      if (!cached && !/rm\s+-r[f]?\s+\/var\/lib\/apt\/lists/.test(text) && !/rm\s+-rf?\s+\/var\/lib\/apt/.test(text))
        report(
          ctx,
          LINT_RULES.packageCache,
          ins,
          'apt-get install without rm -rf /var/lib/apt/lists/* in the same RUN: the package lists stay in the layer.',
          undefined,
          `apt-cache:${ins.line}`,
        );
    }
    if (apk) {
      const loose = packages(apk[1]!).filter((p) => !p.includes('='));
      if (loose.length)
        report(
          ctx,
          LINT_RULES.unpinned,
          ins,
          `apk add ${loose.join(' ')} without versions (pkg=version).`,
          undefined,
          `apk:${ins.line}`,
        );
      if (!cached && !/--no-cache/.test(segment) && !/rm\s+-rf?\s+\/var\/cache\/apk/.test(text))
        report(
          ctx,
          LINT_RULES.packageCache,
          ins,
          'apk add without --no-cache: the index stays in the layer.',
          undefined,
          `apk-cache:${ins.line}`,
        );
    }
    if (pip && !/-r\s|--requirement/.test(pip[1]!)) {
      const loose = packages(pip[1]!).filter((p) => !/[=<>~]=?/.test(p) && !p.startsWith('.'));
      if (loose.length)
        report(
          ctx,
          LINT_RULES.unpinned,
          ins,
          `pip install ${loose.join(' ')} without versions (pkg==version).`,
          undefined,
          `pip:${ins.line}`,
        );
    }
    if (pip && !cached && !/--no-cache-dir/.test(segment) && !/PIP_NO_CACHE_DIR/.test(text))
      report(
        ctx,
        LINT_RULES.packageCache,
        ins,
        'pip install without --no-cache-dir: the wheel cache stays in the layer.',
        undefined,
        `pip-cache:${ins.line}`,
      );
    if (
      /\b(yum|dnf|microdnf)\s+(-\S+\s+)*install\b/.test(segment) &&
      !cached &&
      !/(yum|dnf|microdnf)\s+clean\s+all/.test(text)
    )
      report(
        ctx,
        LINT_RULES.packageCache,
        ins,
        'yum/dnf install without clean all in the same RUN: the metadata cache stays in the layer.',
        undefined,
        `dnf-cache:${ins.line}`,
      );
  }
}

export interface LintResult {
  readonly path: string;
  readonly stages: number;
  readonly findings: readonly SourceFinding[];
}

/** Lints one Dockerfile's text; findings sorted by severity, then line. */
export function lintDockerfile(text: string, path = 'Dockerfile'): LintResult {
  const file = parseDockerfile(text);
  const ctx: Context = { file, path, out: [] };
  for (const error of file.errors) report(ctx, LINT_RULES.syntax, { line: error.line }, error.message);
  file.stages.forEach((stage, i) => lintStage(ctx, stage, i === file.stages.length - 1));
  // One finding per rule and line: a RUN installing twice is one problem.
  const unique = [...new Map(ctx.out.map((f) => [f.fingerprint, f])).values()];
  unique.sort(
    (a, b) =>
      SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity) ||
      a.location.line - b.location.line ||
      (a.ruleId < b.ruleId ? -1 : 1),
  );
  return { path, stages: file.stages.length, findings: unique };
}
