import type { Digest } from '../../core/digest.js';
import type { RegistryClient } from './client.js';

/**
 * Uploads to a registry (monolithic uploads: POST then PUT with the digest). Used to publish
 * images built in code and by tests; skopeo is the independent check of the result.
 * https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pushing-blobs
 */
export async function pushBlob(
  client: RegistryClient,
  repository: string,
  digest: Digest,
  bytes: Uint8Array,
): Promise<void> {
  const init = { repository, actions: ['pull', 'push'] as const, what: `push ${digest}` };
  const head = await client.request(`/v2/${repository}/blobs/${digest}`, { ...init, method: 'HEAD', accept: [404] });
  if (head.status === 200) return;
  const start = await client.request(`/v2/${repository}/blobs/uploads/`, {
    ...init,
    method: 'POST',
    headers: { 'content-length': '0' },
  });
  start.discard();
  const location = new URL(start.headers.get('location') ?? '', client.baseUrl);
  location.searchParams.set('digest', digest);
  const put = await client.request(location.toString(), {
    ...init,
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) },
    body: bytes,
  });
  put.discard();
}

/** Uploads a manifest or index under a tag or digest. */
export async function pushManifest(
  client: RegistryClient,
  repository: string,
  reference: string,
  mediaType: string,
  bytes: Uint8Array,
): Promise<void> {
  const response = await client.request(`/v2/${repository}/manifests/${reference}`, {
    repository,
    actions: ['pull', 'push'],
    what: `push manifest ${repository}:${reference}`,
    method: 'PUT',
    headers: { 'content-type': mediaType },
    body: bytes,
  });
  response.discard();
}
