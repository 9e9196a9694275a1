import type { PasswordState, UserAccount } from '../../core/surface.js';

/** /etc/passwd lines: name:password:uid:gid:gecos:home:shell (passwd(5)). */
export interface PasswdEntry {
  readonly name: string;
  readonly password: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
  readonly shell: string;
  readonly line: number;
}

/** Accounts read from one file: real ones hold tens; a crafted one can hold millions. */
export const MAX_ACCOUNTS = 10_000;

export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  text.split('\n').forEach((raw, index) => {
    if (out.length >= MAX_ACCOUNTS) return;
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith('+') || line.startsWith('-')) return;
    const f = line.split(':');
    if (f.length < 7) return;
    const uid = Number(f[2]);
    const gid = Number(f[3]);
    if (!Number.isInteger(uid) || !Number.isInteger(gid)) return;
    out.push({ name: f[0]!, password: f[1]!, uid, gid, home: f[5]!, shell: f[6]!, line: index + 1 });
  });
  return out;
}

/** /etc/shadow: name → password field (shadow(5)). */
export function parseShadow(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const f = line.split(':');
    if (f.length >= 2) out.set(f[0]!, f[1]!);
  }
  return out;
}

/**
 * The state of an account's password: empty (anyone may log in), locked (`!`, `*`, `!!`, `!hash`),
 * a hash, or absent (passwd says `x` but shadow has no entry, or neither file says).
 */
export function passwordState(passwdField: string, shadowField: string | undefined): PasswordState {
  // "x" defers to /etc/shadow; any other value is the password itself (shadow is not consulted).
  const field = passwdField === 'x' ? shadowField : passwdField;
  if (field === undefined) return 'absent';
  if (field === '') return 'empty';
  if (field.startsWith('!') || field.startsWith('*')) return 'locked';
  return 'hash';
}

/** Shells that let someone in; everything else (nologin, false, sync…) does not. */
export function isLoginShell(shell: string): boolean {
  return shell !== '' && !/(nologin|false|sync|shutdown|halt)$/.test(shell);
}

export function accounts(passwd: readonly PasswdEntry[], shadow: Map<string, string> | undefined): UserAccount[] {
  return passwd.map((p) => ({
    name: p.name,
    uid: p.uid,
    gid: p.gid,
    ...(p.shell ? { shell: p.shell } : {}),
    ...(p.home ? { home: p.home } : {}),
    password: passwordState(p.password, shadow?.get(p.name)),
  }));
}
