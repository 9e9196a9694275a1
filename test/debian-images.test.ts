import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { BlobCache } from '../src/cache/blobs.js';
import { inspect } from '../src/scan/inspect.js';
import { validateImage } from '../src/image/validate.js';
import { RegistryClient } from '../src/sources/registry/client.js';
import { ensureDebianImages, extendImage, type DebianImage, type DebianImageName } from './fixtures/debian-images.js';
import type { Recommendation } from '../src/core/recommendation.js';
import { realpathSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { pushLayout } from './fixtures/image.js';
import { registryAvailable, startRegistry, type TestRegistry } from './fixtures/registry.js';
import { cli, openSource, tempDir } from './helpers.js';
import { join } from 'node:path';
import { scanInput } from './fixtures/scan.js';

/**
 * Real images built from Debian packages, read from every local format and from the real
 * registry after a push by our own code. The filesystem must match the root it was built from.
 */
const tools = ['debootstrap', 'dpkg-deb', 'apt-get'].every(
  (t) => spawnSync('sh', ['-c', `command -v ${t}`]).status === 0,
);
const skip = !tools
  ? 'debootstrap/dpkg not installed (run .ci/run)'
  : !registryAvailable()
    ? 'docker-registry not installed (run .ci/run)'
    : false;

describe('images built from Debian packages', { skip, timeout: 15 * 60_000 }, () => {
  let images: Record<DebianImageName, DebianImage>;
  let registry: TestRegistry;
  let cache: Awaited<ReturnType<typeof tempDir>>;

  before(
    async () => {
      images = await ensureDebianImages(['slim', 'static', 'base', 'multiarch']);
      registry = await startRegistry('none');
      cache = await tempDir();
    },
    { timeout: 15 * 60_000 },
  );
  after(async () => {
    await registry?.stop();
    await cache?.cleanup();
  });

  for (const name of ['slim', 'static', 'base'] as const) {
    test(`${name}: OCI layout, docker-archive and registry agree; files match the built root`, async () => {
      const client = new RegistryClient(registry.host);
      const pushed = await pushLayout(client, `debian/${name}`, 'latest', images[name].layout);
      const results = [];
      for (const input of [
        `oci:${images[name].layout}`,
        `docker-archive:${images[name].archive}`,
        `${registry.host}/debian/${name}:latest`,
      ]) {
        const source = await openSource(input, { cache: new BlobCache(cache.path), env: {} });
        const image = await source.resolve();
        await validateImage(image);
        const { report, fs } = await inspect(source);
        await source.close();
        results.push({ report, fs });
      }
      assert.equal(results[2]!.report.target.manifestDigest, pushed);
      for (const { report } of results) {
        assert.deepEqual(
          report.target.layers.map((l) => l.diffId),
          results[0]!.report.target.layers.map((l) => l.diffId),
        );
        assert.equal(report.target.configDigest, results[0]!.report.target.configDigest);
      }
      // Every path of the root it was built from, with the same type (find -printf %y).
      const find = spawnSync('find', ['.', '-mindepth', '1', '-printf', '%P %y\n'], {
        cwd: images[name].rootfs!,
        encoding: 'utf8',
        maxBuffer: 1 << 28,
      });
      const expected = find.stdout
        .trim()
        .split('\n')
        .map((line) => `/${line}`)
        .sort();
      const typeCode = {
        file: 'f',
        dir: 'd',
        symlink: 'l',
        hardlink: 'f',
        char: 'c',
        block: 'b',
        fifo: 'p',
        other: '?',
      } as const;
      const actual = results[0]!.fs
        .entries()
        .map((e) => `${e.path} ${typeCode[e.type]}`)
        .sort();
      assert.deepEqual(actual, expected);
      if (name !== 'slim') {
        assert.equal(results[0]!.fs.stat('/var/lib/dpkg/status'), undefined, 'distroless has no dpkg status file');
        assert.ok(results[0]!.fs.stat('/var/lib/dpkg/status.d/tzdata'));
        assert.equal(results[0]!.report.target.config.user, '65532');
        assert.equal(results[0]!.fs.stat('/bin/sh'), undefined, 'no shell');
      } else {
        assert.ok(results[0]!.fs.stat('/bin/sh'));
        assert.equal(results[0]!.fs.stat('/usr/bin/passwd')!.mode & 0o4000, 0o4000, 'setuid passwd');
      }
    });
  }

  test('multi-arch index: amd64 by default, arm64 on request, from layout and registry', async () => {
    await pushLayout(new RegistryClient(registry.host), 'debian/multi', 'latest', images.multiarch.layout);
    for (const input of [`oci:${images.multiarch.layout}`, `${registry.host}/debian/multi:latest`]) {
      const amd = await (await openSource(input, { cache: new BlobCache(cache.path), env: {} })).resolve();
      const arm = await (
        await openSource(input, { cache: new BlobCache(cache.path), env: {} })
      ).resolve({ platform: { os: 'linux', architecture: 'arm64' } });
      assert.equal(amd.platform.architecture, 'amd64');
      assert.equal(arm.platform.architecture, 'arm64');
      assert.notEqual(amd.manifestDigest, arm.manifestDigest);
      assert.deepEqual(
        amd.platforms.map((p) => p.architecture),
        ['amd64', 'arm64'],
      );
      await validateImage(arm);
    }
  });
});

describe('scan of images built from Debian packages', { skip, timeout: 15 * 60_000 }, () => {
  let images: Record<DebianImageName, DebianImage>;
  before(
    async () => {
      images = await ensureDebianImages(['slim', 'static', 'base']);
    },
    { timeout: 15 * 60_000 },
  );

  const scanLayout = (name: DebianImageName) => scanInput(`oci:${images[name].layout}`);

  test('slim: packages equal what dpkg-query reports on the same root; shells, apt/dpkg, setuid as find sees them', async () => {
    const report = await scanLayout('slim');
    const root = images.slim.rootfs!;
    const query = spawnSync(
      'dpkg-query',
      [`--admindir=${root}/var/lib/dpkg`, '-W', '-f', '${db:Status-Status} ${Package}@${Version} ${Architecture}\\n'],
      { encoding: 'utf8' },
    );
    assert.equal(query.status, 0, query.stderr);
    const expected = query.stdout
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('installed '))
      .map((l) => l.split(' ').slice(1).join(' '))
      .sort();
    assert.deepEqual(report.packages.map((p) => `${p.name}@${p.version} ${p.arch}`).sort(), expected);
    assert.ok(
      report.packages.every(
        (p) =>
          p.purl.startsWith(`pkg:deb/debian/${encodeURIComponent(p.name)}@`) &&
          p.purl.endsWith(`?arch=${p.arch}&distro=debian-12`),
      ),
      'purls carry arch and distro',
    );
    assert.equal(
      report.packages.find((p) => p.name === 'libc6')?.purl.replace(/@.*\?/, '@V?'),
      'pkg:deb/debian/libc6@V?arch=amd64&distro=debian-12',
    );
    const names = (items: readonly { name: string }[]) => new Set(items.map((i) => i.name));
    for (const shell of ['bash', 'dash', 'sh']) assert.ok(names(report.surface.shells).has(shell), shell);
    for (const pm of ['apt', 'apt-get', 'dpkg']) assert.ok(names(report.surface.packageManagers).has(pm), pm);
    const find = spawnSync('find', ['.', '-xdev', '-type', 'f', '-perm', '-4000'], { cwd: root, encoding: 'utf8' });
    const setuid = find.stdout
      .trim()
      .split('\n')
      .map((p) => p.replace(/^\./, ''))
      .sort();
    // /bin, /sbin, /lib are symlinks into /usr on bookworm: the image paths are the /usr ones.
    assert.deepEqual(report.surface.setuid.map((s) => s.path).sort(), setuid);
    assert.equal(report.os.classification, 'general');
    assert.equal(report.os.versionId, '12');
    // Licences come from /usr/share/doc/<pkg>/copyright, where Debian records them.
    assert.ok(
      report.packages.find((p) => p.name === 'dash')?.licenses?.some((l) => /BSD/i.test(l)),
      JSON.stringify(report.packages.find((p) => p.name === 'dash')),
    );
    assert.ok(report.packages.filter((p) => p.licenses?.length).length > report.packages.length / 2);
    assert.ok(report.findings.some((f) => f.ruleId === 'config/runs-as-root'));
    assert.equal(report.score.grade, 'D');
  });

  for (const name of ['static', 'base'] as const) {
    test(`${name}: distroless, no shell, no package manager, non-root, packages from status.d, grade A`, async () => {
      const report = await scanLayout(name);
      assert.equal(report.os.classification, 'distroless');
      assert.equal(report.os.prettyName, 'Distroless');
      assert.equal(report.surface.shells.length, 0);
      assert.equal(report.surface.packageManagers.length, 0);
      assert.equal(report.surface.setuid.length, 0);
      assert.equal(report.target.config.user, '65532');
      assert.ok(!report.findings.some((f) => f.ruleId === 'config/runs-as-root'));
      // dpkg-query on a status file assembled from the same status.d records is the independent check.
      const root = images[name].rootfs!;
      const { mkdtemp, readdir, readFile, writeFile, mkdir } = await import('node:fs/promises');
      const admin = await mkdtemp(join(root, '..', `${name}-admin-`));
      try {
        const records = (await readdir(join(root, 'var/lib/dpkg/status.d'))).filter((f) => !f.endsWith('.md5sums'));
        const status = await Promise.all(
          records.map(
            async (f) =>
              `${(await readFile(join(root, 'var/lib/dpkg/status.d', f), 'utf8')).trimEnd()}\nStatus: install ok installed\n`,
          ),
        );
        await writeFile(join(admin, 'status'), `${status.join('\n')}\n`);
        await mkdir(join(admin, 'info'));
        await mkdir(join(admin, 'updates'));
        const query = spawnSync('dpkg-query', [`--admindir=${admin}`, '-W', '-f', '${Package}@${Version}\\n'], {
          encoding: 'utf8',
        });
        assert.equal(query.status, 0, query.stderr);
        assert.deepEqual(
          report.packages.map((p) => `${p.name}@${p.version}`).sort(),
          query.stdout.trim().split('\n').sort(),
        );
      } finally {
        const { rm } = await import('node:fs/promises');
        await rm(admin, { recursive: true, force: true });
      }
      assert.ok(report.packages.every((p) => p.locations[0]!.path.startsWith('/var/lib/dpkg/status.d/')));
      assert.equal(report.score.grade, 'A');
    });
  }

  test('vulnerabilities: Debian:12 advisories reach binary packages through their source package and version, in dpkg and status.d images alike', async () => {
    const slim = await scanLayout('slim');
    const libc = slim.packages.find((p) => p.name === 'libc6')!;
    const apt = slim.packages.find((p) => p.name === 'apt')!;
    assert.equal(libc.source, 'glibc');
    // Advisories as Debian's OSV export writes them: by source package, in source versions.
    const record = (id: string, name: string, fixed: string) => ({
      id,
      upstream: [id.replace(/^DEBIAN-/, '')],
      affected: [
        {
          package: { ecosystem: 'Debian:12', name },
          ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed }] }],
        },
      ],
    });
    const dir = await tempDir();
    try {
      const { writeFile } = await import('node:fs/promises');
      await writeFile(
        join(dir.path, 'debian.json'),
        JSON.stringify([
          record('DEBIAN-CVE-2099-0001', 'glibc', `${libc.sourceVersion}+deb12u99`),
          record('DEBIAN-CVE-2099-0002', 'glibc', libc.sourceVersion!), // fixed in the installed version
          record('DEBIAN-CVE-2099-0003', 'apt', `${apt.sourceVersion}+deb12u99`),
        ]),
      );
      const { updateDb } = await import('../src/vuln/update.js');
      const { VulnDb } = await import('../src/vuln/db.js');
      await updateDb({ source: join(dir.path, 'debian.json'), dbPath: join(dir.path, 'db') });
      const db = VulnDb.open(join(dir.path, 'db'))!;
      try {
        const withVulns = (name: DebianImageName) =>
          scanInput(`oci:${images[name].layout}`, { vulnerabilities: { source: db } });
        const found = (r: Awaited<ReturnType<typeof scanLayout>>) =>
          [...new Set(r.vulnerabilities.map((v) => `${v.id} ${v.package.name}`))].sort();
        // Every binary package built from the source: libc6 and libc-bin from glibc, apt and libapt-pkg from apt.
        const binaries = (r: typeof slim, source: string, id: string) =>
          r.packages.filter((p) => (p.source ?? p.name) === source).map((p) => `${id} ${p.name}`);
        assert.deepEqual(
          found(await withVulns('slim')),
          [...binaries(slim, 'glibc', 'CVE-2099-0001'), ...binaries(slim, 'apt', 'CVE-2099-0003')].sort(),
        );
        assert.ok(binaries(slim, 'apt', 'x').length > 1);
        const base = await withVulns('base');
        assert.deepEqual(found(base), binaries(base, 'glibc', 'CVE-2099-0001').sort());
        assert.ok(found(base).length > 0, 'distroless base ships libc6');
        assert.ok(base.vulnerabilities.every((v) => v.fixedVersion === `${libc.sourceVersion}+deb12u99`));
      } finally {
        db.close();
      }
    } finally {
      await dir.cleanup();
    }
  });
});

describe('recommend on images built from Debian packages', { skip, timeout: 15 * 60_000 }, () => {
  let images: Record<DebianImageName, DebianImage>;
  let dir: { path: string; cleanup: () => Promise<void> };
  before(
    async () => {
      images = await ensureDebianImages(['slim', 'static', 'base']);
      dir = await tempDir();
    },
    { timeout: 15 * 60_000 },
  );
  after(async () => dir.cleanup());

  const recommendJson = async (input: string, ...args: string[]) => {
    const out = await cli(['recommend', input, '-f', 'json', '-q', '--cache-dir', join(dir.path, 'cache'), ...args]);
    assert.equal(out.code, 0, out.stderr);
    return JSON.parse(out.stdout) as Recommendation;
  };

  test('a Debian image running node (the real node binary in /usr/local/bin): a Node.js base, with what breaks', async () => {
    const layout = await extendImage(
      images.slim,
      join(dir.path, 'node'),
      [
        { path: 'usr/local/bin/node', from: realpathSync(process.execPath), mode: 0o755 },
        { path: 'app/server.js', content: 'require("http").createServer((q, s) => s.end("ok")).listen(8080)\n' },
      ],
      {
        Cmd: ['node', '/app/server.js'],
        WorkingDir: '/app',
        Healthcheck: { Test: ['CMD-SHELL', 'curl -f http://localhost:8080/ || exit 1'] },
      },
    );
    const r = await recommendJson(`oci:${layout}`, '--no-measure');
    assert.equal(r.runtime, 'node');
    assert.equal(r.alreadyMinimal, false);
    assert.ok(
      r.candidates.length >= 2 && r.candidates.every((c) => c.runtime === 'node'),
      JSON.stringify(r.candidates.map((c) => c.ref)),
    );
    assert.ok(
      r.candidates.some((c) => c.ref.startsWith('gcr.io/distroless/nodejs')) &&
        r.candidates.some((c) => c.family === 'chainguard'),
    );
    assert.ok(r.current.shells > 0 && r.current.packageManagers > 0);
    assert.ok(r.candidates.every((c) => !c.base.measured && c.base.shells === 0));
    assert.ok(
      r.breaks.some((b) => /HEALTHCHECK calls curl/.test(b)),
      r.breaks.join('\n'),
    );
    assert.ok(r.breaks.some((b) => /runs as root/.test(b)));
    assert.ok(r.debugging.some((d) => /kubectl debug/.test(d)));
  });

  test('a static binary on Debian (busybox-static as the application): a static base; measured when the candidate can be pulled', async () => {
    const layout = await extendImage(
      images.slim,
      join(dir.path, 'static-app'),
      [{ path: 'app/server', from: '/bin/busybox', mode: 0o755 }],
      { Entrypoint: ['/app/server'], User: '1000' },
    );
    const estimated = await recommendJson(`oci:${layout}`, '--no-measure');
    assert.equal(estimated.runtime, 'static');
    assert.match(estimated.evidence.join(' '), /statically linked/);
    assert.ok(estimated.candidates.every((c) => c.runtime === 'static' || c.runtime === 'glibc' || c.runtime === 'cc'));
    assert.equal(estimated.candidates[0]!.runtime, 'static');
    // A team's catalogue pointing at its own registry: the distroless-like static image, pushed to the local registry.
    const registry = await startRegistry('none');
    try {
      await pushLayout(new RegistryClient(registry.host), 'golden/static', 'v1', images.static.layout);
      await writeFile(
        join(dir.path, 'catalogue.yaml'),
        `- ref: ${registry.host}/golden/static:v1\n  runtime: static\n  sizeBytes: 3000000\n  packages: 9\n  user: "65532"\n  debug: ${registry.host}/golden/static:debug\n`,
      );
      const measured = await recommendJson(`oci:${layout}`, '--catalogue', join(dir.path, 'catalogue.yaml'));
      const golden = measured.candidates[0]!;
      assert.equal(golden.ref, `${registry.host}/golden/static:v1`);
      assert.equal(golden.base.measured, true);
      const scanned = await scanInput(`oci:${images.static.layout}`);
      assert.equal(golden.base.sizeBytes, scanned.size.uncompressed);
      assert.equal(golden.base.packages, scanned.packages.length);
      assert.equal(golden.base.user, '65532');
    } finally {
      await registry.stop();
    }
  });

  test('a distroless-like image: already minimal', async () => {
    const r = await recommendJson(`oci:${images.base.layout}`, '--no-measure');
    assert.equal(r.alreadyMinimal, true);
    assert.deepEqual(r.candidates, []);
    const text = await cli([
      'recommend',
      `oci:${images.base.layout}`,
      '-q',
      '--no-measure',
      '--cache-dir',
      join(dir.path, 'cache'),
    ]);
    assert.match(text.stdout, /is already minimal \(distroless\)/);
  });
});
