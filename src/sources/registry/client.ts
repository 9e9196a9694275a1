import { DistrolensError, fail, isDistrolensError } from '../../core/errors.js';
import type { ConnectPolicy } from '../../util/network.js';
import { DEFAULT_RETRY, backOff, retryAfterMs, type RetryPolicy } from '../../util/retry.js';
import type { RegistryAuth } from './credentials.js';
import { getBlob, type BlobResponse } from './blob-get.js';
import { send, type HttpResponse } from './http.js';
import { DOCKER_HUB, DOCKER_HUB_API, isLoopback } from './reference.js';

/**
 * An HTTP client for one registry: the OCI distribution API's auth dance (anonymous bearer
 * tokens from the WWW-Authenticate challenge, basic auth, static tokens), retries with backoff on
 * 429/5xx honouring Retry-After, and errors mapped to the catalogue.
 * https://distribution.github.io/distribution/spec/auth/token/
 */
export interface ClientOptions {
  /** Credentials; when absent, `lookupAuth` is asked (docker config), then anonymous. */
  readonly auth?: RegistryAuth | undefined;
  readonly lookupAuth?: (registry: string) => Promise<RegistryAuth | undefined>;
  /** Plain HTTP for a non-loopback registry. */
  readonly insecure?: boolean | undefined;
  readonly retry?: RetryPolicy | undefined;
  readonly userAgent?: string;
  readonly signal?: AbortSignal | undefined;
  /**
   * Where connections may go (the server's SSRF guard), checked at every hop. Under a policy,
   * every failure to connect reads the same, so errors cannot map a network.
   */
  readonly connect?: ConnectPolicy | undefined;
  /** A budget shared with other processes (the fleet's workers): waited on before each request, told of each 429. */
  readonly gate?: RegistryGate | undefined;
}

/**
 * Politeness across processes: before a request, wait until the registry's shared budget allows
 * one; after a 429, tell everyone how long the registry asked to be left alone.
 */
export interface RegistryGate {
  wait(registry: string, signal?: AbortSignal): Promise<void>;
  throttled(registry: string, retryAfterMs: number): Promise<void>;
}

/**
 * Whether credentials for `registry` may go to a token realm on `realm`: the same host, or a host
 * of the same domain (Docker Hub: registry-1.docker.io and auth.docker.io), never over plain HTTP
 * to a registry reached over HTTPS.
 */
export function realmMayGetCredentials(registryUrl: URL, realm: URL): boolean {
  if (realm.protocol !== registryUrl.protocol && realm.protocol !== 'https:') return false;
  const registry = registryUrl.hostname.toLowerCase();
  const host = realm.hostname.toLowerCase();
  if (host === registry) return true;
  const labels = registry.split('.');
  if (labels.length < 3 || /^[\d.]+$/.test(registry) || registry.includes(':')) return false;
  return host.endsWith(`.${labels.slice(1).join('.')}`);
}

interface Challenge {
  readonly scheme: string;
  readonly params: Readonly<Record<string, string>>;
}

/** Parses `Bearer realm="…",service="…",scope="…"`. */
export function parseChallenge(header: string | null): Challenge | undefined {
  if (!header) return undefined;
  const space = header.indexOf(' ');
  const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
  const params: Record<string, string> = {};
  const re = /([a-zA-Z_]+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g;
  for (let m = re.exec(header.slice(space + 1)); m; m = re.exec(header.slice(space + 1))) {
    params[m[1]!.toLowerCase()] = (m[2] ?? m[3] ?? '').replace(/\\(.)/g, '$1');
  }
  return { scheme, params };
}

const RETRYABLE = new Set([429, 500, 502, 503, 504]);

/**
 * Whether a network error may go away by itself. A name that does not exist (NXDOMAIN) will not:
 * failing at once saves the ~7 s of backoff a typo or an offline machine would otherwise wait, as
 * Go's resolver marks it not temporary. A refused or reset connection (a registry restarting) and
 * a resolver that did not answer (EAI_AGAIN) are retried.
 */
export function isTransient(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code !== 'ENOTFOUND';
}

export interface RequestInit {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: Uint8Array | string;
  /** Repository the request is about, e.g. "library/alpine". */
  readonly repository: string;
  /** Actions needed on the repository (scope of the bearer token). */
  readonly actions?: readonly ('pull' | 'push')[];
  /** Another token scope than the repository's (the catalog's `registry:catalog:*`). */
  readonly scope?: string;
  /** Statuses the caller handles itself (e.g. 404 on a HEAD). */
  readonly accept?: readonly number[];
  readonly what: string;
}

export class RegistryClient {
  readonly registry: string;
  readonly baseUrl: string;
  readonly #options: ClientOptions;
  readonly #tokens = new Map<string, string>();
  #auth: RegistryAuth | undefined;
  #authLoaded = false;
  #basic = false;

  constructor(registry: string, options: ClientOptions = {}) {
    this.registry = registry;
    const host = registry === DOCKER_HUB ? DOCKER_HUB_API : registry;
    this.baseUrl = `${options.insecure || isLoopback(registry) ? 'http' : 'https'}://${host}`;
    this.#options = options;
  }

  async #credentials(): Promise<RegistryAuth | undefined> {
    if (!this.#authLoaded) {
      this.#auth = this.#options.auth ?? (await this.#options.lookupAuth?.(this.registry));
      this.#authLoaded = true;
    }
    return this.#auth;
  }

  #scope(init: RequestInit): string {
    return init.scope ?? `repository:${init.repository}:${(init.actions ?? ['pull']).join(',')}`;
  }

  async #authorization(init: RequestInit): Promise<string | undefined> {
    const auth = await this.#credentials();
    if (auth?.token && !this.#tokens.size) return `Bearer ${auth.token}`;
    const token = this.#tokens.get(this.#scope(init));
    if (token) return `Bearer ${token}`;
    if (this.#basic && auth?.username !== undefined)
      return `Basic ${Buffer.from(`${auth.username}:${auth.password ?? ''}`).toString('base64')}`;
    return undefined;
  }

  /** Answers a 401 challenge; returns false when there is nothing more to try. */
  async #authenticate(challenge: Challenge | undefined, init: RequestInit): Promise<boolean> {
    const auth = await this.#credentials();
    if (challenge?.scheme === 'basic') {
      if (this.#basic || auth?.username === undefined) return false;
      this.#basic = true;
      return true;
    }
    if (challenge?.scheme !== 'bearer' || !challenge.params.realm) return false;
    const scope = this.#scope(init);
    if (this.#tokens.has(scope)) return false;
    let url: URL;
    try {
      url = new URL(challenge.params.realm);
    } catch {
      throw fail('E_REGISTRY_ERROR', `${this.registry}: the token realm is not a URL`, 'the registry is misconfigured');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      throw fail(
        'E_REGISTRY_ERROR',
        `${this.registry}: the token realm is not an HTTP URL`,
        'the registry is misconfigured',
      );
    if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
    url.searchParams.set('scope', scope);
    const headers: Record<string, string> = { 'user-agent': this.#userAgent() };
    // Credentials are for this registry: a realm elsewhere gets an anonymous token request.
    if (auth?.username !== undefined && realmMayGetCredentials(new URL(this.baseUrl), url))
      headers.authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password ?? ''}`).toString('base64')}`;
    const response = await this.#send(url.toString(), { headers }, `token for ${init.repository}`);
    if (response.status === 401 || response.status === 403) {
      throw fail(
        auth ? 'E_REGISTRY_AUTH_DENIED' : 'E_REGISTRY_AUTH_REQUIRED',
        `${this.registry}: the token service refused ${auth ? 'the credentials' : 'anonymous access'} for ${init.repository}`,
        auth
          ? 'check the username and password (or docker login again)'
          : 'log in with docker login, or pass --username/--password',
      );
    }
    if (!response.ok)
      throw fail('E_REGISTRY_ERROR', `${this.registry}: token service answered ${response.status}`, 'retry later');
    const body = (await response.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token)
      throw fail(
        'E_REGISTRY_ERROR',
        `${this.registry}: token service returned no token`,
        'the registry is misconfigured',
      );
    this.#tokens.set(scope, token);
    return true;
  }

  #userAgent(): string {
    return this.#options.userAgent ?? 'distrolens';
  }

  /** One HTTP exchange with retries on 429/5xx and network errors. */
  async #send(
    url: string,
    init: { method?: string; headers: Record<string, string>; body?: Uint8Array | string },
    what: string,
  ): Promise<HttpResponse> {
    const policy = this.#options.retry ?? DEFAULT_RETRY;
    for (let attempt = 1; ; attempt++) {
      let response: HttpResponse | undefined;
      let networkError: unknown;
      await this.#options.gate?.wait(this.registry, this.#options.signal);
      try {
        response = await send(url, {
          ...init,
          ...(this.#options.signal ? { signal: this.#options.signal } : {}),
          policy: this.#options.connect,
        });
      } catch (error) {
        if (this.#options.signal?.aborted || isDistrolensError(error)) throw error;
        networkError = error;
      }
      if (response && !RETRYABLE.has(response.status)) return response;
      if (attempt >= policy.attempts || (networkError !== undefined && !isTransient(networkError))) {
        if (response) return response;
        const code = (networkError as NodeJS.ErrnoException).code ?? (networkError as Error).message;
        // Under a connect policy (the server), refused, closed and filtered read alike.
        const detail = this.#options.connect ? '' : ` (${code})`;
        throw fail(
          'E_NETWORK',
          `${what}: cannot reach ${new URL(url).host}${detail}`,
          'check the registry address and your network; use --insecure for a plain-HTTP registry',
          this.#options.connect ? undefined : networkError,
        );
      }
      response?.discard();
      const retryAfter = response?.headers.get('retry-after');
      if (response?.status === 429)
        await this.#options.gate?.throttled(this.registry, retryAfterMs(retryAfter ?? null) ?? policy.baseDelayMs);
      await backOff(policy, attempt, retryAfter, this.#options.signal);
    }
  }

  /**
   * A blob body, the fast way when the registry answers plainly (see blob-get.ts), else through
   * request(). Auth is settled by then: manifests of the same repository came first.
   */
  async blob(path: string, init: RequestInit): Promise<BlobResponse> {
    const headers: Record<string, string> = { 'user-agent': this.#userAgent(), ...init.headers };
    const authorization = await this.#authorization(init);
    if (authorization) headers.authorization = authorization;
    await this.#options.gate?.wait(this.registry, this.#options.signal);
    const direct = await getBlob(`${this.baseUrl}${path}`, headers, this.#options.signal, this.#options.connect);
    return direct ?? this.request(path, init);
  }

  /** Sends an authenticated request to `/v2/…`, mapping failures to coded errors. */
  async request(path: string, init: RequestInit): Promise<HttpResponse> {
    const url = path.startsWith('http') ? path : `${this.baseUrl}${path}`;
    for (let round = 0; round < 3; round++) {
      const headers: Record<string, string> = { 'user-agent': this.#userAgent(), ...init.headers };
      const authorization = await this.#authorization(init);
      if (authorization) headers.authorization = authorization;
      const response = await this.#send(
        url,
        { method: init.method ?? 'GET', headers, ...(init.body ? { body: init.body } : {}) },
        init.what,
      );
      if (
        response.status === 401 &&
        (await this.#authenticate(parseChallenge(response.headers.get('www-authenticate')), init))
      ) {
        response.discard();
        continue;
      }
      if (response.ok || init.accept?.includes(response.status)) return response;
      throw await this.#error(response, init);
    }
    throw fail('E_REGISTRY_AUTH_DENIED', `${init.what}: authentication did not settle`, 'check your credentials');
  }

  /**
   * The registry's own explanation of an error: the codes and messages of its JSON `errors`, from
   * the registry itself only. A body from another origin (where a redirect led) or that is not
   * the distribution API's error document is never shown: it could be an internal service's answer.
   */
  async #detail(response: HttpResponse): Promise<string> {
    if (new URL(response.url).origin !== new URL(this.baseUrl).origin) {
      response.discard();
      return '';
    }
    const text = await response.text().catch(() => '');
    try {
      const body = JSON.parse(text) as { errors?: { code?: unknown; message?: unknown }[] };
      if (!Array.isArray(body.errors)) return '';
      const parts = body.errors.map((e) =>
        [e.code, e.message].filter((v): v is string => typeof v === 'string' && v !== '').join(': '),
      );
      const detail = parts.filter(Boolean).join('; ');
      return detail.length > 200 ? `${detail.slice(0, 200)}…` : detail;
    } catch {
      return '';
    }
  }

  async #error(response: HttpResponse, init: RequestInit): Promise<DistrolensError> {
    const detail = await this.#detail(response);
    const suffix = detail ? ` (${detail})` : '';
    const auth = await this.#credentials();
    switch (response.status) {
      case 401:
        return fail(
          auth ? 'E_REGISTRY_AUTH_DENIED' : 'E_REGISTRY_AUTH_REQUIRED',
          `${init.what}: ${this.registry} requires authentication${suffix}`,
          auth
            ? 'the credentials were refused; check them or docker login again'
            : 'log in with docker login, or pass --username and --password (or DISTROLENS_REGISTRY_TOKEN)',
        );
      case 403:
        return fail(
          'E_REGISTRY_AUTH_DENIED',
          `${init.what}: access denied by ${this.registry}${suffix}`,
          'your account lacks access to this repository',
        );
      case 404:
        return fail(
          'E_REGISTRY_NOT_FOUND',
          `${init.what}: not found on ${this.registry}${suffix}`,
          'check the repository name and tag (e.g. with skopeo list-tags)',
        );
      case 429:
        return fail(
          'E_REGISTRY_RATE_LIMITED',
          `${init.what}: rate limited by ${this.registry} after retries${suffix}`,
          'wait and retry, log in to raise the limit, or use a mirror',
        );
      default:
        return fail(
          'E_REGISTRY_ERROR',
          `${init.what}: ${this.registry} answered HTTP ${response.status}${suffix}`,
          'retry later; if it persists the registry is failing',
        );
    }
  }
}
