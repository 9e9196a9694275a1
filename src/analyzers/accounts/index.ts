import type { UserAccount } from '../../core/surface.js';
import type { Severity } from '../../core/finding.js';
import type { LayeredFs } from '../../fs/layered.js';
import { finding, type Analyzer, type AnalyzerInput, type AnalyzerOutput, type Rule } from '../types.js';
import { accounts, isLoginShell, parsePasswd, parseShadow } from '../common/passwd.js';
import { runsAsRoot } from '../common/user.js';

const FILES = ['/etc/passwd', '/etc/shadow', '/etc/group'];

export const ACCOUNT_RULES = {
  emptyPassword: {
    id: 'accounts/empty-password', severity: 'critical', title: 'Account with an empty password',
    rationale: 'An empty password field lets anyone become that user with su or login. Alpine\'s official images shipped root:::0::::: for three years (CVE-2019-5021). Judged in context: a login path (su, login, sshd, busybox su) and a root process make it critical; neither makes it low.',
    references: ['CVE-2019-5021', 'https://alpinelinux.org/posts/Docker-image-vulnerability-CVE-2019-5021.html'],
  },
  extraUid0: { id: 'accounts/extra-uid0', severity: 'high', title: 'Account other than root with UID 0', rationale: 'A second UID 0 account is a hidden root login and a classic backdoor.', references: ['CIS Docker Benchmark 4.1'] },
  duplicateId: { id: 'accounts/duplicate-uid', severity: 'low', title: 'Accounts share a UID', rationale: 'Two names for one UID make file ownership and audit logs ambiguous.', references: [] },
  serviceShell: { id: 'accounts/service-login-shell', severity: 'low', title: 'Service account with a login shell', rationale: 'System accounts (UID 1–999) need no interactive shell; a login shell makes them usable after a compromise.', references: [] },
} satisfies Record<string, Rule>;

/** Ways to turn a password into a session inside the image. */
export function loginPaths(fs: LayeredFs): string[] {
  const paths: string[] = [];
  for (const dir of ['/bin', '/usr/bin', '/sbin', '/usr/sbin', '/busybox']) {
    for (const name of ['su', 'login', 'sshd', 'dropbear']) {
      const file = fs.file(`${dir}/${name}`);
      if (file && file.mode & 0o111) paths.push(`${dir}/${name}`);
    }
  }
  // `busybox su` works without any applet link when busybox was built with su (Alpine's is).
  for (const busybox of ['/bin/busybox', '/busybox/busybox', '/usr/bin/busybox']) {
    const file = fs.file(busybox);
    if (file && file.mode & 0o111 && !paths.some((p) => p.endsWith('/su'))) paths.push(`${busybox} su`);
  }
  return [...new Set(paths)].sort();
}

function emptyPasswordSeverity(root: boolean, isRootAccount: boolean, hasLoginPath: boolean, processRoot: boolean): Severity {
  if (!hasLoginPath) return processRoot ? 'medium' : 'low';
  if (isRootAccount) return processRoot ? 'critical' : 'high';
  return root ? 'high' : 'medium';
}

export const accountsAnalyzer = {
  id: 'accounts',
  version: 1,
  reads: (path: string) => FILES.includes(path),
  rules: Object.values(ACCOUNT_RULES),
  analyze({ fs, image }: AnalyzerInput): AnalyzerOutput {
    const passwdEntry = fs.stat('/etc/passwd');
    const passwd = fs.content('/etc/passwd');
    if (!passwd || !passwdEntry) return { users: [] };
    const shadowEntry = fs.stat('/etc/shadow');
    const shadowText = fs.content('/etc/shadow');
    const shadow = shadowText ? parseShadow(shadowText.data.toString('utf8')) : undefined;
    const entries = parsePasswd(passwd.data.toString('utf8'));
    const users: UserAccount[] = accounts(entries, shadow);
    const findings = [];
    const paths = loginPaths(fs);
    const processRoot = runsAsRoot(image.config.user, entries);
    for (const [i, user] of users.entries()) {
      const entry = entries[i]!;
      if (user.password === 'empty') {
        const location = shadow?.has(user.name) && shadowEntry ? { path: '/etc/shadow', layer: shadowEntry.layer } : { path: '/etc/passwd', layer: passwdEntry.layer };
        const severity = emptyPasswordSeverity(user.uid === 0, user.uid === 0, paths.length > 0, processRoot);
        findings.push(finding(ACCOUNT_RULES.emptyPassword, {
          severity,
          title: `${user.uid === 0 ? 'root' : `Account ${user.name}`} has an empty password`,
          message: `${user.name} (uid ${user.uid}) has an empty password in ${location.path}, so anyone can become ${user.name} without a password`
            + (paths.length ? ` through ${paths.join(', ')}` : '; no login path (su, login, sshd) was found, which limits the risk')
            + (processRoot ? ', and the image runs as root.' : ', and the image runs as a non-root user.')
            + ` This is CVE-2019-5021 in Alpine's images. Lock the account: set the field to "!" (passwd -l ${user.name}) or "*".`,
          location,
          key: user.name,
        }));
      }
      if (user.uid === 0 && user.name !== 'root') {
        findings.push(finding(ACCOUNT_RULES.extraUid0, {
          message: `${user.name} has UID 0 (line ${entry.line} of /etc/passwd): a second root account. Remove it or give it its own UID.`,
          location: { path: '/etc/passwd', layer: passwdEntry.layer },
          key: user.name,
        }));
      }
      if (user.uid > 0 && user.uid < 1000 && isLoginShell(entry.shell) && user.password !== 'locked') {
        findings.push(finding(ACCOUNT_RULES.serviceShell, {
          message: `${user.name} (uid ${user.uid}) has the login shell ${entry.shell}. Set it to /usr/sbin/nologin.`,
          location: { path: '/etc/passwd', layer: passwdEntry.layer },
          key: user.name,
        }));
      }
    }
    const byUid = new Map<number, string[]>();
    for (const user of users) byUid.set(user.uid, [...(byUid.get(user.uid) ?? []), user.name]);
    for (const [uid, names] of byUid) {
      if (names.length > 1) {
        findings.push(finding(ACCOUNT_RULES.duplicateId, {
          message: `UID ${uid} is shared by ${names.join(', ')}. Give each account its own UID.`,
          location: { path: '/etc/passwd', layer: passwdEntry.layer },
          key: String(uid),
        }));
      }
    }
    return { users, findings };
  },
} satisfies Analyzer;
