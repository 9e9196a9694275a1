import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseCopyrightLicenses, parseDpkgStatus, parseFileList } from './dpkg/parse.js';
import { parseApkInstalled } from './apk/parse.js';
import { parseOsRelease } from './os/os-release.js';
import { accounts, parsePasswd, parseShadow, passwordState } from './common/passwd.js';
import { resolveUser } from '../core/runtime.js';
import { REALDATA } from '../../test/helpers.js';

/** Parsers are pure: text in, records out, tested without any image. */

test('dpkg status: the 90 installed packages of Ubuntu 18.04 (trivy fixture)', async () => {
  const status = await readFile(join(REALDATA, 'pkgdb/dpkg/trivy-ubuntu-18.04/status'), 'utf8');
  const expected = (await readFile(join(REALDATA, 'pkgdb/dpkg/trivy-ubuntu-18.04/expected-package-ids.txt'), 'utf8'))
    .trim()
    .split('\n')
    .sort();
  const records = parseDpkgStatus(status);
  assert.deepEqual(records.map((r) => `${r.package}@${r.version}`).sort(), expected);
  assert.ok(!records.some((r) => r.package === 'git'), 'deinstall ok config-files is not installed');
  const libc = records.find((r) => r.package === 'libc6')!;
  assert.equal(libc.source, 'glibc');
  assert.equal(libc.architecture, 'amd64');
});

test('dpkg: distroless status.d record without Status, Source with version, md5sums lists', () => {
  const [record] = parseDpkgStatus(
    'Package: libssl3\nVersion: 3.0.15-1~deb12u1\nArchitecture: amd64\nSource: openssl (3.0.15-1~deb12u1)\nDescription: x\n multi-line\n',
  );
  assert.deepEqual(record, {
    package: 'libssl3',
    version: '3.0.15-1~deb12u1',
    architecture: 'amd64',
    source: 'openssl',
    sourceVersion: '3.0.15-1~deb12u1',
  });
  assert.deepEqual(parseFileList('0123456789abcdef0123456789abcdef  usr/lib/x86_64-linux-gnu/libssl.so.3\n', true), [
    '/usr/lib/x86_64-linux-gnu/libssl.so.3',
  ]);
  assert.deepEqual(parseFileList('/.\n/usr\n/usr/bin/dash\n', false), ['/usr', '/usr/bin/dash']);
});

test('dpkg copyright files: machine-readable License fields, else common-licenses references', () => {
  const dep5 =
    'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nCopyright: 1999 X\nLicense: GPL-2+\n\nFiles: lib/*\nLicense: LGPL-2.1+ or BSD-3-clause\n\nLicense: GPL-2+\n This program is free software\n';
  assert.deepEqual(parseCopyrightLicenses(dep5), ['BSD-3-clause', 'GPL-2+', 'LGPL-2.1+']);
  assert.deepEqual(
    parseCopyrightLicenses('This package is licensed under the GPL; see /usr/share/common-licenses/GPL-2.\n'),
    ['GPL-2'],
  );
  assert.deepEqual(parseCopyrightLicenses('no licence named here'), []);
});

test('apk installed: Wolfi base (apko fixture) has exactly its 15 packages', async () => {
  const records = parseApkInstalled(
    await readFile(join(REALDATA, 'pkgdb/apk/wolfi-apko/wolfi-base.installed'), 'utf8'),
  );
  assert.deepEqual(records.map((r) => r.name).sort(), [
    'apk-tools',
    'busybox',
    'ca-certificates-bundle',
    'glibc',
    'glibc-locale-posix',
    'ld-linux',
    'libcrypt1',
    'libcrypto3',
    'libgcc',
    'libssl3',
    'libxcrypt',
    'wolfi-base',
    'wolfi-baselayout',
    'wolfi-keys',
    'zlib',
  ]);
  const layout = records.find((r) => r.name === 'wolfi-baselayout')!;
  assert.equal(layout.version, '20230201-r23');
  assert.ok(layout.files.includes('/etc/passwd'));
});

test('apk installed: Alpine 3.16 (apko fixture) and snyk Alpine 2.6.6 / 3.7.0', async () => {
  const a316 = parseApkInstalled(await readFile(join(REALDATA, 'pkgdb/apk/alpine-3.16-apko/installed'), 'utf8'));
  assert.equal(a316.length, 14);
  assert.equal(a316.find((r) => r.name === 'musl')?.version, '1.2.3-r0');
  const expect = JSON.parse(
    await readFile(join(REALDATA, 'pkgdb/apk/snyk-alpine-2.6.6/analyzer-expect.json'), 'utf8'),
  ) as { results: { Analysis: { Name: string; Version: string; Source?: string }[] }[] };
  const list = expect.results[0]!.Analysis;
  const a266 = parseApkInstalled(await readFile(join(REALDATA, 'pkgdb/apk/snyk-alpine-2.6.6/installed'), 'utf8'));
  assert.deepEqual(a266.map((r) => `${r.name}@${r.version}`).sort(), list.map((e) => `${e.Name}@${e.Version}`).sort());
  assert.deepEqual(a266.map((r) => r.origin).sort(), list.map((e) => e.Source).sort(), 'origin is the source package');
  assert.equal(
    parseApkInstalled(await readFile(join(REALDATA, 'pkgdb/apk/snyk-alpine-3.7.0/installed'), 'utf8')).length,
    11,
  );
});

test('os-release: quotes, escapes, comments', () => {
  assert.deepEqual(
    parseOsRelease('# c\nID=debian\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nVERSION_ID=\'12\'\nX="a \\"b\\""\n'),
    {
      ID: 'debian',
      PRETTY_NAME: 'Debian GNU/Linux 12 (bookworm)',
      VERSION_ID: '12',
      X: 'a "b"',
    },
  );
});

test('accounts: password states from passwd and shadow', () => {
  const rows: [string, string | undefined, string][] = [
    ['x', '', 'empty'],
    ['x', '!', 'locked'],
    ['x', '*', 'locked'],
    ['x', '!!', 'locked'],
    ['x', '!$6$abc', 'locked'],
    ['x', '$6$salt$hash', 'hash'],
    ['x', undefined, 'absent'],
    ['', undefined, 'empty'],
    ['*', undefined, 'locked'],
  ];
  for (const [p, s, expected] of rows) assert.equal(passwordState(p, s), expected, `${p} / ${s}`);
  const passwd = parsePasswd(
    'root:x:0:0:root:/root:/bin/ash\n# comment\nbroken line\nnobody:x:65534:65534::/:/sbin/nologin\n',
  );
  assert.deepEqual(
    accounts(passwd, parseShadow('root:::0:::::\n')).map((u) => [u.name, u.password]),
    [
      ['root', 'empty'],
      ['nobody', 'absent'],
    ],
  );
});

test('USER values that mean root', () => {
  const passwd = parsePasswd('root:x:0:0::/root:/bin/sh\ntoor:x:0:0::/root:/bin/sh\napp:x:1000:1000::/app:/bin/sh\n');
  for (const user of ['', '0', 'root', '0:0', 'root:root', 'toor'])
    assert.equal(resolveUser(user, passwd).uid, 0, JSON.stringify(user));
  for (const user of ['1000', 'app', '65532:65532', 'nonroot'])
    assert.notEqual(resolveUser(user, passwd).uid, 0, JSON.stringify(user));
});
