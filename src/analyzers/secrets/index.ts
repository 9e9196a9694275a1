import type { Finding } from '../../core/finding.js';
import type { FsEntry } from '../../fs/types.js';
import { finding, type Analyzer, type AnalyzerInput, type AnalyzerOutput, type Rule } from '../types.js';
import { SECRET_PATTERNS, credentialFile, worthReading, type SecretPattern } from './patterns.js';

const REFERENCES = ['CIS Docker Benchmark 4.10: ensure secrets are not stored in Dockerfiles', 'https://docs.docker.com/build/building/secrets/'];

export const SECRET_RULES: Record<string, Rule> = Object.fromEntries([
  ...SECRET_PATTERNS.map((p) => [p.id, {
    id: `secrets/${p.id}`, severity: p.id === 'private-key' || p.id.startsWith('aws') || p.id === 'gcp-service-account' ? 'critical' : 'high',
    title: `${p.title} in the image`,
    rationale: 'Anyone who can pull the image can read every file of every layer, including files a later layer deleted. A leaked credential must be rotated; removing the file in a later layer does not remove it from the image.',
    references: REFERENCES,
  } satisfies Rule]),
  ['credential-file', { id: 'secrets/credential-file', severity: 'high', title: 'Credential file in the image', rationale: 'Files such as .git-credentials, .aws/credentials or SSH keys are credentials by definition.', references: REFERENCES } satisfies Rule],
]);

/** NUL in the first 8 KiB: a binary file, not read for secrets. */
const isBinary = (data: Buffer): boolean => data.subarray(0, 8192).includes(0);

function lineOf(text: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

function scanText(text: string, path: string, patterns: readonly SecretPattern[]): { pattern: SecretPattern; line: number }[] {
  const hits: { pattern: SecretPattern; line: number }[] = [];
  for (const pattern of patterns) {
    if (pattern.path && !pattern.path.test(path)) continue;
    if (!pattern.keywords.some((k) => text.includes(k))) continue; // the cheap pre-filter
    const match = pattern.regex.exec(text);
    if (match) hits.push({ pattern, line: lineOf(text, match.index) });
  }
  return hits;
}

/**
 * Secrets in files, including files a later layer deleted or overwrote (still in the image, in
 * the layer that wrote them). Keyword pre-filter, then regular expressions; binary and large files
 * are skipped; the secret itself is never printed, only where it is.
 */
export const secretsAnalyzer = {
  id: 'secrets',
  version: 2,
  reads: worthReading,
  rules: Object.values(SECRET_RULES),
  analyze({ fs }: AnalyzerInput): AnalyzerOutput {
    const findings: Finding[] = [];
    const check = (entry: FsEntry, data: Buffer | undefined, hiddenBy?: number): void => {
      const credential = credentialFile(entry.path);
      if (!credential && !data) return; // most files: nothing to look at
      const where = hiddenBy === undefined ? `${entry.path} (layer ${entry.layer})`
        : `${entry.path}, written in layer ${entry.layer} and ${hiddenBy === entry.layer ? 'replaced' : `deleted or replaced in layer ${hiddenBy}`}, so still in the image`;
      const key = hiddenBy === undefined ? 'visible' : `hidden@${entry.layer}`;
      if (credential) {
        findings.push(finding(SECRET_RULES['credential-file']!, {
          title: `Credential file in the image: ${credential.title}`,
          message: `A ${credential.title} is at ${where}. Remove it from the build (use build secrets: RUN --mount=type=secret) and rotate what it holds.`,
          location: { path: entry.path, layer: entry.layer },
          key,
        }));
      }
      if (!data || isBinary(data)) return;
      for (const hit of scanText(data.toString('utf8'), entry.path, SECRET_PATTERNS)) {
        findings.push(finding(SECRET_RULES[hit.pattern.id]!, {
          message: `${hit.pattern.title} at line ${hit.line} of ${where}. The value is not shown. Rotate it, then keep it out of the image: pass it at run time, or use build secrets (RUN --mount=type=secret) and multi-stage builds.`,
          location: { path: entry.path, layer: entry.layer },
          key: `${key}:${hit.line}`,
        }));
      }
    };
    // Only what this analyzer asked for is read: other analyzers capture package lists and
    // licences, which are not where secrets are looked for.
    const text = (entry: FsEntry, content: { data: Buffer } | undefined) => (content && worthReading(entry.path, entry.size) ? content.data : undefined);
    const read = new Set(fs.capturedFiles());
    for (const entry of read) check(entry, text(entry, fs.content(entry.path)));
    // Credential files are reported by name, also when they were not read (empty, or too large).
    for (const entry of fs.entries()) {
      if (entry.type === 'file' && !read.has(entry) && credentialFile(entry.path)) check(entry, undefined);
    }
    for (const { entry, hiddenBy } of fs.hiddenFiles()) check(entry, text(entry, fs.hiddenContent(entry)), hiddenBy);
    return { findings };
  },
} satisfies Analyzer;
