import { request } from 'node:http';
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { join } from 'node:path';
import { fail } from '../../core/errors.js';
import type { TempDir } from '../../util/temp.js';

/**
 * Exports an image from a Docker-compatible engine (Docker, podman's service) over its API
 * socket as a `docker save` tar: `GET /images/{name}/get`. DOCKER_HOST may be unix:// or tcp://
 * (loopback only without TLS). https://docs.docker.com/engine/api/v1.43/#tag/Image/operation/ImageGet
 */
export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';
/** The oldest API version whose image export we rely on; engines accept older paths. */
const API_VERSION = 'v1.40';

export interface DaemonEndpoint {
  readonly socketPath?: string;
  readonly host?: string;
  readonly port?: number;
}

/** Reads DOCKER_HOST the way the docker CLI does. */
export function daemonEndpoint(env: NodeJS.ProcessEnv = process.env): DaemonEndpoint {
  const host = env.DOCKER_HOST;
  if (!host) return { socketPath: DEFAULT_DOCKER_SOCKET };
  if (host.startsWith('unix://')) return { socketPath: host.slice('unix://'.length) };
  const url = new URL(host.replace(/^tcp:/, 'http:'));
  return { host: url.hostname, port: Number(url.port || 2375) };
}

function describe(endpoint: DaemonEndpoint): string {
  return endpoint.socketPath ? `unix://${endpoint.socketPath}` : `tcp://${endpoint.host}:${endpoint.port}`;
}

/** Saves `name` from the engine into `temp`, returning the tar's path. */
export async function exportFromDaemon(
  name: string,
  temp: TempDir,
  endpoint: DaemonEndpoint = daemonEndpoint(),
): Promise<string> {
  const path = join(temp.path, 'daemon-save.tar');
  await new Promise<void>((resolve, reject) => {
    const req = request(
      { ...endpoint, method: 'GET', path: `/${API_VERSION}/images/${encodeURIComponent(name)}/get` },
      (res) => {
        if (res.statusCode === 200) {
          pipeline(res, createWriteStream(path, { mode: 0o600 })).then(resolve, reject);
          return;
        }
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => {
          const message = (() => {
            try {
              return (JSON.parse(body) as { message?: string }).message ?? body;
            } catch {
              return body;
            }
          })().trim();
          reject(
            res.statusCode === 404
              ? fail(
                  'E_INPUT_NOT_FOUND',
                  `the engine at ${describe(endpoint)} has no image ${name}`,
                  'list images with `docker images` (or `podman images`)',
                )
              : fail(
                  'E_DAEMON_UNAVAILABLE',
                  `the engine at ${describe(endpoint)} answered ${res.statusCode}: ${message.slice(0, 200)}`,
                  'check the engine logs',
                ),
          );
        });
      },
    );
    req.on('error', (error: NodeJS.ErrnoException) =>
      reject(
        fail(
          'E_DAEMON_UNAVAILABLE',
          `cannot reach a Docker-compatible engine at ${describe(endpoint)} (${error.code ?? error.message})`,
          'start the engine, or set DOCKER_HOST (e.g. unix:///run/podman/podman.sock); distrolens needs no daemon for registry or archive inputs',
          error,
        ),
      ),
    );
    req.end();
  });
  return path;
}
