import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Report } from '../src/core/report.js';
import { type ImageSpec, type LayerSpec } from './fixtures/image.js';
import { scanSpec } from './fixtures/scan.js';
import type { FileSpec } from './fixtures/tar.js';
import { REALDATA, tempDir } from './helpers.js';
import { readFile, writeFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { deflateSync } from 'node:zlib';

/** Every rule, fired by an image built in code for it, and kept quiet by its negative twin. */
const scan = scanSpec;

const ELF = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46]), Buffer.alloc(64)]);
const exe = (path: string): FileSpec => ({ path, content: ELF, mode: 0o755 });
const BUSYBOX: FileSpec[] = [
  exe('bin/busybox'),
  { path: 'bin/sh', type: 'symlink', target: '/bin/busybox' },
  { path: 'bin/su', type: 'symlink', target: 'busybox' },
];
const NONROOT = { User: '65532' };
const passwd = (lines: string): FileSpec => ({ path: 'etc/passwd', content: lines });
const shadow = (lines: string): FileSpec => ({ path: 'etc/shadow', content: lines, mode: 0o640 });
const image = (files: FileSpec[], config: Record<string, unknown> = NONROOT, more: LayerSpec[] = []): ImageSpec => ({
  layers: [{ files }, ...more],
  config,
});
const rules = (report: Report, id: string) => report.findings.filter((f) => f.ruleId === id);

describe('accounts', () => {
  test('empty root password: critical with busybox su and root, low without a login path and non-root', async () => {
    const root = await scan(
      image([...BUSYBOX, passwd('root:x:0:0:root:/root:/bin/sh\n'), shadow('root:::0:::::\n')], {}),
    );
    assert.deepEqual(
      rules(root, 'accounts/empty-password').map((f) => [f.severity, f.location?.path]),
      [['critical', '/etc/shadow']],
    );
    assert.match(rules(root, 'accounts/empty-password')[0]!.message, /\/bin\/su/);
    const quiet = await scan(
      image(
        [
          passwd('root:x:0:0:root:/root:/sbin/nologin\napp:x:1000:1000::/app:/sbin/nologin\n'),
          shadow('root:::0:::::\n'),
        ],
        { User: 'app' },
      ),
    );
    assert.deepEqual(
      rules(quiet, 'accounts/empty-password').map((f) => f.severity),
      ['low'],
    );
    const locked = await scan(
      image([...BUSYBOX, passwd('root:x:0:0:root:/root:/bin/sh\n'), shadow('root:!::0:::::\n')], {}),
    );
    assert.deepEqual(rules(locked, 'accounts/empty-password'), []);
  });

  test('extra UID 0, duplicate UIDs, service accounts with login shells', async () => {
    const bad = await scan(
      image([
        passwd(
          'root:x:0:0::/root:/bin/sh\ntoor:x:0:0::/root:/bin/sh\ndaemon:x:1:1::/:/bin/bash\napp:x:1000:1000::/app:/sbin/nologin\nbackup:x:1000:1000::/:/sbin/nologin\n',
        ),
      ]),
    );
    assert.equal(rules(bad, 'accounts/extra-uid0').length, 1);
    assert.equal(rules(bad, 'accounts/service-login-shell').length, 1);
    assert.deepEqual(
      rules(bad, 'accounts/duplicate-uid')
        .map((f) => f.message.match(/UID (\d+)/)?.[1])
        .sort(),
      ['0', '1000'],
    );
    const good = await scan(
      image([
        passwd(
          'root:x:0:0::/root:/sbin/nologin\ndaemon:x:1:1::/:/usr/sbin/nologin\nnonroot:x:65532:65532::/home/nonroot:/sbin/nologin\n',
        ),
      ]),
    );
    for (const id of ['accounts/extra-uid0', 'accounts/service-login-shell', 'accounts/duplicate-uid'])
      assert.deepEqual(rules(good, id), [], id);
  });
});

describe('config', () => {
  test('root user, shell form without a shell, port 22, secret env, healthcheck tool, sensitive volume', async () => {
    const bad = await scan(
      image([exe('app/server')], {
        Cmd: ['/bin/sh', '-c', 'exec /app/server'],
        ExposedPorts: { '22/tcp': {} },
        Env: ['PATH=/bin', 'DB_PASSWORD=hunter22'],
        Healthcheck: { Test: ['CMD-SHELL', 'curl -f http://localhost/ || exit 1'] },
        Volumes: { '/var/run/docker.sock': {} },
      }),
    );
    assert.equal(rules(bad, 'config/runs-as-root').length, 1);
    assert.deepEqual(
      rules(bad, 'config/shell-form').map((f) => f.severity),
      ['high'],
      'no shell: the container cannot start',
    );
    assert.equal(rules(bad, 'config/ssh-port').length, 1);
    assert.equal(rules(bad, 'config/secret-env').length, 1);
    assert.ok(!JSON.stringify(bad).includes('hunter22'), 'the secret is redacted everywhere');
    assert.equal(rules(bad, 'config/healthcheck-missing-tool').length, 1);
    assert.equal(rules(bad, 'config/sensitive-volume').length, 1);
    const good = await scan(
      image([...BUSYBOX, exe('usr/bin/curl'), exe('app/server')], {
        User: '65532',
        Entrypoint: ['/app/server'],
        ExposedPorts: { '8080/tcp': {} },
        Env: ['PATH=/bin', 'LOG_LEVEL=info'],
        Healthcheck: { Test: ['CMD', 'curl', '-f', 'http://localhost/'] },
        Volumes: { '/data': {} },
      }),
    );
    for (const id of [
      'config/runs-as-root',
      'config/shell-form',
      'config/ssh-port',
      'config/secret-env',
      'config/healthcheck-missing-tool',
      'config/sensitive-volume',
    ]) {
      assert.deepEqual(rules(good, id), [], id);
    }
    const shellForm = await scan(image([...BUSYBOX], { User: '1', Cmd: ['/bin/sh', '-c', 'sleep 1'] }));
    assert.deepEqual(
      rules(shellForm, 'config/shell-form').map((f) => f.severity),
      ['low'],
      'with a shell it works, but signals are lost',
    );
  });
});

describe('surface', () => {
  test('each category, busybox applets marked, setuid/setgid/world-writable/capabilities', async () => {
    const report = await scan(
      image([
        ...BUSYBOX,
        { path: 'usr/bin/wget', type: 'symlink', target: '/bin/busybox' },
        exe('usr/bin/apt-get'),
        exe('usr/bin/curl'),
        exe('usr/bin/python3.11'),
        exe('usr/bin/gcc-12'),
        exe('usr/bin/sudo'),
        { path: 'usr/bin/passwd', content: ELF, mode: 0o4755 },
        { path: 'usr/bin/wall', content: ELF, mode: 0o2755, gid: 5 },
        { path: 'srv/drop/', type: 'dir', mode: 0o777 },
        { path: 'tmp/', type: 'dir', mode: 0o1777 },
        {
          path: 'usr/bin/ping',
          content: ELF,
          mode: 0o755,
          xattrs: { 'security.capability': '\u0001\u0000\u0000\u0002\u0000\u0020\u0000\u0000' },
        },
      ]),
    );
    const s = report.surface;
    assert.deepEqual(
      s.shells.map((i) => [i.path, i.via]),
      [
        ['/bin/busybox', undefined],
        ['/bin/sh', 'busybox'],
      ],
    );
    assert.deepEqual(
      s.networkTools.map((i) => [i.path, i.via]),
      [
        ['/usr/bin/curl', undefined],
        ['/usr/bin/ping', undefined],
        ['/usr/bin/wget', 'busybox'],
      ],
    );
    assert.deepEqual(
      s.packageManagers.map((i) => i.name),
      ['apt-get'],
    );
    assert.deepEqual(
      s.interpreters.map((i) => i.name),
      ['python3.11'],
    );
    assert.deepEqual(
      s.buildTools.map((i) => i.name),
      ['gcc-12'],
    );
    assert.deepEqual(
      s.privilegeTools.map((i) => i.name),
      ['su', 'sudo'],
    );
    assert.deepEqual(
      s.setuid.map((i) => i.path),
      ['/usr/bin/passwd'],
    );
    assert.deepEqual(
      s.setgid.map((i) => i.path),
      ['/usr/bin/wall'],
    );
    assert.deepEqual(
      s.worldWritable.map((i) => i.path),
      ['/srv/drop'],
      'the sticky /tmp is fine',
    );
    assert.deepEqual(
      s.capabilities.map((i) => i.path),
      ['/usr/bin/ping'],
    );
    for (const id of [
      'surface/shell',
      'surface/package-manager',
      'surface/network-tools',
      'surface/interpreters',
      'surface/build-tools',
      'surface/privilege-tools',
      'surface/setuid',
      'surface/setgid',
      'surface/world-writable',
      'surface/file-capabilities',
    ]) {
      assert.equal(rules(report, id).length, 1, id);
    }
    assert.deepEqual(rules(report, 'debug/no-shell'), []);
  });

  test('only what is really executable counts: no mode bits, dangling links and loops do not', async () => {
    const report = await scan(
      image([
        { path: 'usr/bin/curl', content: 'not executable', mode: 0o644 },
        { path: 'bin/sh', type: 'symlink', target: '/bin/nothing-here' },
        { path: 'bin/bash', type: 'symlink', target: 'bash' },
        { path: 'usr/share/doc/wget', content: ELF, mode: 0o755 },
      ]),
    );
    for (const key of ['shells', 'networkTools'] as const) assert.deepEqual(report.surface[key], [], key);
    assert.equal(rules(report, 'debug/no-shell').length, 1);
    assert.equal(report.os.classification, 'scratch');
  });
});

describe('secrets', () => {
  const AWS = 'AKIAIOSFODNN7EXAMPLE';
  test('in visible files and in files a later layer deleted; never printed', async () => {
    const report = await scan(
      image(
        [
          { path: 'app/.env', content: `AWS_ACCESS_KEY_ID=${AWS}\nDB_PASSWORD=s3cr3t-value\n` },
          {
            path: 'root/.ssh/id_rsa',
            content:
              '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----\n',
          },
          {
            path: 'home/dev/.npmrc',
            content: '//registry.npmjs.org/:_authToken=npm_abcdefghijklmnopqrstuvwxyz0123456789\n',
          },
        ],
        NONROOT,
        [
          {
            files: [
              { path: 'app/.env', type: 'whiteout' },
              { path: 'root/.ssh/id_rsa', type: 'whiteout' },
            ],
          },
        ],
      ),
    );
    const found = report.findings
      .filter((f) => f.ruleId.startsWith('secrets/'))
      .map((f) => `${f.ruleId} ${f.location?.path}@${f.location?.layer}`)
      .sort();
    assert.deepEqual(found, [
      'secrets/aws-access-key /app/.env@0',
      'secrets/credential-file /root/.ssh/id_rsa@0',
      'secrets/dotenv-secret /app/.env@0',
      'secrets/npm-token /home/dev/.npmrc@0',
      'secrets/private-key /root/.ssh/id_rsa@0',
    ]);
    assert.match(
      report.findings.find((f) => f.ruleId === 'secrets/aws-access-key')!.message,
      /deleted or replaced in layer 1, so still in the image/,
    );
    const json = JSON.stringify(report);
    for (const secret of [AWS, 's3cr3t-value', 'npm_abcdefghij', 'b3BlbnNzaC1rZXkt'])
      assert.ok(!json.includes(secret), secret);
  });

  test('no findings for placeholders, system trees, binaries and large files', async () => {
    const report = await scan(
      image([
        { path: 'app/config.yml', content: 'aws_key: ${AWS_ACCESS_KEY_ID}\npassword: changeme-from-env\n' },
        { path: 'usr/share/doc/example/key.txt', content: `AKIAIOSFODNN7EXAMPLE\n` },
        { path: 'app/blob.bin', content: Buffer.concat([Buffer.from('AKIAIOSFODNN7EXAMPLE'), Buffer.alloc(10)]) },
        { path: 'app/big.log', content: `${'x'.repeat(600 * 1024)}AKIAIOSFODNN7EXAMPLE` },
      ]),
    );
    assert.deepEqual(
      report.findings.filter((f) => f.ruleId.startsWith('secrets/')),
      [],
    );
  });
});

describe('language packages', () => {
  test('npm packages under node_modules (scoped, nested, npm itself); Python distributions', async () => {
    const json = (o: unknown) => JSON.stringify(o);
    const report = await scan(
      image([
        { path: 'app/package.json', content: json({ name: 'my-app', version: '1.0.0' }) },
        {
          path: 'app/node_modules/lodash/package.json',
          content: json({ name: 'lodash', version: '4.17.20', license: 'MIT' }),
        },
        {
          path: 'app/node_modules/lodash/fp/package.json',
          content: json({ name: 'lodash-fp-internal', version: '0.0.0' }),
        },
        {
          path: 'app/node_modules/@types/node/package.json',
          content: json({ name: '@types/node', version: '20.1.0', license: 'MIT' }),
        },
        {
          path: 'app/node_modules/a/node_modules/b/package.json',
          content: json({ name: 'b', version: '2.0.0', license: { type: 'ISC' } }),
        },
        {
          path: 'usr/local/lib/node_modules/npm/package.json',
          content: json({ name: 'npm', version: '10.8.2', license: 'Artistic-2.0' }),
        },
        { path: 'app/node_modules/broken/package.json', content: '{ not json' },
        {
          path: 'usr/lib/python3/dist-packages/Flask-2.2.2.dist-info/METADATA',
          content: 'Metadata-Version: 2.1\nName: Flask\nVersion: 2.2.2\nLicense: BSD-3-Clause\n\nbody',
        },
        {
          path: 'usr/lib/python3/dist-packages/six-1.16.0.egg-info',
          content: 'Metadata-Version: 1.1\nName: six\nVersion: 1.16.0\nLicense: MIT\n',
        },
      ]),
    );
    assert.deepEqual(
      report.packages.map((p) => `${p.type} ${p.name}@${p.version} ${p.purl} ${(p.licenses ?? []).join(',')}`),
      [
        'npm @types/node@20.1.0 pkg:npm/%40types/node@20.1.0 MIT',
        'npm b@2.0.0 pkg:npm/b@2.0.0 ISC',
        'npm lodash@4.17.20 pkg:npm/lodash@4.17.20 MIT',
        'npm npm@10.8.2 pkg:npm/npm@10.8.2 Artistic-2.0',
        'pypi Flask@2.2.2 pkg:pypi/flask@2.2.2 BSD-3-Clause',
        'pypi six@1.16.0 pkg:pypi/six@1.16.0 MIT',
      ],
    );
    assert.deepEqual(
      report.warnings.map((w) => w.code),
      ['W_NPM_MANIFEST_INVALID', 'W_VULN_DB_MISSING'],
    );
  });
});

describe('binaries', () => {
  test('Go modules from the build information of a real Go ELF (trivy fixture)', async () => {
    const elf = await readFile(join(REALDATA, 'pkgdb/go-binary/trivy/test.elf'));
    const expected = JSON.parse(await readFile(join(REALDATA, 'pkgdb/go-binary/trivy/expected.json'), 'utf8')) as {
      packages: { name: string; version: string }[];
    };
    const report = await scan(
      image([
        { path: 'app/server', content: elf, mode: 0o755 },
        { path: 'app/data.bin', content: elf, mode: 0o644 },
      ]),
    );
    assert.deepEqual(
      report.packages.map((p) => `${p.name}@${p.version}`).sort(),
      expected.packages.map((p) => `${p.name}@${p.version || '(devel)'}`).sort(),
    );
    assert.ok(
      report.packages.every((p) => p.type === 'golang' && p.locations[0]!.path === '/app/server'),
      'non-executable copies are not read',
    );
    assert.equal(
      report.packages.find((p) => p.name === 'golang.org/x/xerrors')?.purl,
      'pkg:golang/golang.org/x/xerrors@v0.0.0-20200804184101-5ec99f83aff1',
    );
  });
});

describe('java archives', () => {
  test('maven.war and a shaded jar (trivy fixtures): every artifact, nested jars included, with licences', async () => {
    const dir = join(REALDATA, 'pkgdb/java/trivy');
    const expected = JSON.parse(await readFile(join(dir, 'expected.json'), 'utf8')) as Record<
      string,
      { name: string; version: string; licenses?: string[] }[]
    >;
    const report = await scan(
      image([
        { path: 'app/maven.war', content: await readFile(join(dir, 'maven.war')) },
        {
          path: 'opt/lib/io.quarkus.gizmo.gizmo-1.1.jar',
          content: await readFile(join(dir, 'io.quarkus.gizmo.gizmo-1.1.jar')),
        },
      ]),
    );
    const key = (p: { name: string; version: string; licenses?: readonly string[] }) =>
      `${p.name}@${p.version} ${(p.licenses ?? []).join('|')}`;
    const want = [...expected['maven.war']!, ...expected['io.quarkus.gizmo.gizmo-1.1.jar']!].map(key).sort();
    assert.deepEqual(
      report.packages
        .filter((p) => p.type === 'maven')
        .map(key)
        .sort(),
      want,
    );
    const databind = report.packages.find(
      (p) => p.name === 'com.fasterxml.jackson.core:jackson-databind' && p.version === '2.9.10.6',
    )!;
    assert.equal(databind.purl, 'pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.9.10.6');
    assert.equal(databind.locations[0]!.path, '/app/maven.war/WEB-INF/lib/jackson-databind-2.9.10.6.jar');
  });
});

describe('rust', () => {
  test(
    'crates from a cargo-auditable .dep-v0 section (added to a real ELF with objcopy); build deps skipped',
    { skip: spawnSync('sh', ['-c', 'command -v objcopy']).status === 0 ? false : 'objcopy not installed' },
    async () => {
      const dir = await tempDir();
      try {
        const audit = {
          packages: [
            { name: 'hello', version: '0.1.0', source: 'local', kind: 'runtime', dependencies: [1, 2], root: true },
            { name: 'serde', version: '1.0.203', source: 'crates.io', kind: 'runtime' },
            { name: 'cc', version: '1.0.98', source: 'crates.io', kind: 'build' },
          ],
        };
        await writeFile(join(dir.path, 'dep-v0'), deflateSync(Buffer.from(JSON.stringify(audit))));
        const made = spawnSync(
          'objcopy',
          ['--add-section', `.dep-v0=${join(dir.path, 'dep-v0')}`, '/bin/true', join(dir.path, 'hello')],
          { encoding: 'utf8' },
        );
        assert.equal(made.status, 0, made.stderr);
        const report = await scan(
          image([{ path: 'usr/local/bin/hello', content: await readFile(join(dir.path, 'hello')), mode: 0o755 }]),
        );
        assert.deepEqual(
          report.packages.map((p) => `${p.type} ${p.name}@${p.version} ${p.purl}`),
          ['cargo hello@0.1.0 pkg:cargo/hello@0.1.0', 'cargo serde@1.0.203 pkg:cargo/serde@1.0.203'],
        );
      } finally {
        await dir.cleanup();
      }
    },
  );
});

describe('runtimes no package database records', () => {
  test('the Node.js binary running these tests, Python from source, a JDK from a tarball; not when dpkg owns them', async () => {
    const node = await readFile(process.execPath);
    const version = process.version.slice(1);
    const files: FileSpec[] = [
      { path: 'nodejs/bin/node', content: node, mode: 0o755 },
      {
        path: 'usr/local/include/python3.12/patchlevel.h',
        content: '#define PY_MAJOR_VERSION 3\n#define PY_VERSION "3.12.4"\n',
      },
      { path: 'usr/local/bin/python3.12', content: ELF, mode: 0o755 },
      { path: 'opt/java/openjdk/release', content: 'IMPLEMENTOR="Eclipse Adoptium"\nJAVA_VERSION="21.0.3"\n' },
      { path: 'opt/java/openjdk/bin/java', content: ELF, mode: 0o755 },
    ];
    const report = await scan({ layers: [{ files, compression: 'none' }], config: NONROOT });
    assert.deepEqual(
      report.packages.map((p) => `${p.type} ${p.name}@${p.version} ${p.locations[0]!.path} ${p.purl}`),
      [
        `binary node@${version} /nodejs/bin/node pkg:generic/node@${version}`,
        'binary openjdk@21.0.3 /opt/java/openjdk/bin/java pkg:generic/openjdk@21.0.3',
        'binary python@3.12.4 /usr/local/bin/python3.12 pkg:generic/python@3.12.4',
      ].sort(),
    );
    // The same node binary installed by a Debian package is that package, not a second one.
    const owned = await scan({
      layers: [
        {
          files: [
            { path: 'usr/bin/node', content: node, mode: 0o755 },
            {
              path: 'var/lib/dpkg/status',
              content: 'Package: nodejs\nStatus: install ok installed\nVersion: 20.0.0-1\nArchitecture: amd64\n\n',
            },
            { path: 'var/lib/dpkg/info/nodejs.list', content: '/.\n/usr\n/usr/bin\n/usr/bin/node\n' },
          ],
          compression: 'none',
        },
      ],
      config: NONROOT,
    });
    assert.deepEqual(
      owned.packages.map((p) => `${p.type} ${p.name}`),
      ['deb nodejs'],
    );
  });
});

describe('classification', () => {
  const wolfiRelease: FileSpec = {
    path: 'etc/os-release',
    content: 'ID=wolfi\nNAME="Wolfi"\nPRETTY_NAME="Wolfi"\nVERSION_ID="20230201"\n',
  };
  const apkDb = (names: string[]): FileSpec => ({
    path: 'lib/apk/db/installed',
    content: names.map((n) => `P:${n}\nV:1.0-r0\nA:x86_64\n`).join('\n'),
  });
  test('Wolfi without shell is distroless; with busybox and apk it is minimal; Chainguard -dev is distroless-debug', async () => {
    const bare = await scan(image([wolfiRelease, apkDb(['glibc', 'ca-certificates-bundle'])]));
    assert.deepEqual([bare.os.id, bare.os.classification], ['wolfi', 'distroless']);
    assert.equal(
      bare.packages[0]?.purl,
      'pkg:apk/wolfi/ca-certificates-bundle@1.0-r0?arch=x86_64&distro=wolfi-20230201',
    );
    const base = await scan(image([wolfiRelease, apkDb(['busybox', 'apk-tools']), ...BUSYBOX, exe('sbin/apk')]));
    assert.equal(base.os.classification, 'minimal');
    const dev = await scan(
      image([
        { path: 'etc/os-release', content: 'ID=chainguard\nPRETTY_NAME="Chainguard"\n' },
        ...BUSYBOX,
        exe('sbin/apk'),
      ]),
    );
    assert.equal(dev.os.classification, 'distroless-debug');
  });

  test('gcr.io/distroless :debug (busybox under /busybox) is distroless-debug', async () => {
    const report = await scan(
      image([
        { path: 'etc/os-release', content: 'PRETTY_NAME="Distroless"\nID=debian\nVERSION_ID="12"\n' },
        {
          path: 'var/lib/dpkg/status.d/base-files',
          content: 'Package: base-files\nVersion: 12.4\nArchitecture: amd64\n',
        },
        exe('busybox/busybox'),
        { path: 'busybox/sh', type: 'symlink', target: '/busybox/busybox' },
      ]),
    );
    assert.equal(report.os.classification, 'distroless-debug');
    assert.deepEqual(
      report.surface.shells.map((s) => [s.path, s.via]),
      [
        ['/busybox/busybox', undefined],
        ['/busybox/sh', 'busybox'],
      ],
    );
  });
});

describe('size', () => {
  test('bytes written and deleted in a later layer are wasted; a clean image is not', async () => {
    const big = Buffer.alloc(3_000_000, 7);
    const wasteful = await scan(
      image([{ path: 'tmp/cache.bin', content: big }, exe('app/server')], NONROOT, [
        { files: [{ path: 'tmp/cache.bin', type: 'whiteout' }] },
      ]),
    );
    assert.equal(wasteful.size.wastedBytes, 3_000_000);
    assert.equal(rules(wasteful, 'size/wasted-bytes').length, 1);
    const clean = await scan(image([exe('app/server')]));
    assert.equal(clean.size.efficiency, 1);
    assert.deepEqual(rules(clean, 'size/wasted-bytes'), []);
  });
});

describe('packages belong to the layer that installed them', () => {
  const stanza = (name: string, version: string) =>
    `Package: ${name}\nStatus: install ok installed\nVersion: ${version}\nArchitecture: amd64\n\n`;
  const apk = (name: string, version: string) => `P:${name}\nV:${version}\nA:x86_64\n\n`;
  const layerOf = (report: Report, name: string) => report.packages.find((p) => p.name === name)?.locations[0]?.layer;

  test('dpkg: by info/<pkg>.list, and by the first status that lists it when there are none', async () => {
    const report = await scan(
      image(
        [
          { path: 'etc/os-release', content: 'ID=debian\nVERSION_ID="12"\n' },
          { path: 'var/lib/dpkg/status', content: stanza('libc6', '2.36-9') + stanza('base-files', '12.4') },
          { path: 'var/lib/dpkg/info/libc6:amd64.list', content: '/lib/x86_64-linux-gnu/libc.so.6\n' },
        ],
        NONROOT,
        [
          {
            files: [
              {
                path: 'var/lib/dpkg/status',
                content:
                  stanza('libc6', '2.36-9') +
                  stanza('base-files', '12.4') +
                  stanza('nodejs', '18.19.0') +
                  stanza('libuv1', '1.44'),
              },
              { path: 'var/lib/dpkg/info/nodejs.list', content: '/usr/bin/node\n' },
            ],
          },
          {
            files: [
              {
                path: 'var/lib/dpkg/status',
                content:
                  stanza('libc6', '2.36-9+deb12u4') +
                  stanza('base-files', '12.4') +
                  stanza('nodejs', '18.19.0') +
                  stanza('libuv1', '1.44'),
              },
            ],
          },
        ],
      ),
    );
    assert.equal(layerOf(report, 'base-files'), 0, 'no .list: the first status that lists it');
    assert.equal(layerOf(report, 'nodejs'), 1, 'its .list was written by layer 1');
    assert.equal(layerOf(report, 'libuv1'), 1);
    assert.equal(
      layerOf(report, 'libc6'),
      0,
      'the layer of its .list (the upgrade in layer 2 kept the old .list here)',
    );
  });

  test('apk: the first version of the database that lists it at that version', async () => {
    const report = await scan(
      image(
        [{ path: 'lib/apk/db/installed', content: apk('musl', '1.2.5-r0') + apk('busybox', '1.36.1-r29') }],
        NONROOT,
        [
          {
            files: [
              {
                path: 'lib/apk/db/installed',
                content: apk('musl', '1.2.5-r0') + apk('busybox', '1.36.1-r29') + apk('curl', '8.9.1-r0'),
              },
            ],
          },
          {
            files: [
              {
                path: 'lib/apk/db/installed',
                content: apk('musl', '1.2.5-r1') + apk('busybox', '1.36.1-r29') + apk('curl', '8.9.1-r0'),
              },
            ],
          },
        ],
      ),
    );
    assert.deepEqual(
      ['musl', 'busybox', 'curl'].map((n) => layerOf(report, n)),
      [2, 0, 1],
      'musl was upgraded in layer 2; curl added in layer 1',
    );
  });
});
