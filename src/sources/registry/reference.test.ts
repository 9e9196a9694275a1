import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatReference, isLoopback, parseReference } from './reference.js';
import { isTransient, parseChallenge } from './client.js';
import { retryAfterMs } from '../../util/retry.js';
import { DistrolensError } from '../../core/errors.js';

test('references normalise like docker does', () => {
  const digest = `sha256:${'a'.repeat(64)}`;
  const rows: [string, string][] = [
    ['alpine', 'docker.io/library/alpine:latest'],
    ['alpine:3.20', 'docker.io/library/alpine:3.20'],
    ['library/alpine:3.20', 'docker.io/library/alpine:3.20'],
    ['bitnami/redis', 'docker.io/bitnami/redis:latest'],
    ['docker.io/alpine', 'docker.io/library/alpine:latest'],
    ['index.docker.io/library/alpine:3', 'docker.io/library/alpine:3'],
    ['gcr.io/distroless/static-debian12:nonroot', 'gcr.io/distroless/static-debian12:nonroot'],
    ['cgr.dev/chainguard/static', 'cgr.dev/chainguard/static:latest'],
    ['localhost:5000/team/app:v1', 'localhost:5000/team/app:v1'],
    ['127.0.0.1:5000/app', '127.0.0.1:5000/app:latest'],
    ['localhost/app', 'localhost/app:latest'],
    [`alpine@${digest}`, `docker.io/library/alpine@${digest}`],
    [`ghcr.io/o/r:1.2@${digest}`, `ghcr.io/o/r:1.2@${digest}`],
    ['registry.example.com:8443/a/b/c:tag_1.0-x', 'registry.example.com:8443/a/b/c:tag_1.0-x'],
  ];
  for (const [input, expected] of rows) assert.equal(formatReference(parseReference(input)), expected, input);
});

test('malformed references are E_REFERENCE_INVALID', () => {
  for (const input of [
    '',
    'library/Alpine',
    'UPPER/Case',
    'alpine:',
    'alpine@sha256:short',
    'a/../b',
    'alpine:bad tag',
    'host:99999999999/x/:t',
    `x@md5:${'a'.repeat(32)}`,
  ]) {
    assert.throws(
      () => parseReference(input),
      (e: unknown) => e instanceof DistrolensError && e.code === 'E_REFERENCE_INVALID',
      JSON.stringify(input),
    );
  }
});

test('loopback hosts are spoken to over plain HTTP', () => {
  assert.ok(isLoopback('localhost:5000'));
  assert.ok(isLoopback('127.0.0.1:41234'));
  assert.ok(isLoopback('[::1]:5000'));
  assert.ok(!isLoopback('registry.local:5000'));
  assert.ok(!isLoopback('10.0.0.1:5000'));
});

test('WWW-Authenticate challenges and Retry-After values', () => {
  assert.deepEqual(
    parseChallenge(
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"',
    ),
    {
      scheme: 'bearer',
      params: {
        realm: 'https://auth.docker.io/token',
        service: 'registry.docker.io',
        scope: 'repository:library/alpine:pull',
      },
    },
  );
  assert.deepEqual(parseChallenge('Basic realm="Registry Realm"'), {
    scheme: 'basic',
    params: { realm: 'Registry Realm' },
  });
  assert.equal(parseChallenge(null), undefined);
  assert.equal(retryAfterMs('3'), 3000);
  assert.equal(retryAfterMs('Wed, 21 Oct 2015 07:28:00 GMT', Date.parse('Wed, 21 Oct 2015 07:27:58 GMT')), 2000);
  assert.equal(retryAfterMs('soon'), undefined);
});

test('network errors: a name that does not resolve fails at once, the rest are retried', () => {
  const error = (code: string) => Object.assign(new Error(code), { code });
  assert.equal(isTransient(error('ENOTFOUND')), false);
  for (const code of ['ECONNREFUSED', 'ECONNRESET', 'EAI_AGAIN', 'ETIMEDOUT'])
    assert.equal(isTransient(error(code)), true, code);
  assert.equal(isTransient(new Error('socket hang up')), true);
});
