/**
 * The Pod Security Standards as Kubernetes' own admission checker decides them
 * (k8s.io/pod-security-admission, policy version 1.36–1.37): which level a pod spec meets —
 * privileged, baseline or restricted — and each control it violates. Conformance-tested on
 * Kubernetes' golden fixtures (test/realdata/k8s/pod-security-admission).
 * https://kubernetes.io/docs/concepts/security/pod-security-standards/
 */
import type { PssLevel, PssViolation } from '../core/workloads.js';

export type { PssLevel, PssViolation } from '../core/workloads.js';

/** A manifest's JSON, read defensively: a wrong type reads as absent. */
export type Obj = Readonly<Record<string, unknown>>;
export const obj = (value: unknown): Obj =>
  value && typeof value === 'object' && !Array.isArray(value) ? (value as Obj) : {};
export const arr = (value: unknown): readonly unknown[] => (Array.isArray(value) ? value : []);
export const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** Capabilities baseline allows a container to add (the Docker defaults). */
const BASELINE_CAPABILITIES = new Set([
  'AUDIT_WRITE',
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'FSETID',
  'KILL',
  'MKNOD',
  'NET_BIND_SERVICE',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_CHROOT',
]);
/** Sysctls that are namespaced and safe (policy 1.37). */
const SAFE_SYSCTLS = new Set([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
  'net.ipv4.tcp_rmem',
  'net.ipv4.tcp_wmem',
  'net.ipv4.tcp_slow_start_after_idle',
  'net.ipv4.tcp_notsent_lowat',
]);
const SELINUX_TYPES = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t']);
/** Volume types restricted allows. */
const RESTRICTED_VOLUMES = new Set([
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'persistentVolumeClaim',
  'projected',
  'secret',
  'image',
]);
const VOLUME_SOURCES = [
  'hostPath',
  'emptyDir',
  'gcePersistentDisk',
  'awsElasticBlockStore',
  'gitRepo',
  'secret',
  'nfs',
  'iscsi',
  'glusterfs',
  'persistentVolumeClaim',
  'rbd',
  'flexVolume',
  'cinder',
  'cephfs',
  'flocker',
  'downwardAPI',
  'fc',
  'azureFile',
  'configMap',
  'vsphereVolume',
  'quobyte',
  'azureDisk',
  'photonPersistentDisk',
  'projected',
  'portworxVolume',
  'scaleIO',
  'storageos',
  'csi',
  'ephemeral',
  'image',
];

/** Every container of a pod spec, with its kind. */
export function containersOf(
  spec: Obj,
): { readonly container: Obj; readonly type: 'container' | 'init' | 'ephemeral' }[] {
  return [
    ...arr(spec.initContainers).map((c) => ({ container: obj(c), type: 'init' as const })),
    ...arr(spec.containers).map((c) => ({ container: obj(c), type: 'container' as const })),
    ...arr(spec.ephemeralContainers).map((c) => ({ container: obj(c), type: 'ephemeral' as const })),
  ];
}

const names = (list: readonly { container: Obj }[]): string =>
  list.map(({ container }) => `"${str(container.name) ?? '?'}"`).join(', ');

/**
 * The controls a pod (its metadata and spec) violates; its level is the highest with none of its
 * own. Windows pods (`spec.os.name: windows`) skip the Linux-only restricted controls.
 */
export function checkPodSecurity(metadata: Obj, spec: Obj): PssViolation[] {
  const out: PssViolation[] = [];
  const add = (control: string, level: PssViolation['level'], message: string) => out.push({ control, level, message });
  const podSc = obj(spec.securityContext);
  const containers = containersOf(spec);
  const sc = (c: Obj) => obj(c.securityContext);
  const windows = str(obj(spec.os).name) === 'windows';

  // baseline
  const host = ['hostNetwork', 'hostPID', 'hostIPC'].filter((k) => spec[k] === true);
  if (host.length)
    add(
      'hostNamespaces',
      'baseline',
      `${host.map((k) => `${k}=true`).join(', ')}: the pod shares the node's namespaces`,
    );
  const privileged = containers.filter(({ container }) => sc(container).privileged === true);
  if (privileged.length) add('privileged', 'baseline', `containers ${names(privileged)} run privileged`);
  const caps = containers.flatMap(({ container }) =>
    arr(obj(sc(container).capabilities).add)
      .map(String)
      .filter((c) => !BASELINE_CAPABILITIES.has(c)),
  );
  if (caps.length)
    add('capabilities_baseline', 'baseline', `non-default capabilities added: ${[...new Set(caps)].join(', ')}`);
  const hostPaths = arr(spec.volumes).filter((v) => obj(v).hostPath !== undefined);
  if (hostPaths.length)
    add('hostPathVolumes', 'baseline', `hostPath volumes: ${hostPaths.map((v) => str(obj(v).name) ?? '?').join(', ')}`);
  const hostPorts = containers.flatMap(({ container }) =>
    arr(container.ports)
      .map((p) => obj(p).hostPort)
      .filter((p) => typeof p === 'number' && p !== 0),
  );
  if (hostPorts.length) add('hostPorts', 'baseline', `host ports: ${hostPorts.join(', ')}`);
  const handlers = (c: Obj) => [
    ...['livenessProbe', 'readinessProbe', 'startupProbe'].map((k) => obj(c[k])),
    ...['postStart', 'preStop'].map((k) => obj(obj(c.lifecycle)[k])),
  ];
  const probeHosts = containers.flatMap(({ container }) =>
    handlers(container).flatMap((h) =>
      [obj(h.httpGet).host, obj(h.tcpSocket).host].filter((v) => v !== undefined && v !== ''),
    ),
  );
  if (probeHosts.length)
    add(
      'hostProbesAndHostLifecycle',
      'baseline',
      `probes or lifecycle handlers set host: ${probeHosts.map(String).join(', ')}`,
    );
  const annotations = obj(metadata.annotations);
  const badAppArmor = [
    ...Object.entries(annotations)
      .filter(([k]) => k.startsWith('container.apparmor.security.beta.kubernetes.io/'))
      .map(([, v]) => String(v))
      .filter((v) => v !== 'runtime/default' && !v.startsWith('localhost/')),
    ...[podSc, ...containers.map(({ container }) => sc(container))]
      .map((s) => str(obj(s.appArmorProfile).type))
      .filter((t): t is string => t !== undefined && t !== 'RuntimeDefault' && t !== 'Localhost'),
  ];
  if (badAppArmor.length) add('appArmorProfile', 'baseline', `AppArmor profiles ${badAppArmor.join(', ')}`);
  const seLinux = [podSc, ...containers.map(({ container }) => sc(container))]
    .map((s) => s.seLinuxOptions)
    .filter((o) => o !== undefined)
    .map(obj);
  if (
    seLinux.some(
      (o) => !SELINUX_TYPES.has(str(o.type) ?? '') || (str(o.user) ?? '') !== '' || (str(o.role) ?? '') !== '',
    )
  )
    add('seLinuxOptions', 'baseline', 'seLinuxOptions set a forbidden type, user or role');
  const userNamespaced = spec.hostUsers === false;
  const procMounts = containers
    .map(({ container }) => str(sc(container).procMount))
    .filter((p) => p !== undefined && p !== 'Default');
  if (procMounts.length && !userNamespaced)
    add('procMount', 'baseline', `procMount ${procMounts.join(', ')} outside a user namespace`);
  const seccompTypes = [podSc, ...containers.map(({ container }) => sc(container))].map((s) =>
    str(obj(s.seccompProfile).type),
  );
  if (seccompTypes.includes('Unconfined'))
    add('seccompProfile_baseline', 'baseline', 'a seccomp profile is Unconfined');
  const sysctls = arr(podSc.sysctls)
    .map((s) => str(obj(s).name) ?? '')
    .filter((n) => !SAFE_SYSCTLS.has(n));
  if (sysctls.length) add('sysctls', 'baseline', `unsafe sysctls: ${sysctls.join(', ')}`);
  const hostProcess = [podSc, ...containers.map(({ container }) => sc(container))].some(
    (s) => obj(s.windowsOptions).hostProcess === true,
  );
  if (hostProcess) add('windowsHostProcess', 'baseline', 'a Windows HostProcess container');

  // restricted
  const badVolumes = arr(spec.volumes)
    .map(obj)
    .flatMap((v) =>
      VOLUME_SOURCES.filter((k) => v[k] !== undefined && !RESTRICTED_VOLUMES.has(k)).map(
        (k) => `${str(v.name) ?? '?'} (${k})`,
      ),
    );
  if (badVolumes.length)
    add('restrictedVolumes', 'restricted', `volume types restricted does not allow: ${badVolumes.join(', ')}`);
  if (procMounts.length) add('procMount_restricted', 'restricted', `procMount ${procMounts.join(', ')}`);
  if (!windows) {
    const escalation = containers.filter(({ container }) => sc(container).allowPrivilegeEscalation !== false);
    if (escalation.length)
      add(
        'allowPrivilegeEscalation',
        'restricted',
        `containers ${names(escalation)} do not set allowPrivilegeEscalation: false`,
      );
    const notDropped = containers.filter(
      ({ container }) =>
        !arr(obj(sc(container).capabilities).drop)
          .map(String)
          .includes('ALL'),
    );
    const added = containers.flatMap(({ container }) =>
      arr(obj(sc(container).capabilities).add)
        .map(String)
        .filter((c) => c !== 'NET_BIND_SERVICE'),
    );
    if (notDropped.length || added.length)
      add(
        'capabilities_restricted',
        'restricted',
        `${notDropped.length ? `containers ${names(notDropped)} do not drop ALL capabilities` : ''}${notDropped.length && added.length ? '; ' : ''}${added.length ? `added ${[...new Set(added)].join(', ')}` : ''}`,
      );
    const podSeccomp = str(obj(podSc.seccompProfile).type);
    const seccompOk = (t: string | undefined) => t === 'RuntimeDefault' || t === 'Localhost';
    const seccompBad = containers.filter(({ container }) => {
      const own = str(obj(sc(container).seccompProfile).type);
      return own !== undefined ? !seccompOk(own) : !seccompOk(podSeccomp);
    });
    if ((podSeccomp !== undefined && !seccompOk(podSeccomp)) || seccompBad.length)
      add(
        'seccompProfile_restricted',
        'restricted',
        'a seccomp profile must be RuntimeDefault or Localhost for the pod or every container',
      );
  }
  const podNonRoot = podSc.runAsNonRoot;
  const nonRootBad = containers.filter(({ container }) => {
    const own = sc(container).runAsNonRoot;
    return own === false || (own === undefined && podNonRoot !== true);
  });
  if (podNonRoot === false || nonRootBad.length)
    add('runAsNonRoot', 'restricted', 'runAsNonRoot must be true for the pod or every container');
  const rootUser = [podSc, ...containers.map(({ container }) => sc(container))].some((s) => s.runAsUser === 0);
  if (rootUser) add('runAsUser', 'restricted', 'runAsUser is 0');
  return out;
}

/** The level a pod meets: restricted with no violation, baseline with restricted ones only, else privileged. */
export function levelOf(violations: readonly PssViolation[]): PssLevel {
  if (violations.some((v) => v.level === 'baseline')) return 'privileged';
  return violations.length ? 'baseline' : 'restricted';
}
