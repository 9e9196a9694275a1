import { lstat, open, opendir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { TarEntry, TarEntryType } from './tar.js';

/**
 * Walks a root filesystem directory as if it were a layer tar: the same entry shape, sorted
 * names, hardlinks detected by inode, symlinks never followed (their targets are data).
 */
export async function walkDirectory(
  root: string,
  visit: (entry: TarEntry) => void | Promise<void>,
  signal?: AbortSignal,
): Promise<{ entries: number; bytes: number }> {
  const seen = new Map<string, string>();
  let entries = 0;
  let bytes = 0;
  const walk = async (relative: string): Promise<void> => {
    const dir = await opendir(join(root, relative));
    const names: string[] = [];
    for await (const dirent of dir) names.push(dirent.name);
    names.sort();
    for (const name of names) {
      signal?.throwIfAborted();
      const path = relative ? `${relative}/${name}` : name;
      const full = join(root, path);
      const info = await lstat(full);
      let type: TarEntryType = info.isFile()
        ? 'file'
        : info.isDirectory()
          ? 'dir'
          : info.isSymbolicLink()
            ? 'symlink'
            : info.isCharacterDevice()
              ? 'char'
              : info.isBlockDevice()
                ? 'block'
                : info.isFIFO()
                  ? 'fifo'
                  : 'other';
      let linkname = type === 'symlink' ? await readlink(full) : '';
      if (type === 'file' && info.nlink > 1) {
        const key = `${info.dev}:${info.ino}`;
        const first = seen.get(key);
        if (first) {
          type = 'hardlink';
          linkname = first;
        } else seen.set(key, path);
      }
      const size = type === 'file' ? info.size : 0;
      entries++;
      bytes += size;
      await visit({
        name: type === 'dir' ? `${path}/` : path,
        type,
        size,
        mode: info.mode & 0o7777,
        uid: info.uid,
        gid: info.gid,
        linkname,
        offset: 0,
        read: async (maxBytes = size) => {
          const handle = await open(full, 'r');
          try {
            const buffer = Buffer.alloc(Math.min(maxBytes, size));
            const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
            return buffer.subarray(0, bytesRead);
          } finally {
            await handle.close();
          }
        },
      });
      if (type === 'dir') await walk(path);
    }
  };
  await walk('');
  return { entries, bytes };
}
