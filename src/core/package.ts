import type { Location } from './finding.js';

/** Package ecosystems, as in the report contract. */
export type PackageType =
  'deb' | 'apk' | 'rpm' | 'npm' | 'pypi' | 'golang' | 'maven' | 'cargo' | 'gem' | 'nuget' | 'binary';

export interface Package {
  readonly type: PackageType;
  readonly name: string;
  /** Full version, epoch included where the format has one (`1:1.2.11.dfsg-0ubuntu2`). */
  readonly version: string;
  readonly arch?: string;
  /** The source package (deb Source, apk origin, rpm SOURCERPM name). */
  readonly source?: string;
  readonly sourceVersion?: string;
  readonly licenses?: readonly string[];
  readonly purl: string;
  /** Where the package was recorded (its database entry), with the layer. */
  readonly locations: readonly Location[];
  /** Files the package owns, when the database lists them. Not in JSON output by default. */
  readonly files?: readonly string[];
}

/** Package types recorded by an OS package database (dpkg, apk, rpm), as against language packages. */
export const isOsPackage = (p: { readonly type: PackageType }): boolean =>
  p.type === 'deb' || p.type === 'apk' || p.type === 'rpm';

/** Percent-encodes a purl segment (https://github.com/package-url/purl-spec). */
function encode(segment: string): string {
  return encodeURIComponent(segment).replace(/%3A/g, ':').replace(/%2B/g, '%2B');
}

/** Builds a purl; qualifiers are sorted by key as the spec requires, empty ones dropped. */
export function purl(
  type: string,
  namespace: string | undefined,
  name: string,
  version: string,
  qualifiers: Record<string, string | undefined> = {},
): string {
  const q = Object.entries(qualifiers)
    .filter(([, v]) => v !== undefined && v !== '')
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${encodeURIComponent(v!)}`)
    .join('&');
  return `pkg:${type}/${namespace ? `${namespace.split('/').map(encode).join('/')}/` : ''}${encode(name)}@${encode(version)}${q ? `?${q}` : ''}`;
}

/** Sort order of packages: type, name, version, first location. */
export function comparePackages(a: Package, b: Package): number {
  const key = (p: Package) => [p.type, p.name, p.version, p.locations[0]?.path ?? ''].join('\0');
  const ka = key(a);
  const kb = key(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}
