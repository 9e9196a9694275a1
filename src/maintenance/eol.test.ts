import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO_ROOT } from '../../test/helpers.js';
import { cycleOf, eolState, parseDistroInfo, parseEndOfLifeProduct } from './eol.js';

const product = async (name: string) =>
  parseEndOfLifeProduct(await readFile(join(REPO_ROOT, 'data', 'eol', `${name}.md`), 'utf8'), name);
const TODAY = new Date('2026-12-05T00:00:00Z');

test('endoflife.date product files: the cycles and dates MANIFEST-2 records', async () => {
  const alpine = await product('alpine-linux');
  assert.equal(alpine.length, 32);
  assert.equal(alpine[0]!.cycle, '3.24');
  assert.equal(cycleOf(alpine, '3.9.6')!.eol, '2020-11-01');
  assert.equal(cycleOf(alpine, '3.10.2')!.cycle, '3.10', '3.10 is not 3.1');
  const debian = await product('debian');
  assert.deepEqual(cycleOf(debian, '12.8'), {
    cycle: '12',
    codename: 'Bookworm',
    releaseDate: '2023-06-10',
    eol: '2026-07-11',
    extendedEol: '2028-06-30',
  });
  const node = await product('nodejs');
  assert.equal(cycleOf(node, '20.11.1')!.eol, '2026-04-30');
  assert.equal(node.filter((c) => c.eol === true).length, 3, 'eol: true kept as "ended"');
  assert.equal(cycleOf(await product('python'), '3.13.1')!.eol, '2029-10-31');
  assert.equal(cycleOf(await product('ubuntu'), '18.04')!.eol, '2023-05-31');
  assert.equal(cycleOf(node, '99.0.0'), undefined);
});

test('distro-info-data CSV: Debian (eol-lts) and Ubuntu (eol-esm, "LTS" in the version)', () => {
  // Rows of distro-info-data 0.58+deb12u6 (ISC), as Debian 12 ships them in /usr/share/distro-info.
  const debian = parseDistroInfo(
    `version,codename,series,created,release,eol,eol-lts,eol-elts
10,Buster,buster,2017-06-17,2019-07-06,2022-09-10,2024-06-30,2029-06-30
12,Bookworm,bookworm,2021-08-14,2023-06-10,2026-07-11,2028-06-30,2033-06-30
,Sid,sid,1993-08-16
`,
  );
  assert.deepEqual(
    debian.map((c) => [c.cycle, c.eol, c.extendedEol]),
    [
      ['12', '2026-07-11', '2028-06-30'],
      ['10', '2022-09-10', '2024-06-30'],
    ],
  );
  const ubuntu = parseDistroInfo(
    `version,codename,series,created,release,eol,eol-server,eol-esm,eol-legacy
18.04 LTS,Bionic Beaver,bionic,2017-10-19,2018-04-26,2023-05-31,2023-05-31,2028-04-26,2030-04-30
`,
  );
  assert.deepEqual(ubuntu[0], {
    cycle: '18.04',
    codename: 'Bionic Beaver',
    releaseDate: '2018-04-26',
    eol: '2023-05-31',
    extendedEol: '2028-04-26',
  });
  assert.throws(() => parseDistroInfo('a,b\n1,2\n'), /E_FEED_INVALID|not a distro-info-data CSV/);
});

test('where a cycle stands: ended, days left, extended support still running', async () => {
  const debian = await product('debian');
  assert.deepEqual(eolState(cycleOf(debian, '12')!, TODAY), { ended: true, days: -147, extended: true });
  assert.deepEqual(eolState(cycleOf(debian, '13')!, TODAY), { ended: false, days: 613, extended: false });
  assert.deepEqual(eolState(cycleOf(debian, '10')!, TODAY), { ended: true, days: -1547, extended: false });
  assert.deepEqual(eolState({ cycle: '0.10', eol: true }, TODAY), { ended: true, extended: false });
  assert.throws(() => parseEndOfLifeProduct('no front matter'), /no YAML front matter/);
});
