/**
 * Secret-looking values are never printed. A value is redacted when its variable name says it is a
 * secret (PASSWORD, TOKEN, API_KEY…) or when the value has the shape of a well-known credential.
 */
const SECRET_NAME =
  /(pass(word|wd)?|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credential|auth|session[_-]?key|signing[_-]?key)/i;
const SECRET_VALUE = [
  /\bAKIA[0-9A-Z]{16}\b/, // AWS access key id
  /\bgh[pousr]_[A-Za-z0-9]{36,}\b/, // GitHub tokens
  /\bglpat-[A-Za-z0-9_-]{20,}\b/, // GitLab personal access token
  /\bxox[abprs]-[A-Za-z0-9-]{10,}\b/, // Slack tokens
  /\bnpm_[A-Za-z0-9]{36}\b/, // npm tokens
  /\bpypi-[A-Za-z0-9_-]{50,}\b/, // PyPI tokens
  /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
  /:\/\/[^/\s:@]+:[^/\s@]+@/, // credentials inside a URL
];

/** The placeholder that replaces a redacted value. */
export const REDACTED = '<redacted>';

/** True when NAME=value looks like it carries a secret. */
export function isSecretEnv(name: string, value: string): boolean {
  if (value === '') return false;
  return SECRET_NAME.test(name) || SECRET_VALUE.some((pattern) => pattern.test(value));
}

/** Redacts one `NAME=value` environment entry. */
export function redactEnvEntry(entry: string): string {
  const eq = entry.indexOf('=');
  if (eq < 0) return entry;
  const name = entry.slice(0, eq);
  return isSecretEnv(name, entry.slice(eq + 1)) ? `${name}=${REDACTED}` : entry;
}
