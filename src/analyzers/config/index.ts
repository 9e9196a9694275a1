import type { Finding } from '../../core/finding.js';
import { REDACTED, isSecretEnv } from '../../core/redact.js';
import {
  finding,
  type Analyzer,
  type AnalyzerInput,
  type AnalyzerOutput,
  type JudgeInput,
  type Rule,
} from '../types.js';
import type { LayeredFs } from '../../fs/layered.js';

export const CONFIG_RULES = {
  root: {
    id: 'config/runs-as-root',
    severity: 'high',
    title: 'Image runs as root',
    rationale:
      'A process running as root inside the container is root on the host after any escape (Azurescape 2021), and can modify everything in the image.',
    references: ['CIS Docker Benchmark 4.1: create a user for the container'],
  },
  shellForm: {
    id: 'config/shell-form',
    severity: 'low',
    title: 'Entrypoint or command uses the shell form',
    rationale:
      'The shell form (/bin/sh -c …) needs a shell at run time, fails on distroless images, and keeps the application from receiving signals as PID 1.',
    references: ['https://docs.docker.com/reference/dockerfile/#shell-and-exec-form', 'Hadolint DL3025'],
  },
  ssh: {
    id: 'config/ssh-port',
    severity: 'medium',
    title: 'Port 22 is exposed',
    rationale: 'SSH inside a container is a second, unmonitored way in; use kubectl exec / debug instead.',
    references: ['CIS Docker Benchmark 5.6: do not run ssh within containers'],
  },
  secretEnv: {
    id: 'config/secret-env',
    severity: 'high',
    title: 'Secret in the image environment',
    rationale:
      'ENV values are stored in the image config and visible to anyone who can pull the image (docker inspect).',
    references: ['CIS Docker Benchmark 4.10: do not store secrets in Dockerfiles'],
  },
  healthcheck: {
    id: 'config/healthcheck-missing-tool',
    severity: 'medium',
    title: 'Healthcheck needs a tool the image lacks',
    rationale:
      'A HEALTHCHECK that calls curl or wget fails on an image without them, and the container is reported unhealthy.',
    references: ['https://docs.docker.com/reference/dockerfile/#healthcheck'],
  },
  volume: {
    id: 'config/sensitive-volume',
    severity: 'high',
    title: 'Sensitive path declared as a volume',
    rationale: 'Mounting the Docker socket, /proc, /sys or / hands the container control of the host.',
    references: ['CIS Docker Benchmark 5.5, 5.31'],
  },
  latest: {
    id: 'config/latest-tag',
    severity: 'low',
    title: 'Image referenced by the latest tag',
    rationale: 'latest moves: the image you scanned is not the one you deploy tomorrow. Pin a version or a digest.',
    references: ['Hadolint DL3007', 'KSV-0013'],
  },
} satisfies Record<string, Rule>;

const SENSITIVE_VOLUMES = [
  '/',
  '/var/run/docker.sock',
  '/run/docker.sock',
  '/proc',
  '/sys',
  '/dev',
  '/etc',
  '/root',
  '/var/run',
  '/run/containerd/containerd.sock',
];
/** Tools whose presence the config rules ask about: a shell for the shell form, curl and wget for healthchecks. */
const TOOLS = ['sh', 'bash', 'ash', 'dash', 'curl', 'wget'];
const SHELLS = ['sh', 'bash', 'ash', 'dash'];

function hasExecutable(fs: LayeredFs, name: string): boolean {
  return ['/bin', '/usr/bin', '/usr/local/bin', '/sbin', '/usr/sbin', '/busybox'].some(
    (dir) => ((fs.file(`${dir}/${name}`)?.mode ?? 0) & 0o111) !== 0,
  );
}

const isShellForm = (argv: readonly string[] | null): boolean =>
  !!argv && argv.length >= 2 && /(^|\/)(ba|da|a)?sh$/.test(argv[0]!) && argv[1] === '-c';

/** What the config rules judge besides the (redacted) config itself. */
export interface ConfigEvidence {
  /** Names of ENV variables whose value looks like a secret (the report's config has them redacted). */
  readonly secretEnv: readonly string[];
  /** Which of TOOLS are executables on the usual PATH directories. */
  readonly tools: readonly string[];
}

export const configAnalyzer = {
  id: 'config',
  version: 2,
  rules: Object.values(CONFIG_RULES),
  analyze({ fs, image }: AnalyzerInput): AnalyzerOutput<ConfigEvidence> {
    const secretEnv: string[] = [];
    for (const entry of image.config.env) {
      const eq = entry.indexOf('=');
      const name = eq < 0 ? entry : entry.slice(0, eq);
      if (eq > 0 && isSecretEnv(name, entry.slice(eq + 1))) secretEnv.push(name);
    }
    return { evidence: { secretEnv, tools: TOOLS.filter((tool) => hasExecutable(fs, tool)) } };
  },
  judge(evidence: ConfigEvidence | undefined, { facts, context }: JudgeInput): Finding[] {
    const c = facts.target.config;
    const tools = new Set(evidence?.tools ?? []);
    const findings: Finding[] = [];
    const hasShell = SHELLS.some((s) => tools.has(s));
    // A root filesystem has no config: its user is not known, only a workload can say.
    const userKnown = facts.target.source !== 'rootfs' || context.origin === 'workload';
    if (userKnown && context.user.uid === 0) {
      findings.push(
        finding(CONFIG_RULES.root, {
          message:
            context.origin === 'image'
              ? `The image config sets ${c.user ? `USER ${c.user}` : 'no USER'}, so the process runs as root. Add a non-root user and \`USER 65532\` (distroless and Chainguard images ship nonroot as 65532).`
              : `The workload runs the process as root (${context.user.source === 'image' ? `the image's ${c.user ? `USER ${c.user}` : 'default user'}` : `runAsUser of the ${context.user.source}`}). Set runAsUser to a non-root uid (65532 on distroless and Chainguard images) and runAsNonRoot: true.`,
          key: c.user,
        }),
      );
    }
    for (const [field, argv] of [
      ['Entrypoint', c.entrypoint],
      ['Cmd', c.cmd],
    ] as const) {
      if (!isShellForm(argv)) continue;
      findings.push(
        finding(CONFIG_RULES.shellForm, {
          severity: hasShell ? 'low' : 'high',
          message: `${field} is ${JSON.stringify(argv)}: the shell form. ${hasShell ? 'It needs a shell at run time and does not forward signals to the application.' : 'This image has no shell, so the container cannot start.'} Write it in exec form, e.g. ["/app/server", "--flag"].`,
          key: field,
        }),
      );
    }
    if (c.exposedPorts.some((p) => /^22(\/tcp)?$/.test(p))) {
      findings.push(
        finding(CONFIG_RULES.ssh, {
          message: 'The image exposes port 22. Remove sshd and the EXPOSE; use kubectl exec or kubectl debug.',
          key: '22',
        }),
      );
    }
    for (const name of evidence?.secretEnv ?? []) {
      findings.push(
        finding(CONFIG_RULES.secretEnv, {
          title: `Secret in ENV ${name}`,
          message: `The environment variable ${name} looks like a secret (${name}=${REDACTED}); ENV values ship inside the image config. Pass it at run time from a secret store instead, and rotate it.`,
          key: name,
        }),
      );
    }
    const health = c.healthcheck?.test.join(' ') ?? '';
    for (const tool of ['curl', 'wget']) {
      if (new RegExp(`\\b${tool}\\b`).test(health) && !tools.has(tool)) {
        findings.push(
          finding(CONFIG_RULES.healthcheck, {
            message: `The HEALTHCHECK runs ${tool}, which is not in the image, so it always fails. Use a probe binary built into the app, or a Kubernetes httpGet probe.`,
            key: tool,
          }),
        );
      }
    }
    for (const volume of c.volumes) {
      if (SENSITIVE_VOLUMES.includes(volume.replace(/\/+$/, '') || '/')) {
        findings.push(
          finding(CONFIG_RULES.volume, {
            message: `VOLUME ${volume} invites mounting a host path that controls the host. Remove it.`,
            key: volume,
          }),
        );
      }
    }
    const ref = facts.target.reference ?? '';
    if (facts.target.source === 'registry' && !ref.includes('@') && /:latest$/.test(ref)) {
      findings.push(
        finding(CONFIG_RULES.latest, {
          message: `${ref} uses the latest tag. Pin a version tag or, better, a digest (@sha256:…).`,
          key: ref,
        }),
      );
    }
    return findings;
  },
} satisfies Analyzer<never, ConfigEvidence>;
