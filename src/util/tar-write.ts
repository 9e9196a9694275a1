/**
 * Writing tar archives (POSIX ustar, with pax records for names or link targets over 100 bytes):
 * the headers of one entry, then its body padded to 512 bytes; two zero blocks end the archive.
 * Deterministic: the same entries give the same bytes.
 */
export interface TarHeaderFields {
  /** Relative to the archive root, no leading slash; directories get a trailing slash here. */
  readonly path: string;
  readonly type: 'file' | 'dir' | 'symlink' | 'hardlink';
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** Seconds since the epoch. */
  readonly mtime: number;
  readonly size: number;
  readonly linkname?: string;
}

const octal = (value: number, length: number): string => `${value.toString(8).padStart(length - 1, '0')}\0`;

function block(f: {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  type: string;
  linkname: string;
}): Buffer {
  const b = Buffer.alloc(512);
  b.write(f.name, 0, 100, 'utf8');
  b.write(octal(f.mode & 0o7777, 8), 100, 'ascii');
  b.write(octal(f.uid, 8), 108, 'ascii');
  b.write(octal(f.gid, 8), 116, 'ascii');
  b.write(octal(f.size, 12), 124, 'ascii');
  b.write(octal(f.mtime, 12), 136, 'ascii');
  b.write('        ', 148, 'ascii');
  b.write(f.type, 156, 'ascii');
  b.write(f.linkname, 157, 100, 'utf8');
  b.write('ustar\0', 257, 'ascii');
  b.write('00', 263, 'ascii');
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += b[i]!;
  b.write(`${octal(sum, 7)} `, 148, 'ascii');
  return b;
}

const padding = (size: number): Buffer => Buffer.alloc((512 - (size % 512)) % 512);

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let length = Buffer.byteLength(body) + 1;
  while (String(length).length + Buffer.byteLength(body) !== length)
    length = String(length).length + Buffer.byteLength(body);
  return `${length}${body}`;
}

/** The header block(s) of one entry: a pax header first when a name or target is too long. */
export function tarHeader(fields: TarHeaderFields): Buffer {
  const name = fields.type === 'dir' && !fields.path.endsWith('/') ? `${fields.path}/` : fields.path;
  const linkname = fields.linkname ?? '';
  const pax: string[] = [];
  if (Buffer.byteLength(name) > 100) pax.push(paxRecord('path', name));
  if (Buffer.byteLength(linkname) > 100) pax.push(paxRecord('linkpath', linkname));
  const common = { mode: fields.mode, uid: fields.uid, gid: fields.gid, mtime: fields.mtime };
  const main = block({
    ...common,
    name,
    size: fields.type === 'file' ? fields.size : 0,
    type: { file: '0', hardlink: '1', symlink: '2', dir: '5' }[fields.type],
    linkname,
  });
  if (!pax.length) return main;
  const body = Buffer.from(pax.join(''));
  return Buffer.concat([
    block({ ...common, name: 'PaxHeader', size: body.length, type: 'x', linkname: '' }),
    body,
    padding(body.length),
    main,
  ]);
}

/** What follows a body of `size` bytes. */
export const tarPadding = padding;
/** The end of an archive. */
export const TAR_END = Buffer.alloc(1024);
