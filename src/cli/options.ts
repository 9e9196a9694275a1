import { parseArgs, type ParseArgsConfig } from 'node:util';
import { isAbsolute, resolve } from 'node:path';
import { errors } from '../core/errors.js';
import { closest } from '../util/suggest.js';
import { SEVERITIES, type Severity } from '../core/finding.js';
import { parsePlatform, type Platform } from '../core/platform.js';
import { BlobCache } from '../cache/blobs.js';
import { DEFAULT_INFLATE_LIMITS, type InflateLimits } from '../util/compression.js';
import type { OpenOptions } from '../sources/index.js';
import type { BoundAuth, RegistryAuth } from '../sources/registry/credentials.js';
import { parseReference } from '../sources/registry/reference.js';
import { SCHEMES } from '../sources/index.js';
import type { CliIo } from './io.js';

/** `--fail-on SEVERITY`, checked before any work (a typo should not cost a pull); undefined when absent. */
export function parseFailOn(value: string | undefined): Severity | undefined {
  if (value === undefined) return undefined;
  if (!(SEVERITIES as readonly string[]).includes(value))
    throw errors.usage(`invalid --fail-on ${value}`, `use one of: ${SEVERITIES.join(', ')}`);
  return value as Severity;
}

/** Whether a severity is at or above a --fail-on threshold (critical is above high). */
export const atOrAbove = (severity: Severity, threshold: Severity): boolean =>
  SEVERITIES.indexOf(severity) <= SEVERITIES.indexOf(threshold);

/** The gate's line for the findings at or above a threshold; undefined when there are none. */
export function failingFindings(
  findings: readonly { readonly severity: Severity; readonly ruleId: string }[],
  failOn: Severity,
): string | undefined {
  const failing = findings.filter((f) => atOrAbove(f.severity, failOn));
  return failing.length
    ? `${failing.length} finding(s) at or above ${failOn}: ${[...new Set(failing.map((f) => f.ruleId))].sort().join(', ')}`
    : undefined;
}

/** Flags every command takes: how errors are logged, stack traces, help, quiet, and no-color (output is never coloured). */
export const COMMON_FLAGS = {
  'log-format': { type: 'string' },
  'no-color': { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  debug: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

/** Flags every image-reading command takes. */
export const IMAGE_FLAGS = {
  ...COMMON_FLAGS,
  platform: { type: 'string' },
  format: { type: 'string', short: 'f', multiple: true },
  'fail-on': { type: 'string' },
  policy: { type: 'string' },
  output: { type: 'string', short: 'o' },
  'cache-dir': { type: 'string' },
  'no-cache': { type: 'boolean' },
  insecure: { type: 'boolean' },
  username: { type: 'string' },
  password: { type: 'string' },
  registry: { type: 'string' },
  'max-layer-size': { type: 'string' },
  'max-ratio': { type: 'string' },
  timeout: { type: 'string' },
  offline: { type: 'boolean' },
  'skip-db-update': { type: 'boolean' },
  'ignore-unfixed': { type: 'boolean' },
  'db-max-age': { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

/** Parses argv strictly, turning parseArgs' exceptions into usage errors. */
export function parseFlags<T extends NonNullable<ParseArgsConfig['options']>>(
  args: string[],
  options: T,
): ReturnType<typeof parseArgs<{ args: string[]; options: T; allowPositionals: true; strict: true }>> {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    const message = (error as Error).message;
    // "Unknown option '--fromat'": say which option was meant, keeping node's message as it is.
    const unknown = /Unknown option '(-{1,2}[^']+)'/.exec(message)?.[1];
    const guess = unknown?.startsWith('--') ? closest(unknown.slice(2), Object.keys(options)) : undefined;
    throw errors.usage(guess ? `${message}: did you mean "--${guess}"?` : message);
  }
}

/** "90s", "10m", "1h", "300" (seconds) → milliseconds. */
export function parseDuration(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/i.exec(text.trim());
  if (!match || Number(match[1]) <= 0)
    throw errors.usage(`invalid --${flag} ${text}`, 'write a duration, e.g. 90s, 10m or 1h');
  const unit = (match[2] ?? 's').toLowerCase();
  return Number(match[1]) * (unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000);
}

/** A whole number from 1 to `max` given to `--flag` (`fallback` when absent). */
export function parseCount(text: string | undefined, flag: string, fallback: number, max: number): number {
  const n = Number(text ?? fallback);
  if (!Number.isInteger(n) || n < 1 || n > max) throw errors.usage(`invalid --${flag} ${text}`, `give 1 to ${max}`);
  return n;
}

/** "16G", "500M", "1024" → bytes. */
export function parseSize(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([kmgt]i?b?)?$/i.exec(text.trim());
  if (!match)
    throw errors.usage(`invalid size for --${flag}: ${text}`, 'write a number with an optional unit, e.g. 500M or 40G');
  const unit = (match[2] ?? '').toLowerCase()[0];
  const scale =
    unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : unit === 't' ? 1024 ** 4 : 1;
  return Math.floor(Number(match[1]) * scale);
}

export interface CommonValues {
  platform?: string;
  'cache-dir'?: string;
  'no-cache'?: boolean;
  insecure?: boolean;
  username?: string;
  password?: string;
  registry?: string;
  'max-layer-size'?: string;
  'max-ratio'?: string;
}

/** The cache root: --cache-dir (relative to the working directory) or $XDG_CACHE_HOME/distrolens. */
export function cacheRoot(values: { 'cache-dir'?: string }, io: CliIo): string {
  const dir = values['cache-dir'];
  return dir ? (isAbsolute(dir) ? dir : resolve(io.cwd ?? process.cwd(), dir)) : BlobCache.defaultRoot(io.env);
}

/** The registry of an input that names a registry image; undefined for archives, layouts and paths. */
function registryOf(input: string): string | undefined {
  const scheme = /^([a-z-]+):/.exec(input)?.[1];
  if (scheme && scheme !== 'registry' && (SCHEMES as readonly string[]).includes(scheme)) return undefined;
  if (/^[./~]/.test(input)) return undefined;
  try {
    return parseReference(input.replace(/^registry:/, '')).registry;
  } catch {
    return undefined;
  }
}

/**
 * Explicit credentials, bound to one registry: --registry or DISTROLENS_REGISTRY names it; flags
 * given without one are for the registry of the command's first registry input. Credentials from
 * the environment (DISTROLENS_USERNAME / DISTROLENS_PASSWORD / DISTROLENS_REGISTRY_TOKEN, safer
 * than argv, which other users can read) need the registry named: a scan of an image elsewhere
 * must not send them there. Without explicit credentials the docker config is used, per registry.
 */
function boundAuth(values: CommonValues, env: NodeJS.ProcessEnv, inputs: readonly string[]): BoundAuth | undefined {
  const username = values.username ?? env.DISTROLENS_USERNAME;
  const password = values.password ?? env.DISTROLENS_PASSWORD;
  const token = env.DISTROLENS_REGISTRY_TOKEN;
  if (password !== undefined && username === undefined) throw errors.usage('--password needs --username');
  const auth: RegistryAuth | undefined = token
    ? { token }
    : username !== undefined
      ? { username, password: password ?? '' }
      : undefined;
  if (!auth) return undefined;
  const fromFlags = values.username !== undefined && !token;
  const named = values.registry ?? env.DISTROLENS_REGISTRY;
  const registry = named ?? (fromFlags ? inputs.map(registryOf).find((r) => r !== undefined) : undefined);
  if (!registry)
    throw errors.usage(
      `${token ? 'DISTROLENS_REGISTRY_TOKEN' : fromFlags ? '--username' : 'DISTROLENS_USERNAME'} needs the registry it is for`,
      'name it with --registry HOST or DISTROLENS_REGISTRY=HOST: credentials are only sent to that registry',
    );
  return { ...auth, registry };
}

/**
 * Builds source options from flags and environment: explicit credentials bound to their registry
 * (boundAuth), limits, the cache. `inputs` are the command's inputs (where flags' credentials go).
 */
export function openOptions(
  values: CommonValues,
  io: CliIo,
  inputs: readonly string[] = [],
): { open: OpenOptions; platform?: Platform } {
  const env = io.env;
  const auth = boundAuth(values, env, inputs);
  const limits: InflateLimits = {
    ...DEFAULT_INFLATE_LIMITS,
    ...(values['max-layer-size'] ? { maxBytes: parseSize(values['max-layer-size'], 'max-layer-size') } : {}),
    ...(values['max-ratio'] ? { maxRatio: Number(values['max-ratio']) } : {}),
  };
  if (!(limits.maxRatio > 0))
    throw errors.usage(`invalid --max-ratio ${values['max-ratio']}`, 'write a positive number, e.g. 500');
  const cacheDir = cacheRoot(values, io);
  return {
    open: {
      ...(values['no-cache'] ? {} : { cache: new BlobCache(cacheDir) }),
      ...(auth ? { auth } : {}),
      insecure: values.insecure ?? false,
      limits,
      env,
    },
    ...(values.platform ? { platform: parsePlatform(values.platform) } : {}),
  };
}

/** The options every command has, as its help lists them. */
export const COMMON_OPTIONS_HELP = `  -q, --quiet                   no progress on stderr
  --log-format text|json        how errors are written on stderr
  --no-color                    accepted (output is never coloured)
  --debug                       print the cause chain of errors
  -h, --help                    this help`;

/** The options of every command that reads images (inspect, scan, compare, recommend), as their help lists them. */
export const IMAGE_OPTIONS_HELP = `INPUT: alpine:3.20 | registry:REF | docker-archive:PATH[:TAG] | oci-archive:PATH[:TAG|@DIGEST]
       oci:DIR[:TAG|@DIGEST] | rootfs:PATH | docker-daemon:REF | a plain path (detected by content)

Image options:
  --platform OS/ARCH[/VARIANT]  pick from a multi-platform index (default linux/amd64)
  -o, --output FILE             write to FILE (atomically) instead of stdout
  --cache-dir DIR               blob, layer and result caches (default $XDG_CACHE_HOME/distrolens)
  --no-cache                    use a temporary cache removed on exit
  --insecure                    plain HTTP to a non-loopback registry
  --username USER               registry user (or DISTROLENS_USERNAME); password from
                                DISTROLENS_PASSWORD or --password; token: DISTROLENS_REGISTRY_TOKEN
  --password PASSWORD           registry password (prefer DISTROLENS_PASSWORD: argv is visible)
  --registry HOST               the registry those credentials are for (or DISTROLENS_REGISTRY;
                                flags default to INPUT's registry); never sent elsewhere
  --max-layer-size SIZE         refuse layers larger than this uncompressed (default 32G)
  --max-ratio N                 refuse layers that decompress more than N:1 (default 250)
  --timeout DURATION            stop after this long (e.g. 90s, 10m): E_TIMEOUT
  --offline                     never touch the network (registry inputs are refused, no feed fetched)
  --fail-on SEVERITY            exit 1 when a finding or vulnerability is at or above
                                critical|high|medium|low|info (scan, compare)
  --policy FILE                 exit 1 when the image breaks the policy (YAML; docs/ci.md)
  --ignore-unfixed              leave out vulnerabilities that have no fixed version yet
  --db-max-age DAYS             warn when the vulnerability database is older (default 7)
  --skip-db-update              without a database, do not fetch the feeds the image needs
                                (DISTROLENS_SKIP_DB_UPDATE=1 does the same)
${COMMON_OPTIONS_HELP}`;
