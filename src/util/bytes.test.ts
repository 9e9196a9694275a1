import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { chunksOf, StreamReader } from './bytes.js';

test('chunksOf hands over the pushed chunks themselves, pauses past the run-ahead and resumes as they are taken', async () => {
  const source = new PassThrough();
  const pushed = [Buffer.alloc(3, 1), Buffer.alloc(3, 2), Buffer.alloc(3, 3)];
  const chunks = chunksOf(source, 6);
  const first = chunks.next(); // attaches the listeners
  for (const chunk of pushed) source.write(chunk);
  await new Promise(setImmediate);
  assert.equal(source.isPaused(), true, 'six bytes queued: the source waits');
  const got = [(await first).value];
  assert.equal(source.isPaused(), true, 'six bytes still queued');
  got.push((await chunks.next()).value);
  assert.equal(source.isPaused(), false, 'below the run-ahead again');
  source.end();
  for await (const chunk of chunks) got.push(chunk);
  assert.deepEqual(got, pushed);
  got.forEach((chunk, i) => assert.equal(chunk, pushed[i], 'the same buffer, not a copy'));
});

test('chunksOf passes errors on, and destroys the source when the reader stops early', async () => {
  const failing = new PassThrough();
  const reading = (async () => {
    for await (const _ of chunksOf(failing)) {
      /* drain */
    }
  })();
  failing.destroy(new Error('cut'));
  await assert.rejects(reading, /cut/);

  const source = new PassThrough();
  source.write(Buffer.from('abc'));
  for await (const chunk of chunksOf(source)) {
    assert.equal(chunk.toString(), 'abc');
    break;
  }
  assert.equal(source.destroyed, true);
});

test('StreamReader reads across chunks, skips within them and counts its position', async () => {
  const reader = new StreamReader(chunksOf(new PassThrough().end(Buffer.from('0123456789'))));
  assert.equal((await reader.read(3)).toString(), '012');
  assert.equal(await reader.skip(2), 2);
  assert.equal(reader.tryRead(2)?.toString(), '56');
  assert.equal(reader.trySkip(1), true);
  assert.equal((await reader.read(10)).toString(), '89');
  assert.equal(reader.position, 10);

  async function* pieces(): AsyncGenerator<Uint8Array> {
    yield Buffer.from('ab');
    yield Buffer.from('cd');
    yield Buffer.from('ef');
  }
  const split = new StreamReader(pieces());
  assert.equal((await split.read(1)).toString(), 'a');
  assert.equal((await split.read(4)).toString(), 'bcde', 'a read spanning chunks is joined');
  assert.equal(await split.skip(5), 1, 'a skip past the end stops there');
  assert.equal(split.position, 6);
});
