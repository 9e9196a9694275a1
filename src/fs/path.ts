import { errors } from '../core/errors.js';

/**
 * Path rules for layer entries, all in one place (tested rule by rule in path.test.ts).
 * Layer paths are normalised to absolute POSIX paths ("/etc/passwd"), and names that leave the
 * root after cleaning are refused, as containerd does.
 * https://github.com/opencontainers/image-spec/blob/main/layer.md
 */

/** The marker prefix of whiteout files. */
export const WHITEOUT_PREFIX = '.wh.';
/** The opaque-directory marker: hide everything lower layers put in this directory. */
export const OPAQUE_MARKER = '.wh..wh..opq';

const CLEAN_NEEDED = /(^|\/)\.{1,2}(\/|$)|\/\/|^$/;

/**
 * Normalises a tar entry name: strips `./`, leading and trailing `/` and `.` segments, resolves
 * `..` lexically, and refuses a name that leaves the root after that. Absolute names (`/`,
 * `/etc/x`) are taken relative to the root, as containerd and go-containerregistry take them:
 * kaniko and other builders write them.
 */
export function normalizeEntryPath(name: string): string {
  if (name.includes('\0')) throw errors.unsafePath(name, 'contains a NUL byte');
  // Fast path for the usual "./usr/bin/x" or "usr/lib/": no "." or ".." segments, no "//".
  const body = name.startsWith('./') ? name.slice(2) : name;
  if (!CLEAN_NEEDED.test(body) && !body.startsWith('/')) return `/${body.endsWith('/') ? body.slice(0, -1) : body}`;
  const parts: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (!parts.length) throw errors.unsafePath(name, 'leaves the root');
      parts.pop();
    } else parts.push(part);
  }
  return `/${parts.join('/')}`;
}

/** Normalises a hardlink target, which names another entry of the archive. */
export function normalizeLinkTarget(name: string): string {
  // GNU tar writes hardlink targets relative to the archive root, some writers with a leading '/'.
  return normalizeEntryPath(name.replace(/^\/+/, ''));
}

/** The parent of an absolute normalised path ("/" is its own parent). */
export function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash <= 0 ? '/' : path.slice(0, slash);
}

/** The last component of a path. */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Joins a symlink target to the directory holding the link, staying inside the root. */
export function joinInRoot(dir: string, target: string): string {
  const parts: string[] = [];
  const start = target.startsWith('/') ? [] : dir.split('/');
  for (const part of [...start, ...target.split('/')]) {
    if (part === '' || part === '.') continue;
    if (part === '..')
      parts.pop(); // ".." at the root stays at the root, as in a chroot
    else parts.push(part);
  }
  return `/${parts.join('/')}`;
}

export type WhiteoutKind = { kind: 'opaque'; dir: string } | { kind: 'whiteout'; target: string } | undefined;

/** Recognises whiteout entries; aufs's own `.wh..wh.*` metadata files are ignored as whiteouts. */
export function whiteoutOf(path: string): WhiteoutKind | 'aufs-meta' {
  // Asked about every entry of every layer: the usual answer without slicing the name out.
  if (!path.startsWith(WHITEOUT_PREFIX, path.lastIndexOf('/') + 1)) return undefined;
  const name = baseName(path);
  if (name === OPAQUE_MARKER) return { kind: 'opaque', dir: parentOf(path) };
  if (name.startsWith(`${WHITEOUT_PREFIX}${WHITEOUT_PREFIX}`)) return 'aufs-meta';
  const target = name.slice(WHITEOUT_PREFIX.length);
  // `.wh.` alone would delete its whole directory (at the root: every lower layer); containerd
  // refuses it, and `.` and `..`, as invalid whiteouts.
  if (target === '' || target === '.' || target === '..') throw errors.unsafePath(path, 'a whiteout of no name');
  const dir = parentOf(path);
  return { kind: 'whiteout', target: `${dir === '/' ? '' : dir}/${target}` };
}
