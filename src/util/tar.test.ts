import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, symlink, writeFile, link, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { FileRangeReader, StreamReader } from './bytes.js';
import { walkTar, type TarEntry } from './tar.js';
import { buildTar } from '../../test/fixtures/tar.js';
import { rejectsWithCode, tempDir } from '../../test/helpers.js';

async function entriesOf(
  reader: FileRangeReader | StreamReader,
  read = false,
): Promise<(Omit<TarEntry, 'read' | 'offset'> & { body?: string })[]> {
  const out: (Omit<TarEntry, 'read' | 'offset'> & { body?: string })[] = [];
  try {
    await walkTar(reader, { what: 'test' }, async (entry) => {
      const { name, type, size, mode, uid, gid, linkname, xattrs } = entry;
      const rest = { name, type, size, mode, uid, gid, linkname, ...(xattrs ? { xattrs } : {}) };
      out.push(read && entry.type === 'file' ? { ...rest, body: (await entry.read()).toString() } : rest);
    });
  } finally {
    await reader.close();
  }
  return out;
}

const chunked = (data: Buffer, size: number) =>
  (async function* () {
    for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
  })();

test('reads GNU tar and POSIX pax archives made by GNU tar: long names, links, modes, big ids', async () => {
  const dir = await tempDir();
  try {
    const root = join(dir.path, 'root');
    const longDir = join(root, 'a'.repeat(60), 'b'.repeat(60));
    await mkdir(longDir, { recursive: true });
    await writeFile(join(longDir, 'c'.repeat(40)), 'long');
    await writeFile(join(root, 'suid'), 'x');
    await chmod(join(root, 'suid'), 0o4755);
    await link(join(root, 'suid'), join(root, 'hard'));
    await symlink(`/${'t'.repeat(150)}`, join(root, 'longlink'));
    for (const format of ['gnu', 'posix']) {
      const archive = join(dir.path, `${format}.tar`);
      const made = spawnSync('tar', [
        '--format',
        format,
        '--sort=name',
        '--owner=someone:3000000',
        '--group=grp:7',
        '-C',
        root,
        '-cf',
        archive,
        '.',
      ]);
      assert.equal(made.status, 0, made.stderr.toString());
      const entries = await entriesOf(new FileRangeReader(archive), true);
      const names = entries.map((e) => e.name.replace(/^\.\//, ''));
      const longName = `${'a'.repeat(60)}/${'b'.repeat(60)}/${'c'.repeat(40)}`;
      assert.ok(names.includes(longName), `${format}: long name read (${names.join(', ')})`);
      const long = entries.find((e) => e.name.endsWith('c'.repeat(40)))!;
      assert.equal(long.body, 'long');
      assert.equal(long.uid, 3_000_000, `${format}: uid above the octal field range`);
      assert.equal(long.gid, 7);
      const suid = entries.find((e) => e.name.endsWith('/suid') || e.name === 'suid')!;
      const hard = entries.find((e) => e.name.endsWith('hard'))!;
      // GNU tar archives the first name it meets as the file and the second as a hardlink.
      const [file, linked] = suid.type === 'file' ? [suid, hard] : [hard, suid];
      assert.equal(file.mode, 0o4755);
      assert.equal(linked.type, 'hardlink');
      assert.equal(linked.linkname.replace(/^\.\//, ''), file.name.replace(/^\.\//, ''));
      const sym = entries.find((e) => e.name.endsWith('longlink'))!;
      assert.equal(sym.type, 'symlink');
      assert.equal(sym.linkname, `/${'t'.repeat(150)}`);
    }
  } finally {
    await dir.cleanup();
  }
});

test('stream and seekable readers agree, whatever the chunk size', async () => {
  const tar = buildTar([
    { path: 'etc/', type: 'dir' },
    { path: 'etc/passwd', content: 'root:x:0:0::/root:/bin/sh\n' },
    { path: 'big', content: Buffer.alloc(70_000, 7) },
    { path: 'bin/sh', type: 'symlink', target: 'busybox' },
    { path: 'caps', content: 'x', xattrs: { 'security.capability': 'AQAAAgAgAAAAAAAAAAAAAAAAAAA=' } },
  ]);
  const dir = await tempDir();
  try {
    const file = join(dir.path, 'l.tar');
    await writeFile(file, tar);
    const seek = await entriesOf(new FileRangeReader(file), true);
    for (const size of [1, 7, 512, 4096, 1 << 20]) {
      assert.deepEqual(await entriesOf(new StreamReader(chunked(tar, size)), true), seek, `chunk size ${size}`);
    }
    assert.equal(seek.find((e) => e.name === 'caps')?.xattrs?.['security.capability'], 'AQAAAgAgAAAAAAAAAAAAAAAAAAA=');
    assert.equal(seek.find((e) => e.name === 'big')?.size, 70_000);
  } finally {
    await dir.cleanup();
  }
});

test('refuses what is not a tar, and truncated archives', async () => {
  await rejectsWithCode(
    entriesOf(new StreamReader(chunked(Buffer.from('{"not":"a tar"}'.padEnd(600, ' ')), 100))),
    'E_ARCHIVE_INVALID',
  );
  const tar = buildTar([{ path: 'f', content: Buffer.alloc(5000, 1) }]);
  await rejectsWithCode(entriesOf(new StreamReader(chunked(tar.subarray(0, 2048), 512)), true), 'E_ARCHIVE_INVALID');
  const corrupt = Buffer.from(tar);
  corrupt[10] = 0x41; // name changed, checksum not
  await rejectsWithCode(entriesOf(new StreamReader(chunked(corrupt, 512))), 'E_ARCHIVE_INVALID');
});

test('refuses absurd entry counts', async () => {
  const tar = buildTar(Array.from({ length: 20 }, (_, i) => ({ path: `f${i}`, content: '' })));
  const reader = new StreamReader(chunked(tar, 4096));
  await rejectsWithCode(
    (async () => {
      await walkTar(reader, { what: 'test', maxEntries: 10 }, () => {});
    })(),
    'E_ARCHIVE_INVALID',
  );
});

test("an entry's body is read once, during its visit; bodies read in pieces across chunks", async () => {
  const tar = buildTar([
    { path: 'a', content: 'x'.repeat(3000) },
    { path: 'b', content: 'second' },
  ]);
  const kept: TarEntry[] = [];
  const bodies: string[] = [];
  await walkTar(new StreamReader(chunked(tar, 700)), { what: 'test' }, async (entry) => {
    kept.push(entry);
    bodies.push((await entry.read(entry.name === 'a' ? 2000 : undefined)).toString());
    if (entry.name === 'b') await rejectsWithCode(entry.read(), 'E_INTERNAL');
  });
  assert.deepEqual(bodies, ['x'.repeat(2000), 'second']);
  await rejectsWithCode(kept[0]!.read(), 'E_INTERNAL');
});
