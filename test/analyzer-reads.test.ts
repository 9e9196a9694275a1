import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  builtinAnalyzers,
  osDetector,
  type Analyzer,
  type AnalyzerOutput,
  type ImageMeta,
} from '../src/analyzers/index.js';
import { buildFs, type LayeredFs } from '../src/fs/layered.js';
import { capturePlan } from '../src/scan/capture.js';
import { openSource } from '../src/sources/index.js';
import { buildImage, writeOciLayout, type ImageSpec } from './fixtures/image.js';
import { scanSpec } from './fixtures/scan.js';
import type { FileSpec } from './fixtures/tar.js';
import { buildZip } from './fixtures/zip.js';
import { tempDir } from './helpers.js';

/**
 * What each analyzer asks for during the walk and reads afterwards, on one image that holds
 * something for every one of them (syft's cataloger tests assert the same): an analyzer that
 * starts reading files it did not declare, or stops reading one, fails here. Then the
 * regression of extraction results replacing file bytes: secrets in an executable script, next to
 * an ELF binary and inside a jar are found, while the script's interpreter and the jar's
 * artifact are still extracted.
 */
const AWS_SECRET = 'aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const GITHUB = 'ghp_0123456789abcdefghijklmnopqrstuvwxyzAB';
const ELF = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]), Buffer.alloc(8192)]);
const JAR = buildZip([
  {
    name: 'META-INF/MANIFEST.MF',
    data: `Manifest-Version: 1.0\nImplementation-Title: app\nImplementation-Version: 1.2.3\nX-Deploy-Token: ${GITHUB}\n`,
  },
  {
    name: 'META-INF/maven/com.example/app/pom.properties',
    data: 'groupId=com.example\nartifactId=app\nversion=1.2.3\n',
  },
]);

const FILES: FileSpec[] = [
  { path: 'etc/os-release', content: 'ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n' },
  { path: 'etc/passwd', content: 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/app:/sbin/nologin\n' },
  { path: 'etc/shadow', content: 'root:*::0:::::\napp:!::0:::::\n', mode: 0o640 },
  {
    path: 'var/lib/dpkg/status',
    content: 'Package: libc6\nStatus: install ok installed\nVersion: 2.36-9\nArchitecture: amd64\n\n',
  },
  { path: 'var/lib/dpkg/info/libc6:amd64.list', content: '/lib/x86_64-linux-gnu/libc.so.6\n' },
  { path: 'var/lib/dpkg/info/libc6:amd64.md5sums', content: '0123  lib/x86_64-linux-gnu/libc.so.6\n' },
  { path: 'usr/share/doc/libc6/copyright', content: 'License: LGPL-2.1\n' },
  { path: 'lib/x86_64-linux-gnu/libc.so.6', content: ELF, mode: 0o755 },
  {
    path: 'app/node_modules/left-pad/package.json',
    content: '{"name":"left-pad","version":"1.3.0","license":"WTFPL"}',
  },
  {
    path: 'usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA',
    content: 'Metadata-Version: 2.1\nName: six\nVersion: 1.16.0\n',
  },
  {
    path: 'app/start.sh',
    content: `#!/bin/sh\n# deploy helper\nexport ${AWS_SECRET}\nexec /app/server\n`,
    mode: 0o755,
  },
  { path: 'app/server', content: ELF, mode: 0o755 },
  { path: 'app/server.conf', content: `github_token: ${GITHUB}\n` },
  { path: 'app/app.jar', content: JAR },
  { path: 'app/README.md', content: 'nothing to see\n' },
];
const SPEC: ImageSpec = { layers: [{ files: FILES }], config: { User: '1000', Entrypoint: ['/app/start.sh'] } };

interface Trace {
  /** Paths its `reads` or `extract.match` accepted during the walk. */
  readonly asked: string[];
  /** Paths whose content or extraction results it read during analysis. */
  readonly read: string[];
  readonly output: AnalyzerOutput<unknown>;
}

/** A view of the filesystem that records which paths had their content or extraction results read. */
function recording(fs: LayeredFs, read: Set<string>): LayeredFs {
  return new Proxy(fs, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      if (property !== 'content' && property !== 'extracted' && property !== 'hiddenContent')
        return (value as (...args: unknown[]) => unknown).bind(target);
      return (arg: Parameters<LayeredFs['content']>[0] & Parameters<LayeredFs['hiddenContent']>[0]) => {
        const result: unknown = value.call(target, arg);
        if (result !== undefined)
          read.add(
            typeof arg === 'string' ? (target.file(arg)?.path ?? arg) : `hidden:${(arg as { path: string }).path}`,
          );
        return result;
      };
    },
  });
}

/** Walks the image with the OS detector and one analyzer, and runs it on a recording view. */
async function trace(analyzer: Analyzer, layout: string): Promise<Trace> {
  const asked = new Set<string>();
  const watched: Analyzer = {
    ...analyzer,
    ...(analyzer.reads
      ? {
          reads: (path: string, size: number) => {
            const want = analyzer.reads!(path, size);
            if (want !== false) asked.add(path);
            return want;
          },
        }
      : {}),
    ...(analyzer.extract
      ? {
          extract: {
            ...analyzer.extract,
            match: (path: string, size: number, mode: number) => {
              const want = analyzer.extract!.match(path, size, mode);
              if (want) asked.add(path);
              return want;
            },
          },
        }
      : {}),
  };
  const source = await openSource(`oci:${layout}`, { env: {} });
  try {
    const image = await source.resolve();
    const fs = await buildFs(image, { capture: capturePlan([osDetector, watched]) });
    const read = new Set<string>();
    const view = recording(fs, read);
    const meta: ImageMeta = {
      input: layout,
      source: 'oci',
      config: image.config,
      platform: image.platform,
      layers: [],
    };
    const output = await analyzer.analyze({
      fs: view,
      image: meta,
      os: osDetector.detect(fs),
      extracted: (path) => view.extracted(path)?.[analyzer.id],
    });
    return { asked: [...asked].sort(), read: [...read].sort(), output };
  } finally {
    await source.close();
  }
}

/** What each analyzer asks for and reads on the image above. */
const EXPECTED: Record<string, { asked: string[]; read: string[] }> = {
  dpkg: {
    asked: ['/usr/share/doc/libc6/copyright', '/var/lib/dpkg/info/libc6:amd64.list', '/var/lib/dpkg/status'],
    read: ['/usr/share/doc/libc6/copyright', '/var/lib/dpkg/info/libc6:amd64.list', '/var/lib/dpkg/status'],
  },
  apk: { asked: [], read: [] },
  rpm: { asked: [], read: [] },
  npm: { asked: ['/app/node_modules/left-pad/package.json'], read: ['/app/node_modules/left-pad/package.json'] },
  python: {
    asked: ['/usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA'],
    read: ['/usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA'],
  },
  golang: { asked: [], read: [] },
  java: { asked: ['/app/app.jar'], read: ['/app/app.jar'] },
  rust: { asked: ['/app/server', '/lib/x86_64-linux-gnu/libc.so.6'], read: [] },
  runtimes: { asked: [], read: [] },
  entrypoint: { asked: ['/app/server', '/app/start.sh', '/lib/x86_64-linux-gnu/libc.so.6'], read: ['/app/start.sh'] },
  surface: { asked: [], read: [] },
  accounts: { asked: ['/etc/passwd', '/etc/shadow'], read: ['/etc/passwd', '/etc/shadow'] },
  config: { asked: [], read: [] },
  secrets: {
    asked: [
      '/app/README.md',
      '/app/app.jar',
      '/app/server',
      '/app/server.conf',
      '/app/start.sh',
      '/etc/os-release',
      '/etc/passwd',
      '/etc/shadow',
    ],
    read: [
      '/app/README.md',
      '/app/app.jar',
      '/app/server',
      '/app/server.conf',
      '/app/start.sh',
      '/etc/os-release',
      '/etc/passwd',
      '/etc/shadow',
    ],
  },
  size: { asked: [], read: [] },
  // Computed from packages, config and local data by the scan: no file of its own.
  maintenance: { asked: [], read: [] },
};

describe('what each analyzer asks for and reads', async () => {
  const dir = await tempDir();
  const layout = join(dir.path, 'layout');
  await writeOciLayout(layout, [{ image: buildImage(SPEC) }]);
  test('every built-in analyzer has its expectation', () => {
    assert.deepEqual(builtinAnalyzers.map((a) => a.id).sort(), Object.keys(EXPECTED).sort());
  });
  for (const analyzer of builtinAnalyzers) {
    test(analyzer.id, async () => {
      const { asked, read } = await trace(analyzer, layout);
      assert.deepEqual({ asked, read }, EXPECTED[analyzer.id]);
    });
  }
  test('extraction results are typed per analyzer and kept apart from bytes', async () => {
    const { output: java } = await trace(
      builtinAnalyzers.find((a) => a.id === 'java')!,
      layout,
    );
    assert.deepEqual(
      java.packages?.map((p) => `${p.name}@${p.version}`),
      ['com.example:app@1.2.3'],
    );
    const { output: entrypoint } = await trace(
      builtinAnalyzers.find((a) => a.id === 'entrypoint')!,
      layout,
    );
    assert.deepEqual(
      [entrypoint.entrypoint?.kind, entrypoint.entrypoint?.interpreter],
      ['script', '/bin/sh'],
      'the script is extracted…',
    );
    const { output: secrets } = await trace(
      builtinAnalyzers.find((a) => a.id === 'secrets')!,
      layout,
    );
    assert.ok(JSON.stringify(secrets.evidence).includes('/app/start.sh'), '…and its bytes are still read for secrets');
  });
  test('cleanup', () => dir.cleanup());
});

describe('secrets where extractors also look (regression: extraction results replaced the bytes)', () => {
  const found = (report: Awaited<ReturnType<typeof scanSpec>>): string[] =>
    report.findings
      .filter((f) => f.ruleId.startsWith('secrets/'))
      .map((f) => `${f.ruleId} ${f.location?.path}`)
      .sort();

  test("in a 0755 script that is the entrypoint, in a text file next to an ELF, in a jar's manifest", async () => {
    const report = await scanSpec(SPEC);
    assert.deepEqual(found(report), [
      'secrets/aws-secret-key /app/start.sh',
      'secrets/github-token /app/app.jar',
      'secrets/github-token /app/server.conf',
    ]);
    const inJar = report.findings.find(
      (f) => f.ruleId === 'secrets/github-token' && f.location?.path === '/app/app.jar',
    )!;
    assert.match(inJar.message, /META-INF\/MANIFEST\.MF inside \/app\/app\.jar/);
    assert.equal(report.entrypoint?.kind, 'script');
    assert.ok(report.packages.some((p) => p.type === 'maven' && p.name === 'com.example:app'));
    const json = JSON.stringify(report);
    for (const secret of [GITHUB, 'wJalrXUtnFEMI']) assert.ok(!json.includes(secret), 'never printed');
  });

  test('the same script at 0644 and 0755 gives the same secret findings', async () => {
    const script = (mode: number): ImageSpec => ({
      layers: [{ files: [{ path: 'app/start.sh', content: `#!/bin/sh\nexport ${AWS_SECRET}\n`, mode }] }],
      config: { User: '1000' },
    });
    assert.deepEqual(found(await scanSpec(script(0o755))), found(await scanSpec(script(0o644))));
    assert.deepEqual(found(await scanSpec(script(0o755))), ['secrets/aws-secret-key /app/start.sh']);
  });
});
