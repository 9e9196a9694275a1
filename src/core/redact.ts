/**
 * Secret-looking values are never printed: one redactor for every string of an image that leaves
 * distrolens (env, command, entrypoint, labels, healthcheck, layer history), in every format, the
 * server API and error messages. A value is redacted when its name says it is a secret (PASSWORD,
 * TOKEN, API_KEY…: `NAME=value`, `--name=value`, `name: value`) or when it has the shape of a
 * well-known credential (the token shapes the secrets analyzer looks for). Every expression is
 * bounded, so redacting a hostile string takes linear time.
 */
const SECRET_NAME =
  /(pass(word|wd)?|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credential|auth(?!or)|session[_-]?key|signing[_-]?key)/i;

/** Credential shapes, global: each match is replaced. */
const SECRET_SHAPES: readonly RegExp[] = [
  /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g, // AWS access key id
  /\bgh[pousr]_[A-Za-z0-9]{36,255}\b|\bgithub_pat_[A-Za-z0-9_]{60,255}\b/g, // GitHub tokens
  /\bglpat-[A-Za-z0-9_-]{20,255}\b/g, // GitLab personal access token
  /\bxox[abprs]-[A-Za-z0-9-]{10,255}\b/g, // Slack tokens
  /\bnpm_[A-Za-z0-9]{36}\b/g, // npm tokens
  /\bpypi-[A-Za-z0-9_-]{50,255}\b/g, // PyPI tokens
  /AccountKey=[A-Za-z0-9+/]{86}==/g, // Azure storage keys
  /-----BEGIN [A-Z ]{0,32}PRIVATE KEY-----/g,
];

/** `scheme://user:password@` → the password. */
const URL_CREDENTIALS = /(:\/\/[^/\s:@]{1,256}:)[^/\s@]{1,256}(@)/g;
/** `NAME=value`, `--name=value`, `--name value` is not caught (the name is a separate argument; see redactArgs). */
const NAMED_VALUE =
  /([A-Za-z0-9_.-]{0,64}(?:pass(?:word|wd)?|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credential|auth(?!or)|session[_-]?key|signing[_-]?key)[A-Za-z0-9_.-]{0,64}[ \t]{0,4}[=:][ \t]{0,4})(["']?)[^\s"']{1,1024}/gi;

/** The placeholder that replaces a redacted value. */
export const REDACTED = '<redacted>';

/** True when NAME=value looks like it carries a secret. */
export function isSecretEnv(name: string, value: string): boolean {
  if (value === '') return false;
  return SECRET_NAME.test(name) || hasSecretShape(value);
}

/** True when a value holds a well-known credential shape. */
function hasSecretShape(value: string): boolean {
  return [...SECRET_SHAPES, URL_CREDENTIALS].some((shape) => {
    shape.lastIndex = 0;
    const found = shape.test(value);
    shape.lastIndex = 0;
    return found;
  });
}

/** Redacts one `NAME=value` environment entry. */
export function redactEnvEntry(entry: string): string {
  const eq = entry.indexOf('=');
  if (eq < 0) return entry;
  const name = entry.slice(0, eq);
  return isSecretEnv(name, entry.slice(eq + 1)) ? `${name}=${REDACTED}` : entry;
}

/** Redacts every secret-looking part of a free text (a RUN line, a label, a healthcheck command). */
export function redactText(text: string): string {
  let out = text.replace(URL_CREDENTIALS, `$1${REDACTED}$2`).replace(NAMED_VALUE, `$1$2${REDACTED}`);
  for (const shape of SECRET_SHAPES) out = out.replace(shape, REDACTED);
  return out;
}

/**
 * Redacts an argument vector: each argument as text, and the argument after a flag whose name
 * says it is a secret (`--password hunter2`).
 */
export function redactArgs(argv: readonly string[]): string[] {
  return argv.map((arg, i) => {
    const previous = argv[i - 1];
    if (
      previous !== undefined &&
      /^-{1,2}[A-Za-z0-9_.-]{1,64}$/.test(previous) &&
      SECRET_NAME.test(previous) &&
      !arg.startsWith('-')
    )
      return REDACTED;
    return redactText(arg);
  });
}

/** Redacts the values of a label map, and values whose label name says they are secret. */
export function redactLabels(labels: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(labels).map(([k, v]) => [k, SECRET_NAME.test(k) && v !== '' ? REDACTED : redactText(v)]),
  );
}
