import type { PasswdEntry } from './passwd.js';

/**
 * Whether the configured USER means root: empty (the default), `0`, `root`, `0:gid`, `root:gid`,
 * or a name that /etc/passwd maps to UID 0.
 */
export function runsAsRoot(user: string, passwd: readonly PasswdEntry[] = []): boolean {
  const name = user.split(':')[0]!.trim();
  if (name === '' || name === '0' || name === 'root') return true;
  if (/^\d+$/.test(name)) return false;
  return passwd.find((p) => p.name === name)?.uid === 0;
}
