/**
 * Header blobs from rpm's NDB backend (`Packages.db`, SUSE since 2021): a header page, slot
 * entries (magic, package index, block offset, block count) and blobs in 16-byte blocks, each
 * with its own magic, package index, generation and length. Little-endian.
 * https://github.com/rpm-software-management/rpm/blob/master/lib/backend/ndb/rpmpkg.c
 */
const HEADER_MAGIC = 0x506d7052; // 'RpmP'
const SLOT_MAGIC = 0x746f6c53; // 'Slot'
const BLOB_MAGIC = 0x53626c42; // 'BlbS'
const SLOT_SIZE = 16;
const SLOTS_PER_PAGE = 4096 / SLOT_SIZE;
const BLOCK = 16;
const BLOB_HEADER = 16;

export class NdbError extends Error {}

export function ndbValues(file: Uint8Array): Buffer[] {
  const buf = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  if (buf.length < 32 || buf.readUInt32LE(0) !== HEADER_MAGIC) throw new NdbError('not an rpm NDB database');
  const slotPages = buf.readUInt32LE(12);
  // The header takes the place of the first two slots of the first page.
  const slots = slotPages * SLOTS_PER_PAGE - 2;
  const values: Buffer[] = [];
  for (let i = 0; i < slots; i++) {
    const at = 32 + i * SLOT_SIZE;
    if (at + SLOT_SIZE > buf.length) break;
    if (buf.readUInt32LE(at) !== SLOT_MAGIC) throw new NdbError(`bad slot ${i}`);
    const pkgIndex = buf.readUInt32LE(at + 4);
    if (pkgIndex === 0) continue;
    const blob = buf.readUInt32LE(at + 8) * BLOCK;
    if (
      blob + BLOB_HEADER > buf.length ||
      buf.readUInt32LE(blob) !== BLOB_MAGIC ||
      buf.readUInt32LE(blob + 4) !== pkgIndex
    )
      throw new NdbError(`bad blob for package ${pkgIndex}`);
    const length = buf.readUInt32LE(blob + 12);
    if (blob + BLOB_HEADER + length > buf.length) throw new NdbError(`blob of package ${pkgIndex} out of bounds`);
    values.push(buf.subarray(blob + BLOB_HEADER, blob + BLOB_HEADER + length));
  }
  return values;
}
