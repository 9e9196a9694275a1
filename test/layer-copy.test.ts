import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { buildFs } from '../src/fs/layered.js';
import { LayerSpool, fromCopy, writeLayers, type LayerFile } from '../src/minimize/layout.js';
import { openSource } from '../src/sources/index.js';
import { walkTar, type TarEntry } from '../src/util/tar.js';
import { FileRangeReader } from '../src/util/bytes.js';
import { buildImage, writeOciLayout } from './fixtures/image.js';
import { tempDir } from './helpers.js';

/**
 * The copies `minimize` works from: a layer walked with `copyTo` leaves its uncompressed tar
 * behind, byte for byte, with each entry's body where its offset says; a directory layer is
 * copied as a tar of what was visited; the writer takes files from there.
 */
const files = [
  { path: 'etc/', type: 'dir' as const },
  { path: 'etc/hostname', content: 'box\n' },
  { path: 'usr/bin/', type: 'dir' as const },
  { path: 'usr/bin/tool', content: Buffer.alloc(300_000, 7), mode: 0o755 },
  { path: 'usr/bin/alias', type: 'hardlink' as const, target: 'usr/bin/tool' },
  { path: 'usr/bin/link', type: 'symlink' as const, target: 'tool' },
];

async function entriesOf(path: string): Promise<{ name: string; body: string }[]> {
  const out: { name: string; body: string }[] = [];
  const reader = new FileRangeReader(path);
  try {
    await walkTar(reader, { what: path }, async (e: TarEntry) => {
      out.push({ name: e.name.replace(/\/$/, ''), body: e.type === 'file' ? (await e.read()).toString('hex') : '' });
    });
  } finally {
    await reader.close();
  }
  return out;
}

for (const compression of ['gzip', 'zstd', 'none'] as const)
  test(`a ${compression} layer walked with copyTo leaves its tar, and offsets point at the bodies`, async () => {
    const dir = await tempDir();
    try {
      const image = buildImage({ layers: [{ files, compression }] });
      await writeOciLayout(join(dir.path, 'layout'), [{ image }]);
      const source = await openSource(`oci:${join(dir.path, 'layout')}`);
      try {
        const spool = await new LayerSpool(join(dir.path, 'spool')).open();
        const fs = await buildFs(await source.resolve(), { spool: spool.path });
        assert.deepEqual(await readFile(spool.path({ index: 0 })), image.layers[0]!.tar);
        assert.deepEqual(spool.readSync(fs, fs.lstat('/usr/bin/tool')!), Buffer.alloc(300_000, 7));
        assert.equal(spool.readSync(fs, fs.lstat('/etc/hostname')!).toString(), 'box\n');
        // A hardlink's bytes are its target's, found in the image.
        assert.deepEqual(spool.readSync(fs, fs.lstat('/usr/bin/alias')!, 10), Buffer.alloc(10, 7));
        spool.close();
      } finally {
        await source.close();
      }
    } finally {
      await dir.cleanup();
    }
  });

test('a directory layer is copied as a tar of what its walk visited', async () => {
  const dir = await tempDir();
  try {
    const root = join(dir.path, 'root');
    await mkdir(join(root, 'etc'), { recursive: true });
    await writeFile(join(root, 'etc', 'hostname'), 'box\n');
    await writeFile(join(root, 'etc', 'big'), Buffer.alloc(70_000, 1));
    await symlink('hostname', join(root, 'etc', 'name'));
    const source = await openSource(`rootfs:${root}`);
    try {
      const spool = await new LayerSpool(join(dir.path, 'spool')).open();
      const fs = await buildFs(await source.resolve(), { spool: spool.path });
      assert.equal(spool.readSync(fs, fs.lstat('/etc/hostname')!).toString(), 'box\n');
      assert.deepEqual(spool.readSync(fs, fs.lstat('/etc/big')!), Buffer.alloc(70_000, 1));
      const copied = await entriesOf(spool.path({ index: 0 }));
      assert.deepEqual(copied.map((e) => e.name).sort(), ['etc', 'etc/big', 'etc/hostname', 'etc/name']);
      spool.close();
    } finally {
      await source.close();
    }
  } finally {
    await dir.cleanup();
  }
});

test('the writer: path order, a hardlink without its target becomes a file, both compressors agree', async () => {
  const dir = await tempDir();
  try {
    const image = buildImage({ layers: [{ files }] });
    await writeOciLayout(join(dir.path, 'layout'), [{ image }]);
    const source = await openSource(`oci:${join(dir.path, 'layout')}`);
    try {
      const spool = await new LayerSpool(join(dir.path, 'spool')).open();
      const fs = await buildFs(await source.resolve(), { spool: spool.path });
      const kept: LayerFile[] = ['/usr/bin/link', '/usr/bin/alias', '/usr', '/usr/bin'].map((path) => ({
        path,
        entry: fs.lstat(path)!,
      }));
      const generated: LayerFile = {
        path: '/etc/passwd',
        entry: { type: 'file', mode: 0o644, uid: 0, gid: 0 },
        content: Buffer.from('root:x:0:0::/root:/sbin/nologin\n'),
      };
      const written = [];
      for (const compressor of ['parallel', 'stream'] as const) {
        const blobs = join(dir.path, compressor);
        await mkdir(blobs);
        const [layer] = await writeLayers([[...kept, generated]], (path) => spool.body(fs, fs.lstat(path)!), blobs, {
          mtime: 0,
          compressor,
          copyTo: () => join(dir.path, `${compressor}.tar`),
        });
        const tar = gunzipSync(await readFile(join(blobs, layer!.digest.slice(7))));
        assert.deepEqual(await readFile(layer!.copy!), tar, 'the copy is the layer, plain');
        written.push({ layer: layer! });
      }
      assert.equal(written[0]!.layer.diffId, written[1]!.layer.diffId, 'same tar from both compressors');
      const entries = await entriesOf(written[0]!.layer.copy!);
      assert.deepEqual(
        entries.map((e) => e.name),
        ['etc/passwd', 'usr', 'usr/bin', 'usr/bin/alias', 'usr/bin/link'],
      );
      assert.equal(entries[3]!.body, Buffer.alloc(300_000, 7).toString('hex'), 'alias holds the bytes');
      // The written layer read back from its copy walks like its blob.
      const copied = fromCopy(
        {
          index: 0,
          mediaType: 'application/vnd.oci.image.layer.v1.tar',
          walk: async () => ({ uncompressedSize: 0, entries: 0 }),
        },
        written[0]!.layer.copy!,
      );
      const names: string[] = [];
      const stats = await copied.walk((e) => void names.push(e.name));
      assert.equal(stats.entries, 5);
      assert.equal(stats.uncompressedSize, written[0]!.layer.uncompressed);
      spool.close();
    } finally {
      await source.close();
    }
  } finally {
    await dir.cleanup();
  }
});
