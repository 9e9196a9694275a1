import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SECRET_PATTERNS } from './patterns.js';
import { scanText } from './index.js';
import { isSecretEnv } from '../../core/redact.js';

/**
 * No pattern backtracks super-linearly: each runs over adversarial 1 MB texts built from its own
 * keywords (repeated, followed by long runs of the characters its quantifiers take, by whitespace,
 * by newlines) in bounded time. A quadratic expression takes seconds to minutes on these.
 */
const SIZE = 1024 * 1024;
const fill = (unit: string): string => unit.repeat(Math.ceil(SIZE / unit.length)).slice(0, SIZE);

function adversarial(keyword: string): string[] {
  return [
    fill(keyword),
    fill(`${keyword} `),
    fill(`${keyword}\n`),
    fill(`${keyword}=`),
    fill(`${keyword}:"`),
    `${keyword}${fill('A')}`,
    `${keyword}${fill(' ')}`,
    `${keyword}${fill('\n')}`,
    `${keyword}${fill('a.')}`,
    fill(`${keyword}_A-`),
    fill(`-----BEGIN RSA PRIVATE KEY-----\n${keyword}`),
    fill(`"type": "service_account", `),
    fill(`x://${keyword}:`),
    fill('PASSWORD_'),
  ];
}

test('every secret pattern runs in linear time on adversarial 1 MB input', () => {
  for (const pattern of SECRET_PATTERNS) {
    const texts = pattern.keywords.flatMap(adversarial);
    const started = performance.now();
    const { path: _path, ...anywhere } = pattern;
    for (const text of texts) scanText(text, '/app/.env', [anywhere]);
    const perText = (performance.now() - started) / texts.length;
    // Linear scans of 1 MB take a few ms; a quadratic one takes seconds.
    assert.ok(perText < 150, `${pattern.id}: ${perText.toFixed(0)} ms per 1 MB text`);
  }
});

test("the redactor's value patterns run in linear time too", () => {
  const started = performance.now();
  for (const text of adversarial('://')) isSecretEnv('X', text);
  assert.ok(performance.now() - started < 1000);
});

test('bounded patterns still find real secrets', () => {
  const found = (text: string, path = '/app/.env') => scanText(text, path, SECRET_PATTERNS).map((h) => h.pattern.id);
  assert.deepEqual(
    found('-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA1234567890\n-----END RSA PRIVATE KEY-----\n'),
    ['private-key'],
  );
  assert.deepEqual(found('-----BEGIN RSA PRIVATE KEY-----\nshort\n'), [], 'no END: no key');
  assert.deepEqual(
    found(
      '{"type": "service_account", "project_id": "p", "private_key": "-----BEGIN PRIVATE KEY-----\\nabc"}',
      '/k.json',
    ),
    ['gcp-service-account', 'private-key'].filter((id) => id !== 'private-key'),
  );
  assert.deepEqual(found('DB_PASSWORD=s3cr3t-value\n'), ['dotenv-secret']);
  assert.deepEqual(found('export API_TOKEN="abcdefgh"\n'), ['dotenv-secret']);
  assert.deepEqual(found('url: https://user:p4ssw0rd@example.com/x', '/app/config.yml'), ['url-credentials']);
  assert.deepEqual(found('//registry.npmjs.org/:_authToken=abcdef123456\n', '/home/.npmrc'), ['npm-token']);
});
