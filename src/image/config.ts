import { errors } from '../core/errors.js';
import { isDigest, type Digest } from '../core/digest.js';
import type { Platform } from '../core/platform.js';
import type { ImageConfig } from './types.js';

/** The OCI/Docker image config fields distrolens understands, parsed defensively. */
export interface ParsedConfig {
  readonly config: ImageConfig;
  readonly platform: Platform;
  readonly diffIds: readonly Digest[];
  /** createdBy per non-empty history entry, aligned with the layers when the counts agree. */
  readonly layerHistory: readonly (string | undefined)[];
  readonly historyMismatch: boolean;
}

const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
const stringsOrNull = (value: unknown): string[] | null => (Array.isArray(value) ? strings(value) : null);
const keys = (value: unknown): string[] => (value && typeof value === 'object' ? Object.keys(value).sort() : []);

/** Parses an image config document (already size-checked and JSON-parsed). */
export function parseImageConfig(doc: Record<string, unknown>, what: string): ParsedConfig {
  const c = (doc.config && typeof doc.config === 'object' ? doc.config : {}) as Record<string, unknown>;
  const rootfs = (doc.rootfs && typeof doc.rootfs === 'object' ? doc.rootfs : {}) as Record<string, unknown>;
  const diffIds = strings(rootfs.diff_ids);
  for (const id of diffIds)
    if (!isDigest(id)) throw errors.imageInvalid(what, `invalid diff_id ${JSON.stringify(id).slice(0, 80)}`);
  const history = Array.isArray(doc.history) ? (doc.history as Record<string, unknown>[]) : [];
  const nonEmpty = history.filter((h) => h && typeof h === 'object' && h.empty_layer !== true);
  const historyMismatch = history.length > 0 && nonEmpty.length !== diffIds.length;
  const layerHistory = diffIds.map((_, i) => {
    const entry = historyMismatch ? undefined : nonEmpty[i];
    return typeof entry?.created_by === 'string' ? entry.created_by : undefined;
  });
  const labels: Record<string, string> = {};
  if (c.Labels && typeof c.Labels === 'object') {
    for (const [k, v] of Object.entries(c.Labels)) if (typeof v === 'string') labels[k] = v;
  }
  const health =
    c.Healthcheck && typeof c.Healthcheck === 'object' ? strings((c.Healthcheck as Record<string, unknown>).Test) : [];
  const config: ImageConfig = {
    user: typeof c.User === 'string' ? c.User : '',
    entrypoint: stringsOrNull(c.Entrypoint),
    cmd: stringsOrNull(c.Cmd),
    workingDir: typeof c.WorkingDir === 'string' ? c.WorkingDir : '',
    exposedPorts: keys(c.ExposedPorts),
    env: strings(c.Env),
    labels,
    volumes: keys(c.Volumes),
    ...(typeof c.StopSignal === 'string' ? { stopSignal: c.StopSignal } : {}),
    ...(health.length ? { healthcheck: { test: health } } : {}),
    ...(typeof doc.created === 'string' ? { created: doc.created } : {}),
  };
  const platform: Platform = {
    os: typeof doc.os === 'string' && doc.os ? doc.os : 'linux',
    architecture: typeof doc.architecture === 'string' && doc.architecture ? doc.architecture : 'unknown',
    ...(typeof doc.variant === 'string' && doc.variant ? { variant: doc.variant } : {}),
  };
  return { config, platform, diffIds: diffIds as Digest[], layerHistory, historyMismatch };
}

/** The config of a rootfs: nothing is known about how it would run. */
export const EMPTY_CONFIG: ImageConfig = {
  user: '',
  entrypoint: null,
  cmd: null,
  workingDir: '',
  exposedPorts: [],
  env: [],
  labels: {},
  volumes: [],
};
