import { CATALOGUE, type Runtime } from './catalogue.js';

/**
 * What an image reference says about the base, before anything is pulled: minimal (distroless,
 * Chainguard without -dev, Ubuntu chiseled, scratch) or general-purpose, whether it has a shell,
 * its runtime and its default user. Used by `lint` and `migrate` on Dockerfiles.
 */
export interface BaseInfo {
  readonly kind: 'minimal' | 'minimal-debug' | 'scratch' | 'general' | 'unknown';
  readonly hasShell: boolean;
  readonly runtime?: Runtime | 'go' | 'rust';
  /** The default user when known (distroless :nonroot and Chainguard: 65532). */
  readonly user?: string;
  readonly tag?: string;
  readonly digest?: string;
}

/** Official images that are full distributions, or built on one, with the runtime they carry. */
const GENERAL: readonly [RegExp, BaseInfo['runtime'] | undefined][] = [
  [/^(node)$/, 'node'],
  [/^(python|pypy)$/, 'python'],
  [/^(openjdk|eclipse-temurin|amazoncorretto|ibmjava|sapmachine|maven|gradle|tomcat)$/, 'java'],
  [/^(golang)$/, 'go'],
  [/^(rust)$/, 'rust'],
  [/^(nginx|httpd|caddy)$/, 'nginx'],
  [
    /^(debian|ubuntu|alpine|centos|fedora|rockylinux|almalinux|amazonlinux|oraclelinux|busybox|archlinux|opensuse\/.*|redhat\/ubi\d+.*|ruby|php|perl|gcc|buildpack-deps|bitnami\/.*)$/,
    undefined,
  ],
];

/** Splits `registry/name:tag@digest` into the repository path (Docker Hub library prefix removed), tag and digest. */
export function splitReference(ref: string): { name: string; tag?: string; digest?: string } {
  const [withTag, digest] = ref.split('@') as [string, string | undefined];
  const slash = withTag.lastIndexOf('/');
  const colon = withTag.lastIndexOf(':');
  const tag = colon > slash ? withTag.slice(colon + 1) : undefined;
  const name = (colon > slash ? withTag.slice(0, colon) : withTag).replace(/^(docker\.io\/)?(library\/)?/, '');
  return { name, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

export function classifyBase(ref: string): BaseInfo {
  const { name, tag, digest } = splitReference(ref.toLowerCase());
  const extra = { ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
  if (name === 'scratch') return { kind: 'scratch', hasShell: false, ...extra };
  const known = CATALOGUE.find((b) => splitReference(b.ref).name === name);
  if (name.startsWith('gcr.io/distroless/')) {
    const debug = /debug/.test(tag ?? '');
    return {
      kind: debug ? 'minimal-debug' : 'minimal',
      hasShell: debug,
      ...(known ? { runtime: known.runtime } : {}),
      ...(/nonroot/.test(tag ?? '') ? { user: 'nonroot' } : {}),
      ...extra,
    };
  }
  if (name.startsWith('cgr.dev/')) {
    const dev = /-dev$|^dev$/.test(tag ?? '');
    return {
      kind: dev ? 'minimal-debug' : 'minimal',
      hasShell: dev,
      ...(known ? { runtime: known.runtime } : {}),
      user: '65532',
      ...extra,
    };
  }
  if (/chiseled/.test(tag ?? ''))
    return { kind: 'minimal', hasShell: false, runtime: 'dotnet', user: '1654', ...extra };
  if (/^mcr\.microsoft\.com\/dotnet\/(sdk|aspnet|runtime)/.test(name))
    return { kind: 'general', hasShell: true, runtime: 'dotnet', ...extra };
  for (const [pattern, runtime] of GENERAL) {
    if (pattern.test(name)) return { kind: 'general', hasShell: true, ...(runtime ? { runtime } : {}), ...extra };
  }
  return { kind: 'unknown', hasShell: true, ...extra };
}
