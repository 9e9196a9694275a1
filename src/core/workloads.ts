import { SEVERITIES, type Finding, type Severity } from './finding.js';
import type { ReportWarning } from './warnings.js';
import type { EffectiveUser } from './runtime.js';

/** The Pod Security Standards levels, most permissive first. */
export type PssLevel = 'privileged' | 'baseline' | 'restricted';

export interface PssViolation {
  /** The check's id, as Kubernetes names it (hostNamespaces, runAsNonRoot, …). */
  readonly control: string;
  /** The lowest level the check belongs to. */
  readonly level: 'baseline' | 'restricted';
  readonly message: string;
}

/** One container of a workload, judged with its image (the `containers[]` of the workloads contract). */
export interface ContainerResult {
  readonly name: string;
  readonly type: 'container' | 'init' | 'ephemeral';
  readonly image: string;
  readonly imageDigest?: string;
  readonly grade?: string;
  readonly classification?: string;
  readonly effectiveUser: EffectiveUser;
  /** The kubelet's runAsNonRoot check, predicted. */
  readonly admission?: { readonly allowed: boolean; readonly reason?: string };
  /** What an intruder in this container would find at hand (tool names, from the image's surface). */
  readonly reachable?: {
    readonly shells: readonly string[];
    readonly packageManagers: readonly string[];
    readonly networkTools: readonly string[];
  };
  readonly findings: readonly Finding[];
}

/** What it takes to reach the restricted level with a read-only root file system. */
export interface Readiness {
  /** True when the workload already meets restricted. */
  readonly ready: boolean;
  /** Manifest changes, each with the check it clears. */
  readonly changes: readonly string[];
  /** Per container, the paths its image writes to that need an emptyDir once the root is read-only. */
  readonly emptyDirs: readonly { readonly container: string; readonly paths: readonly string[] }[];
}

export interface WorkloadResult {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly location: { readonly file: string; readonly line: number };
  readonly podSecurity: { readonly level: PssLevel; readonly violations: readonly PssViolation[] };
  readonly containers: readonly ContainerResult[];
  readonly restricted: Readiness;
}

/** Version tag of `distrolens workloads --format json`: the contract of the design brief. */
export const WORKLOADS_SCHEMA = 'distrolens/workloads@1';

/** What `distrolens workloads --format json` prints. */
export interface WorkloadsReport {
  readonly schema: typeof WORKLOADS_SCHEMA;
  readonly source:
    | { readonly kind: 'manifests'; readonly paths: readonly string[] }
    | { readonly kind: 'cluster'; readonly context: string; readonly namespaces: readonly string[] | 'all' };
  readonly workloads: readonly WorkloadResult[];
  /** Each distinct image, scanned once. */
  readonly images: readonly {
    readonly image: string;
    readonly digest?: string;
    readonly grade?: string;
    readonly classification?: string;
    readonly error?: string;
  }[];
  readonly summary: {
    readonly workloads: number;
    readonly containers: number;
    readonly byLevel: Readonly<Record<PssLevel, number>>;
    readonly byClassification: Readonly<Record<string, number>>;
    readonly findingsBySeverity: Readonly<Record<Severity, number>>;
    /** Containers with a shell, a package manager, a network tool at hand. */
    readonly reachable: { readonly shells: number; readonly packageManagers: number; readonly networkTools: number };
  };
  readonly warnings: readonly ReportWarning[];
}

/**
 * The most severe finding of a workload's containers; among equals, a joined workload/* finding,
 * which names what the pod adds to the image.
 */
export function worstFinding(result: WorkloadResult): Finding | undefined {
  const joinedFirst = (f: Finding) => Number(!f.ruleId.startsWith('workload/'));
  return result.containers
    .flatMap((c) => c.findings)
    .sort(
      (a, b) => SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity) || joinedFirst(a) - joinedFirst(b),
    )[0];
}

/** The readiness as a list of steps: manifest changes, then the emptyDirs to mount. */
export function readinessSteps(readiness: Readiness): string[] {
  return [
    ...readiness.changes,
    ...readiness.emptyDirs.map((e) => `container "${e.container}": mount an emptyDir at ${e.paths.join(', ')}`),
  ];
}
