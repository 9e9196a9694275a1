import type { Finding, Severity } from '../../core/finding.js';
import type { LayeredFs } from '../../fs/layered.js';
import {
  finding,
  type Analyzer,
  type AnalyzerInput,
  type AnalyzerOutput,
  type JudgeInput,
  type Rule,
} from '../types.js';
import { accounts, isLoginShell, parsePasswd, parseShadow } from '../common/passwd.js';

const FILES = ['/etc/passwd', '/etc/shadow', '/etc/group'];

export const ACCOUNT_RULES = {
  emptyPassword: {
    id: 'accounts/empty-password',
    severity: 'critical',
    title: 'Account with an empty password',
    rationale:
      "An empty password field lets anyone become that user with su or login. Alpine's official images shipped root:::0::::: for three years (CVE-2019-5021). Judged in context: a login path (su, login, sshd, busybox su) and a root process make it critical; neither makes it low.",
    references: ['CVE-2019-5021', 'https://alpinelinux.org/posts/Docker-image-vulnerability-CVE-2019-5021.html'],
  },
  extraUid0: {
    id: 'accounts/extra-uid0',
    severity: 'high',
    title: 'Account other than root with UID 0',
    rationale: 'A second UID 0 account is a hidden root login and a classic backdoor.',
    references: ['CIS Docker Benchmark 4.1'],
  },
  duplicateId: {
    id: 'accounts/duplicate-uid',
    severity: 'low',
    title: 'Accounts share a UID',
    rationale: 'Two names for one UID make file ownership and audit logs ambiguous.',
    references: [],
  },
  serviceShell: {
    id: 'accounts/service-login-shell',
    severity: 'low',
    title: 'Service account with a login shell',
    rationale:
      'System accounts (UID 1–999) need no interactive shell; a login shell makes them usable after a compromise.',
    references: [],
  },
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

/**
 * How bad an empty password is where the image runs. A login path (su, login, sshd) turns it into
 * a session; a root process makes that session root. A non-root process that cannot gain
 * privileges (no_new_privs: setuid su does nothing) has no way to use it.
 */
function emptyPasswordSeverity(
  isRootAccount: boolean,
  hasLoginPath: boolean,
  processRoot: boolean,
  canEscalate: boolean,
): Severity {
  if (!processRoot && !canEscalate) return 'low';
  if (!hasLoginPath) return processRoot ? 'medium' : 'low';
  if (isRootAccount) return processRoot ? 'critical' : 'high';
  return 'medium';
}

/** What the account rules judge besides the accounts themselves (the report's `users`). */
export interface AccountsEvidence {
  /** Where /etc/passwd and /etc/shadow are, and which accounts shadow lists. */
  readonly passwd: { readonly layer: number };
  readonly shadow?: { readonly layer: number; readonly accounts: readonly string[] };
  /** Line of each account in /etc/passwd. */
  readonly lines: Readonly<Record<string, number>>;
  /** Ways to turn a password into a session inside the image (su, login, sshd, `busybox su`). */
  readonly loginPaths: readonly string[];
}

export const accountsAnalyzer = {
  id: 'accounts',
  version: 2,
  reads: (path: string) => FILES.includes(path),
  rules: Object.values(ACCOUNT_RULES),
  analyze({ fs }: AnalyzerInput): AnalyzerOutput<AccountsEvidence> {
    const passwdEntry = fs.stat('/etc/passwd');
    const passwd = fs.content('/etc/passwd');
    if (!passwd || !passwdEntry) return { users: [] };
    const shadowEntry = fs.stat('/etc/shadow');
    const shadowText = fs.content('/etc/shadow');
    const shadow = shadowText ? parseShadow(shadowText.data.toString('utf8')) : undefined;
    const entries = parsePasswd(passwd.data.toString('utf8'));
    const lines = new Map<string, number>();
    for (const entry of entries) if (!lines.has(entry.name)) lines.set(entry.name, entry.line);
    return {
      users: accounts(entries, shadow),
      evidence: {
        passwd: { layer: passwdEntry.layer },
        ...(shadow && shadowEntry ? { shadow: { layer: shadowEntry.layer, accounts: [...shadow.keys()].sort() } } : {}),
        lines: Object.fromEntries(lines),
        loginPaths: loginPaths(fs),
      },
    };
  },
  judge(evidence: AccountsEvidence | undefined, { facts, context }: JudgeInput): Finding[] {
    if (!evidence) return [];
    const users = facts.surface.users;
    const findings: Finding[] = [];
    const paths = evidence.loginPaths;
    const passwdAt = { path: '/etc/passwd', layer: evidence.passwd.layer };
    const processRoot = context.user.uid === 0;
    const shadowed = new Set(evidence.shadow?.accounts ?? []);
    for (const user of users) {
      if (user.password === 'empty') {
        const location =
          evidence.shadow && shadowed.has(user.name) ? { path: '/etc/shadow', layer: evidence.shadow.layer } : passwdAt;
        const severity = emptyPasswordSeverity(
          user.uid === 0,
          paths.length > 0,
          processRoot,
          context.allowPrivilegeEscalation,
        );
        findings.push(
          finding(ACCOUNT_RULES.emptyPassword, {
            severity,
            title: `${user.uid === 0 ? 'root' : `Account ${user.name}`} has an empty password`,
            message:
              `${user.name} (uid ${user.uid}) has an empty password in ${location.path}, so anyone can become ${user.name} without a password` +
              (paths.length
                ? ` through ${paths.join(', ')}`
                : '; no login path (su, login, sshd) was found, which limits the risk') +
              (processRoot
                ? ', and the image runs as root.'
                : `, and the ${context.origin === 'image' ? 'image' : 'container'} runs as a non-root user` +
                  (context.allowPrivilegeEscalation
                    ? '.'
                    : ' that cannot gain privileges (allowPrivilegeEscalation: false), so su and login cannot use it.')) +
              ` This is CVE-2019-5021 in Alpine's images. Lock the account: set the field to "!" (passwd -l ${user.name}) or "*".`,
            location,
            key: user.name,
          }),
        );
      }
      if (user.uid === 0 && user.name !== 'root') {
        findings.push(
          finding(ACCOUNT_RULES.extraUid0, {
            message: `${user.name} has UID 0 (line ${Object.hasOwn(evidence.lines, user.name) ? evidence.lines[user.name] : '?'} of /etc/passwd): a second root account. Remove it or give it its own UID.`,
            location: passwdAt,
            key: user.name,
          }),
        );
      }
      if (
        user.uid > 0 &&
        user.uid < 1000 &&
        user.shell !== undefined &&
        isLoginShell(user.shell) &&
        user.password !== 'locked'
      ) {
        findings.push(
          finding(ACCOUNT_RULES.serviceShell, {
            message: `${user.name} (uid ${user.uid}) has the login shell ${user.shell}. Set it to /usr/sbin/nologin.`,
            location: passwdAt,
            key: user.name,
          }),
        );
      }
    }
    const byUid = new Map<number, string[]>();
    for (const user of users) {
      const names = byUid.get(user.uid);
      if (names) names.push(user.name);
      else byUid.set(user.uid, [user.name]);
    }
    for (const [uid, names] of byUid) {
      if (names.length > 1) {
        const listed =
          names.length > 10 ? `${names.slice(0, 10).join(', ')} and ${names.length - 10} more` : names.join(', ');
        findings.push(
          finding(ACCOUNT_RULES.duplicateId, {
            message: `UID ${uid} is shared by ${listed}. Give each account its own UID.`,
            location: passwdAt,
            key: String(uid),
          }),
        );
      }
    }
    return findings;
  },
} satisfies Analyzer<never, AccountsEvidence>;
