import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { inspect } from '../src/scan/inspect.js';
import { podmanAvailable, startPodman, type TestEngine } from './fixtures/podman.js';
import { openSource, REALDATA, rejectsWithCode, tempDir } from './helpers.js';

/** docker-daemon: against a real engine API (podman's Docker-compatible service). */
const skip = podmanAvailable() ? false : 'podman is not installed (run .ci/run)';

describe('docker-daemon source over podman system service', { skip }, () => {
  let engine: TestEngine;
  before(async () => {
    engine = await startPodman();
    engine.load(join(REALDATA, 'images/dive/test-docker-image.tar'));
  });
  after(async () => engine?.stop());

  test('exports the image over the API and reads it like the archive it was loaded from', async () => {
    const env = { DOCKER_HOST: `unix://${engine.socket}` };
    const fromDaemon = await inspect(await openSource('docker-daemon:dive-test:latest', { env }));
    const fromArchive = await inspect(
      await openSource(join(REALDATA, 'images/dive/test-docker-image.tar'), { env: {} }),
    );
    assert.equal(fromDaemon.report.target.source, 'docker-daemon');
    assert.equal(fromDaemon.report.target.reference, 'dive-test:latest');
    assert.equal(fromDaemon.report.target.configDigest, fromArchive.report.target.configDigest);
    assert.deepEqual(
      fromDaemon.report.target.layers.map((l) => l.diffId),
      fromArchive.report.target.layers.map((l) => l.diffId),
    );
    assert.deepEqual(fromDaemon.fs.entries(), fromArchive.fs.entries());
  });

  test('an image the engine lacks is E_INPUT_NOT_FOUND', async () => {
    await rejectsWithCode(
      openSource('docker-daemon:nothing-here:v9', { env: { DOCKER_HOST: `unix://${engine.socket}` } }),
      'E_INPUT_NOT_FOUND',
    );
  });
});

test('no engine listening is E_DAEMON_UNAVAILABLE with a hint that no daemon is needed otherwise', async () => {
  const dir = await tempDir();
  try {
    const error = await rejectsWithCode(
      openSource('docker-daemon:alpine', { env: { DOCKER_HOST: `unix://${join(dir.path, 'none.sock')}` } }),
      'E_DAEMON_UNAVAILABLE',
    );
    assert.match(error.hint ?? '', /DOCKER_HOST/);
  } finally {
    await dir.cleanup();
  }
});
