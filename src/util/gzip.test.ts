import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { GZIP_BLOCK, ParallelGzip, streamGzip } from './gzip.js';

async function compress(chunks: Buffer[], plain = false, inFlight?: number): Promise<Buffer> {
  const out: Buffer[] = [];
  const sink = (chunk: Buffer) => void out.push(Buffer.from(chunk));
  const gzip = plain ? streamGzip(sink) : new ParallelGzip(sink, inFlight ? { inFlight } : {});
  for (const chunk of chunks) await gzip.write(chunk);
  await gzip.end();
  return Buffer.concat(out);
}

/** Mixed content: compressible text and random bytes, so blocks differ in ratio. */
function sample(size: number): Buffer {
  const text = Buffer.from('the quick brown fox jumps over the lazy dog\n'.repeat(Math.ceil(size / 44) + 1));
  const data = Buffer.concat([text.subarray(0, Math.ceil(size / 2)), randomBytes(Math.floor(size / 2))]);
  return data.subarray(0, size);
}

test('parallel gzip is one gzip member any reader takes back to the input, at every block boundary', async () => {
  for (const size of [0, 1, GZIP_BLOCK - 1, GZIP_BLOCK, GZIP_BLOCK + 1, 3 * GZIP_BLOCK + 12_345]) {
    const data = sample(size);
    const gz = await compress([data]);
    assert.deepEqual(gunzipSync(gz), data, `size ${size}`);
    // The system's gzip agrees: the CRC and length in the trailer are right, and there is one member.
    const check = spawnSync('gzip', ['-t'], { input: gz });
    if (check.error === undefined) assert.equal(check.status, 0, `gzip -t, size ${size}: ${String(check.stderr)}`);
  }
});

test('the same input gives the same bytes whatever the writes and however many blocks are in flight', async () => {
  const data = sample(2 * GZIP_BLOCK + 777);
  const reference = await compress([data]);
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.integer({ min: 1, max: data.length }), { maxLength: 12 }),
      fc.integer({ min: 1, max: 6 }),
      async (cuts, inFlight) => {
        const at = [...new Set(cuts)].sort((a, b) => a - b);
        const chunks = [0, ...at].map((from, i) => data.subarray(from, at[i] ?? data.length));
        assert.deepEqual(await compress(chunks, false, inFlight), reference);
      },
    ),
    { numRuns: 25 },
  );
});

test('its plain twin (a one-thread gzip stream) gives the same content', async () => {
  const data = sample(GZIP_BLOCK * 2 + 5);
  assert.deepEqual(gunzipSync(await compress([data], true)), gunzipSync(await compress([data])));
});

test('a block that fails to deflate fails the stream instead of being skipped', async () => {
  const gzip = new ParallelGzip(() => {
    throw new Error('disk full');
  });
  await assert.rejects(async () => {
    await gzip.write(sample(GZIP_BLOCK * 3));
    await gzip.end();
  }, /disk full/);
});
