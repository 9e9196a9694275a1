/**
 * Media types of the OCI image spec and Docker's schema 2, with the predicates the resolver needs.
 * https://github.com/opencontainers/image-spec/blob/main/media-types.md
 * https://github.com/distribution/distribution/blob/main/docs/content/spec/manifest-v2-2.md
 */
export const MediaType = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  /** What `docker save` stores: uncompressed layer tars. */
  dockerLayerTar: 'application/vnd.docker.image.rootfs.diff.tar',
  dockerForeignLayer: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
} as const;

/** Accept header for manifest requests, most specific first. */
export const MANIFEST_ACCEPT = [
  MediaType.ociIndex,
  MediaType.dockerList,
  MediaType.ociManifest,
  MediaType.dockerManifest,
  MediaType.dockerSchema1Signed,
  MediaType.dockerSchema1,
].join(', ');

export const isIndex = (mediaType: string | undefined): boolean =>
  mediaType === MediaType.ociIndex || mediaType === MediaType.dockerList;
export const isManifest = (mediaType: string | undefined): boolean =>
  mediaType === MediaType.ociManifest || mediaType === MediaType.dockerManifest;
export const isSchema1 = (mediaType: string | undefined): boolean =>
  mediaType === MediaType.dockerSchema1 || mediaType === MediaType.dockerSchema1Signed;
export const isImageConfig = (mediaType: string | undefined): boolean =>
  mediaType === MediaType.ociConfig || mediaType === MediaType.dockerConfig;
/** Foreign (Windows base) and non-distributable layers may live outside the registry. */
export const isForeignLayer = (mediaType: string): boolean =>
  mediaType === MediaType.dockerForeignLayer || mediaType.includes('.nondistributable.');
/** Layer media types we can read; compression is still sniffed from the bytes. */
export const isLayer = (mediaType: string): boolean =>
  mediaType.startsWith('application/vnd.oci.image.layer.') ||
  mediaType.startsWith('application/vnd.docker.image.rootfs.');
