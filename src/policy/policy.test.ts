import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluatePolicy, parsePolicy } from './index.js';
import { DistrolensError } from '../core/errors.js';
import { scanSpec } from '../../test/fixtures/scan.js';

const invalid = (text: string, pattern: RegExp) =>
  assert.throws(
    () => parsePolicy(text, 'p.yaml'),
    (e: unknown) => e instanceof DistrolensError && e.code === 'E_POLICY_INVALID' && pattern.test(e.message),
    pattern.source,
  );

test('policy files are validated with the place of each mistake', () => {
  invalid('minGrade: Z\n', /p\.yaml: minGrade: must be one of A, B, C, D, F/);
  invalid('forbid: [shells, spoons]\n', /forbid\[1\]: "spoons" is not one of/);
  invalid('maxSize: lots\n', /maxSize: "lots" is not a size/);
  invalid(
    'accept:\n  - rule: surface/shell\n    expires: 2027-13-45\n    reason: x\n',
    /accept\[0\]\.expires: must be a date/,
  );
  invalid('accept:\n  - rule: surface/shell\n', /accept\[0\]\.reason: say why/);
  invalid('colour: blue\n', /colour: unknown setting/);
  invalid('minGrade: [\n', /p\.yaml: line \d+/);
  invalid('minPodSecurity: strict\n', /minPodSecurity: must be baseline or restricted/);
  invalid('forbidRules: [escape]\n', /forbidRules: must be a list of rule ids/);
  invalid('maxOutdatedSecurity: -1\n', /maxOutdatedSecurity: must be a whole number/);
  invalid('maxImageAgeDays: soon\n', /maxImageAgeDays: must be a whole number/);
  invalid('forbidEol: yes please\n', /forbidEol: must be true or false/);
  assert.deepEqual(parsePolicy('maxOutdatedSecurity: 0\nforbidEol: true\nmaxImageAgeDays: 90\n'), {
    maxOutdatedSecurity: 0,
    forbidEol: true,
    maxImageAgeDays: 90,
  });
  assert.deepEqual(parsePolicy('minPodSecurity: baseline\nforbidRules: [workload/escape-path]\n'), {
    minPodSecurity: 'baseline',
    forbidRules: ['workload/escape-path'],
  });
  assert.deepEqual(
    parsePolicy('version: 1\nminGrade: B\nforbid: [shells]\nnonRoot: true\nmaxSize: 200MB\nmaxSeverity: medium\n'),
    {
      minGrade: 'B',
      forbid: ['shells'],
      nonRoot: true,
      maxSizeBytes: 200_000_000,
      maxSeverity: 'medium',
    },
  );
});

test('allowed bases come from the org.opencontainers.image.base.name label', async () => {
  const labelled = await scanSpec({
    layers: [{ files: [{ path: 'app', content: 'x' }] }],
    config: {
      User: '1',
      Labels: { 'org.opencontainers.image.base.name': 'gcr.io/distroless/static-debian12:nonroot' },
    },
  });
  const policy = parsePolicy('allowedBases: [gcr.io/distroless/, cgr.dev/chainguard/]\n');
  assert.equal(evaluatePolicy(labelled, policy).pass, true);
  assert.match(
    evaluatePolicy(labelled, parsePolicy('allowedBases: [cgr.dev/]\n')).violations[0]!.message,
    /base gcr\.io\/distroless\/static-debian12:nonroot is not allowed/,
  );
  const unlabelled = await scanSpec({ layers: [{ files: [{ path: 'app', content: 'x' }] }], config: { User: '1' } });
  assert.match(evaluatePolicy(unlabelled, policy).violations[0]!.message, /base image is unknown/);
});

test('evaluation: each check, acceptances with reasons, expired acceptances fail again', async () => {
  const ELF = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46]), Buffer.alloc(64)]);
  const report = await scanSpec({
    layers: [
      {
        files: [
          { path: 'bin/busybox', content: ELF, mode: 0o755 },
          { path: 'bin/sh', type: 'symlink', target: '/bin/busybox' },
          { path: 'etc/passwd', content: 'root:x:0:0::/root:/bin/sh\n' },
        ],
      },
    ],
  });
  const policy = parsePolicy(
    'minGrade: A\nforbid: [shells, packageManagers]\nnonRoot: true\nmaxSize: 1KB\nmaxSeverity: medium\n',
  );
  const verdict = evaluatePolicy(report, policy, new Date('2026-06-01'));
  assert.equal(verdict.pass, false);
  assert.deepEqual(verdict.violations.map((v) => v.check).sort(), [
    'forbid',
    'maxSeverity',
    'maxSize',
    'minGrade',
    'nonRoot',
  ]);
  const accepted = parsePolicy(
    'nonRoot: true\nmaxSeverity: medium\naccept:\n  - rule: config/runs-as-root\n    reason: legacy init needs root until Q3\n    expires: 2026-09-30\n',
  );
  const ok = evaluatePolicy(report, accepted, new Date('2026-06-01'));
  assert.equal(ok.pass, true, JSON.stringify(ok.violations));
  assert.deepEqual(
    ok.accepted.map((a) => [a.finding.ruleId, a.reason]),
    [['config/runs-as-root', 'legacy init needs root until Q3']],
  );
  const later = evaluatePolicy(report, accepted, new Date('2026-10-01'));
  assert.equal(later.pass, false);
  assert.match(later.violations.map((v) => v.message).join('\n'), /expired on 2026-09-30/);
});
