import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scanSpec } from '../../test/fixtures/scan.js';
import { writablePaths } from './readiness.js';

const ELF = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46]), Buffer.alloc(64)]);

test('the paths a read-only root needs volumes for: /tmp, VOLUMEs, the non-root home, a server habit; mounts cover them', async () => {
  const report = await scanSpec({
    layers: [
      {
        files: [
          { path: 'usr/sbin/nginx', content: ELF, mode: 0o755 },
          {
            path: 'etc/passwd',
            content:
              'root:x:0:0::/root:/bin/sh\nweb:x:101:101::/home/web:/sbin/nologin\nnobody:x:65534:65534::/nonexistent:/sbin/nologin\n',
          },
        ],
      },
    ],
    config: { User: 'web', Entrypoint: ['/usr/sbin/nginx'], Volumes: { '/data': {} } },
  });
  assert.deepEqual(writablePaths({}, report, 101), ['/data', '/home/web', '/tmp', '/var/cache/nginx', '/var/run']);
  assert.deepEqual(
    writablePaths({}, report, 0),
    ['/data', '/tmp', '/var/cache/nginx', '/var/run'],
    "root's home is not a cache",
  );
  assert.deepEqual(
    writablePaths({}, report, 65534),
    ['/data', '/tmp', '/var/cache/nginx', '/var/run'],
    'no /nonexistent',
  );
  const mounted = { volumeMounts: [{ mountPath: '/tmp' }, { mountPath: '/var/' }, { mountPath: '/data' }] };
  assert.deepEqual(writablePaths(mounted, report, 101), ['/home/web'], 'a mount covers its subdirectories');
  assert.deepEqual(writablePaths({}, undefined, 1000), ['/tmp'], 'an image not scanned still needs /tmp');
});
