import { isOsPackage } from '../core/package.js';
import type { Report, ToolInfo } from '../core/report.js';
import { RECOMMEND_SCHEMA, type Candidate, type ImageNumbers, type Recommendation } from '../core/recommendation.js';
import { CATALOGUE, candidatesFor, type BaseImage, type Need, type Runtime } from './catalogue.js';

/**
 * `recommend`: from a scan report, what the image runs and needs, and the smallest bases that fit,
 * each with what changes (estimated from the catalogue, or measured by scanning the candidate),
 * what would break, and how to debug the result.
 */

export function numbersOf(report: Report): ImageNumbers {
  return {
    sizeBytes: report.size.uncompressed,
    packages: report.packages.filter(isOsPackage).length,
    shells: report.surface.shells.length,
    packageManagers: report.surface.packageManagers.filter((p) => p.via !== 'busybox').length,
    user: report.target.config.user || 'root',
    ...(report.maintenance?.outdated
      ? {
          outdated: report.maintenance.outdated.security + report.maintenance.outdated.other,
          securityUpdates: report.maintenance.outdated.security,
        }
      : {}),
    ...(report.maintenance ? { burden: report.maintenance.burden.value } : {}),
  };
}

const SHELLS = /^(sh|bash|ash|dash|zsh|busybox)$/;
const RUNTIME_COMMANDS: readonly [RegExp, Runtime][] = [
  [/^(node|nodejs)$/, 'node'],
  [/^(python[\d.]*|gunicorn|uvicorn|flask|celery)$/, 'python'],
  [/^java$/, 'java'],
  [/^nginx$/, 'nginx'],
  [/^dotnet$/, 'dotnet'],
];
const RUNTIME_PACKAGES: readonly [RegExp, Runtime][] = [
  [/^(nodejs|node)$/, 'node'],
  [/^(python3(\.\d+)?(-minimal)?|python)$/, 'python'],
  [/^(openjdk-\d+-jre(-headless)?|java|openjdk\d+(-jre)?)$/, 'java'],
  [/^nginx(-core|-light)?$/, 'nginx'],
  [/^dotnet-runtime/, 'dotnet'],
];

/** What the image runs and needs, with the evidence for it. */
function detect(report: Report): { runtime?: Runtime | 'musl'; evidence: string[]; needs: Need[] } {
  const evidence: string[] = [];
  const needs = new Set<Need>(['ca-certificates']);
  const entry = report.entrypoint;
  const program = entry ? (entry.path ?? entry.program).split('/').pop()! : '';
  let runtime: Runtime | 'musl' | undefined;
  if (SHELLS.test(program) && !entry?.shell) {
    evidence.push(`the command is a shell (${entry!.command.join(' ')}): the image names no application to run`);
    return { evidence, needs: [...needs] };
  }
  for (const [pattern, r] of RUNTIME_COMMANDS) {
    if (pattern.test(program)) {
      runtime = r;
      evidence.push(`the command runs ${program}`);
    }
  }
  if (!runtime) {
    for (const p of report.packages) {
      const hit = RUNTIME_PACKAGES.find(([pattern]) => pattern.test(p.name) && (isOsPackage(p) || p.type === 'binary'));
      if (hit && (!runtime || runtime === hit[1])) {
        runtime = hit[1];
        evidence.push(
          `${p.type === 'binary' ? 'a' : `the ${p.type} package`} ${p.name} ${p.version}${p.type === 'binary' ? ` binary at ${p.locations[0]?.path}` : ''} is installed`,
        );
        break;
      }
    }
  }
  if (entry?.kind === 'elf-static' && !runtime) {
    runtime = 'static';
    evidence.push(`${entry.path} is a statically linked executable`);
  }
  if (entry?.kind === 'elf-dynamic') {
    const libs = entry.needs ?? [];
    if (/musl/.test(entry.interpreter ?? '') || libs.some((l) => /musl/.test(l))) {
      runtime ??= 'musl';
      evidence.push(`${entry.path} is linked against musl (${entry.interpreter})`);
    } else {
      if (libs.some((l) => /^libc\.so/.test(l))) needs.add('glibc');
      if (libs.some((l) => /^lib(ssl|crypto)\.so/.test(l))) needs.add('libssl');
      if (libs.some((l) => /^libstdc\+\+\.so/.test(l))) needs.add('libstdc++');
      if (!runtime) {
        runtime = needs.has('libstdc++') ? 'cc' : 'glibc';
        evidence.push(`${entry.path} is dynamically linked: needs ${libs.join(', ') || 'the glibc loader'}`);
      }
    }
  }
  if (report.packages.some((p) => p.type === 'golang') && !runtime) evidence.push('Go modules found in a binary');
  return { ...(runtime ? { runtime } : {}), evidence, needs: [...needs] };
}

/** What would break when moving this image to a base without shell and package manager. */
function breaksOf(report: Report, runtime: Recommendation['runtime']): string[] {
  const out: string[] = [];
  const config = report.target.config;
  const entry = report.entrypoint;
  const program = (entry?.path ?? entry?.program ?? '').split('/').pop()!;
  if (entry && !entry.shell && SHELLS.test(program))
    out.push(`the command is a shell (${entry.command.join(' ')}): set the application's command in exec form`);
  if (entry?.shell)
    out.push(`the command is in shell form (${entry.command.join(' ')}): write it in exec form, there is no /bin/sh`);
  if (entry?.kind === 'script')
    out.push(
      `${entry.path} is a script run by ${entry.interpreter}: rewrite it as exec-form arguments or into the application`,
    );
  if (entry?.kind === 'missing') out.push(`the command's program (${entry.program}) is not in the image`);
  const probe = config.healthcheck?.test.join(' ') ?? '';
  if (/\b(curl|wget)\b/.test(probe))
    out.push(`the HEALTHCHECK calls ${/\b(curl|wget)\b/.exec(probe)![1]}: use an orchestrator probe or a probe binary`);
  for (const p of report.packages) {
    if (isOsPackage(p) && RUNTIME_PACKAGES.some(([pattern]) => pattern.test(p.name))) {
      out.push(
        `the runtime comes from the distribution (${p.name} ${p.version}): the candidate ships its own build; check the version your application needs`,
      );
      break;
    }
  }
  if (runtime === 'musl')
    out.push(
      'the executable is built for musl (Alpine): rebuild it statically (CGO_ENABLED=0, -static) or against glibc',
    );
  if (!config.user || /^(root|0)(:|$)/.test(config.user))
    out.push(
      'the image runs as root; the candidates run as nonroot (65532): files the application writes need that owner',
    );
  return out;
}

export function recommend(
  report: Report,
  tool: ToolInfo,
  options: { catalogue?: readonly BaseImage[]; measured?: ReadonlyMap<string, ImageNumbers> } = {},
): Recommendation {
  const current = { ...numbersOf(report), classification: report.os.classification };
  const image = report.target.reference ?? report.target.input;
  const alreadyMinimal = ['distroless', 'scratch'].includes(report.os.classification);
  const { runtime, evidence, needs } = detect(report);
  const debugging = [
    'kubectl debug -it POD --image=busybox:stable --target=CONTAINER   (an ephemeral shell beside the container)',
  ];
  const base = {
    schema: RECOMMEND_SCHEMA,
    tool,
    image,
    current,
    ...(runtime ? { runtime } : {}),
    evidence,
    needs,
  } as const;
  if (alreadyMinimal) {
    return {
      ...base,
      alreadyMinimal,
      candidates: [],
      breaks: [],
      debugging: [
        ...debugging,
        'use the :debug (distroless) or -dev (Chainguard) variant of the base for a busybox shell',
      ],
    };
  }
  const serve: Runtime = runtime === 'musl' || runtime === undefined ? 'static' : runtime;
  const all = candidatesFor(serve, needs, options.catalogue ?? CATALOGUE);
  // The smallest of each family first, then the rest, three at most.
  const firstOfFamily = all.filter((c, i) => all.findIndex((x) => x.family === c.family) === i);
  const chosen = [...new Set([...firstOfFamily, ...all])].slice(0, 3).sort((a, b) => all.indexOf(a) - all.indexOf(b));
  const candidates: Candidate[] = chosen.map((c) => {
    const measured = options.measured?.get(c.ref);
    const notes: string[] = [];
    if (c.entrypoint)
      notes.push(`its ENTRYPOINT is ${JSON.stringify(c.entrypoint)}: CMD holds only the application's arguments`);
    if (c.user === 'root' && c.nonroot) notes.push(`runs as root by default: use ${c.nonroot}`);
    if (c.runtimeVersion) notes.push(`${c.runtime} ${c.runtimeVersion}`);
    return {
      ref: c.ref,
      family: c.family,
      runtime: c.runtime,
      debug: c.debug,
      ...(c.nonroot ? { nonroot: c.nonroot } : {}),
      notes,
      base: measured
        ? { ...measured, measured: true }
        : {
            sizeBytes: c.sizeBytes,
            packages: c.packages,
            shells: 0,
            packageManagers: 0,
            user: c.user,
            measured: false,
          },
    };
  });
  return {
    ...base,
    alreadyMinimal,
    candidates,
    breaks: breaksOf(report, runtime),
    debugging: [
      ...debugging,
      ...candidates.slice(0, 1).map((c) => `${c.debug} has a busybox shell: docker run -it --entrypoint=sh ${c.debug}`),
    ],
  };
}
