// Prints the facts of an Alpine secdb file (package, fixed version, CVE ids) for the named
// packages only, as a secdb document: `node scripts/secdb-excerpt.mjs FILE PKG...`.
import { readFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';

const [file, ...names] = process.argv.slice(2);
const doc = parse(readFileSync(file, 'utf8'));
const keep = new Set(names);
const packages = doc.packages.filter((p) => keep.has(p.pkg.name));
process.stdout.write(
  `# Excerpt of Alpine's secdb ${doc.distroversion}/${doc.reponame} (alpinelinux/alpine-secdb): the fixed versions\n` +
    `# and CVE ids of ${packages.length} packages, as facts; see test/realdata/README.md.\n` +
    stringify({ ...doc, packages }),
);
