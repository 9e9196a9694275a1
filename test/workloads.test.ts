import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { join } from 'node:path';
import type { WorkloadsReport } from '../src/core/workloads.js';
import { RegistryClient } from '../src/sources/registry/client.js';
import { buildImage, pushImage } from './fixtures/image.js';
import { registryAvailable, startRegistry, type TestRegistry } from './fixtures/registry.js';
import { selfSignedCertificate } from './fixtures/tls.js';
import { cli, SCHEMAS, tempDir } from './helpers.js';

const require = createRequire(import.meta.url);
const execFileAsync = promisify(execFile);
/** The real kubectl when the machine has one (its --raw requests go to the same replay server). */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const kubectl = ['/usr/bin/kubectl', '/usr/local/bin/kubectl'].find((p) => existsSync(p));

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
  let generalImage: ReturnType<typeof buildImage>;
  before(async () => {
    registry = await startRegistry('none');
    dir = await tempDir();
    const client = new RegistryClient(registry.host);
    // The CVE-2019-5021 shape: busybox su, empty root password, a setuid binary, curl; runs as root.
    generalImage = buildImage({
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
    });
    await pushImage(client, 'team/general', '1', generalImage);
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
    assert.deepEqual(app.reachable, { shells: ['busybox', 'sh'], packageManagers: [], networkTools: ['curl'] });
    assert.deepEqual(report.summary.reachable, { shells: 4, packageManagers: 0, networkTools: 4 });
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

    const html = await cli(['workloads', 'k8s', '-f', 'html', '--cache-dir', cache], {}, dir.path);
    assert.equal(html.code, 0, html.stderr);
    assert.match(html.stdout, /^<!doctype html>/);
    assert.match(
      html.stdout,
      /4 workload\(s\), 5 container\(s\) from k8s: 4 on minimal images \(80 %\), 1 on scratch images \(20 %\); 4 with a shell and 0 with a package manager at hand; 1 restricted/,
    );
    assert.match(html.stdout, /<figcaption id="levels-t">Workloads by Pod Security Standards level<\/figcaption>/);
    assert.doesNotMatch(html.stdout, /<script src|https?:\/\/[^"'\s]*\.(js|css)/, 'self-contained');
  });

  test('cluster mode: paging, one workload per controller, the running digest, 403 and 401, with the real kubectl', async () => {
    // A replay of the API answers a cluster gives (no API server can run here): two pages of pods
    // joined by a continue token, a namespace the token may not read, an expired token.
    const digest = generalImage.manifestDigest;
    const running = `docker-pullable://${registry.host}/team/general@${digest}`;
    const pod = (name: string, owner: string | undefined, extra: object = {}) => ({
      metadata: {
        name,
        namespace: 'shop',
        ...(owner ? { ownerReferences: [{ kind: 'ReplicaSet', name: owner, controller: true }] } : {}),
      },
      // The tag no longer exists in the registry: only the digest the pod runs can be scanned.
      spec: { containers: [{ name: 'app', image: `${registry.host}/team/general:gone` }], ...extra },
      status: { containerStatuses: [{ name: 'app', imageID: running }] },
    });
    // A private registry: its image is pulled with the pod's pull secret, or not at all.
    const privateRegistry = await startRegistry('htpasswd');
    const privateClient = new RegistryClient(privateRegistry.host, {
      auth: { username: privateRegistry.username!, password: privateRegistry.password! },
    });
    await pushImage(privateClient, 'private/app', '1', generalImage);
    await pushImage(privateClient, 'private/app', '2', generalImage);
    const privatePod = (name: string, tag: string, secret: string) => ({
      metadata: { name, namespace: 'shop' },
      spec: {
        imagePullSecrets: [{ name: secret }],
        containers: [{ name: 'app', image: `${privateRegistry.host}/private/app:${tag}` }],
      },
      status: {},
    });
    const dockerconfigjson = Buffer.from(
      JSON.stringify({
        auths: { [privateRegistry.host]: { username: privateRegistry.username, password: privateRegistry.password } },
      }),
    ).toString('base64');
    const pages: Record<string, object> = {
      '': {
        kind: 'PodList',
        apiVersion: 'v1',
        metadata: { continue: 'page-2' },
        items: [pod('web-1', 'web-7d4b9'), pod('web-2', 'web-7d4b9')],
      },
      'page-2': {
        kind: 'PodList',
        apiVersion: 'v1',
        metadata: {},
        items: [
          pod('debug', undefined, { hostPID: true }),
          privatePod('private', '1', 'regcred'),
          privatePod('locked', '2', 'hidden'),
        ],
      },
    };
    const seen: string[] = [];
    // HTTPS with a CA of the test's own: client-go sends no bearer token over plain HTTP.
    const tls = selfSignedCertificate(dir.path, 'api', '127.0.0.1', 'IP:127.0.0.1');
    const cert = await readFile(tls.certPath);
    const { createServer } = await import('node:https');
    const server = createServer({ cert, key: await readFile(tls.keyPath) }, (req, res) => {
      seen.push(req.url!);
      const url = new URL(req.url!, 'http://x');
      const send = (status: number, body: object) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (url.pathname === '/version') return send(200, { major: '1', minor: '37', gitVersion: 'v1.37.0' });
      if (req.headers.authorization !== 'Bearer good')
        return send(401, { kind: 'Status', status: 'Failure', reason: 'Unauthorized', code: 401 });
      if (url.pathname === '/api/v1/namespaces/shop/secrets/regcred')
        return send(200, {
          kind: 'Secret',
          type: 'kubernetes.io/dockerconfigjson',
          data: { '.dockerconfigjson': dockerconfigjson },
        });
      if (url.pathname === '/api/v1/namespaces/shop/secrets/hidden')
        return send(403, { kind: 'Status', reason: 'Forbidden', code: 403, message: 'secrets is forbidden' });
      if (url.pathname === '/api/v1/namespaces/secret/pods')
        return send(403, { kind: 'Status', reason: 'Forbidden', code: 403, message: 'pods is forbidden' });
      if (url.pathname === '/api/v1/pods' || url.pathname === '/api/v1/namespaces/shop/pods')
        return send(200, pages[url.searchParams.get('continue') ?? '']!);
      send(404, { kind: 'Status', code: 404 });
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const port = (server.address() as { port: number }).port;
    const kubeconfig = (token: string) => `apiVersion: v1
kind: Config
current-context: test
contexts: [{ name: test, context: { cluster: replay, user: ci, namespace: shop } }]
clusters: [{ name: replay, cluster: { server: 'https://127.0.0.1:${port}', certificate-authority-data: ${cert.toString('base64')} } }]
users: [{ name: ci, user: { token: ${token} } }]
`;
    await writeFile(join(dir.path, 'kubeconfig'), kubeconfig('good'));
    await writeFile(join(dir.path, 'expired'), kubeconfig('expired'));
    const cache = join(dir.path, 'cache');
    try {
      const out = await cli(['workloads', '--cluster', '-A', '-f', 'json', '--cache-dir', cache], {
        KUBECONFIG: join(dir.path, 'kubeconfig'),
      });
      assert.equal(out.code, 0, out.stderr);
      const report = JSON.parse(out.stdout) as WorkloadsReport;
      assert.deepEqual(report.source, { kind: 'cluster', context: 'test', namespaces: 'all' });
      assert.deepEqual(
        report.workloads.map((w) => `${w.kind}/${w.namespace}/${w.name}`),
        ['Pod/shop/debug', 'Pod/shop/locked', 'Pod/shop/private', 'ReplicaSet/shop/web-7d4b9'],
        'two pods of one ReplicaSet are one workload; both pages were read',
      );
      const images = new Map(report.images.map((i) => [i.image.split('/').pop()!, i]));
      assert.equal(images.get('app:1')!.error, undefined, "pulled with the pod's pull secret");
      assert.equal(images.get('app:1')!.digest, digest);
      assert.match(images.get('app:2')!.error!, /^E_REGISTRY_AUTH_REQUIRED: .*requires authentication/);
      assert.ok(
        report.warnings.some((w) => w.code === 'W_PULL_SECRET_UNREADABLE' && /shop\/hidden: HTTP 403/.test(w.message)),
      );
      assert.ok(seen.includes('/api/v1/pods?limit=500&continue=page-2'), seen.join(' '));
      const app = report.workloads[3]!.containers[0]!;
      assert.equal(app.image, `${registry.host}/team/general@${digest}`, 'judged by the digest it runs');
      assert.equal(app.imageDigest, digest);
      assert.ok(app.findings.some((f) => f.ruleId === 'workload/token-with-network-tools'));
      assert.ok(report.workloads[0]!.containers[0]!.findings.some((f) => f.ruleId === 'workload/escape-path'));

      const forbidden = await cli(
        ['workloads', '--cluster', '-n', 'shop', '-n', 'secret', '-f', 'json', '--cache-dir', cache],
        { KUBECONFIG: join(dir.path, 'kubeconfig') },
      );
      assert.equal(forbidden.code, 0, forbidden.stderr);
      const partial = JSON.parse(forbidden.stdout) as WorkloadsReport;
      assert.equal(partial.workloads.length, 4);
      assert.ok(partial.warnings.some((w) => w.code === 'W_NAMESPACE_FORBIDDEN' && /secret/.test(w.message)));

      const expired = await cli(['workloads', '--cluster', '--kubeconfig', join(dir.path, 'expired')]);
      assert.equal(expired.code, 2);
      assert.match(expired.stderr, /E_AUTH_REQUIRED: .*\(401\): the token may have expired/);
      assert.doesNotMatch(expired.stderr, /\n\s+at /, 'no stack trace');

      // A broken kubeconfig is the user's error, with the file and no stack trace.
      await writeFile(
        join(dir.path, 'broken'),
        kubeconfig('good').replace(/certificate-authority-data: \S+/, 'certificate-authority: missing-ca.crt'),
      );
      const broken = await cli(['workloads', '--cluster', '--kubeconfig', join(dir.path, 'broken')]);
      assert.equal(broken.code, 2);
      assert.match(broken.stderr, /E_INPUT_NOT_FOUND: cannot read the certificate-authority .*missing-ca\.crt/);
      await writeFile(join(dir.path, 'garbled'), 'clusters: [\n');
      const garbled = await cli(['workloads', '--cluster', '--kubeconfig', join(dir.path, 'garbled')]);
      assert.match(garbled.stderr, /E_USAGE: .*garbled: not a kubeconfig/);
      for (const r of [broken, garbled]) assert.doesNotMatch(r.stderr, /\n\s+at /);

      // The real kubectl, against the same replay: the same pages and the same refusal.
      if (kubectl) {
        type PodList = { items: { metadata: { name: string } }[] };
        const raw = async (config: string, path: string) =>
          (await execFileAsync(kubectl, ['--kubeconfig', join(dir.path, config), 'get', '--raw', path])).stdout;
        const first = JSON.parse(await raw('kubeconfig', '/api/v1/pods?limit=500')) as PodList;
        const second = JSON.parse(await raw('kubeconfig', '/api/v1/pods?limit=500&continue=page-2')) as PodList;
        assert.deepEqual(
          [...first.items, ...second.items].map((p) => p.metadata.name),
          ['web-1', 'web-2', 'debug', 'private', 'locked'],
        );
        await assert.rejects(raw('expired', '/api/v1/pods?limit=500'), (e: { stderr: string }) =>
          /must be logged in|Unauthorized/.test(e.stderr),
        );
      }
    } finally {
      server.close();
      await privateRegistry.stop();
    }
  });

  test('serve --workloads: the web UI links a workloads page, judged anew on each visit; in chromium', async () => {
    const { serveCommand } = await import('../src/cli/serve.js');
    const stop = new AbortController();
    let stderr = '';
    const io = {
      stdout: { write: () => true },
      stderr: { write: (t: string) => ((stderr += t), true) },
      env: { DISTROLENS_SKIP_DB_UPDATE: '1' },
      cwd: dir.path,
    };
    const served = serveCommand(
      ['--port', '0', '--workloads', 'k8s', '--data', 'data', '--cache-dir', 'cache'],
      io,
      stop.signal,
    );
    try {
      while (!/serving (\S+)/.test(stderr)) await new Promise((r) => setTimeout(r, 20));
      const url = /serving (\S+)/.exec(stderr)![1]!;
      const json = (await (await fetch(`${url}/api/workloads`)).json()) as WorkloadsReport;
      assert.equal(json.schema, 'distrolens/workloads@1');
      assert.equal(json.summary.workloads, 4);
      const page = await fetch(`${url}/workloads`);
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-type') ?? '', /text\/html/);
      assert.match(await (await fetch(`${url}/`)).text(), /<a href="\/workloads">Workloads<\/a>/);
      if (existsSync(CHROMIUM)) {
        const { chromium } = await import('playwright-core');
        const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
        try {
          const tab = await browser.newPage({ viewport: { width: 1280, height: 900 } });
          const problems: string[] = [];
          // Script errors and failed requests, but the browser's own favicon probe.
          tab.on('pageerror', (e) => problems.push(e.message));
          tab.on('response', (r) => {
            if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) problems.push(`${r.status()} ${r.url()}`);
          });
          await tab.goto(`${url}/`);
          await tab.click('a[href="/workloads"]');
          await tab.waitForSelector('h1');
          assert.equal(await tab.textContent('h1'), 'distrolens workloads');
          assert.match((await tab.textContent('.verdict')) ?? '', /4 workload\(s\), 5 container\(s\) from k8s/);
          await tab.fill('input[data-filter="workloads"]', 'risky');
          const visible = await tab.$$eval(
            '#workloads tbody tr',
            (rows) => rows.filter((r) => (r as unknown as { offsetParent: unknown }).offsetParent !== null).length,
          );
          assert.equal(visible, 2, 'the filter keeps the two containers of shop/risky');
          assert.deepEqual(problems, []);
        } finally {
          await browser.close();
        }
      }
    } finally {
      stop.abort();
      await served;
    }
  });

  test('every pod-holding kind: DaemonSet, ReplicationController, Job, ReplicaSet and a bare Pod with an ephemeral container', async () => {
    await mkdir(join(dir.path, 'kinds'));
    const template = (name: string) =>
      `    metadata: { labels: { app: ${name} } }\n    spec:\n      containers: [{ name: ${name}, image: ${named} }]`;
    await writeFile(
      join(dir.path, 'kinds', 'all.yaml'),
      [
        ...['DaemonSet', 'ReplicationController', 'Job', 'ReplicaSet'].map(
          (kind) =>
            `apiVersion: v1\nkind: ${kind}\nmetadata: { name: ${kind.toLowerCase()}, namespace: k }\nspec:\n  template:\n${template(kind.toLowerCase())}\n`,
        ),
        `apiVersion: v1\nkind: Pod\nmetadata: { name: bare, namespace: k }\nspec:\n  containers: [{ name: main, image: ${named} }]\n  ephemeralContainers: [{ name: debugger, image: ${general} }]\n`,
      ].join('---\n'),
    );
    const out = await cli(['workloads', 'kinds', '-f', 'json', '--cache-dir', 'cache'], {}, dir.path);
    assert.equal(out.code, 0, out.stderr);
    const report = JSON.parse(out.stdout) as WorkloadsReport;
    // Nine lines a document: each workload located at its own first line.
    assert.deepEqual(
      report.workloads.map((w) => [w.kind, w.name, w.location.line]),
      [
        ['DaemonSet', 'daemonset', 1],
        ['Job', 'job', 19],
        ['Pod', 'bare', 37],
        ['ReplicaSet', 'replicaset', 28],
        ['ReplicationController', 'replicationcontroller', 10],
      ],
    );
    const bare = report.workloads.find((w) => w.name === 'bare')!;
    assert.deepEqual(
      bare.containers.map((c) => [c.type, c.name]),
      [
        ['container', 'main'],
        ['ephemeral', 'debugger'],
      ],
    );
    assert.ok(
      bare.containers[1]!.findings.some((f) => f.ruleId === 'workload/token-with-network-tools'),
      'the ephemeral debugger brings curl next to the token',
    );
  });
});
