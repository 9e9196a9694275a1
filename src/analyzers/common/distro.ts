import type { OsInfo } from '../types.js';

/** The purl `distro` qualifier: `debian-12`, `alpine-3.9.0`, `wolfi-20230201`. */
export function distroQualifier(os: OsInfo): string | undefined {
  if (os.id === 'unknown' || os.id === 'none') return undefined;
  return os.versionId ? `${os.id}-${os.versionId}` : os.id;
}
