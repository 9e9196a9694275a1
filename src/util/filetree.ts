import { constants } from 'node:fs';
import { lstat, open, readFile, realpath } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { errors, fail } from '../core/errors.js';
import { FileRangeReader } from './bytes.js';
import { walkTar } from './tar.js';

/**
 * Read access to the files of an image archive, whether it is a tar file or a directory.
 * Archive members are addressed by their normalised relative path ("blobs/sha256/ab…").
 */
export interface FileTree {
  /** Where the archive lives, for messages. */
  readonly origin: string;
  has(path: string): boolean | Promise<boolean>;
  /** Reads a whole member, refusing members larger than `limit`. */
  read(path: string, limit: number): Promise<Buffer>;
  /** A byte range of a local file holding the member, for seekable layer reads. */
  locate(path: string): Promise<{ path: string; offset: number; length: number }>;
}

/** Normalises a member name the way docker and the OCI layout spec write them (`./` prefixes). */
export function memberPath(name: string): string {
  const parts: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length === 0) throw errors.unsafePath(name, 'leaves the archive root');
      parts.pop();
    } else parts.push(part);
  }
  return parts.join('/');
}

interface Member {
  readonly offset: number;
  readonly size: number;
  readonly type: string;
  readonly linkname: string;
}

/** A tar file indexed once (headers only, contents seeked past). */
export class TarTree implements FileTree {
  readonly origin: string;
  readonly #file: string;
  readonly #members: Map<string, Member>;

  private constructor(origin: string, file: string, members: Map<string, Member>) {
    this.origin = origin;
    this.#file = file;
    this.#members = members;
  }

  /** Indexes `file`; `origin` names the user's input in messages. */
  static async open(file: string, origin = file): Promise<TarTree> {
    const reader = new FileRangeReader(file);
    const members = new Map<string, Member>();
    try {
      await walkTar(reader, { what: origin, maxEntries: 1_000_000 }, (entry) => {
        members.set(memberPath(entry.name), {
          offset: entry.offset,
          size: entry.size,
          type: entry.type,
          linkname: entry.linkname,
        });
      });
    } finally {
      await reader.close();
    }
    return new TarTree(origin, file, members);
  }

  /** Member names, sorted. */
  names(): string[] {
    return [...this.#members.keys()].sort();
  }

  #resolve(path: string): Member | undefined {
    let name = memberPath(path);
    for (let hops = 0; hops < 40; hops++) {
      const member = this.#members.get(name);
      if (!member || (member.type !== 'symlink' && member.type !== 'hardlink')) return member;
      // docker save links duplicate layers: "../<id>/layer.tar" (symlink) or a hardlink by name.
      name =
        member.type === 'hardlink'
          ? memberPath(member.linkname)
          : memberPath(
              member.linkname.startsWith('/')
                ? member.linkname
                : `${name.split('/').slice(0, -1).join('/')}/${member.linkname}`,
            );
    }
    throw errors.symlinkLoop(path);
  }

  has(path: string): boolean {
    return this.#resolve(path)?.type === 'file';
  }

  async read(path: string, limit: number): Promise<Buffer> {
    const { offset, length } = await this.locate(path);
    if (length > limit) throw errors.manifestTooLarge(`${this.origin}: ${path}`, length, limit);
    const reader = new FileRangeReader(this.#file, offset, length);
    try {
      return Buffer.from(await reader.read(length));
    } finally {
      await reader.close();
    }
  }

  async locate(path: string): Promise<{ path: string; offset: number; length: number }> {
    const member = this.#resolve(path);
    if (!member || member.type !== 'file') {
      throw fail(
        'E_ARCHIVE_INVALID',
        `${this.origin}: ${path} is missing from the archive`,
        'the archive is incomplete; save the image again',
      );
    }
    return { path: this.#file, offset: member.offset, length: member.size };
  }
}

/** A directory holding an image layout; symlinks may not lead out of it. */
export class DirTree implements FileTree {
  readonly origin: string;
  readonly #root: string;

  constructor(root: string) {
    this.origin = root;
    this.#root = root;
  }

  async #real(path: string): Promise<string> {
    const full = join(this.#root, memberPath(path));
    let real: string;
    try {
      real = await realpath(full);
    } catch {
      throw fail(
        'E_ARCHIVE_INVALID',
        `${this.origin}: ${path} is missing`,
        'the layout is incomplete; copy the image again',
      );
    }
    const root = await realpath(this.#root);
    if (real !== root && !real.startsWith(root + sep))
      throw errors.unsafePath(path, 'symlink leaves the layout directory');
    return real;
  }

  async has(path: string): Promise<boolean> {
    try {
      return (await lstat(await this.#real(path))).isFile();
    } catch {
      return false;
    }
  }

  async read(path: string, limit: number): Promise<Buffer> {
    const real = await this.#real(path);
    // Without blocking, and only a regular file: a FIFO named index.json would wait forever.
    const handle = await open(real, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      const { size, isFile } = await handle.stat().then((info) => ({ size: info.size, isFile: info.isFile() }));
      if (!isFile) throw errors.unsafePath(`${this.origin}: ${path}`, 'not a regular file');
      if (size > limit) throw errors.manifestTooLarge(`${this.origin}: ${path}`, size, limit);
      return await readFile(handle);
    } finally {
      await handle.close();
    }
  }

  async locate(path: string): Promise<{ path: string; offset: number; length: number }> {
    const real = await this.#real(path);
    const info = await lstat(real);
    if (!info.isFile()) throw errors.unsafePath(`${this.origin}: ${path}`, 'not a regular file');
    return { path: real, offset: 0, length: info.size };
  }
}
