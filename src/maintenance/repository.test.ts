import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parseApkInstalled } from '../analyzers/apk/parse.js';
import { identifyIndex, outdatedPackages, readIndex, recognizeIndex, toSuite } from './repository.js';

const readSuite = async (bytes: Uint8Array, suite: string) =>
  toSuite(await readIndex(bytes, suite), { suite, security: suite.endsWith('-security') });
import { REALDATA, rejectsWithCode } from '../../test/helpers.js';
import {
  BOOKWORM_INSTALLED,
  DEBIAN_INDEXES,
  bookwormSuites,
  expectedBehind,
} from '../../test/fixtures/debian-indexes.js';

const DEBIAN = DEBIAN_INDEXES;
const debianIndexes = bookwormSuites;

test("Debian's real indexes: the packages behind bookworm, its updates and its security suite, as dpkg orders them", async () => {
  const indexes = await debianIndexes();
  assert.deepEqual(
    indexes.map((i) => [i.suite, i.security, i.packages.size]),
    [
      ['bookworm', false, 14],
      ['bookworm-updates', false, 3],
      ['bookworm-security', true, 12],
    ],
  );
  // An image built a while ago; the expectation from the index texts and Debian's dpkg itself.
  const outdated = outdatedPackages(BOOKWORM_INSTALLED, indexes);
  assert.deepEqual(outdated, await expectedBehind(BOOKWORM_INSTALLED));
  // What that means here: zlib1g's only fix is in the security suite; bash and libsystemd0 are current.
  assert.deepEqual(
    outdated.find((o) => o.name === 'zlib1g'),
    {
      name: 'zlib1g',
      installed: '1:1.2.13.dfsg-1',
      available: '1:1.2.13.dfsg-1+deb12u1',
      suite: 'bookworm-security',
      security: true,
    },
  );
  assert.ok(!outdated.some((o) => ['bash', 'libsystemd0', 'not-in-the-archive'].includes(o.name)));
});

test('compressed indexes read alike; a binary the index names differently is matched by its source', async () => {
  const text = await readFile(join(DEBIAN, 'bookworm-security_main_binary-amd64_Packages'));
  const plain = await readSuite(text, 'bookworm-security');
  const gz = await readSuite(gzipSync(text), 'bookworm-security');
  assert.deepEqual([...gz.packages], [...plain.packages]);
  const xz = spawnSync('xz', ['-c'], { input: text });
  if (xz.status === 0)
    assert.deepEqual([...(await readSuite(xz.stdout, 'bookworm-security')).packages], [...plain.packages]);
  // libssl1.1 is gone from bookworm; its source, openssl, is not.
  const [match] = outdatedPackages([{ name: 'libssl1.1', version: '1.1.1n-0+deb11u5', source: 'openssl' }], [plain]);
  assert.equal(match?.available, plain.sources.get('openssl'));
  assert.equal(plain.sources.get('openssl'), plain.packages.get('openssl')?.version);
});

test('Alpine 3.16: the real installed database of an apko image against the real v3.16 main index', async () => {
  const index = await readSuite(
    await readFile(join(REALDATA, 'apkindex/apko-alpine-316-x86_64/APKINDEX.tar.gz')),
    'v3.16/main',
  );
  assert.equal(index.format, 'apkindex');
  assert.ok(index.packages.size > 4000, `${index.packages.size} packages`);
  assert.equal(index.packages.get('musl')?.version, '1.2.3-r2');
  const installed = parseApkInstalled(await readFile(join(REALDATA, 'pkgdb/apk/alpine-3.16-apko/installed'), 'utf8'));
  const outdated = outdatedPackages(
    installed.map((p) => ({ name: p.name, version: p.version, ...(p.origin ? { source: p.origin } : {}) })),
    [index],
  );
  // The image was built from v3.16.2-era packages; the index is of v3.16.3: OpenSSL 1.1.1q → 1.1.1s
  // (two security releases), musl r0 → r2, alpine-baselayout r22 → r23. Alpine has no separate
  // security suite, so none is marked security here (the vulnerability feeds say which fix CVEs).
  assert.equal(installed.length, 14);
  assert.deepEqual(
    outdated.map((o) => `${o.name} ${o.installed} → ${o.available}`),
    [
      'alpine-baselayout 3.2.0-r22 → 3.2.0-r23',
      'alpine-baselayout-data 3.2.0-r22 → 3.2.0-r23',
      'libcrypto1.1 1.1.1q-r0 → 1.1.1s-r0',
      'libssl1.1 1.1.1q-r0 → 1.1.1s-r0',
      'musl 1.2.3-r0 → 1.2.3-r2',
      'musl-utils 1.2.3-r0 → 1.2.3-r2',
    ],
  );
  // Whatever the image holds that the index has, is either current or reported with the index's version.
  for (const p of installed) {
    const offered = index.packages.get(p.name)?.version;
    const reported = outdated.find((o) => o.name === p.name);
    if (offered && reported) assert.equal(reported.available, offered);
  }
});

test('Wolfi: versions ordered as apk orders them (r13 after r9), archive and plain index', async () => {
  const plain = await readSuite(await readFile(join(REALDATA, 'apkindex/wolfictl-wolfi-plain/APKINDEX')), 'wolfi');
  assert.equal(plain.packages.get('tini')?.version, '0.19.0-r13');
  const dag = await readSuite(
    await readFile(join(REALDATA, 'apkindex/wolfictl-wolfi-dag-x86_64/APKINDEX.tar.gz')),
    'wolfi',
  );
  assert.equal(dag.packages.get('glibc')?.version, '2.36-r0');
  assert.deepEqual(
    outdatedPackages(
      [
        { name: 'glibc', version: '2.35-r0' },
        { name: 'tini', version: '0.19.0-r9' },
        { name: 'wget', version: '1.21.3-r1' },
      ],
      [dag, plain],
    ).map((o) => [o.name, o.available, o.security]),
    [
      ['glibc', '2.36-r0', false],
      ['tini', '0.19.0-r13', false],
    ],
  );
});

test('what is not an index is refused with a code', async () => {
  assert.equal(recognizeIndex('hello\n'), undefined);
  await rejectsWithCode(readSuite(Buffer.from('{"not": "an index"}'), 'x'), 'E_FEED_INVALID');
  await rejectsWithCode(readSuite(gzipSync(Buffer.from('Package: a\n')), 'x'), 'E_FEED_INVALID');
});

test('which release an index is: suites in paths and apt list names, Alpine DESCRIPTION, Wolfi signer', async () => {
  const codenames = new Map([
    ['bookworm', { distro: 'debian', release: '12' }],
    ['jammy', { distro: 'ubuntu', release: '22.04' }],
  ]);
  const deb = { format: 'debian-packages' as const };
  assert.deepEqual(
    identifyIndex('debian-security/dists/bookworm-security/main/binary-amd64/Packages.xz', deb, codenames),
    {
      distro: 'debian',
      release: '12',
      suite: 'bookworm-security',
      security: true,
    },
  );
  assert.deepEqual(
    identifyIndex('deb.debian.org_debian_dists_bookworm-updates_main_binary-amd64_Packages', deb, codenames),
    {
      distro: 'debian',
      release: '12',
      suite: 'bookworm-updates',
      security: false,
    },
  );
  assert.equal(identifyIndex('ubuntu/dists/jammy/main/binary-amd64/Packages.gz', deb, codenames)?.release, '22.04');
  // A word that only looks like a suite, or a codename the table does not know, names nothing.
  assert.equal(identifyIndex('mirror/dists/sid/main/Packages', deb, codenames), undefined);
  // The real Alpine 3.16 index says its release in DESCRIPTION; the real Wolfi index by its key.
  const alpine = await readIndex(
    await readFile(join(REALDATA, 'apkindex/apko-alpine-316-x86_64/APKINDEX.tar.gz')),
    'x',
  );
  assert.deepEqual(identifyIndex('anywhere/APKINDEX.tar.gz', alpine, codenames), {
    distro: 'alpine',
    release: '3.16',
    suite: 'v3.16/main',
    security: false,
  });
  const wolfi = await readIndex(
    await readFile(join(REALDATA, 'apkindex/wolfictl-wolfi-dag-x86_64/APKINDEX.tar.gz')),
    'x',
  );
  assert.equal(identifyIndex('x86_64/APKINDEX.tar.gz', wolfi, codenames)?.distro, 'wolfi');
  assert.equal(
    identifyIndex('alpine/v3.20/community/x86_64/APKINDEX', { format: 'apkindex' }, codenames)?.suite,
    'v3.20/community',
  );
  assert.equal(identifyIndex('somewhere/APKINDEX', { format: 'apkindex' }, codenames), undefined);
});
