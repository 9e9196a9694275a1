import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { Ajv } from 'ajv';
import { renderSarif } from '../src/report/sarif.js';
import { renderCycloneDx } from '../src/report/cyclonedx.js';
import { renderSpdx } from '../src/report/spdx.js';
import { renderMarkdown } from '../src/report/markdown.js';
import { renderScanHtml } from '../src/report/html.js';
import { recommend } from '../src/recommend/index.js';
import { TOOL } from '../src/version.js';
import { renderScanTable } from '../src/report/scan-table.js';
import { renderJson } from '../src/report/format.js';
import { builtinRules } from '../src/scan/scan.js';
import type { Report } from '../src/core/report.js';
import { runCli } from '../src/cli/main.js';
import { buildImage, dockerArchive } from './fixtures/image.js';
import { scanSpec } from './fixtures/scan.js';
import { REALDATA, SCHEMAS, REPO_ROOT, tempDir } from './helpers.js';
import { memorySource, type VulnSource } from '../src/vuln/match.js';
import { secdbToOsv } from '../src/vuln/secdb.js';
import type { OsvRecord } from '../src/vuln/osv.js';

/**
 * Renderers: SARIF 2.1.0, CycloneDX 1.6 and SPDX 2.3 validated against their official schemas
 * (shared/schemas), and one golden file per format for a fixture that fires many rules.
 * `UPDATE_GOLDEN=1 npm test` rewrites the goldens.
 */
const require = createRequire(import.meta.url);
const schemas = SCHEMAS;
const load = async (name: string) => JSON.parse(await readFile(join(schemas, name), 'utf8')) as Record<string, unknown>;

/** The real Alpine 3.9 secfixes and npm advisories of shared/realdata, as the database would serve them. */
async function realRecords(): Promise<VulnSource> {
  const osv = join(REALDATA, 'osv');
  const npm = await Promise.all(
    ['GHSA-35jh-r3h4-6jhm.json', 'GHSA-whgm-jr23-g3j9.json'].map(
      async (f) => JSON.parse(await readFile(join(osv, 'npm', f), 'utf8')) as OsvRecord,
    ),
  );
  return memorySource(
    [...secdbToOsv(await readFile(join(osv, 'alpine-secdb-legacy/v3.9/main.yaml'), 'utf8')), ...npm],
    'realdata',
  );
}

async function fixture(): Promise<Report> {
  const ELF = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46]), Buffer.alloc(64)]);
  return scanSpec(
    {
      layers: [
        {
          files: [
            { path: 'etc/os-release', content: 'ID=alpine\nVERSION_ID=3.9.0\nPRETTY_NAME="Alpine Linux v3.9"\n' },
            {
              path: 'lib/apk/db/installed',
              content:
                'P:musl\nV:1.1.20-r3\nA:x86_64\nL:MIT\no:musl\n\nP:busybox\nV:1.29.3-r10\nA:x86_64\nL:GPL-2.0-only\no:busybox\n\n',
            },
            { path: 'bin/busybox', content: ELF, mode: 0o755 },
            { path: 'bin/sh', type: 'symlink', target: '/bin/busybox' },
            { path: 'etc/passwd', content: 'root:x:0:0:root:/root:/bin/ash\n' },
            { path: 'etc/shadow', content: 'root:::0:::::\n' },
            {
              path: 'app/node_modules/lodash/package.json',
              content: '{"name":"lodash","version":"4.17.20","license":"MIT"}',
            },
          ],
        },
        { files: [{ path: 'app/.env', content: 'API_TOKEN=abcdefgh12345678\n' }] },
      ],
      config: { Cmd: ['/bin/sh', '-c', 'node app.js'], ExposedPorts: { '22/tcp': {} } },
    },
    { vulnerabilities: { source: await realRecords() } },
  );
}

const RENDER: Record<string, [string, (r: Report) => string]> = {
  sarif: ['sarif', (r) => renderSarif(r, builtinRules)],
  cyclonedx: ['cdx.json', renderCycloneDx],
  spdx: ['spdx.json', renderSpdx],
  markdown: ['md', renderMarkdown],
  table: ['txt', renderScanTable],
  html: ['html', (r) => renderScanHtml(r, recommend(r, TOOL))],
  json: ['json', renderJson],
};

/** A distroless-like image: status.d records, nonroot, no shell. */
function distrolessFixture(): Promise<Report> {
  return scanSpec({
    layers: [
      {
        files: [
          {
            path: 'etc/os-release',
            content: 'PRETTY_NAME="Distroless"\nNAME="Debian GNU/Linux"\nID="debian"\nVERSION_ID="12"\n',
          },
          {
            path: 'var/lib/dpkg/status.d/base-files',
            content: 'Package: base-files\nVersion: 12.4+deb12u5\nArchitecture: amd64\n',
          },
          {
            path: 'var/lib/dpkg/status.d/tzdata',
            content: 'Package: tzdata\nVersion: 2024a-0+deb12u1\nArchitecture: all\n',
          },
          {
            path: 'usr/share/doc/tzdata/copyright',
            content:
              'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nLicense: public-domain\n',
          },
          {
            path: 'etc/passwd',
            content: 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n',
          },
          {
            path: 'app/server',
            content: Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46]), Buffer.alloc(64)]),
            mode: 0o755,
          },
        ],
      },
    ],
    config: { User: '65532', Entrypoint: ['/app/server'] },
  });
}

test('golden files per format and fixture (structural for JSON, exact for text)', async () => {
  const dir = join(REPO_ROOT, 'test', 'golden');
  await mkdir(dir, { recursive: true });
  for (const [fixtureName, make] of [
    ['alpine-like', fixture],
    ['distroless-like', distrolessFixture],
  ] as const) {
    // The target's input names a temporary directory: pin it before rendering.
    const scanned = await make();
    const report: Report = { ...scanned, target: { ...scanned.target, input: 'oci:FIXTURE' } };
    for (const [name, [ext, render]] of Object.entries(RENDER)) {
      const path = join(dir, `${fixtureName}.${ext}`);
      const text = render(report);
      if (process.env.UPDATE_GOLDEN) await writeFile(path, text);
      const golden = await readFile(path, 'utf8');
      if (ext.endsWith('json') || ext === 'sarif')
        assert.deepEqual(JSON.parse(text), JSON.parse(golden), `${fixtureName} ${name}`);
      else assert.equal(text, golden, `${fixtureName} ${name}`);
    }
  }
});

test('SARIF validates against the SARIF 2.1.0 schema and carries what GitHub code scanning reads', async () => {
  const Ajv4 = require('ajv-draft-04') as typeof Ajv;
  const validate = new Ajv4({ allErrors: true, strict: false }).compile(await load('sarif-schema-2.1.0.json'));
  const report = await fixture();
  const sarif = JSON.parse(renderSarif(report, builtinRules)) as {
    runs: {
      tool: { driver: { rules: { id: string; helpUri: string; properties: Record<string, string> }[] } };
      results: {
        ruleId: string;
        level: string;
        partialFingerprints: Record<string, string>;
        locations: { physicalLocation: { artifactLocation: { uri: string } } }[];
      }[];
    }[];
  };
  assert.ok(validate(sarif), JSON.stringify(validate.errors?.slice(0, 3)));
  const run = sarif.runs[0]!;
  assert.deepEqual(
    run.results.map((r) => r.ruleId).sort(),
    [...report.findings.map((f) => f.ruleId), ...report.vulnerabilities.map((v) => v.id)].sort(),
  );
  // A vulnerability is a rule of its own, located at the database that records the package.
  const lodash = run.results.find((r) => r.ruleId === 'CVE-2021-23337')!;
  assert.equal(lodash.level, 'error');
  assert.equal(lodash.locations[0]!.physicalLocation.artifactLocation.uri, 'app/node_modules/lodash/package.json');
  assert.equal(run.tool.driver.rules.find((r) => r.id === 'CVE-2021-23337')!.properties['security-severity'], '7.2');
  const empty = run.results.find((r) => r.ruleId === 'accounts/empty-password')!;
  assert.equal(empty.level, 'error');
  assert.equal(empty.locations[0]!.physicalLocation.artifactLocation.uri, 'etc/shadow');
  assert.equal(
    run.tool.driver.rules.find((r) => r.id === 'accounts/empty-password')!.properties['security-severity'],
    '9.5',
  );
  assert.ok(run.tool.driver.rules.every((r) => r.helpUri.includes('rules.md#') || r.helpUri.includes(r.id)));
  assert.ok(run.results.every((r) => /^[a-f0-9]{32}$/.test(r.partialFingerprints['distrolens/v1']!)));
});

test('CycloneDX 1.6 and SPDX 2.3 validate against their official schemas', async () => {
  const addFormats = require('ajv-formats') as (ajv: Ajv) => Ajv;
  const ajv = addFormats(new Ajv({ allErrors: true, strict: false }));
  ajv.addSchema(await load('spdx.schema.json'));
  ajv.addSchema(await load('jsf-0.82.schema.json'));
  const cdx = ajv.compile(await load('bom-1.6.schema.json'));
  const spdx = addFormats(new Ajv({ allErrors: true, strict: false })).compile(await load('spdx-schema.json'));
  const report = await fixture();
  const bom = JSON.parse(renderCycloneDx(report)) as {
    components: { purl: string; 'bom-ref': string }[];
    metadata: { component: { type: string } };
    vulnerabilities: { id: string; affects: { ref: string }[] }[];
  };
  assert.ok(cdx(bom), JSON.stringify(cdx.errors?.slice(0, 3)));
  assert.ok(report.vulnerabilities.length > 0);
  assert.deepEqual(
    bom.vulnerabilities.map((v) => v.id).sort(),
    [...new Set(report.vulnerabilities.map((v) => v.id))].sort(),
  );
  const refs = new Set(bom.components.map((c) => c['bom-ref']));
  assert.ok(
    bom.vulnerabilities.every((v) => v.affects.length > 0 && v.affects.every((a) => refs.has(a.ref))),
    'every vulnerability affects a component of the BOM',
  );
  assert.deepEqual(bom.components.map((c) => c.purl).sort(), report.packages.map((p) => p.purl).sort());
  assert.equal(bom.metadata.component.type, 'container');
  const doc = JSON.parse(renderSpdx(report)) as {
    packages: { externalRefs?: { referenceLocator: string }[] }[];
    relationships: unknown[];
  };
  assert.ok(spdx(doc), JSON.stringify(spdx.errors?.slice(0, 3)));
  assert.equal(doc.packages.length, report.packages.length + 1);
  assert.equal(doc.relationships.length, report.packages.length + 1);
});

test('CLI: several formats in one run, each to its own file; --fail-on sets exit code 1', async () => {
  const dir = await tempDir();
  try {
    const image = buildImage({ layers: [{ files: [{ path: 'etc/passwd', content: 'root:x:0:0::/root:/bin/sh\n' }] }] });
    await writeFile(join(dir.path, 'a.tar'), dockerArchive([{ image, tags: ['a:1'] }]));
    let stdout = '';
    let stderr = '';
    const io = {
      stdout: { write: (t: string) => (stdout += t) },
      stderr: { write: (t: string) => (stderr += t) },
      env: {},
      cwd: dir.path,
    };
    const code = await runCli(
      [
        'scan',
        join(dir.path, 'a.tar'),
        '--no-cache',
        '-f',
        'sarif=out.sarif',
        '-f',
        'cyclonedx=bom.json',
        '-f',
        'markdown',
      ],
      io,
    );
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^### distrolens: `a:1`/);
    assert.equal(
      (JSON.parse(await readFile(join(dir.path, 'out.sarif'), 'utf8')) as { version: string }).version,
      '2.1.0',
    );
    assert.equal(
      (JSON.parse(await readFile(join(dir.path, 'bom.json'), 'utf8')) as { bomFormat: string }).bomFormat,
      'CycloneDX',
    );
    stderr = '';
    assert.equal(
      await runCli(['scan', join(dir.path, 'a.tar'), '--no-cache', '-f', 'json=r.json', '--fail-on', 'high'], io),
      1,
      'runs as root: high',
    );
    assert.match(stderr, /gate failed: 1 finding\(s\) at or above high: config\/runs-as-root/);
    assert.equal(
      await runCli(['scan', join(dir.path, 'a.tar'), '--no-cache', '-f', 'json=r.json', '--fail-on', 'critical'], io),
      0,
    );
    assert.equal(await runCli(['scan', join(dir.path, 'a.tar'), '--fail-on', 'severe'], io), 2);
    stderr = '';
    assert.equal(await runCli(['scan', 'registry:127.0.0.1:1/never/pulled:1', '--fail-on', 'severe'], io), 2);
    assert.match(stderr, /E_USAGE: invalid --fail-on severe/, 'refused before any image work (no pull, no E_NETWORK)');
    assert.equal(
      await runCli(['scan', join(dir.path, 'a.tar'), '-f', 'json', '-f', 'sarif'], io),
      2,
      'two formats cannot share stdout',
    );
    await writeFile(
      join(dir.path, 'policy.yaml'),
      'nonRoot: true\naccept:\n  - rule: config/runs-as-root\n    reason: migrating\n    expires: 2020-01-01\n',
    );
    stderr = '';
    assert.equal(
      await runCli(['scan', join(dir.path, 'a.tar'), '--no-cache', '-f', 'json=r.json', '--policy', 'policy.yaml'], io),
      1,
    );
    assert.match(stderr, /policy accept: the acceptance of config\/runs-as-root expired on 2020-01-01/);
    await writeFile(join(dir.path, 'bad.yaml'), 'minGrade: Q\n');
    stderr = '';
    assert.equal(await runCli(['scan', join(dir.path, 'a.tar'), '--policy', 'bad.yaml'], io), 2);
    assert.match(stderr, /^error E_POLICY_INVALID: .*bad\.yaml: minGrade/);
  } finally {
    await dir.cleanup();
  }
});
