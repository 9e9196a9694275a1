import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { WorkloadsReport } from '../src/core/workloads.js';
import { RegistryClient } from '../src/sources/registry/client.js';
import { buildImage, pushImage } from './fixtures/image.js';
import { registryAvailable, startRegistry, type TestRegistry } from './fixtures/registry.js';
import { cli, SCHEMAS, tempDir } from './helpers.js';

const require = createRequire(import.meta.url);

/**
 * `distrolens workloads` against images in a real registry: each joined rule fired by a
 * manifest and kept quiet by its fixed twin; Deployment, StatefulSet, CronJob in a kind: List,
 * initContainers, multi-document files with kinds that hold no pod.
 */
const skip = registryAvailable() ? false : 'docker-registry not installed (run .ci/run)';
const ELF = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46]), Buffer.alloc(64)]);

describe('workloads: images judged where they run', { skip }, () => {
  let registry: TestRegistry;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let general: string;
  let named: string;
  before(async () => {
    registry = await startRegistry('none');
    dir = await tempDir();
    const client = new RegistryClient(registry.host);
    // The CVE-2019-5021 shape: busybox su, empty root password, a setuid binary, curl; runs as root.
    await pushImage(
      client,
      'team/general',
      '1',
      buildImage({
        layers: [
          {
            files: [
              { path: 'bin/busybox', content: ELF, mode: 0o755 },
              { path: 'bin/sh', type: 'symlink', target: '/bin/busybox' },
              { path: 'bin/su', type: 'symlink', target: 'busybox' },
              { path: 'usr/bin/curl', content: ELF, mode: 0o755 },
              { path: 'usr/bin/passwd', content: ELF, mode: 0o4755 },
              { path: 'etc/passwd', content: 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/app:/sbin/nologin\n' },
              { path: 'etc/shadow', content: 'root:::0:::::\n' },
            ],
          },
        ],
        config: {},
      }),
    );
    await pushImage(
      client,
      'team/named',
      '1',
      buildImage({
        layers: [
          {
            files: [
              { path: 'app/server', content: ELF, mode: 0o755 },
              {
                path: 'etc/passwd',
                content: 'root:x:0:0::/root:/sbin/nologin\nnonroot:x:65532:65532::/home/nonroot:/sbin/nologin\n',
              },
            ],
          },
        ],
        config: { User: 'nonroot', Entrypoint: ['/app/server'] },
      }),
    );
    general = `${registry.host}/team/general:1`;
    named = `${registry.host}/team/named:1`;
    await mkdir(join(dir.path, 'k8s'));
    await writeFile(
      join(dir.path, 'k8s', 'risky.yaml'),
      `# Source: chart/templates/deploy.yaml
apiVersion: v1
kind: Service
metadata: { name: web }
spec: { ports: [{ port: 80 }] }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: risky, namespace: shop }
spec:
  template:
    spec:
      hostPID: true
      securityContext: { runAsNonRoot: true }
      initContainers:
        - { name: init, image: ${general} }
      containers:
        - name: app
          image: ${general}
          securityContext: { privileged: true }
`,
    );
    await writeFile(
      join(dir.path, 'k8s', 'fixed.yaml'),
      `apiVersion: apps/v1
kind: Deployment
metadata: { name: fixed, namespace: shop }
spec:
  template:
    spec:
      automountServiceAccountToken: false
      securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: RuntimeDefault } }
      containers:
        - name: app
          image: ${general}
          securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: [ALL] } }
`,
    );
    await writeFile(
      join(dir.path, 'k8s', 'list.json'),
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'List',
        items: [
          {
            apiVersion: 'batch/v1',
            kind: 'CronJob',
            metadata: { name: 'report', namespace: 'ops' },
            spec: {
              schedule: '@daily',
              jobTemplate: {
                spec: {
                  template: {
                    spec: { containers: [{ name: 'job', image: general, securityContext: { runAsUser: 1000 } }] },
                  },
                },
              },
            },
          },
          {
            apiVersion: 'apps/v1',
            kind: 'StatefulSet',
            metadata: { name: 'db', namespace: 'ops' },
            spec: {
              template: {
                spec: { securityContext: { runAsNonRoot: true }, containers: [{ name: 'db', image: named }] },
              },
            },
          },
        ],
      }),
    );
  });
  after(async () => {
    await registry?.stop();
    await dir?.cleanup();
  });

  test("JSON: levels, effective users, the kubelet's refusal, joined rules and their fixed twins", async () => {
    const out = await cli(['workloads', join(dir.path, 'k8s'), '-f', 'json', '--cache-dir', join(dir.path, 'cache')]);
    assert.equal(out.code, 0, out.stderr);
    const report = JSON.parse(out.stdout) as WorkloadsReport;
    assert.equal(report.schema, 'distrolens/workloads@1');
    assert.deepEqual(
      report.workloads.map((w) => `${w.kind}/${w.namespace}/${w.name}`),
      ['CronJob/ops/report', 'Deployment/shop/fixed', 'Deployment/shop/risky', 'StatefulSet/ops/db'],
    );
    assert.deepEqual(
      report.images.map((i) => [i.image, i.classification]),
      [
        [general, 'minimal'],
        [named, 'scratch'],
      ].sort(),
    );
    assert.ok(
      report.warnings.some((w) => /kind Service/.test(w.message)),
      'the Service is skipped and counted',
    );
    const byName = Object.fromEntries(report.workloads.map((w) => [w.name, w]));
    const rules = (name: string, container = 0) =>
      byName[name]!.containers[container]!.findings.map((f) => `${f.ruleId}:${f.severity}`);

    const risky = byName.risky!;
    assert.equal(risky.podSecurity.level, 'privileged');
    assert.ok(risky.podSecurity.violations.some((v) => v.control === 'hostNamespaces'));
    assert.deepEqual(risky.location, { file: join(dir.path, 'k8s', 'risky.yaml'), line: 7 });
    assert.deepEqual(
      risky.containers.map((c) => [c.type, c.name]),
      [
        ['init', 'init'],
        ['container', 'app'],
      ],
    );
    const app = risky.containers[1]!;
    assert.deepEqual(app.admission, {
      allowed: false,
      reason: 'container has runAsNonRoot and image will run as root',
    });
    assert.deepEqual(app.effectiveUser, { uid: 0, name: 'root', source: 'image' });
    assert.ok(rules('risky', 1).includes('workload/escape-path:critical'));
    assert.ok(rules('risky', 1).includes('workload/run-as-non-root-refused:high'));
    assert.ok(rules('risky', 1).includes('workload/writable-root-with-tools:medium'));
    assert.ok(rules('risky', 1).includes('workload/token-with-network-tools:high'));
    assert.ok(
      rules('risky', 1).includes('accounts/empty-password:critical'),
      'CVE-2019-5021 with su and a root process',
    );

    const fixed = byName.fixed!;
    assert.equal(fixed.podSecurity.level, 'restricted');
    assert.deepEqual(fixed.containers[0]!.effectiveUser, { uid: 1000, source: 'pod' });
    assert.deepEqual(
      rules('fixed').filter((r) => r.startsWith('workload/')),
      [],
      'the fixed twin fires no joined rule',
    );
    assert.ok(
      rules('fixed').includes('accounts/empty-password:low'),
      'non-root without escalation: CVE-2019-5021 drops',
    );
    assert.ok(
      !rules('fixed').some((r) => r.startsWith('config/runs-as-root')),
      'runs-as-root disappears with runAsUser',
    );

    assert.ok(
      rules('report').includes('workload/escalation-with-setuid:medium'),
      'escalation allowed and a setuid binary',
    );
    assert.ok(rules('report').includes('workload/token-with-network-tools:high'));
    const db = byName.db!.containers[0]!;
    assert.equal(db.admission?.allowed, false);
    assert.match(db.admission.reason!, /non-numeric user \(nonroot\).*runAsUser: 65532/);

    // Readiness for restricted: each check's fix, a numeric runAsUser from the image's passwd, emptyDirs.
    assert.equal(risky.restricted.ready, false);
    for (const fix of [/^set securityContext.privileged: false/, /^remove hostNetwork, hostPID/])
      assert.ok(
        risky.restricted.changes.some((c) => fix.test(c)),
        `${fix.source} in ${risky.restricted.changes.join(' | ')}`,
      );
    assert.ok(
      risky.restricted.changes.includes('container "app": set runAsUser: 1000 (app in the image\'s /etc/passwd)'),
    );
    assert.deepEqual(fixed.restricted, {
      ready: true,
      changes: [],
      emptyDirs: [{ container: 'app', paths: ['/app', '/tmp'] }],
    });
    assert.ok(
      byName.db!.restricted.changes.includes(
        'container "db": set runAsUser: 65532 (nonroot in the image\'s /etc/passwd)',
      ),
    );
    assert.deepEqual(byName.db!.restricted.emptyDirs, [{ container: 'db', paths: ['/home/nonroot', '/tmp'] }]);
    assert.equal(report.summary.workloads, 4);
    assert.equal(report.summary.containers, 5);
  });

  test('table and the gate', async () => {
    const table = await cli(['workloads', join(dir.path, 'k8s'), '--cache-dir', join(dir.path, 'cache')]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /Deployment\/shop\/risky +privileged +0 +\S+ minimal +CRITICAL workload\/escape-path/);
    assert.match(
      table.stdout,
      /Deployment\/shop\/fixed \(restricted\) · to reach restricted, read-only:\n {2}- container "app": mount an emptyDir at \/app, \/tmp/,
    );
    const gate = await cli([
      'workloads',
      join(dir.path, 'k8s', 'fixed.yaml'),
      '--fail-on',
      'high',
      '--cache-dir',
      join(dir.path, 'cache'),
    ]);
    assert.equal(gate.code, 0, gate.stderr);
    const failing = await cli([
      'workloads',
      join(dir.path, 'k8s', 'risky.yaml'),
      '--fail-on',
      'high',
      '--cache-dir',
      join(dir.path, 'cache'),
    ]);
    assert.equal(failing.code, 1);
    assert.match(failing.stderr, /gate failed: .*workload\/escape-path/);

    // The policy file: minimum PSS level, forbidden joined rules, an accepted finding with a reason.
    await writeFile(
      join(dir.path, 'policy.yaml'),
      'minPodSecurity: baseline\nforbidRules: [workload/escape-path, workload/token-with-network-tools]\nnonRoot: true\n',
    );
    const policed = await cli(['workloads', 'k8s', '--policy', 'policy.yaml', '--cache-dir', 'cache'], {}, dir.path);
    assert.equal(policed.code, 1);
    assert.match(
      policed.stderr,
      /policy minPodSecurity: 1 workload\(s\) below baseline: Deployment\/shop\/risky \(privileged\)/,
    );
    assert.match(
      policed.stderr,
      /policy forbidRules: forbidden rule\(s\) found: workload\/escape-path, workload\/token-with-network-tools/,
    );
    assert.match(
      policed.stderr,
      /policy nonRoot: running as root: Deployment\/shop\/risky init, Deployment\/shop\/risky app/,
    );
    await writeFile(
      join(dir.path, 'fixed-policy.yaml'),
      'minPodSecurity: restricted\nforbidRules: [workload/escape-path]\nnonRoot: true\nmaxSeverity: medium\naccept:\n  - { rule: accounts/empty-password, reason: no login path once read-only }\n',
    );
    const passing = await cli(
      ['workloads', 'k8s/fixed.yaml', '--policy', 'fixed-policy.yaml', '--cache-dir', 'cache'],
      {},
      dir.path,
    );
    assert.equal(passing.code, 0, passing.stderr);
  });

  test('SARIF located at the manifest file and line, valid against the 2.1.0 schema; markdown', async () => {
    const cache = join(dir.path, 'cache');
    const sarif = await cli(['workloads', 'k8s', '-f', 'sarif', '--cache-dir', cache], {}, dir.path);
    assert.equal(sarif.code, 0, sarif.stderr);
    const Ajv4 = require('ajv-draft-04') as new (o: object) => {
      compile(s: unknown): ((d: unknown) => boolean) & { errors?: unknown[] | null };
    };
    const validate = new Ajv4({ allErrors: true, strict: false }).compile(
      JSON.parse(await readFile(join(SCHEMAS, 'sarif-schema-2.1.0.json'), 'utf8')),
    );
    const doc = JSON.parse(sarif.stdout) as {
      runs: {
        tool: { driver: { rules: { id: string }[] } };
        results: {
          ruleId: string;
          message: { text: string };
          partialFingerprints: Record<string, string>;
          locations: { physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } } }[];
        }[];
      }[];
    };
    assert.ok(validate(doc), JSON.stringify(validate.errors?.slice(0, 3)));
    const results = doc.runs[0]!.results;
    const escape = results.find((r) => r.ruleId === 'workload/escape-path')!;
    assert.deepEqual(
      [
        escape.locations[0]!.physicalLocation.artifactLocation.uri,
        escape.locations[0]!.physicalLocation.region.startLine,
      ],
      ['k8s/risky.yaml', 7],
    );
    const pss = results.find((r) => r.ruleId === 'pss/hostNamespaces')!;
    assert.match(pss.message.text, /Deployment\/shop\/risky: hostPID=true/);
    const ruleIds = doc.runs[0]!.tool.driver.rules.map((r) => r.id);
    assert.ok(ruleIds.includes('workload/escape-path') && ruleIds.includes('pss/hostNamespaces'));
    const prints = results.map((r) => r.partialFingerprints['distrolens/v1']);
    assert.equal(new Set(prints).size, prints.length, 'one image finding in two workloads is two alerts');

    const md = await cli(['workloads', 'k8s', '-f', 'markdown', '--cache-dir', cache], {}, dir.path);
    assert.equal(md.code, 0, md.stderr);
    assert.match(md.stdout, /^### distrolens workloads: 4 workload\(s\), 5 container\(s\)/);
    assert.match(
      md.stdout,
      /\| `Deployment\/shop\/risky` \| privileged \| 0 \| .* \| critical `workload\/escape-path` \|/,
    );
    assert.match(md.stdout, /- container "app": mount an emptyDir at \/app, \/tmp/);
  });
});
