import { constants } from 'node:fs';
import { lstat, open, opendir, readlink } from 'node:fs/promises';
import { errors } from '../core/errors.js';
import type { TarEntry, TarEntryType } from './tar.js';

/** One directory being listed: its path (bytes, as the kernel has it, and as text) and its sorted names. */
interface Level {
  readonly path: Buffer;
  readonly name: string;
  readonly names: Buffer[];
  next: number;
}

const SLASH = Buffer.from('/');

function typeOf(info: Awaited<ReturnType<typeof lstat>>): TarEntryType {
  if (info.isFile()) return 'file';
  if (info.isDirectory()) return 'dir';
  if (info.isSymbolicLink()) return 'symlink';
  if (info.isCharacterDevice()) return 'char';
  if (info.isBlockDevice()) return 'block';
  if (info.isFIFO()) return 'fifo';
  return 'other';
}

/** An error of the filesystem under the walk: a vanished file is skipped, other failures are coded. */
function vanished(error: unknown, path: string): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return true;
  if (code === 'ENAMETOOLONG') throw errors.unsafePath(path, 'longer than the system allows (PATH_MAX)');
  if (code === 'ELOOP') throw errors.symlinkLoop(path);
  throw error;
}

/**
 * Reads the first bytes of a file, opened without blocking and checked to be a regular file when
 * open: a file replaced by a FIFO or a device between the listing and the read is not waited on.
 */
async function readRegular(path: Buffer, shown: string, limit: number): Promise<Buffer> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw errors.unsafePath(shown, 'no longer a regular file');
    const buffer = Buffer.alloc(Math.min(limit, info.size));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/**
 * Walks a root filesystem directory as if it were a layer tar: the same entry shape, sorted
 * names, hardlinks detected by inode, symlinks never followed (their targets are data). Names are
 * read as bytes (non-UTF-8 names open as they are, and show with replacement characters); the
 * depth is a stack, not recursion; files that vanish during the walk are skipped.
 */
export async function walkDirectory(
  root: string,
  visit: (entry: TarEntry) => void | Promise<void>,
  signal?: AbortSignal,
): Promise<{ entries: number; bytes: number }> {
  const seen = new Map<string, string>();
  let entries = 0;
  let bytes = 0;
  const list = async (path: Buffer, shown: string): Promise<Buffer[]> => {
    const names: Buffer[] = [];
    try {
      for await (const dirent of await opendir(path, { encoding: 'buffer' } as unknown as undefined))
        names.push(dirent.name as unknown as Buffer);
    } catch (error) {
      if (vanished(error, shown)) return [];
    }
    return names.sort((a, b) => Buffer.compare(a, b));
  };
  const rootPath = Buffer.from(root);
  const stack: Level[] = [{ path: rootPath, name: '', names: await list(rootPath, root), next: 0 }];
  while (stack.length) {
    const level = stack[stack.length - 1]!;
    const raw = level.names[level.next++];
    if (!raw) {
      stack.pop();
      continue;
    }
    signal?.throwIfAborted();
    const name = raw.toString('utf8');
    const relative = level.name ? `${level.name}/${name}` : name;
    const full = Buffer.concat([level.path, SLASH, raw]);
    let info;
    try {
      info = await lstat(full);
    } catch (error) {
      if (vanished(error, relative)) continue;
      throw error;
    }
    let type = typeOf(info);
    let linkname = '';
    if (type === 'symlink') {
      try {
        linkname = (await readlink(full, { encoding: 'buffer' })).toString('utf8');
      } catch (error) {
        if (vanished(error, relative)) continue;
      }
    }
    if (type === 'file' && info.nlink > 1) {
      const key = `${info.dev}:${info.ino}`;
      const first = seen.get(key);
      if (first) {
        type = 'hardlink';
        linkname = first;
      } else seen.set(key, relative);
    }
    const size = type === 'file' ? info.size : 0;
    entries++;
    bytes += size;
    await visit({
      name: type === 'dir' ? `${relative}/` : relative,
      type,
      size,
      mode: info.mode & 0o7777,
      uid: info.uid,
      gid: info.gid,
      linkname,
      offset: 0,
      read: (maxBytes = size) => readRegular(full, relative, maxBytes),
    });
    if (type === 'dir') stack.push({ path: full, name: relative, names: await list(full, relative), next: 0 });
  }
  return { entries, bytes };
}
