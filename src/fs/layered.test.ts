import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { buildFs } from './layered.js';
import { openSource } from '../sources/index.js';
import { buildImage, writeOciLayout, type LayerSpec } from '../../test/fixtures/image.js';
import { rejectsWithCode, tempDir } from '../../test/helpers.js';

/** Builds an image from layer specs, stores it as an OCI layout and returns its filesystem. */
async function fsOf(layers: LayerSpec[], capture?: (path: string) => boolean) {
  const dir = await tempDir();
  try {
    await writeOciLayout(join(dir.path, 'layout'), [{ image: buildImage({ layers }) }]);
    const source = await openSource(`oci:${join(dir.path, 'layout')}`, { cache: undefined });
    try {
      const image = await source.resolve();
      return await buildFs(image, capture ? { capture: { match: capture, maxBytes: 16 } } : {});
    } finally {
      await source.close();
    }
  } finally {
    await dir.cleanup();
  }
}

const paths = (fs: Awaited<ReturnType<typeof fsOf>>) => fs.entries().map((e) => `${e.path}@${e.layer}`);

test('file whiteout removes the path and its subtree from lower layers only', async () => {
  const fs = await fsOf([
    {
      files: [
        { path: 'etc/', type: 'dir' },
        { path: 'etc/secret', content: 'aaaa' },
        { path: 'opt/app/x', content: 'bb' },
        { path: 'keep', content: 'k' },
      ],
    },
    {
      files: [
        { path: 'etc/secret', type: 'whiteout' },
        { path: 'opt/app', type: 'whiteout' },
      ],
    },
  ]);
  assert.deepEqual(paths(fs), ['/etc@0', '/keep@0', '/opt@0']);
  assert.deepEqual(fs.layers[1]!.removed.map((e) => e.path).sort(), ['/etc/secret', '/opt/app', '/opt/app/x']);
  assert.deepEqual(fs.layers[1]!.shadowed, { paths: ['/etc/secret', '/opt/app/x'], bytes: 6 });
});

test('opaque directory hides lower children but keeps what its own layer adds', async () => {
  const fs = await fsOf([
    {
      files: [
        { path: 'var/cache/a', content: '1' },
        { path: 'var/cache/sub/b', content: '22' },
        { path: 'var/other', content: '3' },
      ],
    },
    {
      files: [
        { path: 'var/cache/', type: 'dir' },
        { path: 'var/cache', type: 'opaque' },
        { path: 'var/cache/new', content: 'n' },
      ],
    },
  ]);
  assert.deepEqual(paths(fs), ['/var@0', '/var/cache@1', '/var/cache/new@1', '/var/other@0']);
  assert.equal(fs.layers[1]!.shadowed.bytes, 3);
});

test('re-adding a path in the same layer as its whiteout keeps the new file', async () => {
  const fs = await fsOf(
    [
      { files: [{ path: 'app/config', content: 'old' }] },
      // Whiteout written after the new file in the same layer: it only applies to lower layers.
      {
        files: [
          { path: 'app/config', content: 'new!' },
          { path: 'app/config', type: 'whiteout' },
        ],
      },
    ],
    (p) => p === '/app/config',
  );
  assert.equal(fs.stat('/app/config')?.layer, 1);
  assert.equal(fs.content('/app/config')?.data.toString(), 'new!');
});

test('overwrites are shadowed bytes; a file replacing a directory removes its subtree', async () => {
  const fs = await fsOf([
    {
      files: [
        { path: 'data/x', content: '12345' },
        { path: 'f', content: 'abc' },
      ],
    },
    {
      files: [
        { path: 'data', content: 'now a file' },
        { path: 'f', content: 'abcdef' },
      ],
    },
  ]);
  assert.equal(fs.stat('/data')?.type, 'file');
  assert.equal(fs.stat('/data/x'), undefined);
  assert.deepEqual(fs.layers[1]!.shadowed, { paths: ['/data/x', '/f'], bytes: 8 });
});

test('symlinks resolve inside the root; loops are refused; hardlinks to removed files dangle', async () => {
  const fs = await fsOf(
    [
      {
        files: [
          { path: 'bin/busybox', content: 'ELF', mode: 0o755 },
          { path: 'bin/sh', type: 'symlink', target: 'busybox' },
          { path: 'usr/bin/abs', type: 'symlink', target: '/bin/busybox' },
          { path: 'escape', type: 'symlink', target: '../../../../etc/shadow' },
          { path: 'etc/shadow', content: 'root:::0:::::' },
          { path: 'loop1', type: 'symlink', target: 'loop2' },
          { path: 'loop2', type: 'symlink', target: 'loop1' },
          { path: 'victim', content: 'v' },
          { path: 'dir/link', type: 'symlink', target: '../bin' },
        ],
      },
      {
        files: [
          { path: 'hard', type: 'hardlink', target: 'victim' },
          { path: 'victim', type: 'whiteout' },
        ],
      },
    ],
    (p) => p === '/bin/busybox' || p === '/etc/shadow',
  );
  assert.equal(fs.resolve('/bin/sh'), '/bin/busybox');
  assert.equal(fs.resolve('/usr/bin/abs'), '/bin/busybox');
  assert.equal(fs.resolve('/escape'), '/etc/shadow', 'clamped at the image root');
  assert.equal(fs.resolve('/dir/link/sh'), '/bin/busybox', 'intermediate symlinks followed');
  assert.equal(fs.lstat('/bin/sh')?.type, 'symlink');
  assert.equal(fs.content('/usr/bin/abs')?.data.toString(), 'ELF');
  assert.throws(() => fs.resolve('/loop1'), /too many levels of symbolic links/);
  assert.equal(fs.file('/loop1'), undefined, 'file(): a loop is no file');
  assert.equal(fs.file('/usr/bin/abs')?.path, '/bin/busybox', 'file(): symlinks followed');
  assert.equal(fs.file('/dir/link'), undefined, 'file(): a directory is no file');
  assert.equal(fs.stat('/hard')?.type, 'hardlink');
  assert.equal(fs.content('/hard'), undefined);
  assert.equal(fs.file('/hard'), undefined, 'file(): a hardlink to a removed file dangles');
  assert.equal(fs.stat('/victim'), undefined);
});

test('keeps modes, owners and xattrs; makes implicit parents; caps captured content', async () => {
  const fs = await fsOf(
    [
      {
        files: [
          { path: 'usr/bin/passwd', content: 'x', mode: 0o4755 },
          { path: 'usr/bin/wall', content: 'x', mode: 0o2755, gid: 5 },
          { path: 'tmp/', type: 'dir', mode: 0o1777 },
          {
            path: 'usr/bin/ping',
            content: 'x',
            mode: 0o755,
            xattrs: { 'security.capability': '\u0001\u0000\u0000\u0002' },
          },
          { path: 'etc/big', content: 'x'.repeat(100) },
        ],
      },
    ],
    (p) => p === '/etc/big',
  );
  assert.equal(fs.stat('/usr/bin/passwd')!.mode, 0o4755);
  assert.equal(fs.stat('/usr/bin/wall')!.mode & 0o2000, 0o2000);
  assert.equal(fs.stat('/usr/bin/wall')!.gid, 5);
  assert.equal(fs.stat('/tmp')!.mode, 0o1777);
  assert.ok(fs.stat('/usr/bin/ping')!.xattrs?.['security.capability']);
  assert.equal(fs.stat('/usr')!.implicit, true);
  assert.deepEqual(
    fs.list('/usr/bin').map((e) => e.path),
    ['/usr/bin/passwd', '/usr/bin/ping', '/usr/bin/wall'],
  );
  const big = fs.content('/etc/big')!;
  assert.equal(big.data.length, 16);
  assert.equal(big.truncated, true);
});

test("lists a directory's children by name, through symlinks, before and after whiteouts", async () => {
  const fs = await fsOf([
    {
      files: [
        { path: 'a/b/x', content: '1' },
        { path: 'a/b/y/deep', content: '2' },
        { path: 'a/b-c', content: '3' },
        { path: 'a/b.d/z', content: '4' },
        { path: 'a/link', type: 'symlink', target: 'b' },
        { path: 'top', content: '5' },
      ],
    },
    { files: [{ path: 'top2', content: '6' }] },
    // The third layer deletes: the children index is built from the first two, then kept.
    {
      files: [
        { path: 'a/b/x', type: 'whiteout' },
        { path: 'a/b/new', content: '7' },
      ],
    },
    {
      files: [
        { path: 'a/b', type: 'opaque' },
        { path: 'a/b/newer', content: '8' },
      ],
    },
  ]);
  assert.deepEqual(
    fs.list('/').map((e) => e.path),
    ['/a', '/top', '/top2'],
  );
  assert.deepEqual(
    fs.list('/a').map((e) => e.path),
    ['/a/b', '/a/b-c', '/a/b.d', '/a/link'],
  );
  assert.deepEqual(
    fs.list('/a/link').map((e) => e.path),
    ['/a/b/newer'],
    'a symlinked directory lists its target',
  );
  assert.deepEqual(fs.list('/a/b-c'), [], 'a file has no children');
  assert.deepEqual(fs.list('/missing'), []);
  assert.deepEqual(
    fs.layers[2]!.removed.map((e) => e.path),
    ['/a/b/x'],
  );
  assert.deepEqual(fs.layers[3]!.removed.map((e) => e.path).sort(), ['/a/b/new', '/a/b/y', '/a/b/y/deep']);
});

test('capturedFiles: the visible regular files whose content was kept, sorted by path', async () => {
  const fs = await fsOf(
    [
      {
        files: [
          { path: 'z/keep.json', content: '{}' },
          { path: 'a/keep.json', content: '{}' },
          { path: 'a/skip.txt', content: 'x' },
          { path: 'gone.json', content: '{}' },
          { path: 'replaced.json', content: '{}' },
          { path: 'link.json', type: 'symlink', target: 'a/keep.json' },
        ],
      },
      {
        files: [
          { path: 'gone.json', type: 'whiteout' },
          { path: 'replaced.json', type: 'dir' },
        ],
      },
    ],
    (p) => p.endsWith('.json'),
  );
  assert.deepEqual(
    fs.capturedFiles().map((e) => e.path),
    ['/a/keep.json', '/z/keep.json'],
  );
  assert.equal(fs.hiddenContent(fs.layers[1]!.removed.find((e) => e.path === '/gone.json')!)?.data.toString(), '{}');
});

test('refuses entries that climb out of the root', async () => {
  await rejectsWithCode(fsOf([{ files: [{ path: '../../etc/cron.d/evil', content: 'x' }] }]), 'E_UNSAFE_PATH');
  await rejectsWithCode(
    fsOf([{ files: [{ path: 'ok', type: 'hardlink', target: '../../etc/shadow' }] }]),
    'E_UNSAFE_PATH',
  );
});

test('kept contents do not hold on to the decompressed chunk they were read from', async () => {
  // Small files between large ones: each body is a few bytes inside a 1 MiB zlib output chunk.
  const files = Array.from({ length: 6 }, (_, i) => [
    { path: `big${i}`, content: Buffer.alloc(700 * 1024, i) },
    { path: `small${i}`, content: `small ${i}` },
  ]).flat();
  const fs = await fsOf([{ files, compression: 'gzip' }], (path) => path.startsWith('/small'));
  for (let i = 0; i < 6; i++) {
    const { data } = fs.content(`/small${i}`)!;
    assert.equal(data.toString(), `small ${i}`);
    assert.ok(data.buffer.byteLength < 64 * 1024, `/small${i} is kept in ${data.buffer.byteLength} bytes of memory`);
  }
});
