import { baseName } from '../../fs/path.js';

/**
 * Secret patterns. Each has keywords for a cheap pre-filter (indexOf on the text) before its
 * regular expression runs, as gitleaks and trivy do. The matched value is never reported.
 */
export interface SecretPattern {
  readonly id: string;
  readonly title: string;
  readonly keywords: readonly string[];
  readonly regex: RegExp;
  /** Only in files whose path matches, when set. */
  readonly path?: RegExp;
  /**
   * A second part that must follow the first (a key's END line, a service account's private
   * key). Two linear searches instead of one expression that spans both: `[\s\S]*` between them
   * backtracks over the rest of the file from every start, quadratic on a hostile file.
   */
  readonly then?: RegExp;
  /** Characters the second part starts after the first at least (a key's body). */
  readonly gap?: number;
}

export const SECRET_PATTERNS: readonly SecretPattern[] = [
  {
    id: 'private-key',
    title: 'Private key',
    keywords: ['PRIVATE KEY'],
    regex: /-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?-----/,
    then: /-----END/g,
    gap: 16,
  },
  { id: 'aws-access-key', title: 'AWS access key', keywords: ['AKIA', 'ASIA'], regex: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/ },
  {
    id: 'aws-secret-key',
    title: 'AWS secret access key',
    keywords: ['aws_secret_access_key', 'AWS_SECRET_ACCESS_KEY'],
    regex: /aws_secret_access_key[ \t]{0,16}[=:][ \t]{0,16}["']?[A-Za-z0-9/+=]{40}\b/i,
  },
  {
    id: 'gcp-service-account',
    title: 'GCP service-account key',
    keywords: ['service_account'],
    regex: /"type"\s{0,16}:\s{0,16}"service_account"/,
    then: /"private_key"\s{0,16}:\s{0,16}"-----BEGIN/g,
  },
  {
    id: 'azure-storage-key',
    title: 'Azure storage account key',
    keywords: ['AccountKey='],
    regex: /AccountKey=[A-Za-z0-9+/]{86}==/,
  },
  {
    id: 'github-token',
    title: 'GitHub token',
    keywords: ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_', 'github_pat_'],
    regex: /\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{60,255})\b/,
  },
  { id: 'gitlab-token', title: 'GitLab token', keywords: ['glpat-'], regex: /\bglpat-[A-Za-z0-9_-]{20,255}\b/ },
  { id: 'slack-token', title: 'Slack token', keywords: ['xox'], regex: /\bxox[abprs]-[A-Za-z0-9-]{10,255}\b/ },
  {
    id: 'npm-token',
    title: 'npm token',
    keywords: ['npm_', '_authToken'],
    regex: /\bnpm_[A-Za-z0-9]{36}\b|_authToken[ \t]{0,16}=[ \t]{0,16}(?!\$\{)\S{8}/,
  },
  {
    id: 'pypi-token',
    title: 'PyPI token',
    keywords: ['pypi-', 'password'],
    regex: /\bpypi-[A-Za-z0-9_-]{50,255}\b|^[ \t]{0,16}password[ \t]{0,16}[=:][ \t]{0,16}\S{6}/m,
    path: /\.pypirc$|\.py$|\.cfg$|\.toml$|\.txt$|\.env$|\.ini$/,
  },
  {
    id: 'docker-auth',
    title: 'Registry credentials in a Docker config',
    keywords: ['"auth"'],
    regex: /"auth"\s{0,16}:\s{0,16}"[A-Za-z0-9+/=]{8,4096}"/,
    path: /(^|\/)(\.docker\/config\.json|\.dockercfg|config\.json)$/,
  },
  {
    id: 'url-credentials',
    title: 'Credentials in a URL',
    keywords: ['://'],
    regex: /\b[a-z][a-z0-9+.-]{0,31}:\/\/[^/\s:@'"]{1,64}:[^/\s@'"]{3,256}@[A-Za-z0-9.-]/,
    path: /\.git-credentials$|\.env$|\.npmrc$|\.pypirc$|\.netrc$|\.ya?ml$|\.json$|\.conf$|\.ini$|\.properties$|\.cfg$/,
  },
  {
    id: 'dotenv-secret',
    title: 'Secret in a .env file',
    keywords: ['='],
    regex:
      /^[ \t]{0,16}(?:export[ \t]{1,16})?[A-Z0-9_]{0,64}(?:PASSWORD|PASSWD|SECRET|TOKEN|API_KEY|APIKEY|PRIVATE_KEY|ACCESS_KEY)[A-Z0-9_]{0,64}[ \t]{0,16}=[ \t]{0,16}["']?[^\s"'$#]{6}/m,
    path: /(^|\/)\.env(\.[a-z]+)?$/,
  },
];

/** Credential files, reported by name when they are in the image at all. */
export const CREDENTIAL_FILES: readonly { readonly pattern: RegExp; readonly title: string }[] = [
  { pattern: /(^|\/)\.git-credentials$/, title: 'git credentials file' },
  { pattern: /(^|\/)\.aws\/credentials$/, title: 'AWS credentials file' },
  { pattern: /(^|\/)\.netrc$/, title: '.netrc file' },
  { pattern: /(^|\/)id_(rsa|dsa|ecdsa|ed25519)$/, title: 'SSH private key file' },
];

/** Paths worth reading for secrets: small, outside the OS's own trees, not binary by extension. */
const SYSTEM_PREFIXES = [
  '/usr/',
  '/lib/',
  '/lib64/',
  '/lib32/',
  '/bin/',
  '/sbin/',
  '/var/lib/dpkg/',
  '/var/lib/apt/',
  '/var/lib/rpm/',
  '/var/cache/',
  '/proc/',
  '/sys/',
  '/etc/ssl/',
  '/etc/ca-certificates/',
  '/etc/pki/',
  '/lib/apk/',
];
const BINARY_EXTENSIONS =
  /\.(so(\.\d+)*|a|o|png|jpe?g|gif|ico|webp|gz|tgz|bz2|xz|zst|zip|jar|war|whl|pyc|node|wasm|ttf|otf|woff2?|mo|db|sqlite|bin|exe|dll|class|pdf)$/i;
/** Files larger than this are not read for secrets (logs, data, bundles). */
export const MAX_SECRET_FILE_BYTES = 512 * 1024;
/** File names read wherever they are. Tested on the last component: anchored, it is cheap. */
const NAMED =
  /^(\.env(\.[a-z]+)?|\.npmrc|\.pypirc|\.git-credentials|\.netrc|\.dockercfg|config\.json|credentials|id_(rsa|dsa|ecdsa|ed25519)|.*\.(pem|key|p12|pfx))$/;

/** Called for every file of every layer: the cheap tests first. */
export function worthReading(path: string, size: number): boolean {
  if (size === 0 || size > MAX_SECRET_FILE_BYTES) return false;
  if (NAMED.test(baseName(path))) return true;
  if (
    SYSTEM_PREFIXES.some((prefix) => path.startsWith(prefix)) ||
    path.includes('/node_modules/') ||
    path.includes('/site-packages/')
  )
    return false;
  return !BINARY_EXTENSIONS.test(path);
}

/** Names a credential file can have: a pre-filter for CREDENTIAL_FILES, tested on the last component. */
const CREDENTIAL_NAME = /^(\.git-credentials|credentials|\.netrc|id_(rsa|dsa|ecdsa|ed25519))$/;

/** The credential file a path is, if any. */
export function credentialFile(path: string): (typeof CREDENTIAL_FILES)[number] | undefined {
  return CREDENTIAL_NAME.test(baseName(path)) ? CREDENTIAL_FILES.find((c) => c.pattern.test(path)) : undefined;
}
