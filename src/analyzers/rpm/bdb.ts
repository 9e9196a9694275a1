/**
 * Header blobs from a Berkeley DB hash database (rpm's `Packages` before 4.16): walk the hash
 * pages, follow each value's off-page (overflow) chain, concatenate. Both byte orders.
 * Page layout: https://github.com/berkeleydb/libdb/blob/v5.3.28/src/dbinc/db_page.h
 */
const HASH_MAGIC = 0x061561;
const PAGE_HEADER = 26;
const P_HASH_UNSORTED = 2;
const P_OVERFLOW = 7;
const P_HASHMETA = 8;
const P_HASH = 13;
const H_OFFPAGE = 3;

export class BdbError extends Error {}

export function bdbValues(file: Uint8Array): Buffer[] {
  const buf = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  if (buf.length < 512) throw new BdbError('file too short for a Berkeley DB');
  const little = buf.readUInt32LE(12) === HASH_MAGIC;
  if (!little && buf.readUInt32BE(12) !== HASH_MAGIC) throw new BdbError('not a Berkeley DB hash database');
  const u32 = (at: number): number => (little ? buf.readUInt32LE(at) : buf.readUInt32BE(at));
  const u16 = (at: number): number => (little ? buf.readUInt16LE(at) : buf.readUInt16BE(at));
  if (buf[25] !== P_HASHMETA) throw new BdbError('first page is not hash metadata');
  const pageSize = u32(20);
  if (![512, 1024, 2048, 4096, 8192, 16384, 32768, 65536].includes(pageSize))
    throw new BdbError(`invalid page size ${pageSize}`);
  const pages = Math.min(u32(32), Math.floor(buf.length / pageSize) - 1);
  const values: Buffer[] = [];
  // Every overflow page belongs to one chain: a page seen twice is a loop (or two chains sharing
  // it), which would multiply the output. Values are thus at most the file's size in all.
  const linked = new Set<number>();
  for (let pgno = 1; pgno <= pages; pgno++) {
    const page = pgno * pageSize;
    const type = buf[page + 25];
    if (type !== P_HASH && type !== P_HASH_UNSORTED) continue;
    // Entry offsets follow the page header; a count that runs past the page is corrupt.
    const entries = Math.min(u16(page + 20), Math.floor((pageSize - PAGE_HEADER) / 2));
    // Entries alternate key, value; a value stored off-page points to an overflow chain.
    for (let i = 1; i < entries; i += 2) {
      const offset = u16(page + PAGE_HEADER + i * 2);
      if (offset + 12 > pageSize || buf[page + offset] !== H_OFFPAGE) continue;
      let next = u32(page + offset + 4);
      const length = u32(page + offset + 8);
      const parts: Buffer[] = [];
      let total = 0;
      for (let hops = 0; next !== 0 && hops <= pages; hops++) {
        const at = next * pageSize;
        if (at + pageSize > buf.length || buf[at + 25] !== P_OVERFLOW)
          throw new BdbError(`broken overflow chain at page ${next}`);
        if (linked.has(next)) throw new BdbError(`overflow page ${next} is linked twice`);
        linked.add(next);
        const following = u32(at + 16);
        // On an overflow page the "free area offset" field holds the bytes used on it.
        const used = following === 0 ? u16(at + 22) : pageSize - PAGE_HEADER;
        parts.push(buf.subarray(at + PAGE_HEADER, at + PAGE_HEADER + used));
        total += used;
        next = following;
      }
      values.push(Buffer.concat(parts, total).subarray(0, length));
    }
  }
  return values;
}
