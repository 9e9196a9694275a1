import { readZip } from '../../util/zip.js';
import { baseName } from '../../fs/path.js';

/**
 * Maven artifacts in a Java archive (jar, war, ear), nested archives included: pom.properties
 * first (groupId:artifactId@version), the MANIFEST.MF otherwise; licences from the embedded
 * pom.xml, else the manifest's Bundle-License (known URLs mapped to SPDX ids).
 */
export interface JavaArtifact {
  readonly name: string;
  readonly version: string;
  readonly licenses?: readonly string[];
  /** Path inside the archive chain, e.g. `app.war/WEB-INF/lib/x.jar`. */
  readonly path: string;
}

const ARCHIVE = /\.(jar|war|ear|par|sar|jpi|hpi|kar|nar|rar)$/i;
/** Archives nested deeper than this are not opened (real ones nest two or three levels). */
const MAX_DEPTH = 4;

const LICENSE_URLS: readonly [RegExp, string][] = [
  [/apache\.org\/licenses\/LICENSE-2\.0/i, 'Apache-2.0'],
  [/opensource\.org\/licenses\/MIT/i, 'MIT'],
  [/eclipse\.org\/legal\/epl-(v10|1\.0)/i, 'EPL-1.0'],
  [/eclipse\.org\/legal\/epl-2\.0/i, 'EPL-2.0'],
  [/gnu\.org\/licenses\/lgpl/i, 'LGPL'],
];

function properties(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*([^#!=:\s]+)\s*[=:]\s*(.*)$/.exec(line);
    if (m) out.set(m[1]!, m[2]!.trim());
  }
  return out;
}

/** MANIFEST.MF: `Key: value` with 72-byte line wrapping (continuations start with a space). */
function manifest(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let last: string | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (line.startsWith(' ') && last) out.set(last, out.get(last)! + line.slice(1));
    else {
      const colon = line.indexOf(':');
      if (colon > 0) out.set((last = line.slice(0, colon).trim()), line.slice(colon + 1).trim());
    }
  }
  return out;
}

function pomLicenses(pom: string): string[] {
  const block = /<licenses>([\s\S]*?)<\/licenses>/.exec(pom)?.[1] ?? '';
  return [...block.matchAll(/<name>\s*([^<]+?)\s*<\/name>/g)].map((m) => m[1]!);
}

function bundleLicenses(value: string | undefined): string[] {
  if (!value) return [];
  return value
    .split(',')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => LICENSE_URLS.find(([re]) => re.test(l))?.[1] ?? l);
}

export function javaArtifacts(data: Buffer, path: string, depth = 0): JavaArtifact[] {
  const members = readZip(data);
  if (!members) return [];
  const text = (name: string) =>
    members
      .find((m) => m.name === name)
      ?.read()
      ?.toString('utf8');
  const mf = manifest(text('META-INF/MANIFEST.MF') ?? '');
  const out: JavaArtifact[] = [];
  const fileName = baseName(path);
  // Any pom.properties counts (shaded jars carry their dependencies' under other folders).
  const poms = members.filter((m) => m.name === 'pom.properties' || m.name.endsWith('/pom.properties'));
  const seen = new Set<string>();
  let own = false;
  for (const pom of poms) {
    const props = properties(pom.read()?.toString('utf8') ?? '');
    const group = props.get('groupId');
    const artifact = props.get('artifactId');
    const version = props.get('version');
    if (!group || !artifact || !version || seen.has(`${group}:${artifact}@${version}`)) continue;
    seen.add(`${group}:${artifact}@${version}`);
    const xml = text(pom.name.replace(/pom\.properties$/, 'pom.xml')) ?? '';
    // Bundle-License describes this archive, so it belongs to the artifact the file is named after.
    const mine = fileName.startsWith(`${artifact}-${version}`) || poms.length === 1;
    own ||= mine;
    const fromPom = pomLicenses(xml);
    const licenses = fromPom.length ? fromPom : mine ? bundleLicenses(mf.get('Bundle-License')) : [];
    out.push({ name: `${group}:${artifact}`, version, ...(licenses.length ? { licenses } : {}), path });
  }
  if (!own && !poms.length) {
    const title = mf.get('Implementation-Title') ?? mf.get('Bundle-SymbolicName')?.split(';')[0];
    const version = mf.get('Implementation-Version') ?? mf.get('Bundle-Version');
    const vendor = mf.get('Implementation-Vendor-Id') ?? mf.get('Bundle-Vendor');
    if (title && version) {
      const licenses = bundleLicenses(mf.get('Bundle-License'));
      out.push({
        name: vendor && !title.includes(':') ? `${vendor}:${title}` : title,
        version,
        ...(licenses.length ? { licenses } : {}),
        path,
      });
    }
  }
  if (depth < MAX_DEPTH) {
    for (const member of members) {
      if (!ARCHIVE.test(member.name)) continue;
      const nested = member.read();
      if (nested) out.push(...javaArtifacts(nested, `${path}/${member.name}`, depth + 1));
    }
  }
  return out;
}
