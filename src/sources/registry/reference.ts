import { isDigest, type Digest } from '../../core/digest.js';
import { fail } from '../../core/errors.js';

/**
 * Image references as docker writes them: `[registry[:port]/]repository[:tag][@sha256:…]`.
 * Docker Hub short names are normalised (`alpine` → `docker.io/library/alpine:latest`).
 * Grammar: https://github.com/distribution/reference/blob/main/reference.go
 */
export interface Reference {
  /** Registry host as written by users, `docker.io` for Docker Hub. */
  readonly registry: string;
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: Digest;
}

export const DOCKER_HUB = 'docker.io';
/** Docker Hub's API lives on another host than its name. */
export const DOCKER_HUB_API = 'registry-1.docker.io';

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const HOST =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?$/;

const invalid = (input: string, why: string) =>
  fail(
    'E_REFERENCE_INVALID',
    `invalid image reference ${JSON.stringify(input)}: ${why}`,
    'write it as [registry/]repository[:tag][@sha256:digest], e.g. alpine:3.20 or ghcr.io/org/app@sha256:…',
  );

/** Parses and normalises a reference. */
export function parseReference(input: string): Reference {
  if (input.length === 0 || input.length > 4096) throw invalid(input, 'empty or too long');
  let rest = input;
  let digest: Digest | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    const d = rest.slice(at + 1);
    if (!isDigest(d)) throw invalid(input, 'the digest must be sha256: followed by 64 hex digits');
    digest = d;
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw invalid(input, `bad tag ${JSON.stringify(tag)}`);
  }
  const slash = rest.indexOf('/');
  let registry = DOCKER_HUB;
  let path = rest;
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase()) {
      if (!HOST.test(first)) throw invalid(input, `bad registry host ${JSON.stringify(first)}`);
      registry = first;
      path = rest.slice(slash + 1);
    }
  }
  if (registry === 'index.docker.io' || registry === DOCKER_HUB_API) registry = DOCKER_HUB;
  if (registry === DOCKER_HUB && !path.includes('/')) path = `library/${path}`;
  if (!path || path.split('/').some((c) => !COMPONENT.test(c))) {
    throw invalid(input, 'repository names are lower-case letters, digits and separators (._-)');
  }
  if (path.length > 255) throw invalid(input, 'repository name longer than 255 characters');
  if (!tag && !digest) tag = 'latest';
  return { registry, repository: path, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** The canonical string form, e.g. `docker.io/library/alpine:3.20@sha256:…`. */
export function formatReference(ref: Reference): string {
  return `${ref.registry}/${ref.repository}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

/** True for hosts on this machine, which are spoken to over plain HTTP. */
export function isLoopback(registry: string): boolean {
  const host = registry.replace(/:[0-9]+$/, '').replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
