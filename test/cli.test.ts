import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { statSync } from 'node:fs';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { Ajv } from 'ajv';
import { runCli } from '../src/cli/main.js';
import { VERSION } from '../src/version.js';
import { buildImage, dockerArchive, writeOciLayout } from './fixtures/image.js';
import { REPO_ROOT, cli, tempDir } from './helpers.js';

/** The CLI through runCli with captured streams (cli), plus one real process for the bin wiring. */

const schema = JSON.parse(await readFile(join(REPO_ROOT, 'schemas', 'report.schema.json'), 'utf8')) as object;
const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);

const image = buildImage({
  layers: [
    { files: [{ path: 'bin/app', content: 'x', mode: 0o755 }] },
    { files: [{ path: 'etc/conf', content: 'y' }] },
  ],
  config: {
    User: '1000',
    Entrypoint: ['/bin/app'],
    Env: ['PATH=/bin', 'DB_PASSWORD=s3cret', 'URL=https://u:pw@example.com'],
    Labels: { maintainer: 'me' },
    ExposedPorts: { '8080/tcp': {} },
  },
});

test('inspect --format json matches the published schema and redacts secrets', async () => {
  const dir = await tempDir();
  try {
    await writeOciLayout(join(dir.path, 'layout'), [{ image, tag: 'v1' }]);
    const { code, stdout, stderr } = await cli([
      'inspect',
      `oci:${join(dir.path, 'layout')}:v1`,
      '--format',
      'json',
      '--cache-dir',
      join(dir.path, 'cache'),
    ]);
    assert.equal(code, 0, stderr);
    const report = JSON.parse(stdout) as {
      tool: { version: string };
      target: { config: { env: string[] }; layers: { files: number; createdBy?: string }[] };
    };
    assert.ok(validate(report), JSON.stringify(validate.errors));
    assert.equal(report.tool.version, VERSION);
    assert.deepEqual(report.target.config.env, ['PATH=/bin', 'DB_PASSWORD=<redacted>', 'URL=<redacted>']);
    assert.ok(!stdout.includes('s3cret'));
    assert.deepEqual(
      report.target.layers.map((l: { files: number }) => l.files),
      [1, 1],
    );
    assert.equal(report.target.layers[0]!.createdBy, '/bin/sh -c #(nop) ADD layer0');
    // Deterministic: a second run prints the same bytes.
    assert.equal(
      (await cli(['inspect', `oci:${join(dir.path, 'layout')}:v1`, '-f', 'json', '--no-cache'])).stdout,
      stdout,
    );
  } finally {
    await dir.cleanup();
  }
});

test('inspect table shows the verdict facts and every layer in 80 columns', async () => {
  const dir = await tempDir();
  try {
    await writeFile(join(dir.path, 'app.tar'), dockerArchive([{ image, tags: ['app:1'] }]));
    const { code, stdout } = await cli(['inspect', join(dir.path, 'app.tar'), '--no-cache']);
    assert.equal(code, 0);
    assert.match(stdout, /^Image: +app:1$/m);
    assert.match(stdout, /^User: +1000$/m);
    assert.match(stdout, /^Layers: 2,/m);
    assert.match(stdout, /DB_PASSWORD=<redacted>/);
    assert.ok(
      stdout.split('\n').every((line) => line.length <= 80),
      'fits 80 columns',
    );
  } finally {
    await dir.cleanup();
  }
});

test('--output writes atomically and never leaves a partial file on failure', async () => {
  const dir = await tempDir();
  try {
    await writeFile(join(dir.path, 'app.tar'), dockerArchive([{ image, tags: ['app:1'] }]));
    const out = join(dir.path, 'report.json');
    assert.equal((await cli(['inspect', join(dir.path, 'app.tar'), '-f', 'json', '-o', out, '--no-cache'])).code, 0);
    assert.ok(validate(JSON.parse(await readFile(out, 'utf8'))));
    const broken = await cli([
      'inspect',
      join(dir.path, 'missing.tar'),
      '-f',
      'json',
      '-o',
      join(dir.path, 'never.json'),
    ]);
    assert.equal(broken.code, 2);
    assert.deepEqual((await readdir(dir.path)).sort(), ['app.tar', 'report.json']);
  } finally {
    await dir.cleanup();
  }
});

test('errors print code, message and hint, never a stack trace', async () => {
  const dir = await tempDir();
  try {
    await writeFile(join(dir.path, 'notes.txt'), 'just text, not an image\n'.repeat(40));
    const cases: [string[], string, RegExp][] = [
      [['inspect', join(dir.path, 'notes.txt')], 'E_INPUT_UNRECOGNIZED', /hint: pass a docker save tar/],
      [['inspect', 'docker-archive:/nonexistent/x.tar'], 'E_INPUT_NOT_FOUND', /hint:/],
      [['inspect', 'registry:Bad Ref'], 'E_REFERENCE_INVALID', /hint: write it as/],
      [['inspect', 'alpine', '--platform', 'linux'], 'E_USAGE', /os\/arch/],
      [['inspect', 'alpine', '--format', 'xml'], 'E_USAGE', /use one of: table, json/],
      [['inspect', 'alpine', '--bogus'], 'E_USAGE', /--help/],
      [['inspect'], 'E_USAGE', /distrolens inspect/],
      [['frobnicate'], 'E_USAGE', /--help/],
    ];
    for (const [argv, code, hint] of cases) {
      const result = await cli(argv);
      assert.equal(result.code, 2, argv.join(' '));
      assert.match(result.stderr, new RegExp(`^error ${code}: `), argv.join(' '));
      assert.match(result.stderr, hint, argv.join(' '));
      assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
    }
  } finally {
    await dir.cleanup();
  }
});

test('the installed bin runs: --version and --help', () => {
  const bin = join(REPO_ROOT, 'dist', 'src', 'cli', 'bin.js');
  assert.equal(statSync(bin).mode & 0o111, 0o111, 'executable: npx distrolens runs it directly');
  const version = spawnSync(process.execPath, [bin, '--version'], { encoding: 'utf8' });
  assert.equal(version.status, 0);
  assert.equal(version.stdout.trim(), VERSION);
  const pkg = spawnSync(
    process.execPath,
    ['-e', `console.log(require(${JSON.stringify(join(REPO_ROOT, 'package.json'))}).version)`],
    { encoding: 'utf8' },
  );
  assert.equal(pkg.stdout.trim(), VERSION, 'src/version.ts matches package.json');
  const help = spawnSync(process.execPath, [bin, 'inspect', '--help'], { encoding: 'utf8' });
  assert.match(help.stdout, /docker-archive:PATH/);
});

test('a reader that closes the pipe early (| head) gets no EPIPE stack trace, and the exit code is still the verdict', async () => {
  const dir = await tempDir();
  try {
    const dockerfile = join(dir.path, 'Dockerfile');
    await writeFile(
      dockerfile,
      'FROM ubuntu:24.04\nENV API_TOKEN=ghp_0123456789abcdef0123456789abcdef0123\nCMD ["app"]\n',
    );
    const bin = join(REPO_ROOT, 'dist', 'src', 'cli', 'bin.js');
    const child = spawn(process.execPath, [bin, 'lint', dockerfile, '--format', 'json', '--fail-on', 'high'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.destroy(); // the reader is gone before the first write
    let stderr = '';
    child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.doesNotMatch(stderr, /EPIPE|at .*node:/);
    assert.equal(code, 1, 'the high finding fails the gate');
  } finally {
    await dir.cleanup();
  }
});

test('progress goes to a terminal stderr only, and --quiet silences it', async () => {
  const dir = await tempDir();
  try {
    const big = buildImage({
      layers: [
        { files: [{ path: 'big', content: Buffer.alloc(3 << 20, 1) }] },
        { files: [{ path: 'x', content: 'y' }] },
      ],
    });
    await writeOciLayout(join(dir.path, 'layout'), [{ image: big }]);
    const run = async (tty: boolean, quiet: boolean) => {
      let stderr = '';
      const clock = Date.now;
      let now = 0;
      Date.now = () => (now += 1000); // every update is due: the throttle is not what is tested
      try {
        await runCli(['inspect', `oci:${join(dir.path, 'layout')}`, '--no-cache', ...(quiet ? ['-q'] : [])], {
          stdout: { write: () => true },
          stderr: { write: (t: string) => (stderr += t), isTTY: tty, columns: 80 },
          env: {},
        });
      } finally {
        Date.now = clock;
      }
      return stderr;
    };
    const shown = await run(true, false);
    assert.match(shown, /reading \d layer\(s\): /);
    assert.ok(shown.endsWith('\r\x1b[2K'), 'the status line is cleared at the end');
    assert.equal(await run(false, false), '', 'silent when stderr is not a terminal');
    assert.equal(await run(true, true), '', 'silent with --quiet');
  } finally {
    await dir.cleanup();
  }
});

test("scan: the table opens with the verdict, fits a terminal's width, never cuts a value when piped; JSON matches the schema", async () => {
  const dir = await tempDir();
  try {
    await writeFile(join(dir.path, 'app.tar'), dockerArchive([{ image, tags: ['app:1'] }]));
    for (const columns of [80, 120]) {
      const table = await cli(['scan', join(dir.path, 'app.tar'), '--no-cache'], {}, undefined, columns);
      assert.equal(table.code, 0, table.stderr);
      const lines = table.stdout.split('\n');
      assert.match(lines[0]!, /^app:1 +Grade [A-F] \(\d+\/100\)$/);
      assert.equal(lines[0]!.length, columns, 'the verdict spans the terminal');
      assert.match(lines[1]!, /^Classification: /);
      assert.ok(
        lines.every((line) => line.length <= columns),
        lines.find((l) => l.length > columns),
      );
    }
    const piped = await cli(['scan', join(dir.path, 'app.tar'), '--no-cache']);
    assert.match(piped.stdout.split('\n')[0]!, /^app:1 {2}Grade [A-F] \(\d+\/100\)$/);
    assert.ok(!piped.stdout.split('\n').some((l) => l.endsWith('…')), 'piped output cuts no value');
    assert.match(piped.stdout, /Vulnerabilities: not checked/);
    const json = await cli(['scan', join(dir.path, 'app.tar'), '-f', 'json', '--no-cache']);
    assert.ok(validate(JSON.parse(json.stdout)), JSON.stringify(validate.errors));
    assert.ok(!json.stdout.includes('s3cret'));
  } finally {
    await dir.cleanup();
  }
});

test('--log-format json writes errors as JSON lines; --no-color is accepted', async () => {
  const result = await cli(['inspect', 'docker-archive:/nonexistent/x.tar', '--log-format', 'json', '--no-color']);
  assert.equal(result.code, 2);
  const line = JSON.parse(result.stderr.trim()) as { level: string; code: string; message: string; hint?: string };
  assert.deepEqual([line.level, line.code], ['error', 'E_INPUT_NOT_FOUND']);
  assert.ok(line.hint);
  assert.equal((await cli(['inspect', 'x', '--log-format', 'xml'])).code, 2);
});

test('conventions: did you mean, version, help CMD, a missing path is "no such file"', async () => {
  const typo = await cli(['scna', 'x']);
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /unknown command "scna": did you mean "scan"\?/);
  assert.match((await cli(['--verison'])).stderr, /did you mean "--version"\?/);
  const flag = await cli(['scan', 'x', '--fromat', 'json']);
  assert.match(flag.stderr, /Unknown option '--fromat'.*did you mean "--format"\?/);
  for (const argv of [['version'], ['-v'], ['--version']]) assert.match((await cli(argv)).stdout, /^\d+\.\d+\.\d+/);
  assert.equal((await cli(['help', 'scan'])).stdout, (await cli(['scan', '--help'])).stdout);
  for (const input of ['./missing.tar', '/tmp/x/nonexistent.tar', 'missing.tar.gz']) {
    const result = await cli(['scan', input]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /E_INPUT_NOT_FOUND: .*no such file or directory/, input);
  }
});

test("each command's help lists every flag it takes", async () => {
  const { IMAGE_FLAGS } = await import('../src/cli/options.js');
  const { DB_FLAGS } = await import('../src/cli/db.js');
  const { LINT_FLAGS } = await import('../src/cli/lint.js');
  const { MIGRATE_FLAGS } = await import('../src/cli/migrate.js');
  const { SERVE_FLAGS } = await import('../src/cli/serve.js');
  const { WORKLOADS_FLAGS } = await import('../src/cli/workloads.js');
  const commands: [string, Record<string, unknown>][] = [
    ['inspect', IMAGE_FLAGS],
    ['scan', IMAGE_FLAGS],
    ['compare', IMAGE_FLAGS],
    ['workloads', WORKLOADS_FLAGS],
    ['recommend', { ...IMAGE_FLAGS, catalogue: {}, 'no-measure': {} }],
    ['db', DB_FLAGS],
    ['lint', LINT_FLAGS],
    ['migrate', MIGRATE_FLAGS],
    ['serve', SERVE_FLAGS],
  ];
  for (const [command, flags] of commands) {
    const help = (await cli([command, '--help'])).stdout;
    assert.doesNotMatch(help, /as for `distrolens/, `${command}: no "see another command"`);
    for (const flag of Object.keys(flags))
      assert.match(help, new RegExp(`--${flag}\\b`), `${command} --help lists --${flag}`);
  }
});

test('completion: the bash script completes commands, flags and formats in a real bash; zsh and fish scripts are printed', async () => {
  const dir = await tempDir();
  try {
    const script = join(dir.path, 'distrolens.bash');
    await writeFile(script, (await cli(['completion', 'bash'])).stdout);
    const complete = (words: string[]) =>
      execFileSync(
        'bash',
        [
          '-c',
          `source "${script}"; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _distrolens; echo "\${COMPREPLY[@]}"`,
        ],
        {
          encoding: 'utf8',
        },
      ).trim();
    assert.equal(complete(['distrolens', 'sc']), 'scan');
    assert.equal(complete(['distrolens', 'scan', '--fo']), '--format');
    assert.match(complete(['distrolens', 'scan', '-f', 'sa']), /^sarif$/);
    assert.match((await cli(['completion', 'zsh'])).stdout, /bashcompinit/);
    assert.match((await cli(['completion', 'fish'])).stdout, /__fish_seen_subcommand_from scan" -l format/);
    assert.equal((await cli(['completion', 'tcsh'])).code, 2);
  } finally {
    await dir.cleanup();
  }
});

test('--format packages lists each package with the layer that installed it', async () => {
  const dir = await tempDir();
  try {
    const withPackages = buildImage({
      layers: [
        { files: [{ path: 'lib/apk/db/installed', content: 'P:musl\nV:1.2.5-r0\nA:x86_64\n\n' }] },
        {
          files: [{ path: 'app/node_modules/left-pad/package.json', content: '{"name":"left-pad","version":"1.3.0"}' }],
        },
      ],
    });
    await writeFile(join(dir.path, 'p.tar'), dockerArchive([{ image: withPackages, tags: ['p:1'] }]));
    const out = await cli(['scan', join(dir.path, 'p.tar'), '-f', 'packages', '--no-cache']);
    assert.equal(out.code, 0, out.stderr);
    const lines = out.stdout
      .trim()
      .split('\n')
      .map((l) => l.split(/\s{2,}/));
    assert.deepEqual(lines, [
      ['NAME', 'VERSION', 'TYPE', 'LAYER'],
      ['musl', '1.2.5-r0', 'apk', '0'],
      ['left-pad', '1.3.0', 'npm', '1'],
    ]);
  } finally {
    await dir.cleanup();
  }
});
