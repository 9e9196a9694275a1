/** The parts of the image config that distrolens reads (OCI image config / Docker container config). */
export interface ImageConfig {
  readonly user: string;
  readonly entrypoint: readonly string[] | null;
  readonly cmd: readonly string[] | null;
  readonly workingDir: string;
  readonly exposedPorts: readonly string[];
  /** As in the config; reports redact secret-looking values. */
  readonly env: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
  readonly volumes: readonly string[];
  readonly stopSignal?: string;
  readonly healthcheck?: { readonly test: readonly string[] };
  readonly created?: string;
}
