import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { isDistrolensError } from '../core/errors.js';
import { coalesce, inflate } from './compression.js';

/** Text that compresses, with random runs that do not: several deflate blocks, output > one chunk. */
const content = (seed: number, size: number): Buffer => {
  const parts: Buffer[] = [];
  for (let at = 0; at < size; at += 64 * 1024)
    parts.push(at % (192 * 1024) === 0 ? randomBytes(64 * 1024) : Buffer.alloc(64 * 1024, `line ${seed} ${at}\n`));
  return Buffer.concat(parts).subarray(0, size);
};

/** The bytes in pieces of `size` (a member boundary then falls inside a piece). */
async function* pieces(bytes: Buffer, size: number, seen?: { bytes: number }): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) {
    const piece = bytes.subarray(at, at + size);
    if (seen) seen.bytes += piece.length;
    yield piece;
  }
}

async function gunzipped(
  bytes: Buffer,
  size: number,
  digestChecked: boolean,
  seen?: { bytes: number },
): Promise<Buffer> {
  const out: Uint8Array[] = [];
  for await (const chunk of inflate(pieces(bytes, size, seen), 'gzip', 'blob', undefined, digestChecked))
    out.push(chunk);
  return Buffer.concat(out);
}

/** A gzip member with every optional header field (RFC 1952): extra field, name, comment, header CRC. */
function withHeaderFields(member: Buffer): Buffer {
  const extra = Buffer.from([4, 0, 0x41, 0x70, 0, 0]); // XLEN 4: subfield "Ap", length 0
  return Buffer.concat([
    Buffer.from([0x1f, 0x8b, 8, 0x02 | 0x04 | 0x08 | 0x10]),
    member.subarray(4, 10),
    extra,
    Buffer.from('layer.tar\0'),
    Buffer.from('a comment\0'),
    Buffer.from([0xab, 0xcd]),
    member.subarray(10),
  ]);
}

test('gzip without the CRC gives what zlib gives: members, header fields, zero padding, any piece size', async () => {
  const [a, b, c] = [content(1, 3 * 1024 * 1024 + 17), content(2, 100), content(3, 1024 * 1024)];
  const many = Array.from({ length: 40 }, (_, i) => content(i, 70_000));
  const cases: [string, Buffer, Buffer][] = [
    ['one member', gzipSync(a), a],
    ['three members', Buffer.concat([gzipSync(a), gzipSync(b), gzipSync(c)]), Buffer.concat([a, b, c])],
    ['zero padding after the last member', Buffer.concat([gzipSync(b), Buffer.alloc(4096)]), b],
    ['an empty member', Buffer.concat([gzipSync(Buffer.alloc(0)), gzipSync(b)]), b],
    // Past 16 members the rest goes to zlib's gunzip (BGZF writes one member per 64 KiB).
    ['40 members', Buffer.concat(many.map((part) => gzipSync(part))), Buffer.concat(many)],
    [
      '16 members, then padding',
      Buffer.concat([...Array.from({ length: 16 }, () => gzipSync(b)), Buffer.alloc(512)]),
      Buffer.concat(Array.from({ length: 16 }, () => b)),
    ],
    [
      'exactly 16 members',
      Buffer.concat(Array.from({ length: 16 }, () => gzipSync(b))),
      Buffer.concat(Array.from({ length: 16 }, () => b)),
    ],
  ];
  for (const [name, gz, expected] of cases) {
    for (const size of [1000, 64 * 1024 + 1, gz.length]) {
      const seen = { bytes: 0 };
      assert.ok((await gunzipped(gz, size, true, seen)).equals(expected), `${name}, pieces of ${size}`);
      assert.equal(seen.bytes, gz.length, `${name}: every input byte is consumed (digests see them all)`);
      assert.ok((await gunzipped(gz, size, false)).equals(expected), `${name}: zlib's gunzip agrees`);
    }
  }
  // Pieces smaller than a header or a trailer: every boundary falls inside one somewhere.
  const small = [content(6, 3000), content(7, 10), content(8, 5000)];
  assert.ok(
    (await gunzipped(Buffer.concat(small.map((s) => gzipSync(s))), 7, true)).equals(Buffer.concat(small)),
    'small pieces',
  );
  const d = content(9, 20_000);
  assert.ok((await gunzipped(withHeaderFields(gzipSync(d)), 5, true)).equals(d), 'optional header fields are skipped');
  // A name of 3 MB (a hostile header): skipped a chunk at a time, not a byte at a time.
  const member = gzipSync(d);
  const longName = Buffer.concat([
    Buffer.from([0x1f, 0x8b, 8, 0x08]),
    member.subarray(4, 10),
    Buffer.alloc(3 * 1024 * 1024, 0x61),
    Buffer.from([0]),
    member.subarray(10),
  ]);
  assert.ok((await gunzipped(longName, 64 * 1024, true)).equals(d), 'a long name is skipped');
});

test('gzip without the CRC still refuses what is not gzip, truncations and a wrong length', async () => {
  const a = content(4, 2 * 1024 * 1024);
  const gz = gzipSync(a);
  const refused = async (name: string, bytes: Buffer, pattern: RegExp) => {
    await assert.rejects(
      gunzipped(bytes, 64 * 1024, true),
      (error) => isDistrolensError(error, 'E_ARCHIVE_INVALID') && pattern.test(error.message),
      name,
    );
  };
  await refused('not gzip', Buffer.from('plain text, no gzip here'), /incorrect header check/);
  await refused('empty', Buffer.alloc(0), /unexpected end of file/);
  await refused('deflate data cut', gz.subarray(0, gz.length >> 1), /unexpected end of file/);
  await refused('trailer cut', gz.subarray(0, gz.length - 3), /unexpected end of file/);
  const wrongLength = Buffer.from(gz);
  wrongLength[wrongLength.length - 4]! ^= 1;
  await refused('wrong length in the trailer', wrongLength, /incorrect length check/);
  await refused('garbage after a member', Buffer.concat([gz, Buffer.from('garbage')]), /incorrect header check/);
  await refused(
    'name without its terminator',
    Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0x08]), gz.subarray(4, 10), Buffer.alloc(100_000, 0x61)]),
    /unexpected end of file/,
  );
  const reserved = Buffer.from(gz);
  reserved[3] = 0x80;
  await refused('reserved header flag', reserved, /unknown header flags/);

  // The CRC is what is skipped, by design: a digest checks these bytes. zlib's gunzip checks it.
  const wrongCrc = Buffer.from(gz);
  wrongCrc[wrongCrc.length - 8]! ^= 1;
  assert.ok((await gunzipped(wrongCrc, 64 * 1024, true)).equals(a));
  await assert.rejects(gunzipped(wrongCrc, 64 * 1024, false), (error) => isDistrolensError(error, 'E_ARCHIVE_INVALID'));
});

test('gzip without the CRC stops cleanly when the reader stops early', async () => {
  const gz = gzipSync(content(5, 8 * 1024 * 1024));
  const seen = { bytes: 0 };
  for await (const chunk of inflate(pieces(gz, 64 * 1024, seen), 'gzip', 'blob', undefined, true)) {
    assert.ok(chunk.length > 0);
    break;
  }
  assert.ok(seen.bytes < gz.length, 'the rest of the input is not read');
});

test('coalesce joins small network reads into large pieces and passes large ones as they are', async () => {
  const small = Array.from({ length: 40 }, (_, i) => Buffer.alloc(100, i));
  const large = Buffer.alloc(600, 0xee);
  const out: Uint8Array[] = [];
  for await (const piece of coalesce(
    (async function* () {
      yield large; // half the size or more, nothing pending: passed on, not copied
      yield* small;
    })(),
    1000,
  ))
    out.push(piece);
  assert.equal(out[0], large);
  assert.deepEqual(
    out.slice(1).map((piece) => piece.length),
    [1000, 1000, 1000, 1000],
  );
  assert.deepEqual(Buffer.concat(out), Buffer.concat([large, ...small]));
});
