import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Report } from '../src/core/report.js';
import { DEFAULT_RUNTIME, resolveUser, type RuntimeContext } from '../src/core/runtime.js';
import { imageContext, judge } from '../src/judge/index.js';
import { scanSpec } from './fixtures/scan.js';
import type { FileSpec } from './fixtures/tar.js';

/**
 * Judgement apart from facts: one scan of an image with the CVE-2019-5021 shape (busybox su,
 * empty root password, root user) plus setuid, capabilities and a world-writable directory, then
 * judged in its own context and in a pod's, without reading the image again.
 */
const ELF = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46]), Buffer.alloc(64)]);
const FILES: FileSpec[] = [
  { path: 'bin/busybox', content: ELF, mode: 0o755 },
  { path: 'bin/sh', type: 'symlink', target: '/bin/busybox' },
  { path: 'bin/su', type: 'symlink', target: 'busybox' },
  { path: 'usr/bin/passwd', content: ELF, mode: 0o4755 },
  {
    path: 'usr/bin/ping',
    content: ELF,
    mode: 0o755,
    xattrs: { 'security.capability': '\u0001\u0000\u0000\u0002\u0000\u0020\u0000\u0000' },
  },
  { path: 'srv/drop/', type: 'dir', mode: 0o777 },
  { path: 'etc/passwd', content: 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/app:/sbin/nologin\n' },
  { path: 'etc/shadow', content: 'root:::0:::::\napp:!::0:::::\n', mode: 0o640 },
];

/** A restricted pod: runAsUser 1000, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true. */
const POD: RuntimeContext = {
  ...DEFAULT_RUNTIME,
  origin: 'workload',
  user: { uid: 1000, gid: 1000, source: 'container' },
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { add: [], drop: ['ALL'] },
};

const severities = (findings: Report['findings']): Record<string, string> =>
  Object.fromEntries(findings.map((f) => [f.ruleId, f.severity]));

describe('judge', async () => {
  const report = await scanSpec({ layers: [{ files: FILES }], config: {} });

  test('the image in its own context: what the scan reported', () => {
    const { findings, score } = judge(report);
    assert.deepEqual(findings, report.findings);
    assert.deepEqual(score, report.score);
    const bySeverity = severities(findings);
    assert.equal(bySeverity['accounts/empty-password'], 'critical', 'busybox su + empty root password + root process');
    assert.equal(bySeverity['config/runs-as-root'], 'high');
    assert.equal(bySeverity['surface/setuid'], 'medium');
    assert.equal(bySeverity['surface/file-capabilities'], 'low');
    assert.equal(bySeverity['surface/world-writable'], 'medium');
    assert.equal(bySeverity['surface/privilege-tools'], 'medium');
  });

  test('the same facts in a restricted pod: CVE-2019-5021 drops, runs-as-root disappears, setuid and world-writable are mitigated', () => {
    const { findings, score } = judge(report, POD);
    const bySeverity = severities(findings);
    assert.equal(bySeverity['accounts/empty-password'], 'low', 'a non-root process that cannot escalate cannot use su');
    assert.match(findings.find((f) => f.ruleId === 'accounts/empty-password')!.message, /cannot gain privileges/);
    assert.equal(bySeverity['config/runs-as-root'], undefined);
    assert.equal(bySeverity['surface/setuid'], 'info');
    assert.equal(bySeverity['surface/file-capabilities'], 'info');
    assert.equal(bySeverity['surface/privilege-tools'], 'low');
    assert.equal(bySeverity['surface/world-writable'], 'info');
    assert.equal(bySeverity['surface/shell'], 'medium', 'a shell is a shell in any context');
    assert.ok(score.value > report.score.value, `${score.value} > ${report.score.value}`);
    assert.deepEqual(
      findings.map((f) => f.fingerprint).sort(),
      report.findings
        .filter((f) => f.ruleId !== 'config/runs-as-root')
        .map((f) => f.fingerprint)
        .sort(),
      'the same findings are the same findings: fingerprints do not depend on the context',
    );
  });

  test("a root pod with escalation allowed keeps the image's judgement; a non-root one without a login path stays low", () => {
    const rootPod: RuntimeContext = { ...DEFAULT_RUNTIME, origin: 'workload', user: { uid: 0, source: 'pod' } };
    assert.equal(severities(judge(report, rootPod).findings)['accounts/empty-password'], 'critical');
    assert.match(
      judge(report, rootPod).findings.find((f) => f.ruleId === 'config/runs-as-root')!.message,
      /runAsUser of the pod/,
    );
    const nonRoot: RuntimeContext = { ...DEFAULT_RUNTIME, origin: 'workload', user: { uid: 1000, source: 'pod' } };
    assert.equal(
      severities(judge(report, nonRoot).findings)['accounts/empty-password'],
      'high',
      'su still works for a non-root user that may escalate',
    );
  });

  test('a stored report is judged from its JSON alone', () => {
    const stored = JSON.parse(JSON.stringify(report)) as Report;
    assert.deepEqual(judge(stored, POD), judge(report, POD));
    assert.deepEqual(judge(stored), { findings: report.findings, score: report.score });
  });

  test("the image context resolves USER through the image's own accounts", () => {
    assert.deepEqual(imageContext(report).user, { uid: 0, name: 'root', source: 'image' });
    const app = { ...report, target: { ...report.target, config: { ...report.target.config, user: 'app' } } };
    assert.deepEqual(imageContext(app).user, { uid: 1000, gid: 1000, name: 'app', source: 'image' });
    assert.equal(severities(judge(app).findings)['config/runs-as-root'], undefined);
  });
});

test('resolveUser: empty, numeric, names, uid:gid, unknown names', () => {
  const accounts = [
    { name: 'root', uid: 0, gid: 0 },
    { name: 'toor', uid: 0, gid: 0 },
    { name: 'nonroot', uid: 65532, gid: 65532 },
  ];
  for (const user of ['', '0', 'root', '0:0', 'root:root', 'toor'])
    assert.equal(resolveUser(user, accounts).uid, 0, JSON.stringify(user));
  assert.deepEqual(resolveUser('65532', accounts), { uid: 65532, gid: 65532, name: 'nonroot', source: 'image' });
  assert.deepEqual(resolveUser('1000:2000', accounts), { uid: 1000, gid: 2000, source: 'image' });
  assert.deepEqual(resolveUser('nonroot:5', accounts), { uid: 65532, gid: 5, name: 'nonroot', source: 'image' });
  assert.deepEqual(
    resolveUser('app', accounts),
    { name: 'app', source: 'image' },
    'a name the image does not map: uid unknown',
  );
});
