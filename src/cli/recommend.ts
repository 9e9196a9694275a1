import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fail } from '../core/errors.js';
import type { Recommendation, ImageNumbers } from '../core/recommendation.js';
import { renderJson } from '../report/format.js';
import { IMAGE_OPTIONS_HELP } from './options.js';
import { renderRecommendMarkdown, renderRecommendTable } from '../report/recommend.js';
import { CATALOGUE, type BaseImage } from '../recommend/catalogue.js';
import { numbersOf, recommend } from '../recommend/index.js';
import { scanImage } from '../scan/scan.js';
import { openSource, type OpenOptions } from '../sources/index.js';
import { TOOL } from '../version.js';
import { loadYaml } from '../util/yaml.js';
import type { CliIo } from './io.js';
import { runImageCommand } from './image-command.js';

export const RECOMMEND_HELP = `Usage: distrolens recommend INPUT [options]

Works out what the image runs (the command, the runtime: node, python, java, .NET, nginx, a
static or dynamically linked binary, and the libraries it needs) and proposes the smallest bases
that fit, from a catalogue of gcr.io/distroless, Chainguard and Ubuntu chiseled images: what
changes (size, packages, shells, package managers, user; measured by scanning the candidate when
it can be pulled, else estimated), what would break, and how to debug the result.

Options:
  -f, --format FORMAT           table (default), json, markdown
  --catalogue FILE              bases to choose from instead of the built-in catalogue (YAML or JSON
                                list: ref, family, runtime, provides, sizeBytes, packages, user, debug)
  --no-measure                  do not pull the candidates; use the catalogue's estimates

${IMAGE_OPTIONS_HELP}
`;

/** Candidates are scanned at most this long each; a registry that does not answer gives estimates. */
const MEASURE_TIMEOUT_MS = 60_000;
const RUNTIMES = ['static', 'glibc', 'cc', 'node', 'python', 'java', 'dotnet', 'nginx'];

async function loadCatalogue(path: string): Promise<BaseImage[]> {
  let doc: unknown;
  try {
    doc = loadYaml().parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw fail(
      'E_INPUT_NOT_FOUND',
      `catalogue ${path}: ${(error as Error).message.split('\n')[0]}`,
      'pass a YAML or JSON list of bases to --catalogue',
    );
  }
  if (!Array.isArray(doc) || !doc.length)
    throw fail(
      'E_USAGE',
      `catalogue ${path}: expected a list of bases`,
      'see "recommend" in the README for the fields',
    );
  return doc.map((raw, i) => {
    const b = raw as Partial<BaseImage>;
    if (typeof b.ref !== 'string' || !RUNTIMES.includes(b.runtime as string))
      throw fail('E_USAGE', `catalogue ${path}: entry ${i} needs ref and runtime (${RUNTIMES.join(', ')})`);
    return {
      ref: b.ref,
      family: b.family ?? 'custom',
      runtime: b.runtime!,
      provides: b.provides ?? ['ca-certificates', 'tzdata', 'glibc', 'libssl', 'libstdc++'],
      sizeBytes: Number(b.sizeBytes ?? 0),
      packages: Number(b.packages ?? 0),
      user: String(b.user ?? 'root'),
      debug: b.debug ?? b.ref,
      ...(b.entrypoint ? { entrypoint: b.entrypoint } : {}),
      ...(b.nonroot ? { nonroot: b.nonroot } : {}),
      ...(b.runtimeVersion ? { runtimeVersion: String(b.runtimeVersion) } : {}),
    };
  });
}

/** Scans a candidate base; undefined when it cannot be pulled in time. */
async function measure(
  ref: string,
  open: OpenOptions,
  cacheDir: string | undefined,
): Promise<ImageNumbers | undefined> {
  const signal = AbortSignal.timeout(MEASURE_TIMEOUT_MS);
  try {
    const source = await openSource(ref, open);
    try {
      return numbersOf((await scanImage(source, { signal, ...(cacheDir ? { cacheDir } : {}) })).report);
    } finally {
      await source.close();
    }
  } catch {
    return undefined;
  }
}

export const recommendCommand = (args: string[], io: CliIo): Promise<number> =>
  runImageCommand<Recommendation>(
    {
      name: 'recommend',
      help: RECOMMEND_HELP,
      formats: ['table', 'json', 'markdown'],
      flags: { catalogue: { type: 'string' }, 'no-measure': { type: 'boolean' } },
      run: async (source, { values, open, platform, cacheDir, onBytes }) => {
        const catalogue =
          typeof values.catalogue === 'string'
            ? await loadCatalogue(resolve(io.cwd ?? process.cwd(), values.catalogue))
            : CATALOGUE;
        const { report } = await scanImage(source, {
          ...(platform ? { platform } : {}),
          ...(cacheDir ? { cacheDir } : {}),
          onBytes,
        });
        const first = recommend(report, TOOL, { catalogue });
        if (values['no-measure'] || values.offline || !first.candidates.length) return first;
        const measured = new Map<string, ImageNumbers>();
        for (const c of first.candidates) {
          const numbers = await measure(c.ref, open, cacheDir);
          if (numbers) measured.set(c.ref, numbers);
        }
        return recommend(report, TOOL, { catalogue, measured });
      },
      render: (r, format) =>
        format === 'json'
          ? renderJson(r)
          : format === 'markdown'
            ? renderRecommendMarkdown(r)
            : renderRecommendTable(r),
    },
    args,
    io,
  );
