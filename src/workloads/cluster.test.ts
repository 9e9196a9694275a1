import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { tempDir } from '../../test/fixtures/temp.js';
import { loadClusterConfig, runningImage } from './cluster.js';

test('kubeconfig: files merged as kubectl does (the first to define a name wins), files relative to their kubeconfig', async () => {
  const dir = await tempDir();
  try {
    await mkdir(join(dir.path, 'b'));
    await writeFile(
      join(dir.path, 'a.yaml'),
      'current-context: prod\nusers: [{ name: ops, user: { tokenFile: t } }]\n',
    );
    await writeFile(join(dir.path, 't'), 'from-a\n');
    await writeFile(
      join(dir.path, 'b', 'b.yaml'),
      `current-context: dev
contexts:
  - { name: prod, context: { cluster: c1, user: ops, namespace: shop } }
  - { name: dev, context: { cluster: c1, user: ops } }
clusters: [{ name: c1, cluster: { server: 'https://10.0.0.1:6443/', certificate-authority: ca.crt } }]
users: [{ name: ops, user: { token: from-b } }]
`,
    );
    await writeFile(join(dir.path, 'b', 'ca.crt'), 'CA');
    const env = { KUBECONFIG: [join(dir.path, 'a.yaml'), join(dir.path, 'b', 'b.yaml')].join(delimiter) };
    const config = await loadClusterConfig({}, env);
    assert.deepEqual(
      { ...config, ca: config.ca?.toString() },
      { server: 'https://10.0.0.1:6443', context: 'prod', namespace: 'shop', ca: 'CA', token: 'from-a' },
    );
    assert.equal((await loadClusterConfig({ context: 'dev' }, env)).namespace, 'default');
    await assert.rejects(loadClusterConfig({ context: 'nope' }, env), /E_USAGE|no context nope/);
  } finally {
    await dir.cleanup();
  }
});

test('in a pod without a kubeconfig: the service account', async () => {
  const dir = await tempDir();
  try {
    await writeFile(join(dir.path, 'token'), 'sa-token\n');
    await writeFile(join(dir.path, 'ca.crt'), 'CA');
    await writeFile(join(dir.path, 'namespace'), 'apps');
    const env = {
      KUBECONFIG: join(dir.path, 'none'),
      KUBERNETES_SERVICE_HOST: 'fd00::1',
      KUBERNETES_SERVICE_PORT: '443',
    };
    const config = await loadClusterConfig({}, env, dir.path);
    assert.deepEqual(
      { server: config.server, namespace: config.namespace, token: config.token, context: config.context },
      { server: 'https://[fd00::1]:443', namespace: 'apps', token: 'sa-token', context: 'in-cluster' },
    );
    await assert.rejects(loadClusterConfig({}, { KUBECONFIG: join(dir.path, 'none') }, dir.path), /no kubeconfig/);
  } finally {
    await dir.cleanup();
  }
});

test('the running image: the digest of imageID pinned to the spec name', () => {
  const digest = `sha256:${'a'.repeat(64)}`;
  assert.equal(
    runningImage('registry:5000/app:1.2', `docker-pullable://registry:5000/app@${digest}`),
    `registry:5000/app@${digest}`,
  );
  assert.equal(runningImage('nginx', `docker.io/library/nginx@${digest}`), `nginx@${digest}`);
  assert.equal(runningImage('nginx:1', ''), 'nginx:1', 'no status yet: the spec image');
  assert.equal(runningImage('app:dev', digest), 'app:dev', 'a local image ID is no manifest digest');
});
