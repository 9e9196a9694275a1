import type { Finding } from '../../core/finding.js';
import type { FsEntry } from '../../fs/types.js';
import { readZip } from '../../util/zip.js';
import { finding, type Analyzer, type AnalyzerInput, type AnalyzerOutput, type Rule } from '../types.js';
import {
  MAX_SECRET_FILE_BYTES,
  SECRET_PATTERNS,
  credentialFile,
  worthReading,
  type SecretPattern,
} from './patterns.js';

const REFERENCES = [
  'CIS Docker Benchmark 4.10: ensure secrets are not stored in Dockerfiles',
  'https://docs.docker.com/build/building/secrets/',
];

export const SECRET_RULES: Record<string, Rule> = Object.fromEntries<Rule>([
  ...SECRET_PATTERNS.map((p): [string, Rule] => [
    p.id,
    {
      id: `secrets/${p.id}`,
      severity:
        p.id === 'private-key' || p.id.startsWith('aws') || p.id === 'gcp-service-account' ? 'critical' : 'high',
      title: `${p.title} in the image`,
      rationale:
        'Anyone who can pull the image can read every file of every layer, including files a later layer deleted. A leaked credential must be rotated; removing the file in a later layer does not remove it from the image.',
      references: REFERENCES,
    } satisfies Rule,
  ]),
  [
    'credential-file',
    {
      id: 'secrets/credential-file',
      severity: 'high',
      title: 'Credential file in the image',
      rationale: 'Files such as .git-credentials, .aws/credentials or SSH keys are credentials by definition.',
      references: REFERENCES,
    } satisfies Rule,
  ],
]);

/** NUL in the first 8 KiB: a binary file, not read for secrets. */
const isBinary = (data: Buffer): boolean => data.subarray(0, 8192).includes(0);

function lineOf(text: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

export function scanText(
  text: string,
  path: string,
  patterns: readonly SecretPattern[],
): { pattern: SecretPattern; line: number }[] {
  const hits: { pattern: SecretPattern; line: number }[] = [];
  for (const pattern of patterns) {
    if (pattern.path && !pattern.path.test(path)) continue;
    if (!pattern.keywords.some((k) => text.includes(k))) continue; // the cheap pre-filter
    const match = pattern.regex.exec(text);
    if (!match) continue;
    if (pattern.then) {
      // Searched once, from the first match: if no second part follows it, none follows a later one.
      pattern.then.lastIndex = match.index + match[0].length + (pattern.gap ?? 0);
      if (!pattern.then.test(text)) continue;
    }
    hits.push({ pattern, line: lineOf(text, match.index) });
  }
  return hits;
}

/** A secret found: which pattern (or `credential-file`), where, never the value. */
export interface SecretHit {
  /** A SECRET_PATTERNS id, or `credential-file`. */
  readonly rule: string;
  /** The credential file's kind, for `credential-file`. */
  readonly title?: string;
  readonly path: string;
  readonly layer: number;
  readonly line?: number;
  /** The member of an archive (a jar's `META-INF/MANIFEST.MF`). */
  readonly member?: string;
  /** The layer that deleted or replaced the file, when it is no longer visible. */
  readonly hiddenBy?: number;
}

/** A secret found inside an archive during the walk: the member and line, not the image path. */
type ArchiveHit = Pick<SecretHit, 'rule' | 'member' | 'line'>;

/** Java and zip archives whose text members are read for secrets during the walk. */
const ARCHIVE = /\.(jar|war|ear|zip)$/i;
/** Text members worth reading: manifests, properties, configuration. */
const TEXT_MEMBER =
  /(^|\/)(MANIFEST\.MF|[^/]+\.(properties|ya?ml|json|xml|conf|cfg|ini|env|txt)|\.env(\.[a-z]+)?|\.npmrc|\.git-credentials)$/i;
/** Members looked at per archive, at most (a hostile zip can list millions). */
const MAX_ARCHIVE_MEMBERS = 10_000;

function archiveSecrets(data: Buffer): ArchiveHit[] | undefined {
  const members = readZip(data);
  if (!members) return undefined;
  const hits: ArchiveHit[] = [];
  for (const member of members.slice(0, MAX_ARCHIVE_MEMBERS)) {
    if (member.size === 0 || member.size > MAX_SECRET_FILE_BYTES || !TEXT_MEMBER.test(member.name)) continue;
    const body = member.read();
    if (!body || isBinary(body)) continue;
    for (const hit of scanText(body.toString('utf8'), member.name, SECRET_PATTERNS))
      hits.push({ rule: hit.pattern.id, member: member.name, line: hit.line });
  }
  return hits.length ? hits : undefined;
}

/**
 * Secrets in files, including files a later layer deleted or overwrote (still in the image, in
 * the layer that wrote them), and in the text members of Java and zip archives. Keyword
 * pre-filter, then regular expressions; binary and large files are skipped; the secret itself is
 * never kept nor printed, only where it is.
 */
export const secretsAnalyzer = {
  id: 'secrets',
  version: 3,
  reads: worthReading,
  extract: {
    match: (path: string, size: number) => size > 22 && ARCHIVE.test(path),
    run: archiveSecrets,
  },
  rules: Object.values(SECRET_RULES),
  analyze({ fs, extracted }: AnalyzerInput<ArchiveHit[]>): AnalyzerOutput<SecretHit[]> {
    const hits: SecretHit[] = [];
    const check = (entry: FsEntry, data: Buffer | undefined, hiddenBy?: number): void => {
      const at = { path: entry.path, layer: entry.layer, ...(hiddenBy !== undefined ? { hiddenBy } : {}) };
      const credential = credentialFile(entry.path);
      if (credential) hits.push({ rule: 'credential-file', title: credential.title, ...at });
      if (!data || isBinary(data)) return;
      for (const hit of scanText(data.toString('utf8'), entry.path, SECRET_PATTERNS))
        hits.push({ rule: hit.pattern.id, ...at, line: hit.line });
    };
    // Only what this analyzer asked for is read: other analyzers capture package lists and
    // licences, which are not where secrets are looked for.
    const text = (entry: FsEntry, content: { data: Buffer } | undefined) =>
      content && worthReading(entry.path, entry.size) ? content.data : undefined;
    const read = new Set(fs.capturedFiles());
    for (const entry of read) {
      check(entry, text(entry, fs.content(entry.path)));
      for (const hit of extracted(entry.path) ?? []) hits.push({ ...hit, path: entry.path, layer: entry.layer });
    }
    // Credential files are reported by name, also when they were not read (empty, or too large).
    for (const entry of fs.entries()) {
      if (entry.type === 'file' && !read.has(entry) && credentialFile(entry.path)) check(entry, undefined);
    }
    for (const { entry, hiddenBy } of fs.hiddenFiles()) check(entry, text(entry, fs.hiddenContent(entry)), hiddenBy);
    return { evidence: hits };
  },
  judge(hits: SecretHit[] | undefined): Finding[] {
    return (hits ?? []).map((hit) => {
      const where =
        (hit.member ? `${hit.member} inside ` : '') +
        (hit.hiddenBy === undefined
          ? `${hit.path} (layer ${hit.layer})`
          : `${hit.path}, written in layer ${hit.layer} and ${hit.hiddenBy === hit.layer ? 'replaced' : `deleted or replaced in layer ${hit.hiddenBy}`}, so still in the image`);
      const key =
        (hit.hiddenBy === undefined ? 'visible' : `hidden@${hit.layer}`) + (hit.member ? `:${hit.member}` : '');
      const location = { path: hit.path, layer: hit.layer };
      if (hit.rule === 'credential-file') {
        return finding(SECRET_RULES['credential-file']!, {
          title: `Credential file in the image: ${hit.title}`,
          message: `A ${hit.title} is at ${where}. Remove it from the build (use build secrets: RUN --mount=type=secret) and rotate what it holds.`,
          location,
          key,
        });
      }
      const pattern = SECRET_PATTERNS.find((p) => p.id === hit.rule)!;
      return finding(SECRET_RULES[hit.rule]!, {
        message: `${pattern.title} at line ${hit.line} of ${where}. The value is not shown. Rotate it, then keep it out of the image: pass it at run time, or use build secrets (RUN --mount=type=secret) and multi-stage builds.`,
        location,
        key: `${key}:${hit.line}`,
      });
    });
  },
} satisfies Analyzer<ArchiveHit[], SecretHit[]>;
