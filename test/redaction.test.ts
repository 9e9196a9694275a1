import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { redactArgs, redactLabels, redactText } from '../src/core/redact.js';
import { buildImage, writeOciLayout } from './fixtures/image.js';
import { cli, tempDir } from './helpers.js';

/**
 * Nothing printed that should not be: secrets in any string of the image config or history are
 * redacted in every format, markdown carries no live HTML, and no terminal escape sequence of an
 * image reaches the terminal.
 */
const SECRET = 'AKIAIOSFODNN7EXAMPLE';
const TOKEN = 'ghp_0123456789abcdefghijklmnopqrstuvwxyzAB';

test('redactText, redactArgs, redactLabels', () => {
  assert.equal(
    redactText(`RUN export AWS_ACCESS_KEY_ID=${SECRET} && make`),
    'RUN export AWS_ACCESS_KEY_ID=<redacted> && make',
  );
  assert.equal(redactText('ARG DB_PASSWORD=hunter22'), 'ARG DB_PASSWORD=<redacted>');
  assert.equal(
    redactText('git clone https://bob:s3cr3t@example.com/r.git'),
    'git clone https://bob:<redacted>@example.com/r.git',
  );
  assert.equal(redactText(`curl -H "Authorization: token ${TOKEN}"`).includes(TOKEN), false);
  assert.equal(
    redactText('LABEL org.opencontainers.image.authors=alice'),
    'LABEL org.opencontainers.image.authors=alice',
    'authors is not a secret',
  );
  assert.deepEqual(redactArgs(['/app', '--password', 'hunter22', '--verbose']), [
    '/app',
    '--password',
    '<redacted>',
    '--verbose',
  ]);
  assert.deepEqual(redactLabels({ 'api.token': 'abc', description: `key ${SECRET}` }), {
    'api.token': '<redacted>',
    description: 'key <redacted>',
  });
});

test('secrets in history, labels, command, entrypoint and healthcheck are printed in no format; markdown and terminal output are inert', async () => {
  const dir = await tempDir();
  try {
    const image = buildImage({
      layers: [
        {
          files: [{ path: 'a', content: 'a' }],
          createdBy: `/bin/sh -c export TOKEN=${TOKEN} <img src=x onerror=alert(1)>`,
        },
      ],
      config: {
        Labels: { token: SECRET, title: '<script>alert(1)</script>\u001b]0;pwned\u0007\u001b[2J' },
        Entrypoint: ['/app/run', `--key=${SECRET}`],
        Cmd: ['--password', 'hunter22-secret', '\u001b]52;c;ZWNobyBoaQ==\u0007'],
        Healthcheck: { Test: ['CMD', 'curl', `https://u:${SECRET}@example.com/`] },
      },
    });
    await writeOciLayout(join(dir.path, 'layout'), [{ image }]);
    const input = `oci:${join(dir.path, 'layout')}`;
    const env = { XDG_CACHE_HOME: join(dir.path, 'cache') };
    for (const format of ['json', 'table', 'markdown', 'html', 'sarif', 'cyclonedx', 'spdx']) {
      const { stdout, code } = await cli(['scan', input, '--format', format, '-q', '--offline'], env);
      assert.ok(code === 0 || code === 1, `${format}: exit ${code}`);
      for (const secret of [SECRET, TOKEN, 'hunter22-secret'])
        assert.ok(!stdout.includes(secret), `${format} printed ${secret}`);
      assert.ok(!stdout.includes('\u001b'), `${format} printed an escape sequence`);
      if (format === 'markdown') assert.ok(!/<script|<img/i.test(stdout), 'markdown passes HTML through');
    }
    const inspect = await cli(['inspect', input, '-q'], env);
    assert.ok(!inspect.stdout.includes(SECRET) && !inspect.stdout.includes('\u001b'));
  } finally {
    await dir.cleanup();
  }
});
