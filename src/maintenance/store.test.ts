import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAINTENANCE_SOURCES, maintenanceSourcesFor } from './store.js';
import { EOL_SOURCES } from './table.js';

test("the maintenance sources one image needs: the end-of-life files and its own release's indexes", () => {
  const eol = EOL_SOURCES.map((s) => s.name);
  const only = (os: { id: string; versionId?: string }) => maintenanceSourcesFor(os).filter((n) => !eol.includes(n));
  assert.deepEqual(only({ id: 'debian', versionId: '12' }), [
    'debian-security/dists/bookworm-security/Release',
    'debian-security/dists/bookworm-security/main/binary-amd64/Packages.xz',
    'debian/dists/bookworm-updates/Release',
    'debian/dists/bookworm-updates/main/binary-amd64/Packages.xz',
    'debian/dists/bookworm/Release',
    'debian/dists/bookworm/main/binary-amd64/Packages.xz',
  ]);
  assert.ok(only({ id: 'ubuntu', versionId: '22.04' }).every((n) => /\/dists\/jammy/.test(n)));
  assert.equal(only({ id: 'ubuntu', versionId: '22.04' }).length, 6);
  assert.deepEqual(only({ id: 'alpine', versionId: '3.20.3' }), [
    'alpine/v3.20/community/x86_64/APKINDEX.tar.gz',
    'alpine/v3.20/main/x86_64/APKINDEX.tar.gz',
  ]);
  assert.deepEqual(only({ id: 'wolfi' }), ['wolfi/x86_64/APKINDEX.tar.gz']);
  // A release with no published index (Debian 10) needs the tables only; every name is a default source.
  assert.deepEqual(only({ id: 'debian', versionId: '10' }), []);
  const names = new Set(MAINTENANCE_SOURCES.map((s) => s.name));
  for (const n of maintenanceSourcesFor({ id: 'debian', versionId: '12' })) assert.ok(names.has(n), n);
});
