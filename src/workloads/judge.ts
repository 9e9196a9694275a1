import { compareFindings, fingerprint, type Finding, type Rule, type Severity } from '../core/finding.js';
import type { Report } from '../core/report.js';
import { DEFAULT_RUNTIME, resolveUser, type EffectiveUser, type RuntimeContext } from '../core/runtime.js';
import { judge } from '../judge/index.js';
import type { Workload } from './manifests.js';
import type { ContainerResult, WorkloadResult } from '../core/workloads.js';
import { readinessOf } from './readiness.js';
import { checkPodSecurity, containersOf, levelOf, obj, str, type Obj } from './pss.js';

/**
 * A workload judged where it runs: each container's image facts (a stored scan) joined with the
 * pod's privileges. The image's own findings are judged again in the pod's context (a non-root
 * uid without privilege escalation takes CVE-2019-5021 down, a pod's runAsUser removes
 * runs-as-root), and joined rules fire on what only the combination makes dangerous.
 */
export const WORKLOAD_RULES = {
  runAsNonRootRefused: {
    id: 'workload/run-as-non-root-refused',
    severity: 'high',
    title: 'The kubelet will refuse to start this container',
    rationale:
      'runAsNonRoot: true is checked against the image USER: a root or non-numeric user (the kubelet cannot resolve names) makes the container fail with CreateContainerConfigError.',
    references: ['https://kubernetes.io/docs/tasks/configure-pod-container/security-context/'],
  },
  escapePath: {
    id: 'workload/escape-path',
    severity: 'critical',
    title: 'A container escape path: host privileges and the tools to use them',
    rationale:
      'A privileged container, the host namespaces, a hostPath to /, the container runtime socket or /proc, or SYS_ADMIN/SYS_PTRACE give the host to whoever runs a shell, nsenter, mount or a setuid binary inside (Azurescape 2021).',
    references: ['https://unit42.paloaltonetworks.com/azure-container-instances/', 'CIS Kubernetes Benchmark 5.2'],
  },
  writableRootWithTools: {
    id: 'workload/writable-root-with-tools',
    severity: 'medium',
    title: 'Writable root filesystem with a shell and tools to fetch or install more',
    rationale:
      'An intruder with a shell, a package manager or curl and a writable filesystem installs whatever they need (Tesla 2018: crypto miners in the cluster).',
    references: ['https://redlock.io/blog/cryptojacking-tesla'],
  },
  tokenWithNetworkTools: {
    id: 'workload/token-with-network-tools',
    severity: 'high',
    title: 'A service-account token and the tools to call the API server with it',
    rationale:
      'The mounted token plus curl, wget or kubectl in the image is all it takes to talk to the Kubernetes API as this workload.',
    references: [
      'https://kubernetes.io/docs/tasks/configure-pod-container/configure-service-account/#opt-out-of-api-credential-automounting',
    ],
  },
  escalationWithSetuid: {
    id: 'workload/escalation-with-setuid',
    severity: 'medium',
    title: 'Privilege escalation allowed and setuid binaries or file capabilities in the image',
    rationale:
      'Without allowPrivilegeEscalation: false (no_new_privs), a setuid-root binary or a file capability turns a compromised non-root process into root.',
    references: ['https://kubernetes.io/docs/concepts/security/pod-security-standards/'],
  },
} satisfies Record<string, Rule>;

const num = (value: unknown): number | undefined => (typeof value === 'number' ? value : undefined);
const strings = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : []);

/** The runtime context a container runs in, from its pod and its own securityContext. */
export function contextOf(spec: Obj, container: Obj, report: Report | undefined): RuntimeContext {
  const pod = obj(spec.securityContext);
  const own = obj(container.securityContext);
  const uid = num(own.runAsUser) ?? num(pod.runAsUser);
  const gid = num(own.runAsGroup) ?? num(pod.runAsGroup);
  const user: EffectiveUser =
    uid !== undefined
      ? { uid, ...(gid !== undefined ? { gid } : {}), source: num(own.runAsUser) !== undefined ? 'container' : 'pod' }
      : report
        ? resolveUser(report.target.config.user, report.surface.users, 'image')
        : { source: 'unknown' };
  const privileged = own.privileged === true;
  return {
    ...DEFAULT_RUNTIME,
    origin: 'workload',
    user,
    privileged,
    // Kubernetes allows escalation unless it is set to false (and always for a privileged container).
    allowPrivilegeEscalation: privileged || own.allowPrivilegeEscalation !== false,
    readOnlyRootFilesystem: own.readOnlyRootFilesystem === true,
    capabilities: { add: strings(obj(own.capabilities).add), drop: strings(obj(own.capabilities).drop) },
    hostNetwork: spec.hostNetwork === true,
    hostPID: spec.hostPID === true,
    hostIPC: spec.hostIPC === true,
    serviceAccountToken: spec.automountServiceAccountToken !== false,
  };
}

/**
 * The kubelet's runAsNonRoot check, predicted: a runAsUser of 0 is refused; without one, the
 * image's USER must be a numeric non-zero uid (a name cannot be verified, an empty one is root).
 */
export function admissionOf(spec: Obj, container: Obj, report: Report | undefined): ContainerResult['admission'] {
  const pod = obj(spec.securityContext);
  const own = obj(container.securityContext);
  const nonRoot = own.runAsNonRoot ?? pod.runAsNonRoot;
  if (nonRoot !== true) return undefined;
  const uid = num(own.runAsUser) ?? num(pod.runAsUser);
  if (uid !== undefined)
    return uid === 0
      ? { allowed: false, reason: "container's runAsUser breaks non-root policy (uid 0)" }
      : { allowed: true };
  if (!report) return undefined;
  const configured = report.target.config.user.split(':')[0]!.trim();
  if (configured === '' || configured === 'root' || configured === '0')
    return { allowed: false, reason: 'container has runAsNonRoot and image will run as root' };
  if (!/^\d+$/.test(configured)) {
    const resolved = resolveUser(configured, report.surface.users);
    return {
      allowed: false,
      reason: `container has runAsNonRoot and image has non-numeric user (${configured}), cannot verify user is non-root${resolved.uid !== undefined ? `: set runAsUser: ${resolved.uid} (its uid in the image's /etc/passwd)` : ''}`,
    };
  }
  return { allowed: true };
}

const SENSITIVE_HOST_PATHS = [
  '/',
  '/proc',
  '/var/run/docker.sock',
  '/run/docker.sock',
  '/run/containerd/containerd.sock',
  '/var/run/crio/crio.sock',
];
const ESCAPE_TOOLS = new Set(['nsenter', 'mount', 'unshare', 'chroot']);

function joined(rule: Rule, message: string, key: string, severity?: Severity): Finding {
  return {
    ruleId: rule.id,
    severity: severity ?? rule.severity,
    title: rule.title,
    message,
    references: rule.references,
    fingerprint: fingerprint(rule.id, key),
  };
}

/** The distinct tool names of surface items, sorted. */
const names = (items: readonly { name: string }[]): string[] => [...new Set(items.map((i) => i.name))].sort();

/** The joined findings of one container: what only its image and its pod together make dangerous. */
export function joinedFindings(
  spec: Obj,
  container: Obj,
  report: Report,
  context: RuntimeContext,
  at: string,
): Finding[] {
  const out: Finding[] = [];
  const s = report.surface;
  const shells = names(s.shells);
  const hostPaths = (Array.isArray(spec.volumes) ? spec.volumes : [])
    .map((v) => str(obj(obj(v).hostPath).path) ?? '')
    .filter((p) => SENSITIVE_HOST_PATHS.includes(p.replace(/\/+$/, '') || '/'));
  const hostAccess = [
    ...(context.privileged ? ['privileged'] : []),
    ...(['hostPID', 'hostIPC', 'hostNetwork'] as const).filter((k) => context[k]),
    ...hostPaths.map((p) => `hostPath ${p}`),
    ...context.capabilities.add.filter((c) => c === 'SYS_ADMIN' || c === 'SYS_PTRACE' || c === 'ALL'),
  ];
  const escapeTools = [
    ...shells,
    ...names(s.privilegeTools).filter((t) => ESCAPE_TOOLS.has(t)),
    ...(s.setuid.length ? ['setuid binaries'] : []),
  ];
  if (hostAccess.length && escapeTools.length)
    out.push(
      joined(
        WORKLOAD_RULES.escapePath,
        `${at} has ${hostAccess.join(', ')} and its image holds ${escapeTools.join(', ')}. Drop the host access (privileged: false, no host namespaces or sensitive hostPath) or move to an image without a shell (distroless).`,
        `${at}:escape`,
      ),
    );
  const installers = [...names(s.packageManagers), ...names(s.networkTools)];
  if (!context.readOnlyRootFilesystem && shells.length && installers.length)
    out.push(
      joined(
        WORKLOAD_RULES.writableRootWithTools,
        `${at} runs with a writable root filesystem, ${shells.join(', ')} and ${installers.join(', ')}. Set readOnlyRootFilesystem: true (with an emptyDir for /tmp) or remove the tools from the image.`,
        `${at}:writable`,
      ),
    );
  const apiTools = names([...s.networkTools, ...s.packageManagers]).filter((t) =>
    ['curl', 'wget', 'kubectl'].includes(t),
  );
  const kubectl = report.packages.some((p) => p.name === 'kubectl' || p.name === 'kubernetes-client');
  if (context.serviceAccountToken && (apiTools.length || kubectl))
    out.push(
      joined(
        WORKLOAD_RULES.tokenWithNetworkTools,
        `${at} mounts its service-account token and its image holds ${[...apiTools, ...(kubectl ? ['kubectl'] : [])].join(', ')}. Set automountServiceAccountToken: false unless it calls the API, and remove the tools.`,
        `${at}:token`,
      ),
    );
  const escalators = [
    ...s.setuid.map((i) => i.path),
    ...s.setgid.map((i) => i.path),
    ...s.capabilities.map((i) => i.path),
  ];
  if (context.allowPrivilegeEscalation && escalators.length)
    out.push(
      joined(
        WORKLOAD_RULES.escalationWithSetuid,
        `${at} allows privilege escalation and its image holds ${escalators.slice(0, 5).join(', ')}${escalators.length > 5 ? ` and ${escalators.length - 5} more` : ''}. Set allowPrivilegeEscalation: false.`,
        `${at}:escalation`,
        context.user.uid === 0 ? 'low' : 'medium',
      ),
    );
  return out;
}

/** Judges one workload with the scans of its images (keyed by image reference; absent when a scan failed). */
export function judgeWorkload(workload: Workload, reports: ReadonlyMap<string, Report>): WorkloadResult {
  const violations = checkPodSecurity(workload.podMetadata, workload.podSpec);
  const containers = containersOf(workload.podSpec).map(({ container, type }): ContainerResult => {
    const image = str(container.image) ?? '';
    const report = reports.get(image);
    const context = contextOf(workload.podSpec, container, report);
    const admission = admissionOf(workload.podSpec, container, report);
    const at = `${workload.kind}/${workload.namespace}/${workload.name} container ${str(container.name) ?? '?'}`;
    const findings: Finding[] = [];
    if (admission && !admission.allowed)
      findings.push(joined(WORKLOAD_RULES.runAsNonRootRefused, `${at}: ${admission.reason}.`, `${at}:admission`));
    if (report)
      findings.push(
        ...judge(report, context).findings,
        ...joinedFindings(workload.podSpec, container, report, context, at),
      );
    return {
      name: str(container.name) ?? '',
      type,
      image,
      ...(report?.target.manifestDigest ? { imageDigest: report.target.manifestDigest } : {}),
      ...(report ? { grade: report.score.grade, classification: report.os.classification } : {}),
      effectiveUser: context.user,
      ...(admission ? { admission } : {}),
      ...(report
        ? {
            reachable: {
              shells: names(report.surface.shells),
              packageManagers: names(report.surface.packageManagers),
              networkTools: names(report.surface.networkTools),
            },
          }
        : {}),
      findings: findings.sort(compareFindings),
    };
  });
  return {
    kind: workload.kind,
    namespace: workload.namespace,
    name: workload.name,
    location: workload.location,
    podSecurity: { level: levelOf(violations), violations },
    containers,
    restricted: readinessOf(workload.podSpec, violations, containers, reports),
  };
}
