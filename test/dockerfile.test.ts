import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { cp, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Ajv } from 'ajv';
import { parseDockerfile, substitute } from '../src/dockerfile/parse.js';
import { lintDockerfile } from '../src/dockerfile/lint.js';
import { migrateDockerfile, unifiedDiff } from '../src/dockerfile/migrate.js';
import { renderLintTable } from '../src/report/lint-table.js';
import { LINT_SCHEMA } from '../src/core/report.js';
import { TOOL } from '../src/version.js';
import { REPO_ROOT, SCHEMAS, cli, tempDir } from './helpers.js';

/**
 * Dockerfiles written the way projects write them (test/dockerfiles/<case>/Dockerfile): what lint
 * finds in each, what migrate makes of it, both as golden files next to the case
 * (`UPDATE_GOLDEN=1` rewrites them); the migrated file parses, has no high or critical finding,
 * and accounts for every instruction of the original.
 */
const CORPUS = join(REPO_ROOT, 'test', 'dockerfiles');
const require = createRequire(import.meta.url);

test('parser: directives, escape, continuations with comments, heredocs, exec form, flags, stages, ARG substitution', () => {
  const file = parseDockerfile(
    [
      '# syntax=docker/dockerfile:1',
      '# escape=`',
      '',
      'ARG BASE=debian VERSION',
      'FROM ${BASE}:${VERSION:-12}-slim AS Build',
      'RUN apt-get update && `',
      '# a comment inside the continuation',
      '    apt-get install -y curl',
      'RUN --mount=type=cache,target=/var/cache/apt <<-EOT bash',
      '\tset -e',
      '\techo "$HOME"',
      '\tEOT',
      'COPY <<"EOF" /etc/motd',
      'hello $USER',
      'EOF',
      'FROM build',
      'ENV A=1 B="two words"',
      'CMD ["/app", "--flag"]',
      'ENTRYPOINT run me',
      'BOGUS line',
    ].join('\n'),
  );
  assert.deepEqual(file.directives, { syntax: 'docker/dockerfile:1', escape: '`' });
  assert.equal(file.escape, '`');
  assert.deepEqual(file.globalArgs, { BASE: 'debian', VERSION: undefined });
  assert.deepEqual(
    file.stages.map((s) => [s.name, s.base, s.baseResolved, s.line]),
    [
      ['build', '${BASE}:${VERSION:-12}-slim', 'debian:12-slim', 5],
      [undefined, 'build', 'build', 16],
    ],
  );
  const [run1, run2, copy] = file.stages[0]!.instructions.slice(1);
  assert.equal(run1!.args, 'apt-get update &&      apt-get install -y curl');
  assert.deepEqual([run1!.line, run1!.endLine], [6, 8]);
  assert.deepEqual(run2!.flags, { mount: 'type=cache,target=/var/cache/apt' });
  assert.deepEqual(run2!.heredocs, [{ delimiter: 'EOT', body: 'set -e\necho "$HOME"', expand: true }]);
  assert.deepEqual([run2!.line, run2!.endLine], [9, 12]);
  assert.deepEqual(copy!.heredocs, [{ delimiter: 'EOF', body: 'hello $USER', expand: false }]);
  const final = file.stages[1]!.instructions;
  assert.deepEqual(final.find((i) => i.keyword === 'CMD')!.json, ['/app', '--flag']);
  assert.equal(final.find((i) => i.keyword === 'ENTRYPOINT')!.json, undefined);
  assert.deepEqual(file.errors, [{ line: 20, message: 'unknown instruction "BOGUS"' }]);
  assert.equal(substitute('${A:+set}-${B-x}-${C:-d}-$A', { A: '1', B: '' }), 'set--d-1');
  assert.deepEqual(
    parseDockerfile('RUN x').errors.map((e) => e.message),
    ['RUN before the first FROM'],
  );
  assert.deepEqual(
    parseDockerfile('# only a comment\n').errors.map((e) => e.message),
    ['no FROM instruction'],
  );
});

/** What each case must be told, at least (the goldens hold the rest). */
const EXPECTED: Record<string, string[]> = {
  'node-express': ['general-base', 'single-stage-build', 'root-user', 'shell-form'],
  'python-flask': [
    'general-base',
    'single-stage-build',
    'root-user',
    'secret-in-arg-env',
    'package-cache',
    'unpinned-packages',
  ],
  'go-static': ['general-base', 'single-stage-build', 'root-user'],
  'java-jar': ['general-base', 'root-user', 'add-url', 'shell-form', 'package-cache'],
  'nginx-static': ['general-base', 'root-user', 'latest-tag'],
  'multistage-near-distroless': [],
};

test('corpus: lint finds what it should, migrate gives a Dockerfile that parses, passes lint without errors and keeps every instruction', async () => {
  const cases = (await readdir(CORPUS)).sort();
  assert.deepEqual(cases, Object.keys(EXPECTED).sort());
  for (const name of cases) {
    const dir = join(CORPUS, name);
    const text = await readFile(join(dir, 'Dockerfile'), 'utf8');
    const lint = lintDockerfile(text, `${name}/Dockerfile`);
    const rules = new Set(lint.findings.map((f) => f.ruleId.replace('dockerfile/', '')));
    for (const rule of EXPECTED[name]!) assert.ok(rules.has(rule), `${name}: ${rule} in ${[...rules].join(', ')}`);
    if (!EXPECTED[name]!.length)
      assert.ok(
        lint.findings.every((f) => f.severity === 'low' || f.severity === 'info'),
        `${name} is clean`,
      );
    const migration = migrateDockerfile(text);
    const table = renderLintTable({ schema: LINT_SCHEMA, tool: TOOL, files: [lint] });
    const goldens: [string, string][] = [
      ['lint.txt', table],
      ['Dockerfile.migrated', migration.text],
    ];
    for (const [file, actual] of goldens) {
      if (process.env.UPDATE_GOLDEN) await writeFile(join(dir, file), actual);
      assert.equal(actual, await readFile(join(dir, file), 'utf8'), `${name}/${file}`);
    }
    // The result parses and has no high or critical finding.
    const parsed = parseDockerfile(migration.text);
    assert.deepEqual(parsed.errors, [], name);
    const after = lintDockerfile(migration.text);
    assert.deepEqual(
      after.findings.filter((f) => f.severity === 'high' || f.severity === 'critical').map((f) => f.ruleId),
      [],
      `${name} after migration`,
    );
    // Every instruction of the original is accounted for, and is where the accounting says.
    const original = parseDockerfile(text).instructions;
    assert.deepEqual(
      migration.accounting.map((a) => a.line),
      original.map((i) => i.line),
      `${name}: accounting`,
    );
    const outLines = migration.text.split('\n');
    for (const a of migration.accounting) {
      const ins = original.find((i) => i.line === a.line)!;
      const first = text.split('\n')[ins.line - 1]!.trim();
      if (a.outcome === 'commented')
        assert.ok(outLines.includes(`# ${first}`), `${name}: line ${a.line} kept as a comment`);
      if (a.outcome === 'kept' || a.outcome === 'moved')
        assert.ok(
          outLines.some((l) => l.trim() === first),
          `${name}: line ${a.line} (${first}) is in the output`,
        );
    }
    if (name === 'multistage-near-distroless') assert.equal(migration.text, text, 'already minimal: unchanged');
    else {
      assert.ok(parsed.stages.length >= 2, `${name}: multi-stage`);
      const final = parsed.stages[parsed.stages.length - 1]!;
      assert.match(final.baseResolved, /^(gcr\.io\/distroless|cgr\.dev\/chainguard)\//, name);
      assert.ok(
        final.instructions.some((i) => i.keyword === 'COPY' && i.flags.from),
        `${name}: copies from the build stage`,
      );
    }
  }
});

test("migrate: node and python commands adapted to the base's entrypoint; shell features and curl healthchecks flagged, not dropped", () => {
  const node = migrateDockerfile('FROM node:20-slim\nWORKDIR /app\nCOPY . .\nRUN npm ci\nCMD ["node", "server.js"]\n');
  assert.match(node.text, /^CMD \["server\.js"\]$/m);
  assert.ok(node.changes.some((c) => /starts node itself/.test(c.reason)));
  const shell = migrateDockerfile('FROM debian:12\nCOPY app /usr/local/bin/app\nCMD app --port $PORT\n', {
    to: 'gcr.io/distroless/base-debian12',
  });
  assert.match(shell.text, /^# CMD app --port \$PORT$/m);
  assert.ok(shell.warnings.some((w) => w.line === 3 && /relies on the shell/.test(w.reason)));
  assert.match(shell.text, /^FROM gcr\.io\/distroless\/base-debian12$/m);
  // A final stage built on another stage inherits its WORKDIR; with nothing to go on, migrate says so.
  const chained = migrateDockerfile(
    'FROM node:20 AS build\nWORKDIR /app\nRUN npm ci\nFROM build\nCMD ["node", "x.js"]\n',
  );
  assert.match(chained.text, /^COPY --from=runtime-build \/app \/app$/m);
  assert.ok(
    migrateDockerfile('FROM node:20\nRUN npm ci\nCMD ["node", "x.js"]\n').warnings.some((w) =>
      /says where the application is/.test(w.reason),
    ),
  );
  const diff = unifiedDiff('a\nb\nc\n', 'a\nB\nc\n', 'f');
  assert.equal(diff, '--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n');
  assert.equal(unifiedDiff('same\n', 'same\n'), '');
});

test('CLI: lint (default ./Dockerfile, SARIF with lines, --fail-on), migrate (diff, --write atomically, --to)', async () => {
  const dir = await tempDir();
  try {
    await cp(join(CORPUS, 'node-express', 'Dockerfile'), join(dir.path, 'Dockerfile'));
    const table = await cli(['lint'], {}, dir.path);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^Dockerfile: 1 stage\(s\), /);
    const sarif = await cli(['lint', 'Dockerfile', '-f', 'sarif', '--fail-on', 'high'], {}, dir.path);
    assert.equal(sarif.code, 1);
    assert.match(sarif.stderr, /gate failed: \d+ finding\(s\) at or above high: .*dockerfile\/root-user/);
    const Ajv4 = require('ajv-draft-04') as typeof Ajv;
    const validate = new Ajv4({ allErrors: true, strict: false }).compile(
      JSON.parse(await readFile(join(SCHEMAS, 'sarif-schema-2.1.0.json'), 'utf8')),
    );
    const doc = JSON.parse(sarif.stdout) as {
      runs: {
        results: {
          ruleId: string;
          locations: { physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } } }[];
        }[];
      }[];
    };
    assert.ok(validate(doc), JSON.stringify(validate.errors?.slice(0, 3)));
    const shellForm = doc.runs[0]!.results.find((r) => r.ruleId === 'dockerfile/shell-form')!;
    assert.deepEqual(
      [
        shellForm.locations[0]!.physicalLocation.artifactLocation.uri,
        shellForm.locations[0]!.physicalLocation.region.startLine,
      ],
      ['Dockerfile', 17],
    );
    assert.equal((await cli(['lint', 'missing/Dockerfile'], {}, dir.path)).code, 2);

    const diff = await cli(['migrate', 'Dockerfile'], {}, dir.path);
    assert.equal(diff.code, 0, diff.stderr);
    assert.match(diff.stdout, /^--- a\/Dockerfile\n\+\+\+ b\/Dockerfile\n/);
    assert.match(diff.stderr, /^warning \(line 17\): npm is not in/m);
    assert.equal(
      await readFile(join(dir.path, 'Dockerfile'), 'utf8'),
      await readFile(join(CORPUS, 'node-express', 'Dockerfile'), 'utf8'),
      'a diff does not write',
    );
    const to = await cli(['migrate', 'Dockerfile', '--to', 'cgr.dev/chainguard/node', '--write', '-q'], {}, dir.path);
    assert.equal(to.code, 0, to.stderr);
    const written = await readFile(join(dir.path, 'Dockerfile'), 'utf8');
    assert.match(written, /^FROM cgr\.dev\/chainguard\/node$/m);
    assert.ok(!/^USER 65532/m.test(written), 'Chainguard images run as nonroot already');
    assert.deepEqual((await readdir(dir.path)).sort(), ['Dockerfile'], 'no temporary file left');
    assert.equal((await cli(['migrate'], {}, dir.path)).code, 2);
  } finally {
    await dir.cleanup();
  }
});

test('migrate: an ENV lint flags as a secret is not carried into the final stage; a runtime major version change is warned', () => {
  const migration = migrateDockerfile(
    'FROM node:20-slim\nWORKDIR /app\nCOPY . .\nENV NODE_ENV=production API_TOKEN=abc123 PORT=8080\nENV DB_PASSWORD hunter2\nRUN npm ci\nCMD ["node", "server.js"]\n',
  );
  const final = migration.text.slice(migration.text.lastIndexOf('\nFROM '));
  assert.match(final, /ENV NODE_ENV=production PORT=8080/);
  assert.doesNotMatch(final, /API_TOKEN|abc123|DB_PASSWORD|hunter2/);
  assert.ok(migration.warnings.some((w) => /API_TOKEN looks like a secret and is not carried/.test(w.reason)));
  assert.ok(migration.warnings.some((w) => /DB_PASSWORD looks like a secret/.test(w.reason)));
  assert.ok(migration.warnings.some((w) => /Node\.js 20 and .*nodejs22.* runs Node\.js 22/.test(w.reason)));
});
