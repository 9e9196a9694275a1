import { readFile, stat } from 'node:fs/promises';
import { join, resolve as resolvePath } from 'node:path';
import { isDigest, type Digest } from '../core/digest.js';
import { DistrolensError, fail } from '../core/errors.js';
import { BlobCache } from '../cache/blobs.js';
import type { ImageSource } from '../image/types.js';
import type { InflateLimits } from '../util/compression.js';
import { DirTree, TarTree, type FileTree } from '../util/filetree.js';
import { TempDir, uncompressedFile } from '../util/temp.js';
import { dockerArchiveSource } from './docker-archive/index.js';
import { daemonEndpoint, exportFromDaemon } from './docker-daemon/index.js';
import { ociLayoutSource } from './oci-layout/index.js';
import { dockerConfigAuth, sameRegistry, type BoundAuth } from './registry/credentials.js';
import type { ConnectPolicy } from '../util/network.js';
import type { RetryPolicy } from '../util/retry.js';
import { parseReference } from './registry/reference.js';
import { registrySource, tagDigest } from './registry/index.js';
import { pushBlob, pushManifest } from './registry/push.js';
import { RegistryClient, type ClientOptions, type RegistryGate } from './registry/client.js';
import { rootfsSource } from './rootfs/index.js';

/** Everything a source may need; one object, defaults beside the code that applies them. */
export interface OpenOptions {
  /** Blob cache; when absent, a temporary one that close() removes (`--no-cache`). */
  readonly cache?: BlobCache | undefined;
  /**
   * Explicit credentials, for the registry they name and no other (an image from another registry
   * gets the docker config's credentials for that registry, or none).
   */
  readonly auth?: BoundAuth | undefined;
  /** Where connections may go (the server's SSRF guard); absent: anywhere. */
  readonly connect?: ConnectPolicy | undefined;
  /** A 429 budget shared with other processes (the fleet's workers). */
  readonly gate?: RegistryGate | undefined;
  readonly insecure?: boolean;
  readonly retry?: RetryPolicy;
  readonly limits?: InflateLimits;
  readonly env?: NodeJS.ProcessEnv;
  readonly onDownload?: (digest: Digest, bytes: number, total: number) => void;
  readonly signal?: AbortSignal;
}

/** The input prefixes, as skopeo and syft spell them. */
export const SCHEMES = ['registry', 'docker-archive', 'oci-archive', 'oci', 'rootfs', 'docker-daemon'] as const;
type Scheme = (typeof SCHEMES)[number];

async function exists(path: string): Promise<'file' | 'dir' | undefined> {
  try {
    const info = await stat(path);
    return info.isDirectory() ? 'dir' : info.isFile() ? 'file' : undefined;
  } catch {
    return undefined;
  }
}

/** Splits `PATH[:TAG]` or `PATH[@sha256:…]`, preferring the longest existing path. */
async function splitPath(spec: string): Promise<{ path: string; tag?: string; digest?: Digest }> {
  if (await exists(spec)) return { path: spec };
  const at = spec.lastIndexOf('@');
  if (at > 0 && isDigest(spec.slice(at + 1))) return { path: spec.slice(0, at), digest: spec.slice(at + 1) as Digest };
  // Tags may hold colons themselves (repo:tag, host:port/repo:tag): try each split, left first.
  for (let colon = spec.indexOf(':'); colon > 0; colon = spec.indexOf(':', colon + 1)) {
    if (await exists(spec.slice(0, colon))) return { path: spec.slice(0, colon), tag: spec.slice(colon + 1) };
  }
  return { path: spec };
}

/**
 * An input that can only be a path: absolute, relative (`./`, `../`, `~/`), or named like an
 * archive. A missing one is "no such file", never a registry reference with a strange host.
 */
export function looksLikePath(input: string): boolean {
  return /^(\.{0,2}\/|~\/)/.test(input) || /\.(tar|tgz|tar\.(gz|xz|zst|zstd|bz2))$/i.test(input);
}

function notFound(path: string, input: string): DistrolensError {
  return fail(
    'E_INPUT_NOT_FOUND',
    `${path}: no such file or directory`,
    `check the path; to pull from a registry write registry:${input.replace(/^[a-z-]+:/, '')}`,
  );
}

/**
 * Opens any input users type: a prefixed input (`docker-archive:x.tar`) or a plain one, which
 * is a local path when one exists (recognised by content, not name) and a registry reference
 * otherwise.
 */
export async function openSource(input: string, options: OpenOptions = {}): Promise<ImageSource> {
  const match = /^([a-z-]+):(.*)$/s.exec(input);
  const scheme = match && (SCHEMES as readonly string[]).includes(match[1]!) ? (match[1] as Scheme) : undefined;
  const spec = scheme ? match![2]! : input;
  if (!spec) throw fail('E_USAGE', `empty input after ${scheme}:`, 'write e.g. docker-archive:image.tar');

  let temp: TempDir | undefined;
  const getTemp = async (): Promise<TempDir> => (temp ??= await TempDir.create());
  const cleanup = async (): Promise<void> => {
    await temp?.close();
    temp = undefined;
  };
  const cache = options.cache ?? new BlobCache((await getTemp()).path);
  const partial = { limits: options.limits, verified: cache };

  try {
    if (!scheme && looksLikePath(input) && !(await exists(input))) throw notFound(input, input);
    if (scheme === 'registry' || (!scheme && !(await exists(input)))) {
      const ref = parseReference(spec);
      return withClose(
        registrySource(ref, {
          input,
          cache,
          ...partial,
          ...clientOptions(ref.registry, options),
          onDownload: options.onDownload,
        }),
        cleanup,
      );
    }
    if (scheme === 'docker-daemon') {
      const path = await exportFromDaemon(spec, await getTemp(), daemonEndpoint(options.env));
      const tree = await TarTree.open(path, `docker-daemon:${spec}`);
      // The engine exported exactly the image asked for (engines spell its tags their own way,
      // e.g. podman's localhost/ prefix), so no tag selection happens inside the archive.
      return dockerArchiveSource(tree, { ...partial, input, kind: 'docker-daemon', reference: spec, close: cleanup });
    }
    const { path, tag, digest } = await splitPath(spec);
    const kind = await exists(path);
    if (!kind) throw notFound(path, input);
    const absolute = resolvePath(path);

    // A compressed archive is inflated once to a private file so that its members can be seeked to.
    const plain = kind === 'file' ? await uncompressedFile(absolute, getTemp, options.limits) : absolute;
    // The layer streams from the original file, decompressing as it goes: one pass, no copy.
    const rootfs = async (): Promise<ImageSource> => rootfsSource(absolute, { ...partial, input, close: cleanup });
    if (scheme === 'rootfs') return rootfs();
    let tree: FileTree;
    if (kind === 'dir') tree = new DirTree(absolute);
    else {
      try {
        tree = await TarTree.open(plain, path);
      } catch (error) {
        if (!scheme && error instanceof DistrolensError && error.code === 'E_ARCHIVE_INVALID') {
          throw fail(
            'E_INPUT_UNRECOGNIZED',
            `${path} is neither an image archive nor a root filesystem tarball`,
            'pass a docker save tar, an OCI layout, a rootfs directory or tarball, or a registry reference',
            error,
          );
        }
        throw error;
      }
    }
    const layout = (await tree.has('oci-layout')) && (await tree.has('index.json'));
    const saved = await tree.has('manifest.json');
    const chosen: Scheme =
      scheme ?? (saved ? 'docker-archive' : layout ? (kind === 'dir' ? 'oci' : 'oci-archive') : 'rootfs');
    switch (chosen) {
      case 'docker-archive':
        if (!saved)
          throw fail(
            'E_ARCHIVE_INVALID',
            `${path} is not a docker save archive (no manifest.json)`,
            layout ? `it is an OCI layout: use oci-archive:${path}` : 'pass the output of docker save',
          );
        return dockerArchiveSource(tree, { ...partial, input, ...(tag ? { tag } : {}), close: cleanup });
      case 'oci':
      case 'oci-archive':
        return ociLayoutSource(tree, {
          ...partial,
          input,
          kind: kind === 'dir' ? 'oci-layout' : 'oci-archive',
          ...(tag ? { tag } : {}),
          ...(digest ? { digest } : {}),
          close: cleanup,
        });
      default:
        return rootfs();
    }
  } catch (error) {
    await cleanup();
    throw error;
  }
}

function withClose(source: ImageSource, close: () => Promise<void>): ImageSource {
  return {
    ...source,
    close: async () => {
      await source.close();
      await close();
    },
  };
}

/** How a registry is reached with these options: credentials for it only, limits, transport. */
function clientOptions(registry: string, options: OpenOptions): ClientOptions {
  return {
    auth: options.auth && sameRegistry(options.auth.registry, registry) ? options.auth : undefined,
    lookupAuth: (r: string) => dockerConfigAuth(r, options.env),
    connect: options.connect,
    gate: options.gate,
    insecure: options.insecure,
    retry: options.retry,
    signal: options.signal,
  };
}

/** The digest a registry tag points at now (`registry:` references; a HEAD, as `docker buildx imagetools` does). */
export async function resolveTag(reference: string, options: OpenOptions = {}): Promise<Digest> {
  const ref = parseReference(reference.replace(/^registry:/, ''));
  if (ref.digest) return ref.digest;
  return tagDigest(
    new RegistryClient(ref.registry, clientOptions(ref.registry, options)),
    ref.repository,
    ref.tag ?? 'latest',
  );
}

/**
 * Pushes the image an OCI layout directory holds (its index's first manifest: config, layers,
 * manifest) to `registry:REF`, with the same credentials and transport as pulls; returns the
 * manifest's digest.
 */
export async function pushLayoutTo(reference: string, layout: string, options: OpenOptions = {}): Promise<Digest> {
  const ref = parseReference(reference.replace(/^registry:/, ''));
  const client = new RegistryClient(ref.registry, clientOptions(ref.registry, options));
  const blob = (digest: string) => readFile(join(layout, 'blobs', 'sha256', digest.replace(/^sha256:/, '')));
  const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as {
    manifests: { mediaType: string; digest: Digest }[];
  };
  const top = index.manifests[0];
  if (!top) throw fail('E_IMAGE_INVALID', `${layout}: the layout's index names no manifest`);
  const manifest = await blob(top.digest);
  const doc = JSON.parse(manifest.toString('utf8')) as { config: { digest: Digest }; layers: { digest: Digest }[] };
  for (const d of [...doc.layers, doc.config]) await pushBlob(client, ref.repository, d.digest, await blob(d.digest));
  await pushManifest(client, ref.repository, ref.tag ?? ref.digest ?? 'latest', top.mediaType, manifest);
  return top.digest;
}
