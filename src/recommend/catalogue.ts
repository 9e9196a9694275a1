/**
 * The minimal bases distrolens recommends, as data: what each runs, what it provides, its
 * approximate weight and defaults. Sizes and package counts are estimates for linux/amd64 as
 * published (late 2026); `recommend` replaces them with measured numbers when it can scan the
 * candidate. A team adds its own golden bases with `--catalogue FILE` (same fields, JSON or YAML).
 */
export type Runtime = 'static' | 'glibc' | 'cc' | 'node' | 'python' | 'java' | 'dotnet' | 'nginx';
export type Need = 'glibc' | 'libssl' | 'libstdc++' | 'ca-certificates' | 'tzdata';

export interface BaseImage {
  readonly ref: string;
  readonly family: 'distroless' | 'chainguard' | 'chiseled' | 'custom';
  readonly runtime: Runtime;
  readonly provides: readonly Need[];
  /** Major version of the runtime (node 22, python 3.11, java 17). */
  readonly runtimeVersion?: string;
  /** Uncompressed bytes and OS packages, estimated. */
  readonly sizeBytes: number;
  readonly packages: number;
  /** The user the image runs as by default. */
  readonly user: string;
  /** Its entrypoint: CMD then holds only the application's arguments. */
  readonly entrypoint?: readonly string[];
  /** The tag or image with a shell for debugging, and the non-root tag when root is the default. */
  readonly debug: string;
  readonly nonroot?: string;
}

const MB = 1_000_000;
const DISTROLESS = 'gcr.io/distroless';
const CHAINGUARD = 'cgr.dev/chainguard';
const COMMON: readonly Need[] = ['ca-certificates', 'tzdata'];

export const CATALOGUE: readonly BaseImage[] = [
  {
    ref: `${DISTROLESS}/static-debian12`,
    family: 'distroless',
    runtime: 'static',
    provides: COMMON,
    sizeBytes: 2 * MB,
    packages: 5,
    user: 'root',
    nonroot: `${DISTROLESS}/static-debian12:nonroot`,
    debug: `${DISTROLESS}/static-debian12:debug`,
  },
  {
    ref: `${DISTROLESS}/base-nossl-debian12`,
    family: 'distroless',
    runtime: 'glibc',
    provides: [...COMMON, 'glibc'],
    sizeBytes: 14 * MB,
    packages: 7,
    user: 'root',
    nonroot: `${DISTROLESS}/base-nossl-debian12:nonroot`,
    debug: `${DISTROLESS}/base-nossl-debian12:debug`,
  },
  {
    ref: `${DISTROLESS}/base-debian12`,
    family: 'distroless',
    runtime: 'glibc',
    provides: [...COMMON, 'glibc', 'libssl'],
    sizeBytes: 20 * MB,
    packages: 9,
    user: 'root',
    nonroot: `${DISTROLESS}/base-debian12:nonroot`,
    debug: `${DISTROLESS}/base-debian12:debug`,
  },
  {
    ref: `${DISTROLESS}/cc-debian12`,
    family: 'distroless',
    runtime: 'cc',
    provides: [...COMMON, 'glibc', 'libssl', 'libstdc++'],
    sizeBytes: 23 * MB,
    packages: 11,
    user: 'root',
    nonroot: `${DISTROLESS}/cc-debian12:nonroot`,
    debug: `${DISTROLESS}/cc-debian12:debug`,
  },
  {
    ref: `${DISTROLESS}/nodejs22-debian12`,
    family: 'distroless',
    runtime: 'node',
    runtimeVersion: '22',
    provides: [...COMMON, 'glibc', 'libssl', 'libstdc++'],
    sizeBytes: 165 * MB,
    packages: 11,
    user: 'root',
    entrypoint: ['/nodejs/bin/node'],
    nonroot: `${DISTROLESS}/nodejs22-debian12:nonroot`,
    debug: `${DISTROLESS}/nodejs22-debian12:debug`,
  },
  {
    ref: `${DISTROLESS}/python3-debian12`,
    family: 'distroless',
    runtime: 'python',
    runtimeVersion: '3.11',
    provides: [...COMMON, 'glibc', 'libssl', 'libstdc++'],
    sizeBytes: 135 * MB,
    packages: 25,
    user: 'root',
    entrypoint: ['/usr/bin/python3.11'],
    nonroot: `${DISTROLESS}/python3-debian12:nonroot`,
    debug: `${DISTROLESS}/python3-debian12:debug`,
  },
  {
    ref: `${DISTROLESS}/java17-debian12`,
    family: 'distroless',
    runtime: 'java',
    runtimeVersion: '17',
    provides: [...COMMON, 'glibc', 'libssl', 'libstdc++'],
    sizeBytes: 230 * MB,
    packages: 30,
    user: 'root',
    entrypoint: ['/usr/bin/java', '-jar'],
    nonroot: `${DISTROLESS}/java17-debian12:nonroot`,
    debug: `${DISTROLESS}/java17-debian12:debug`,
  },
  {
    ref: `${DISTROLESS}/java21-debian12`,
    family: 'distroless',
    runtime: 'java',
    runtimeVersion: '21',
    provides: [...COMMON, 'glibc', 'libssl', 'libstdc++'],
    sizeBytes: 240 * MB,
    packages: 30,
    user: 'root',
    entrypoint: ['/usr/bin/java', '-jar'],
    nonroot: `${DISTROLESS}/java21-debian12:nonroot`,
    debug: `${DISTROLESS}/java21-debian12:debug`,
  },
  {
    ref: `${CHAINGUARD}/static`,
    family: 'chainguard',
    runtime: 'static',
    provides: COMMON,
    sizeBytes: 1 * MB,
    packages: 4,
    user: '65532',
    debug: `${CHAINGUARD}/busybox`,
  },
  {
    ref: `${CHAINGUARD}/glibc-dynamic`,
    family: 'chainguard',
    runtime: 'cc',
    provides: [...COMMON, 'glibc', 'libssl', 'libstdc++'],
    sizeBytes: 12 * MB,
    packages: 8,
    user: '65532',
    debug: `${CHAINGUARD}/glibc-dynamic:latest-dev`,
  },
  {
    ref: `${CHAINGUARD}/node`,
    family: 'chainguard',
    runtime: 'node',
    provides: [...COMMON, 'glibc', 'libssl', 'libstdc++'],
    sizeBytes: 120 * MB,
    packages: 14,
    user: '65532',
    entrypoint: ['/usr/bin/node'],
    debug: `${CHAINGUARD}/node:latest-dev`,
  },
  {
    ref: `${CHAINGUARD}/python`,
    family: 'chainguard',
    runtime: 'python',
    provides: [...COMMON, 'glibc', 'libssl', 'libstdc++'],
    sizeBytes: 80 * MB,
    packages: 20,
    user: '65532',
    entrypoint: ['/usr/bin/python'],
    debug: `${CHAINGUARD}/python:latest-dev`,
  },
  {
    ref: `${CHAINGUARD}/jre`,
    family: 'chainguard',
    runtime: 'java',
    provides: [...COMMON, 'glibc', 'libssl', 'libstdc++'],
    sizeBytes: 200 * MB,
    packages: 20,
    user: '65532',
    entrypoint: ['/usr/bin/java'],
    debug: `${CHAINGUARD}/jre:latest-dev`,
  },
  {
    ref: `${CHAINGUARD}/nginx`,
    family: 'chainguard',
    runtime: 'nginx',
    provides: [...COMMON, 'glibc', 'libssl'],
    sizeBytes: 25 * MB,
    packages: 12,
    user: '65532',
    debug: `${CHAINGUARD}/nginx:latest-dev`,
  },
  {
    ref: 'mcr.microsoft.com/dotnet/runtime-deps:8.0-noble-chiseled',
    family: 'chiseled',
    runtime: 'dotnet',
    provides: [...COMMON, 'glibc', 'libssl', 'libstdc++'],
    sizeBytes: 13 * MB,
    packages: 6,
    user: '1654',
    debug: 'mcr.microsoft.com/dotnet/runtime-deps:8.0-noble',
  },
  {
    ref: 'mcr.microsoft.com/dotnet/aspnet:8.0-noble-chiseled',
    family: 'chiseled',
    runtime: 'dotnet',
    provides: [...COMMON, 'glibc', 'libssl', 'libstdc++'],
    sizeBytes: 110 * MB,
    packages: 6,
    user: '1654',
    entrypoint: ['dotnet'],
    debug: 'mcr.microsoft.com/dotnet/aspnet:8.0-noble',
  },
];

/** Runtimes a base can serve, beyond its own: a glibc base runs static binaries too, a cc base glibc ones. */
const SERVES: Record<Runtime, readonly Runtime[]> = {
  static: ['static'],
  glibc: ['static', 'glibc'],
  cc: ['static', 'glibc', 'cc'],
  node: ['node'],
  python: ['python'],
  java: ['java'],
  dotnet: ['dotnet'],
  nginx: ['nginx'],
};

/** Candidates for an application: the bases that serve its runtime and provide what it needs, smallest first. */
export function candidatesFor(
  runtime: Runtime,
  needs: readonly Need[],
  catalogue: readonly BaseImage[] = CATALOGUE,
): BaseImage[] {
  return catalogue
    .filter((b) => SERVES[b.runtime].includes(runtime) && needs.every((n) => b.provides.includes(n)))
    .sort((a, b) => a.sizeBytes - b.sizeBytes || (a.family < b.family ? -1 : 1));
}
