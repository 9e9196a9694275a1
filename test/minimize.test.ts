import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { lstat, mkdir, readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Report } from '../src/core/report.js';
import { extractImage } from '../src/minimize/layout.js';
import type { MinimizeResult } from '../src/minimize/index.js';
import { traceAvailable, traceRun } from '../src/minimize/trace.js';
import { openSource } from '../src/sources/index.js';
import { ensureDebianImages, extendImage, type DebianImage } from './fixtures/debian-images.js';
import { writeOciLayout, buildImage } from './fixtures/image.js';
import { freePort, registryAvailable, startRegistry } from './fixtures/registry.js';
import { cli, tempDir } from './helpers.js';

/**
 * `minimize` on real images built from Debian's packages: the nodejs image running a small HTTP
 * server, a Python WSGI app, a static binary, and hostile layouts. The results are run in a
 * chroot on this machine (as root) and must answer as the originals do.
 */
const tools = ['debootstrap', 'dpkg-deb'].every((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status === 0);
const canChroot = process.getuid?.() === 0 && existsSync('/usr/sbin/chroot');

async function minimizeCli(input: string, output: string, ...extra: string[]): Promise<MinimizeResult> {
  const out = await cli(['minimize', input, '--output', output, '--offline', '-f', 'json', ...extra]);
  assert.equal(out.code, 0, out.stderr);
  return JSON.parse(out.stdout) as MinimizeResult;
}

async function scanJson(input: string): Promise<Report> {
  const out = await cli(['scan', input, '--offline', '-f', 'json']);
  assert.equal(out.code, 0, out.stderr);
  return JSON.parse(out.stdout) as Report;
}

/** The image's visible tree in a directory (distrolens's own extraction), to run it in a chroot. */
async function rootfsOf(layout: string, dir: string): Promise<string> {
  const source = await openSource(`oci:${layout}`);
  try {
    await extractImage(await source.resolve(), dir, `${dir}.layers`);
    return dir;
  } finally {
    await source.close();
  }
}

/**
 * Runs `argv` in a chroot of `root` as 65532 with PORT set, and returns what GET path answers;
 * with `proc`, in new PID and mount namespaces with their own /proc (a JVM needs one).
 */
async function answer(root: string, argv: string[], path: string, options: { proc?: boolean } = {}): Promise<string> {
  const port = await freePort();
  const chroot = ['/usr/sbin/chroot', '--userspec=65532:65532', root, ...argv];
  if (options.proc) await mkdir(join(root, 'proc'), { recursive: true });
  const command = options.proc
    ? ['unshare', '--fork', '--pid', '--kill-child', `--mount-proc=${join(root, 'proc')}`, ...chroot]
    : chroot;
  // Its own process group, ended whole: the program runs as another user, so a parent-death
  // signal (unshare's --kill-child) does not reach it.
  const child = spawn(command[0]!, command.slice(1), {
    env: { PORT: String(port), PATH: '/usr/bin:/bin' },
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  try {
    for (let i = 0; i < 300; i++) {
      try {
        return await (await fetch(`http://127.0.0.1:${port}${path}`)).text();
      } catch {
        if (child.exitCode !== null) break;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    throw new Error(`no answer from ${argv.join(' ')} in ${root}: ${stderr}`);
  } finally {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
    child.stderr.destroy();
  }
}

describe(
  'minimize real Debian images',
  { skip: tools ? false : 'debootstrap not installed (run .ci/run)', timeout: 20 * 60_000 },
  () => {
    let node: DebianImage;
    let jre: DebianImage;
    let dir: Awaited<ReturnType<typeof tempDir>>;
    before(async () => {
      ({ node, jre } = await ensureDebianImages(['node', 'jre']));
      dir = await tempDir();
    });
    after(async () => dir?.cleanup());

    test('Debian nodejs running node /app/server.js: ≤ 35 % of the size, no shell, grade A or B, answers as the original', async () => {
      const server =
        "require('http').createServer((q, s) => s.end(`hello ${q.url} from ${process.version}`)).listen(Number(process.env.PORT), '127.0.0.1');\n";
      const layout = await extendImage(
        node,
        join(dir.path, 'node-app'),
        [
          { path: 'app/server.js', content: server },
          { path: 'app/package.json', content: '{"name":"app","version":"1.0.0"}' },
        ],
        { Entrypoint: ['node', '/app/server.js'], WorkingDir: '/app' },
      );
      const output = join(dir.path, 'node-min');
      const result = await minimizeCli(`oci:${layout}`, output);
      const [original, minimized] = result.comparison.images;
      assert.ok(
        minimized!.size.uncompressed <= 0.35 * original!.size.uncompressed,
        `${minimized!.size.uncompressed} of ${original!.size.uncompressed}`,
      );
      assert.equal(result.traced, false);
      assert.equal(result.output.user, '65532');
      assert.deepEqual(result.missing, []);
      assert.ok(result.removed.shells?.includes('/usr/bin/bash'));
      assert.ok(result.removed.packageManagers?.includes('/usr/bin/dpkg'));
      assert.ok(result.kept.some((k) => k.path === '/app/server.js' && k.layer === 'application'));
      assert.ok(result.kept.some((k) => /libc\.so\.6$/.test(k.path) && /DT_NEEDED/.test(k.reason)));

      // scan of the result: no shell, package manager or setuid; grade A or B; its packages from status.d.
      const report = await scanJson(`oci:${output}`);
      assert.deepEqual(
        [report.surface.shells.length, report.surface.packageManagers.length, report.surface.setuid.length],
        [0, 0, 0],
      );
      assert.match(report.score.grade, /^[AB]$/);
      const names = new Set(report.packages.map((p) => p.name));
      for (const name of ['libc6', 'nodejs', 'libnode108']) assert.ok(names.has(name), `${name} listed from status.d`);
      assert.equal(report.target.config.user, '65532');
      assert.equal(report.target.layers.length, 2);

      // Reproducible: the same input gives the same digests.
      const again = await minimizeCli(`oci:${layout}`, join(dir.path, 'node-min-2'));
      assert.equal(again.output.manifestDigest, result.output.manifestDigest);

      if (!canChroot) return;
      const argv = ['/usr/bin/node', '/app/server.js'];
      const want = await answer(await rootfsOf(layout, join(dir.path, 'root-orig')), argv, '/probe?x=1');
      assert.match(want, /^hello \/probe\?x=1 from v\d+/);
      assert.equal(await answer(await rootfsOf(output, join(dir.path, 'root-min')), argv, '/probe?x=1'), want);
    });

    test('a Python WSGI app on Debian python3 importing six from dist-packages still answers its probe', async () => {
      // six is Debian's python3-six in dist-packages (npm's node-gyp brings it): a package it imports.
      const app = [
        'import os',
        'from wsgiref.simple_server import make_server',
        'import six',
        'def app(environ, start):',
        "    start('200 OK', [('Content-Type', 'text/plain')])",
        "    return [('wsgi ' + environ['PATH_INFO'] + ' ' + six.__name__).encode()]",
        "make_server('127.0.0.1', int(os.environ['PORT']), app).serve_forever()",
        '',
      ].join('\n');
      const layout = await extendImage(node, join(dir.path, 'py-app'), [{ path: 'srv/app.py', content: app }], {
        Cmd: ['python3', '/srv/app.py'],
      });
      const output = join(dir.path, 'py-min');
      const result = await minimizeCli(`oci:${layout}`, output);
      assert.ok(result.kept.some((k) => /\/usr\/lib\/python3\.\d+\/wsgiref\/simple_server\.py$/.test(k.path)));
      assert.ok(result.kept.some((k) => k.path === '/srv/app.py' && k.layer === 'application'));
      assert.ok(!result.kept.some((k) => k.path.startsWith('/usr/share/nodejs')), 'node is not the program here');
      assert.ok(
        result.kept.some((k) => k.path === '/usr/lib/python3/dist-packages/six.py' && /imported by/.test(k.reason)),
      );
      assert.ok(!result.kept.some((k) => k.path.startsWith('/usr/lib/python3/dist-packages/gyp')), 'not imported');
      if (!canChroot) return;
      const argv = ['/usr/bin/python3', '/srv/app.py'];
      const want = await answer(await rootfsOf(layout, join(dir.path, 'py-root-orig')), argv, '/hi');
      assert.equal(want, 'wsgi /hi six');
      assert.equal(await answer(await rootfsOf(output, join(dir.path, 'py-root-min')), argv, '/hi'), want);
    });

    test('a JVM app on Debian openjdk-17-jre-headless: the JVM home, its links into /etc, the app; it still answers', async () => {
      const source = [
        'public class Hello {',
        '  public static void main(String[] args) throws Exception {',
        '    var port = Integer.parseInt(System.getenv("PORT"));',
        '    var server = com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress("127.0.0.1", port), 0);',
        '    server.createContext("/", x -> {',
        '      byte[] body = ("jvm " + x.getRequestURI() + " " + Runtime.version().feature()).getBytes();',
        '      x.sendResponseHeaders(200, body.length);',
        '      x.getResponseBody().write(body);',
        '      x.close();',
        '    });',
        '    server.start();',
        '  }',
        '}',
        '',
      ].join('\n');
      // Source-file mode: the JRE compiles Hello.java in memory (jdk.compiler is in its modules).
      const layout = await extendImage(jre, join(dir.path, 'jvm-app'), [{ path: 'app/Hello.java', content: source }], {
        Entrypoint: ['java', '/app/Hello.java'],
      });
      const output = join(dir.path, 'jvm-min');
      const result = await minimizeCli(`oci:${layout}`, output);
      assert.deepEqual(result.missing, [], 'libjvm.so is met by lib/server/libjvm.so, loaded first (its DT_SONAME)');
      assert.ok(result.kept.some((k) => k.path === '/app/Hello.java' && k.layer === 'application'));
      assert.ok(result.kept.some((k) => /\/lib\/server\/libjvm\.so$/.test(k.path)));
      assert.ok(
        result.kept.some((k) => /\/lib\/modules$/.test(k.path)),
        'the modules image',
      );
      // conf/security/java.security is a link into /etc/java-17-openjdk: the file is kept too.
      assert.ok(result.kept.some((k) => k.path === '/etc/java-17-openjdk/security/java.security'));
      assert.ok(!result.kept.some((k) => /^\/etc\/g?shadow$/.test(k.path)), 'no password hashes');
      assert.ok(result.removed.shells?.includes('/usr/bin/bash'));
      const report = await scanJson(`oci:${output}`);
      assert.deepEqual([report.surface.shells.length, report.surface.packageManagers.length], [0, 0]);
      assert.ok(
        report.packages.some((p) => p.name === 'openjdk-17-jre-headless'),
        'listed from status.d',
      );
      if (!canChroot) return;
      const argv = ['/usr/bin/java', '/app/Hello.java'];
      const want = await answer(await rootfsOf(layout, join(dir.path, 'jvm-root-orig')), argv, '/x', { proc: true });
      assert.equal(want, 'jvm /x 17');
      const got = await answer(await rootfsOf(output, join(dir.path, 'jvm-root-min')), argv, '/x', { proc: true });
      assert.equal(got, want);
    });

    test(
      'a library loaded by dlopen under a computed name: missed by the static closure, found by --trace',
      { skip: traceAvailable() ?? false },
      async () => {
        const port = await freePort();
        // ctypes dlopens a name the program computes: no string of any binary holds it.
        const app = [
          'import ctypes, os',
          'from wsgiref.simple_server import make_server',
          "lib = ctypes.CDLL('lib' + 'seccomp' + '.so.2')",
          'def app(environ, start):',
          "    start('200 OK', [('Content-Type', 'text/plain')])",
          "    return [('loaded ' + lib._name).encode()]",
          `make_server('127.0.0.1', ${port}, app).serve_forever()`,
          '',
        ].join('\n');
        const layout = await extendImage(node, join(dir.path, 'dl-app'), [{ path: 'srv/app.py', content: app }], {
          Cmd: ['python3', '/srv/app.py'],
        });
        const plain = await minimizeCli(`oci:${layout}`, join(dir.path, 'dl-plain'));
        assert.ok(!plain.kept.some((k) => /libseccomp\.so/.test(k.path)), 'the static closure cannot see it');
        assert.equal(plain.traced, false);
        const traced = await minimizeCli(
          `oci:${layout}`,
          join(dir.path, 'dl-traced'),
          '--probe',
          `http://127.0.0.1:${port}/x`,
        );
        assert.ok(
          traced.trace!.added.some((p) => /libseccomp\.so\.2$/.test(p)),
          JSON.stringify(traced.trace),
        );
        assert.ok(traced.kept.some((k) => /libseccomp\.so\.2\.\d/.test(k.path) && /--trace/.test(k.reason)));
        assert.equal(traced.trace!.original, '200 loaded libseccomp.so.2');
        assert.equal(traced.trace!.minimized, traced.trace!.original);
        assert.equal(traced.traced, true);
      },
    );
  },
);

test('a static binary: the binary, certificates, time zones and accounts, no library', async () => {
  const dir = await tempDir();
  try {
    // glibc's ldconfig is a static-pie executable: the stand-in for a static Go binary.
    const binary = await readFile('/sbin/ldconfig');
    const zone = Buffer.from('TZif2 fake zone data');
    const image = buildImage({
      layers: [
        {
          files: [
            { path: 'etc/passwd', content: 'root:x:0:0:root:/root:/bin/sh\n' },
            { path: 'etc/group', content: 'root:x:0:\n' },
            { path: 'etc/ssl/certs/ca-certificates.crt', content: '-----BEGIN CERTIFICATE-----\n' },
            { path: 'usr/share/zoneinfo/Europe/Paris', content: zone },
            { path: 'bin/sh', content: binary, mode: 0o755 },
            { path: 'usr/lib/x86_64-linux-gnu/libunused.so.1', content: binary },
            { path: 'app/server', content: binary, mode: 0o755 },
          ],
        },
      ],
      config: { Entrypoint: ['/app/server'] },
    });
    await writeOciLayout(join(dir.path, 'in'), [{ image }]);
    const result = await minimizeCli(`oci:${join(dir.path, 'in')}`, join(dir.path, 'out'));
    assert.deepEqual(
      result.kept.map((k) => k.path),
      [
        '/app/server',
        '/etc/group',
        '/etc/passwd',
        '/etc/ssl/certs/ca-certificates.crt',
        '/usr/share/zoneinfo',
        '/usr/share/zoneinfo/Europe',
        '/usr/share/zoneinfo/Europe/Paris',
      ],
    );
    assert.deepEqual(result.missing, []);
    assert.deepEqual(result.removed.shells, ['/bin/sh']);
    // The passwd of the result has the nonroot user it now runs as.
    const report = await scanJson(`oci:${join(dir.path, 'out')}`);
    assert.ok(report.surface.users.some((u) => u.uid === 65532 && u.name === 'nonroot'));
    const blobs = await readdir(join(dir.path, 'out', 'blobs', 'sha256'));
    assert.equal(blobs.length, 4, 'one layer (no application folder besides the binary), config, manifest');

    // Tracing would run it as root with --keep-user: refused, nothing written.
    if (traceAvailable() === undefined) {
      const refused = await cli([
        'minimize',
        `oci:${join(dir.path, 'in')}`,
        '--output',
        join(dir.path, 'as-root'),
        '--offline',
        '--trace',
        '--keep-user',
      ]);
      assert.equal(refused.code, 2, refused.stderr);
      assert.match(refused.stderr, /error E_USAGE: --trace would run the image as root/);
      assert.equal(existsSync(join(dir.path, 'as-root')), false);
    }

    // The other destinations: the same image as archives (read back by distrolens) and pushed to a registry.
    for (const kind of ['oci-archive', 'docker-archive'] as const) {
      const file = join(dir.path, `out-${kind}.tar`);
      const archived = await minimizeCli(`oci:${join(dir.path, 'in')}`, `${kind}:${file}`);
      assert.equal(archived.output.manifestDigest, result.output.manifestDigest);
      assert.equal(archived.output.destination, `${kind}:${file}`);
      const back = await scanJson(`${kind}:${file}`);
      assert.deepEqual(
        back.target.layers.map((l) => l.diffId),
        report.target.layers.map((l) => l.diffId),
      );
    }
    if (registryAvailable()) {
      const registry = await startRegistry('none');
      try {
        const out = await cli([
          'minimize',
          `oci:${join(dir.path, 'in')}`,
          '--output',
          `registry:${registry.host}/min/app:1`,
          '--skip-db-update',
          '-f',
          'json',
        ]);
        assert.equal(out.code, 0, out.stderr);
        const pushed = JSON.parse(out.stdout) as MinimizeResult;
        assert.equal(pushed.output.destination, `registry:${registry.host}/min/app:1`);
        const scanned = await cli(['scan', `${registry.host}/min/app:1`, '--skip-db-update', '-f', 'json']);
        const remote = JSON.parse(scanned.stdout) as Report;
        assert.equal(remote.target.manifestDigest, result.output.manifestDigest);
      } finally {
        await registry.stop();
      }
    }
  } finally {
    await dir.cleanup();
  }
});

test('files of an application tree are analysed too: a native addon gets its libraries', async () => {
  const dir = await tempDir();
  try {
    // A real dynamically linked ELF (coreutils' true) stands in for a node addon: it needs libc.so.6.
    // Nothing else in the image names libc: the program is a script whose interpreter is plain data.
    const addon = await readFile('/usr/bin/true');
    const image = buildImage({
      layers: [
        {
          files: [
            { path: 'app/server', content: '#!/app/interpreter\n', mode: 0o755 },
            { path: 'app/interpreter', content: 'not a binary', mode: 0o755 },
            { path: 'app/node_modules/addon/build/Release/addon.node', content: addon, mode: 0o644 },
            { path: 'lib64/ld-linux-x86-64.so.2', content: 'loader' },
            { path: 'lib/x86_64-linux-gnu/libc.so.6', content: 'libc' },
            { path: 'lib/x86_64-linux-gnu/libunrelated.so.1', content: 'unrelated' },
          ],
        },
      ],
      config: { Entrypoint: ['/app/server'] },
    });
    await writeOciLayout(join(dir.path, 'in'), [{ image }]);
    const result = await minimizeCli(`oci:${join(dir.path, 'in')}`, join(dir.path, 'out'), '--keep', '/app');
    const kept = new Map(result.kept.map((k) => [k.path, k.reason]));
    assert.match(
      kept.get('/lib/x86_64-linux-gnu/libc.so.6') ?? '',
      /needed by \/app\/node_modules\/addon\/build\/Release\/addon\.node/,
    );
    assert.match(kept.get('/lib64/ld-linux-x86-64.so.2') ?? '', /ELF interpreter of \/app\/node_modules/);
    assert.ok(!kept.has('/lib/x86_64-linux-gnu/libunrelated.so.1'));
  } finally {
    await dir.cleanup();
  }
});

test('hostile layouts: links out of the root, loops and /proc paths are never followed outside the image', async () => {
  const dir = await tempDir();
  try {
    const binary = await readFile('/sbin/ldconfig');
    const image = buildImage({
      layers: [
        {
          files: [
            { path: 'app/server', content: binary, mode: 0o755 },
            { path: 'app/escape', type: 'symlink', target: '../../../../../../etc/shadow' },
            { path: 'app/loop-a', type: 'symlink', target: 'loop-b' },
            { path: 'app/loop-b', type: 'symlink', target: 'loop-a' },
            { path: 'app/self', type: 'symlink', target: '/proc/self/root' },
            // Hardlinks to a directory and to nothing have no bytes: left out; one to the binary is kept.
            { path: 'app/hl-dir', type: 'hardlink', target: 'app' },
            { path: 'app/hl-nowhere', type: 'hardlink', target: 'app/nothing' },
            { path: 'app/tool', type: 'hardlink', target: 'app/server' },
            { path: 'etc/ld.so.conf', content: 'include ../../../../etc/ld.so.conf.d/*.conf\n/proc/self/root/lib\n' },
          ],
        },
      ],
      config: { Entrypoint: ['/app/server'], Cmd: ['/app/loop-a'] },
    });
    await writeOciLayout(join(dir.path, 'in'), [{ image }]);
    const result = await minimizeCli(
      `oci:${join(dir.path, 'in')}`,
      join(dir.path, 'out'),
      '--keep',
      '/app',
      '--entry',
      '/app/self/bin/sh',
    );
    // The links are kept as links; nothing behind them is read from this machine.
    const kept = new Map(result.kept.map((k) => [k.path, k.reason]));
    for (const link of ['/app/escape', '/app/loop-a', '/app/loop-b', '/app/self']) assert.ok(kept.has(link), link);
    assert.ok(!kept.has('/etc/shadow'));
    assert.ok(result.missing.includes('/app/self/bin/sh'));
    const report = await scanJson(`oci:${join(dir.path, 'out')}`);
    assert.ok(!report.packages.length);
    const root = await rootfsOf(join(dir.path, 'out'), join(dir.path, 'out-root'));
    assert.deepEqual(await readFile(join(root, 'app', 'tool')), binary);
    assert.equal(existsSync(join(root, 'app', 'hl-dir')) || existsSync(join(root, 'app', 'hl-nowhere')), false);
  } finally {
    await dir.cleanup();
  }
});

test('minimize needs --output, and says so with a code', async () => {
  const out = await cli(['minimize', 'oci:/nonexistent']);
  assert.equal(out.code, 2);
  assert.match(out.stderr, /error E_/);
  assert.doesNotMatch(out.stderr, /\n\s+at /);
});

test('an output this machine cannot write is an E_IO with a hint, not a bug, and leaves nothing', async () => {
  const dir = await tempDir();
  try {
    await writeFile(join(dir.path, 'file'), 'x');
    await writeFile(join(dir.path, 'root', 'app'), 'x').catch(async () => {
      await mkdir(join(dir.path, 'root'));
      await writeFile(join(dir.path, 'root', 'app'), 'x');
    });
    const out = await cli(['minimize', `rootfs:${join(dir.path, 'root')}`, '--output', join(dir.path, 'file', 'out')]);
    assert.equal(out.code, 2, out.stderr);
    assert.match(out.stderr, /error E_IO: .*ENOTDIR\n\s+hint: a part of that path is a file/);
    assert.deepEqual((await readdir(dir.path)).sort(), ['file', 'root']);
  } finally {
    await dir.cleanup();
  }
});

const rpmTools = ['rpm', 'rpmbuild'].every((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status === 0);

test(
  'rpm: the kept packages are recorded in a new rpmdb.sqlite, the others are not',
  { skip: rpmTools ? false : 'rpm/rpmbuild not installed (run .ci/run)' },
  async () => {
    const dir = await tempDir();
    try {
      // Two real packages built and installed by rpm itself into a SQLite database.
      const db = join(dir.path, 'db');
      await mkdir(join(dir.path, 'SPECS'), { recursive: true });
      await mkdir(db);
      for (const name of ['hello', 'junk']) {
        const spec = join(dir.path, 'SPECS', `${name}.spec`);
        await writeFile(
          spec,
          `Name: distrolens-${name}\nVersion: 1.2.3\nRelease: 4\nEpoch: 2\nSummary: test\nLicense: MIT\nBuildArch: noarch\n%description\ntest\n%install\nmkdir -p %{buildroot}/usr/share/${name}\necho ${name} > %{buildroot}/usr/share/${name}/${name}.txt\n%files\n/usr/share/${name}/${name}.txt\n`,
        );
        const build = spawnSync('rpmbuild', ['--define', `_topdir ${dir.path}`, '-bb', spec], { encoding: 'utf8' });
        assert.equal(build.status, 0, build.stderr);
      }
      const rpms = join(dir.path, 'RPMS', 'noarch');
      for (const file of (await readdir(rpms)).sort()) {
        const install = spawnSync(
          'rpm',
          ['--define', '_db_backend sqlite', '--dbpath', db, '-i', '--justdb', '--nodeps', join(rpms, file)],
          { encoding: 'utf8' },
        );
        assert.equal(install.status, 0, install.stderr);
      }
      const dbFiles = (await readdir(db)).filter((f) => f.startsWith('rpmdb.sqlite'));
      const image = buildImage({
        layers: [
          {
            files: [
              { path: 'etc/os-release', content: 'ID=fedora\nVERSION_ID=40\n' },
              { path: 'usr/share/hello/hello.txt', content: 'hello\n' },
              { path: 'usr/share/junk/junk.txt', content: 'junk\n' },
              { path: 'app/server', content: await readFile('/sbin/ldconfig'), mode: 0o755 },
              ...(await Promise.all(
                dbFiles.map(async (f) => ({ path: `var/lib/rpm/${f}`, content: await readFile(join(db, f)) })),
              )),
            ],
          },
        ],
        config: { Entrypoint: ['/app/server'] },
      });
      await writeOciLayout(join(dir.path, 'in'), [{ image }]);
      const before = await scanJson(`oci:${join(dir.path, 'in')}`);
      assert.deepEqual(before.packages.map((p) => p.name).sort(), ['distrolens-hello', 'distrolens-junk']);
      const result = await minimizeCli(
        `oci:${join(dir.path, 'in')}`,
        join(dir.path, 'out'),
        '--keep',
        '/usr/share/hello',
      );
      assert.deepEqual(result.packages, ['rpm:distrolens-hello']);
      const after = await scanJson(`oci:${join(dir.path, 'out')}`);
      assert.deepEqual(
        after.packages.map((p) => [p.type, p.name, p.version, p.arch]),
        [['rpm', 'distrolens-hello', '2:1.2.3-4', 'noarch']],
      );
      // The same input gives the same database, byte for byte (the digests say so).
      const again = await minimizeCli(
        `oci:${join(dir.path, 'in')}`,
        join(dir.path, 'again'),
        '--keep',
        '/usr/share/hello',
      );
      assert.equal(again.output.manifestDigest, result.output.manifestDigest);
    } finally {
      await dir.cleanup();
    }
  },
);

test(
  'a traced run: its own /proc, no network of this machine without a probe, and what it looked for',
  { skip: traceAvailable() ?? (existsSync('/bin/busybox') ? false : 'busybox-static not installed (run .ci/run)') },
  async () => {
    const dir = await tempDir();
    try {
      // busybox-static: a program with no library, so the root holds it and nothing else.
      const root = join(dir.path, 'root');
      await mkdir(join(root, 'bin'), { recursive: true });
      await writeFile(join(root, 'bin', 'busybox'), await readFile('/bin/busybox'), { mode: 0o755 });
      // What the image put at /proc (a link out of the root) is replaced, never followed.
      await symlink('/etc', join(root, 'proc'));
      const script = 'cat /proc/net/dev; cat /etc/wanted';
      const run = await traceRun(root, {
        argv: ['/bin/busybox', 'sh', '-c', script],
        env: ['PATH=/bin'],
        workingDir: '/',
        user: '65532:65532',
        seconds: 10,
      });
      assert.match(run.behaviour, /^exited 1: /, run.behaviour);
      // /proc/net/dev's rows: one interface per line, its name then counters.
      const interfaces = [...run.behaviour.matchAll(/^\s*(\w+):\s+\d/gm)].map((m) => m[1]);
      assert.deepEqual(interfaces, ['lo'], `a network of its own: ${run.behaviour}`);
      assert.ok(run.notFound.has('/etc/wanted'), [...run.notFound].join(' '));
      assert.ok((await lstat(join(root, 'proc'))).isDirectory(), 'the link at /proc was replaced by a directory');
    } finally {
      await dir.cleanup();
    }
  },
);
