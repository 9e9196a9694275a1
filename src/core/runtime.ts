/**
 * The context an image runs in: who the process is and what the runtime lets it do. Rules judge an
 * image's facts in such a context. The image's own (its config's USER, Docker's defaults) is the
 * default; a Kubernetes pod gives another (runAsUser, allowPrivilegeEscalation,
 * readOnlyRootFilesystem, capabilities, host namespaces, the service-account token).
 */
export interface RuntimeContext {
  /** Where the context comes from: the image config alone, or a workload that runs the image. */
  readonly origin: 'image' | 'workload';
  readonly user: EffectiveUser;
  /** All capabilities and host devices (`privileged: true`). */
  readonly privileged: boolean;
  /** False when no_new_privs is set: setuid bits and file capabilities grant nothing on exec. */
  readonly allowPrivilegeEscalation: boolean;
  readonly readOnlyRootFilesystem: boolean;
  /** Capabilities added to, and dropped from, the runtime's default set (`ALL` drops every one). */
  readonly capabilities: { readonly add: readonly string[]; readonly drop: readonly string[] };
  readonly hostNetwork: boolean;
  readonly hostPID: boolean;
  readonly hostIPC: boolean;
  /** A Kubernetes service-account token is mounted into the container. */
  readonly serviceAccountToken: boolean;
}

/** The user a container's process runs as, and what decided it. */
export interface EffectiveUser {
  /** Known when the configured user is numeric or a name the image's /etc/passwd maps. */
  readonly uid?: number;
  readonly gid?: number;
  readonly name?: string;
  readonly source: 'container' | 'pod' | 'image' | 'unknown';
}

/** Docker's and containerd's defaults: no privilege, escalation allowed, writable root, no host namespaces. */
export const DEFAULT_RUNTIME: Omit<RuntimeContext, 'origin' | 'user'> = {
  privileged: false,
  allowPrivilegeEscalation: true,
  readOnlyRootFilesystem: false,
  capabilities: { add: [], drop: [] },
  hostNetwork: false,
  hostPID: false,
  hostIPC: false,
  serviceAccountToken: false,
};

/**
 * Resolves a configured user (`USER` of an image, e.g. `nonroot`, `65532`, `1000:1000`, `root`,
 * or empty for the default) through the image's accounts. An empty user is root, as in every
 * runtime; a name that /etc/passwd does not map leaves the uid unknown.
 */
export function resolveUser(
  user: string,
  accounts: readonly { readonly name: string; readonly uid: number; readonly gid: number }[],
  source: EffectiveUser['source'] = 'image',
): EffectiveUser {
  const [name = '', group] = user.split(':').map((part) => part.trim());
  const gid = group !== undefined && /^\d+$/.test(group) ? Number(group) : undefined;
  const withGid = (u: EffectiveUser): EffectiveUser => (gid !== undefined ? { ...u, gid } : u);
  if (name === '' || name === '0' || name === 'root') return withGid({ uid: 0, name: 'root', source });
  if (/^\d+$/.test(name)) {
    const uid = Number(name);
    const account = accounts.find((a) => a.uid === uid);
    return withGid({ uid, ...(account ? { name: account.name, gid: account.gid } : {}), source });
  }
  const account = accounts.find((a) => a.name === name);
  return withGid(account ? { uid: account.uid, gid: account.gid, name, source } : { name, source });
}
