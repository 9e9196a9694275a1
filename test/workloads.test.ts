import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { WorkloadsReport } from '../src/core/workloads.js';
import { RegistryClient } from '../src/sources/registry/client.js';
import { buildImage, pushImage } from './fixtures/image.js';
import { registryAvailable, startRegistry, type TestRegistry } from './fixtures/registry.js';
import { cli, tempDir } from './helpers.js';

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
    assert.equal(report.summary.workloads, 4);
    assert.equal(report.summary.containers, 5);
  });

  test('table and the gate', async () => {
    const table = await cli(['workloads', join(dir.path, 'k8s'), '--cache-dir', join(dir.path, 'cache')]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /Deployment\/shop\/risky +privileged +0 +\S+ minimal +CRITICAL workload\/escape-path/);
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
  });
});
