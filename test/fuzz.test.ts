import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { DistrolensError } from '../src/core/errors.js';
import { walkTar } from '../src/util/tar.js';
import { StreamReader } from '../src/util/bytes.js';
import { readZip } from '../src/util/zip.js';
import { parseJson, parseManifestDocument } from '../src/image/manifest.js';
import { parseImageConfig } from '../src/image/config.js';
import { parseDpkgStatus, parseFileList } from '../src/analyzers/dpkg/parse.js';
import { parseApkInstalled } from '../src/analyzers/apk/parse.js';
import { parsePasswd, parseShadow } from '../src/analyzers/common/passwd.js';
import { parseOsRelease } from '../src/analyzers/os/os-release.js';
import { parseRpmHeader, RpmHeaderError } from '../src/analyzers/rpm/header.js';
import { bdbValues, BdbError } from '../src/analyzers/rpm/bdb.js';
import { ndbValues, NdbError } from '../src/analyzers/rpm/ndb.js';
import { elfLinkage } from '../src/analyzers/common/elf.js';
import { readGoBuildInfo } from '../src/analyzers/golang/buildinfo.js';
import { buildTar } from './fixtures/tar.js';
import { buildZip } from './fixtures/zip.js';
import { REALDATA } from './helpers.js';

/**
 * Property-based fuzzing of every parser of untrusted bytes, seeded with real fixtures: each is
 * fed its seeds with random bytes flipped, cut, spliced and repeated, and must end with a result
 * or an error of its own kind (a coded DistrolensError, or the parser's documented error class) —
 * never a TypeError, a RangeError, a hang or a crash. FUZZ_RUNS sets the runs per parser (CI: 150;
 * docs/fuzzing.md has the longer runs and what they found).
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 150);
/** CI runs the same cases every time (a fixed seed); FUZZ_SEED=random explores. */
const SEED = process.env.FUZZ_SEED === 'random' ? undefined : Number(process.env.FUZZ_SEED ?? 20261205);
const OPTIONS = { numRuns: RUNS, includeErrorInReport: true, ...(SEED !== undefined ? { seed: SEED } : {}) };

/** Mutations of a seed: flips, cuts, splices of a slice of itself, repeats, inserted runs. */
function mutated(seeds: readonly Buffer[]): fc.Arbitrary<Buffer> {
  const seed = fc.constantFrom(...seeds);
  const mutation = fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('splice' as const), at: fc.nat(), from: fc.nat(), length: fc.nat({ max: 4096 }) }),
    fc.record({
      kind: fc.constant('repeat' as const),
      at: fc.nat(),
      length: fc.nat({ max: 512 }),
      times: fc.integer({ min: 2, max: 64 }),
    }),
    fc.record({
      kind: fc.constant('run' as const),
      at: fc.nat(),
      byte: fc.integer({ min: 0, max: 255 }),
      length: fc.nat({ max: 65536 }),
    }),
  );
  return fc.tuple(seed, fc.array(mutation, { minLength: 1, maxLength: 8 })).map(([base, mutations]) => {
    let data = Buffer.from(base);
    for (const m of mutations) {
      const at = data.length ? m.at % data.length : 0;
      if (m.kind === 'flip' && data.length) data[at] = m.byte;
      else if (m.kind === 'cut') data = data.subarray(0, at);
      else if (m.kind === 'splice') {
        const from = data.length ? m.from % data.length : 0;
        data = Buffer.concat([data.subarray(0, at), data.subarray(from, from + m.length), data.subarray(at)]);
      } else if (m.kind === 'repeat') {
        const piece = data.subarray(at, at + m.length);
        data = Buffer.concat([
          data.subarray(0, at),
          ...Array.from({ length: m.times }, () => piece),
          data.subarray(at),
        ]);
      } else if (m.kind === 'run')
        data = Buffer.concat([data.subarray(0, at), Buffer.alloc(m.length, m.byte), data.subarray(at)]);
    }
    return data;
  });
}

/** Runs `parse` on mutated seeds: any error must be one of `allowed`. */
function fuzz(
  name: string,
  seeds: readonly Buffer[],
  parse: (data: Buffer) => unknown,
  allowed: readonly (new (...args: never[]) => Error)[] = [],
): void {
  test(`fuzz: ${name}`, async () => {
    await fc.assert(
      fc.asyncProperty(mutated(seeds), async (data) => {
        try {
          await parse(data);
        } catch (error) {
          if (error instanceof DistrolensError && error.code !== 'E_INTERNAL') return;
          if (allowed.some((kind) => error instanceof kind)) return;
          throw error;
        }
      }),
      OPTIONS,
    );
  });
}

const read = (path: string) => readFile(join(REALDATA, path));
const text = (data: Buffer) => data.toString('utf8');

const tarSeeds = [
  buildTar([
    { path: 'etc/passwd', content: 'root:x:0:0::/root:/bin/sh\n' },
    { path: 'bin/sh', type: 'symlink', target: '/bin/busybox' },
    { path: 'usr/bin/ping', content: 'x', xattrs: { 'security.capability': 'cap' } },
    { path: `${'long/'.repeat(40)}name`, content: 'pax path' },
    { path: 'etc/.wh.shadow', type: 'whiteout' },
    { path: 'var/', type: 'dir' },
  ]),
];
fuzz('tar walker', tarSeeds, async (data) => {
  async function* chunks(): AsyncGenerator<Uint8Array> {
    for (let at = 0; at < data.length; at += 700) yield data.subarray(at, at + 700);
  }
  const reader = new StreamReader(chunks());
  await walkTar(reader, { what: 'fuzz' }, (entry) =>
    entry.type === 'file' && entry.size < 1 << 20 ? entry.read(4096).then(() => undefined) : undefined,
  );
});

const manifestSeeds = [
  Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${'a'.repeat(64)}`, size: 10 },
      layers: [
        { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: `sha256:${'b'.repeat(64)}`, size: 20 },
      ],
    }),
  ),
  Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: `sha256:${'c'.repeat(64)}`,
          size: 30,
          platform: { os: 'linux', architecture: 'amd64' },
        },
      ],
    }),
  ),
];
fuzz('manifest and index documents', manifestSeeds, (data) => parseManifestDocument(data, 'fuzz'));
fuzz(
  'image config',
  [
    Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        config: { User: '1', Env: ['A=b'], Cmd: ['/x'], ExposedPorts: { '80/tcp': {} }, Labels: { a: 'b' } },
        rootfs: { type: 'layers', diff_ids: [`sha256:${'d'.repeat(64)}`] },
        history: [{ created_by: 'x' }],
      }),
    ),
  ],
  (data) => parseImageConfig(parseJson(data, 'fuzz', 1 << 24), 'fuzz'),
);

test('fuzz: package databases and account files', async () => {
  const status = await read('pkgdb/dpkg/trivy-ubuntu-18.04/status');
  const apk = await read('pkgdb/apk/alpine-3.16-apko/installed');
  const text4 = (seeds: Buffer[], parse: (t: string) => unknown) =>
    fc.assert(
      fc.property(mutated(seeds), (data) => void parse(text(data))),
      OPTIONS,
    );
  text4([status.subarray(0, 64 * 1024)], parseDpkgStatus);
  text4([Buffer.from('/.\n/usr\n/usr/bin/x\n')], (t) => parseFileList(t, false));
  text4([apk], parseApkInstalled);
  text4([Buffer.from('root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/sbin/nologin\n')], parsePasswd);
  text4([Buffer.from('root:!::0:::::\n')], parseShadow);
  text4([Buffer.from('ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n')], parseOsRelease);
});

const rpmSeeds = async () => {
  const { createRequire } = await import('node:module');
  const Database = createRequire(import.meta.url)('better-sqlite3') as new (
    p: string,
    o: object,
  ) => { prepare(s: string): { all(): { blob: Buffer }[] }; close(): void };
  const db = new Database(join(REALDATA, 'pkgdb/rpm/cbl-mariner-2.0/rpmdb.sqlite'), { readonly: true });
  try {
    return db
      .prepare('SELECT blob FROM Packages LIMIT 3')
      .all()
      .map((r) => r.blob);
  } finally {
    db.close();
  }
};
test('fuzz: rpm headers', async () => {
  const seeds = await rpmSeeds();
  fc.assert(
    fc.property(mutated(seeds), (data) => {
      try {
        parseRpmHeader(data);
      } catch (error) {
        if (!(error instanceof RpmHeaderError)) throw error;
      }
    }),
    OPTIONS,
  );
});
test('fuzz: rpm Berkeley DB and NDB files', async () => {
  const bdb = await read('pkgdb/rpm/libuuid-rhel8/Packages');
  for (const [seeds, parse, kind] of [
    [[bdb], bdbValues, BdbError],
    [[Buffer.concat([Buffer.from('RpmP'), Buffer.alloc(4092)])], ndbValues, NdbError],
  ] as const) {
    fc.assert(
      fc.property(mutated(seeds), (data) => {
        try {
          (parse as (d: Uint8Array) => unknown)(data);
        } catch (error) {
          if (!(error instanceof kind)) throw error;
        }
      }),
      OPTIONS,
    );
  }
});

test('fuzz: zip archives, ELF and Go build information', async () => {
  const jar = await read('pkgdb/java/trivy/io.quarkus.gizmo.gizmo-1.1.jar');
  const elf = await read('pkgdb/go-binary/trivy/test.elf');
  const zipSeeds = [
    jar.subarray(0, Math.min(jar.length, 256 * 1024)),
    buildZip([
      { name: 'META-INF/MANIFEST.MF', data: 'Manifest-Version: 1.0\n' },
      { name: 'a.txt', data: 'x'.repeat(1000), store: true },
    ]),
  ];
  fc.assert(
    fc.property(mutated(zipSeeds), (data) => {
      for (const member of readZip(data) ?? []) member.read();
    }),
    OPTIONS,
  );
  fc.assert(
    fc.property(mutated([elf]), (data) => {
      elfLinkage(data);
      try {
        readGoBuildInfo(data);
      } catch (error) {
        // Go build information that does not parse is reported as absent by the extractor's caller.
        if (!(error instanceof Error) || error instanceof TypeError || error instanceof RangeError) throw error;
      }
    }),
    { ...OPTIONS, numRuns: Math.max(10, Math.floor(RUNS / 5)) },
  );
  assert.ok(true);
});
