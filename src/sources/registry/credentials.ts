import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fail } from '../../core/errors.js';
import { DOCKER_HUB } from './reference.js';

/** Credentials for one registry. Never logged: see `redactAuth`. */
export interface RegistryAuth {
  readonly username?: string;
  readonly password?: string;
  /** A bearer token used as is (e.g. a CI job token). */
  readonly token?: string;
}

/** Credentials bound to the registry they were given for (host or host:port, as in references). */
export interface BoundAuth extends RegistryAuth {
  readonly registry: string;
}

/** Docker Hub's names. */
const DOCKER_HUB_ALIASES = ['docker.io', 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com'];

/** Whether two registry names are the same registry (Docker Hub's aliases included, case-insensitive). */
export function sameRegistry(a: string, b: string): boolean {
  const canonical = (name: string): string => {
    const lower = name.toLowerCase();
    return DOCKER_HUB_ALIASES.includes(lower) ? DOCKER_HUB : lower;
  };
  return canonical(a) === canonical(b);
}

/** Docker Hub's key in config.json, a leftover of the v1 API. */
const DOCKER_HUB_KEY = 'https://index.docker.io/v1/';

/** The docker config file: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. */
export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.DOCKER_CONFIG ?? join(homedir(), '.docker'), 'config.json');
}

function hostOf(key: string): string {
  return key.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
}

/** Runs `docker-credential-<helper> get` as docker does: server URL on stdin, JSON on stdout. */
export function runCredentialHelper(
  helper: string,
  server: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<RegistryAuth | undefined> {
  if (!/^[a-zA-Z0-9_.-]+$/.test(helper))
    throw fail(
      'E_REGISTRY_AUTH_REQUIRED',
      `invalid credential helper name ${JSON.stringify(helper)}`,
      'fix credHelpers/credsStore in your docker config',
    );
  return new Promise((resolve, reject) => {
    const child = spawn(`docker-credential-${helper}`, ['get'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (error) =>
      reject(
        fail(
          'E_REGISTRY_AUTH_REQUIRED',
          `credential helper docker-credential-${helper} could not run: ${error.message}`,
          `install docker-credential-${helper} or remove it from your docker config`,
          error,
        ),
      ),
    );
    child.on('close', (code) => {
      // Helpers answer "credentials not found" with a non-zero exit: that means anonymous access.
      if (code !== 0) {
        if (/not found/i.test(out + err)) return resolve(undefined);
        return reject(
          fail(
            'E_REGISTRY_AUTH_REQUIRED',
            `credential helper docker-credential-${helper} failed: ${(err || out).trim().slice(0, 200)}`,
            'log in again with docker login',
          ),
        );
      }
      try {
        const parsed = JSON.parse(out) as { Username?: string; Secret?: string };
        if (!parsed.Secret) return resolve(undefined);
        resolve(
          parsed.Username === '<token>'
            ? { token: parsed.Secret }
            : { username: parsed.Username ?? '', password: parsed.Secret },
        );
      } catch {
        reject(
          fail(
            'E_REGISTRY_AUTH_REQUIRED',
            `credential helper docker-credential-${helper} printed invalid JSON`,
            'update the helper',
          ),
        );
      }
    });
    child.stdin.end(server);
  });
}

/**
 * Looks up credentials for a registry the way docker does: credHelpers for the host, then
 * credsStore, then `auths` (base64 `auth` or username/password). Missing file: anonymous.
 */
export async function dockerConfigAuth(
  registry: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<RegistryAuth | undefined> {
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(await readFile(dockerConfigPath(env), 'utf8')) as Record<string, unknown>;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw fail(
      'E_REGISTRY_AUTH_REQUIRED',
      `cannot read ${dockerConfigPath(env)}: ${(error as Error).message}`,
      'fix or remove the docker config file',
      error,
    );
  }
  const server = registry === DOCKER_HUB ? DOCKER_HUB_KEY : registry;
  const helpers = (config.credHelpers ?? {}) as Record<string, string>;
  const helper = Object.entries(helpers).find(
    ([key]) => hostOf(key) === hostOf(server) || (registry === DOCKER_HUB && hostOf(key) === 'index.docker.io'),
  )?.[1];
  if (helper) return runCredentialHelper(helper, server, env);
  const entry = authsEntry(config, registry);
  if (typeof config.credsStore === 'string' && config.credsStore && !entry?.auth) {
    const stored = await runCredentialHelper(config.credsStore, server, env);
    if (stored) return stored;
  }
  return entry && authOf(entry);
}

type AuthsEntry = { auth?: string; username?: string; password?: string; registrytoken?: string };

/** The `auths` entry of a docker config (or a Kubernetes `.dockerconfigjson`) for a registry. */
function authsEntry(config: Readonly<Record<string, unknown>>, registry: string): AuthsEntry | undefined {
  const server = registry === DOCKER_HUB ? DOCKER_HUB_KEY : registry;
  const auths = (config.auths ?? {}) as Record<string, AuthsEntry>;
  return Object.entries(auths).find(
    ([key]) =>
      hostOf(key) === hostOf(server) ||
      (registry === DOCKER_HUB && ['index.docker.io', 'docker.io', 'registry-1.docker.io'].includes(hostOf(key))),
  )?.[1];
}

function authOf(entry: AuthsEntry): RegistryAuth | undefined {
  if (entry.registrytoken) return { token: entry.registrytoken };
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (entry.username && entry.password) return { username: entry.username, password: entry.password };
  return undefined;
}

/**
 * Credentials for a registry from a Kubernetes pull secret's `.dockerconfigjson` (the docker
 * config's `auths`, never helpers: a secret cannot name a program to run here).
 */
export function pullSecretAuth(config: Readonly<Record<string, unknown>>, registry: string): RegistryAuth | undefined {
  const entry = authsEntry(config, registry);
  return entry && authOf(entry);
}

/** A printable description of credentials that reveals no secret. */
export function redactAuth(auth: RegistryAuth | undefined): string {
  if (!auth) return 'anonymous';
  if (auth.token) return 'token <redacted>';
  return `user ${auth.username ?? ''} with password <redacted>`;
}
