import type { Report } from '../core/report.js';
import type { ContainerResult, PssViolation, Readiness } from '../core/workloads.js';
import { arr, containersOf, obj, str, type Obj } from './pss.js';

/** The manifest change that clears each Pod Security Standards check, by Kubernetes' check name. */
const FIXES: Readonly<Record<string, string>> = {
  hostNamespaces: 'remove hostNetwork, hostPID and hostIPC from the pod spec',
  privileged: 'set securityContext.privileged: false',
  capabilities_baseline: 'add only capabilities of the baseline list (no SYS_ADMIN, NET_ADMIN, SYS_PTRACE …)',
  hostPathVolumes: 'replace hostPath volumes with emptyDir, a PersistentVolumeClaim, a ConfigMap or a Secret',
  hostPorts: 'remove hostPort and reach the container through a Service',
  appArmorProfile: 'use the RuntimeDefault or a Localhost AppArmor profile',
  seLinuxOptions: 'remove the custom SELinux type, user and role',
  procMount: 'remove procMount: Unmasked',
  seccompProfile_baseline: 'do not set the seccomp profile to Unconfined',
  sysctls: 'set only the safe sysctls',
  windowsHostProcess: 'remove windowsOptions.hostProcess',
  hostProbesAndHostLifecycle: 'remove host from probes and lifecycle handlers',
  restrictedVolumes:
    'use only configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected and secret volumes',
  allowPrivilegeEscalation: 'set securityContext.allowPrivilegeEscalation: false in every container',
  runAsNonRoot: 'set securityContext.runAsNonRoot: true',
  runAsUser: 'do not set runAsUser: 0',
  seccompProfile_restricted: 'set securityContext.seccompProfile.type: RuntimeDefault on the pod',
  capabilities_restricted: 'drop ALL capabilities (add back NET_BIND_SERVICE at most)',
};

/** Where a program writes by habit, beyond /tmp: read-only root file systems break it without a volume there. */
const RUNTIME_PATHS: Readonly<Record<string, readonly string[]>> = {
  nginx: ['/var/cache/nginx', '/var/run'],
  httpd: ['/usr/local/apache2/logs'],
};

const covered = (path: string, mounts: readonly string[]) =>
  mounts.some((m) => path === m || path.startsWith(`${m.replace(/\/+$/, '')}/`));

/**
 * The paths a container's image writes to that no volume of the pod covers: /tmp (every runtime's
 * temporary directory), the image's VOLUMEs (Kubernetes ignores them), the home of a non-root
 * user (npm, pip and JVM caches) and the habits of known servers.
 */
export function writablePaths(container: Obj, report: Report | undefined, uid: number | undefined): string[] {
  const mounts = arr(container.volumeMounts).flatMap((m) => str(obj(m).mountPath) ?? []);
  const paths = new Set(['/tmp']);
  if (report) {
    for (const volume of report.target.config.volumes) paths.add(volume);
    const account = report.surface.users.find((u) => u.uid === uid);
    if (uid !== undefined && uid !== 0 && account?.home && account.home !== '/' && !/nonexistent/.test(account.home))
      paths.add(account.home);
    const program = (report.entrypoint?.program ?? '').split('/').pop() ?? '';
    for (const path of RUNTIME_PATHS[program] ?? []) paths.add(path);
  }
  return [...paths].filter((p) => !covered(p, mounts)).sort();
}

/**
 * What to change to reach the restricted level and a read-only root file system: the fix of each
 * violated check, a numeric runAsUser when the image's user is a name or root, and an emptyDir for
 * each path the image writes to.
 */
export function readinessOf(
  spec: Obj,
  violations: readonly PssViolation[],
  containers: readonly ContainerResult[],
  reports: ReadonlyMap<string, Report>,
): Readiness {
  const changes = violations.map((v) => `${FIXES[v.control] ?? v.control} (${v.message})`);
  const emptyDirs: Readiness['emptyDirs'][number][] = [];
  const nonRootMissing = violations.some((v) => v.control === 'runAsNonRoot');
  for (const [i, { container }] of containersOf(spec).entries()) {
    const result = containers[i];
    const name = str(container.name) ?? '?';
    const report = reports.get(str(container.image) ?? '');
    const user = result?.effectiveUser;
    // The kubelet verifies only a numeric uid: an image user given by name (or root) needs runAsUser.
    if (report && user?.source === 'image' && (nonRootMissing || result?.admission?.allowed === false)) {
      const account =
        user.uid !== undefined && user.uid !== 0
          ? report.surface.users.find((u) => u.uid === user.uid)
          : report.surface.users.find((u) => u.uid >= 1000 && u.uid < 65534 && u.password !== 'empty');
      changes.push(
        `container "${name}": set runAsUser: ${account ? `${account.uid} (${account.name} in the image's /etc/passwd)` : '65532 (the image has no non-root account: any numeric uid works)'}`,
      );
    }
    if (obj(container.securityContext).readOnlyRootFilesystem !== true)
      changes.push(`container "${name}": set securityContext.readOnlyRootFilesystem: true`);
    const paths = writablePaths(container, report, user?.uid);
    if (paths.length) emptyDirs.push({ container: name, paths });
  }
  return { ready: violations.length === 0, changes, emptyDirs };
}
