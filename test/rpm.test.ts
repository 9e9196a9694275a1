import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, readdir, mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Report } from '../src/core/report.js';
import { scanSpec } from './fixtures/scan.js';
import type { FileSpec } from './fixtures/tar.js';
import { REALDATA, tempDir } from './helpers.js';

/** rpm databases in all three formats, read from images that carry them. */
const scanFiles = (files: FileSpec[]): Promise<Report> => scanSpec({ layers: [{ files }], config: { User: '1000' } });

const osRelease = (id: string, version: string): FileSpec => ({
  path: 'etc/os-release',
  content: `ID=${id}\nVERSION_ID="${version}"\nPRETTY_NAME="${id} ${version}"\n`,
});

describe('rpm databases from upstream (shared/realdata)', () => {
  test('CBL-Mariner 2.0 SQLite rpmdb: 129 packages, curl 7.76.0-6.cm2', async () => {
    const report = await scanFiles([
      osRelease('mariner', '2.0'),
      {
        path: 'var/lib/rpm/rpmdb.sqlite',
        content: await readFile(join(REALDATA, 'pkgdb/rpm/cbl-mariner-2.0/rpmdb.sqlite')),
      },
    ]);
    assert.equal(report.packages.filter((p) => p.type === 'rpm').length, 129);
    const curl = report.packages.find((p) => p.name === 'curl')!;
    assert.deepEqual(
      [curl.version, curl.arch, curl.source, curl.licenses, curl.purl],
      ['7.76.0-6.cm2', 'x86_64', 'curl', ['MIT'], 'pkg:rpm/mariner/curl@7.76.0-6.cm2?arch=x86_64&distro=mariner-2.0'],
    );
  });

  test('each package belongs to the layer that installed it: the first version of the database that lists it', async () => {
    const full = await readFile(join(REALDATA, 'pkgdb/rpm/cbl-mariner-2.0/rpmdb.sqlite'));
    const dir = await tempDir();
    try {
      // The base layer's database: ten of the packages of the full one, as a database of their own.
      const base = join(dir.path, 'base.sqlite');
      await writeFile(join(dir.path, 'full.sqlite'), full);
      const Database = createRequire(import.meta.url)('better-sqlite3') as new (p: string) => {
        exec(sql: string): void;
        close(): void;
      };
      const db = new Database(base);
      db.exec(
        `CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL);
         ATTACH '${join(dir.path, 'full.sqlite')}' AS full;
         INSERT INTO Packages SELECT hnum, blob FROM full.Packages ORDER BY hnum LIMIT 10;
         DETACH full;`,
      );
      db.close();
      const report = await scanSpec({
        layers: [
          { files: [osRelease('mariner', '2.0'), { path: 'var/lib/rpm/rpmdb.sqlite', content: await readFile(base) }] },
          { files: [{ path: 'var/lib/rpm/rpmdb.sqlite', content: full }] },
        ],
        config: { User: '1000' },
      });
      const rpms = report.packages.filter((p) => p.type === 'rpm');
      const byLayer = (layer: number) => rpms.filter((p) => p.locations[0]!.layer === layer).length;
      assert.equal(rpms.length, 129);
      assert.equal(byLayer(0), 10, 'the packages the base layer installed');
      assert.equal(byLayer(0) + byLayer(1), 129);
    } finally {
      await dir.cleanup();
    }
  });

  test('RHEL 8 Berkeley DB Packages: libuuid 2.32.1-42.el8_8 from util-linux', async () => {
    const report = await scanFiles([
      osRelease('rhel', '8.8'),
      { path: 'var/lib/rpm/Packages', content: await readFile(join(REALDATA, 'pkgdb/rpm/libuuid-rhel8/Packages')) },
    ]);
    assert.deepEqual(
      report.packages.map((p) => `${p.name}@${p.version} ${p.arch} ${p.source}`),
      ['libuuid@2.32.1-42.el8_8 x86_64 util-linux'],
    );
  });
});

const rpmTools = ['rpm', 'rpmbuild'].every((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status === 0);

describe(
  'rpm databases written by rpm itself',
  { skip: rpmTools ? false : 'rpm/rpmbuild not installed (run .ci/run)' },
  () => {
    let db: string;
    let work: Awaited<ReturnType<typeof tempDir>>;
    after(() => work?.cleanup());
    before(async () => {
      work = await tempDir();
      await mkdir(join(work.path, 'SPECS'), { recursive: true });
      await writeFile(
        join(work.path, 'SPECS', 'hello.spec'),
        'Name: distrolens-hello\nVersion: 1.2.3\nRelease: 4\nEpoch: 2\nSummary: test\nLicense: MIT\nBuildArch: noarch\n%description\ntest\n%install\nmkdir -p %{buildroot}/usr/share/hello\necho hi > %{buildroot}/usr/share/hello/hi.txt\n%files\n/usr/share/hello/hi.txt\n',
      );
      const build = spawnSync(
        'rpmbuild',
        ['--define', `_topdir ${work.path}`, '-bb', join(work.path, 'SPECS', 'hello.spec')],
        { encoding: 'utf8' },
      );
      assert.equal(build.status, 0, build.stderr);
      db = join(work.path, 'db');
      await mkdir(db);
      const rpmFile = join(work.path, 'RPMS', 'noarch', (await readdir(join(work.path, 'RPMS', 'noarch')))[0]!);
      const install = spawnSync(
        'rpm',
        ['--define', '_db_backend sqlite', '--dbpath', db, '-i', '--justdb', '--nodeps', rpmFile],
        { encoding: 'utf8' },
      );
      assert.equal(install.status, 0, install.stderr);
    });

    test('SQLite database with its write-ahead log: epoch, version, files', async () => {
      const files: FileSpec[] = [
        osRelease('fedora', '40'),
        { path: 'var/lib/rpm/rpmdb.sqlite', content: await readFile(join(db, 'rpmdb.sqlite')) },
      ];
      if (existsSync(join(db, 'rpmdb.sqlite-wal')))
        files.push({ path: 'var/lib/rpm/rpmdb.sqlite-wal', content: await readFile(join(db, 'rpmdb.sqlite-wal')) });
      const report = await scanFiles(files);
      const hello = report.packages.filter((p) => p.name === 'distrolens-hello');
      assert.deepEqual(
        hello.map((p) => [p.version, p.arch, p.purl]),
        [['2:1.2.3-4', 'noarch', 'pkg:rpm/fedora/distrolens-hello@1.2.3-4?arch=noarch&distro=fedora-40&epoch=2']],
      );
    });

    test("NDB Packages.db (SUSE): the same header read from rpm's slot and blob layout", async () => {
      // Debian's rpm is built without the NDB backend, so the file is assembled here from a real
      // header blob, following rpm's lib/backend/ndb/rpmpkg.c layout.
      const Database = createRequire(import.meta.url)('better-sqlite3') as new (p: string) => {
        prepare(s: string): { all(): { blob: Buffer }[] };
        close(): void;
      };
      const sqlite = new Database(join(db, 'rpmdb.sqlite'));
      const [{ blob }] = sqlite.prepare('SELECT blob FROM Packages').all() as [{ blob: Buffer }];
      sqlite.close();
      const page = Buffer.alloc(4096);
      page.writeUInt32LE(0x506d7052, 0); // 'RpmP'
      page.writeUInt32LE(1, 12); // one page of slots
      for (let i = 0; i < 254; i++) page.writeUInt32LE(0x746f6c53, 32 + i * 16); // 'Slot'
      page.writeUInt32LE(1, 32 + 4); // package index 1
      page.writeUInt32LE(4096 / 16, 32 + 8); // blob at block 256 (byte 4096)
      const blobHeader = Buffer.alloc(16);
      blobHeader.writeUInt32LE(0x53626c42, 0); // 'BlbS'
      blobHeader.writeUInt32LE(1, 4);
      blobHeader.writeUInt32LE(1, 8);
      blobHeader.writeUInt32LE(blob.length, 12);
      const ndb = Buffer.concat([page, blobHeader, blob, Buffer.alloc(16)]);
      const report = await scanFiles([
        osRelease('sles', '15.5'),
        { path: 'usr/lib/sysimage/rpm/Packages.db', content: ndb },
      ]);
      assert.deepEqual(
        report.packages.map((p) => `${p.name}@${p.version}`),
        ['distrolens-hello@2:1.2.3-4'],
      );
    });

    test('a corrupt database is a warning, and the rest of the scan goes on', async () => {
      const report = await scanFiles([
        osRelease('rhel', '8'),
        { path: 'var/lib/rpm/Packages', content: Buffer.alloc(8192, 0x41) },
        { path: 'etc/passwd', content: 'root:x:0:0::/root:/bin/sh\n' },
      ]);
      assert.deepEqual(
        report.warnings.map((w) => w.code).filter((c) => c.startsWith('W_RPMDB')),
        ['W_RPMDB_UNREADABLE'],
      );
      assert.equal(report.surface.users.length, 1);
    });
  },
);
