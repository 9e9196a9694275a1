import type { OsInfo } from '../analyzers/types.js';

/** How general-purpose the image is, with the rule that decided it. */
export type Classification = 'distroless' | 'distroless-debug' | 'minimal' | 'general' | 'scratch' | 'unknown';

export interface ClassifyInput {
  readonly os: OsInfo;
  readonly shells: number;
  readonly packageManagers: number;
  readonly osPackages: number;
}

/** Distroless families: gcr.io/distroless (marked in os-release or by status.d) and Wolfi/Chainguard. */
const DISTROLESS_IDS = ['wolfi', 'chainguard'];

export function classify({ os, shells, packageManagers, osPackages }: ClassifyInput): {
  classification: Classification;
  reason: string;
} {
  const marker = os.distroless
    ? 'gcr.io/distroless layout (PRETTY_NAME "Distroless" or dpkg status.d without status)'
    : DISTROLESS_IDS.includes(os.id)
      ? `os-release ID=${os.id}`
      : undefined;
  if (os.id === 'unknown' && osPackages === 0 && shells === 0 && packageManagers === 0) {
    return {
      classification: 'scratch',
      reason: 'no OS release file, no package database, no shell: application files only (FROM scratch)',
    };
  }
  if (marker) {
    if (shells === 0 && packageManagers === 0)
      return { classification: 'distroless', reason: `${marker}; no shell, no package manager` };
    if (packageManagers === 0)
      return { classification: 'distroless-debug', reason: `${marker} with a shell (a :debug or -dev variant)` };
    return {
      classification: os.id === 'chainguard' ? 'distroless-debug' : 'minimal',
      reason: `${marker} with a shell and a package manager`,
    };
  }
  if (packageManagers > 0 && shells > 0)
    return { classification: 'general', reason: `${os.prettyName ?? os.id}: a shell and a package manager` };
  if (packageManagers === 0 && shells > 0)
    return { classification: 'minimal', reason: 'a shell but no package manager' };
  if (shells === 0 && packageManagers === 0)
    return { classification: 'minimal', reason: `${os.prettyName ?? os.id} without shell or package manager` };
  return { classification: 'unknown', reason: 'a package manager without a shell' };
}
