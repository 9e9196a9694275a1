#!/usr/bin/env node
// Scans the test images and the real upstream images the tests read, and writes each JSON report
// (createdAt removed) to DIR: run it before and after a change that must not alter reports, then
// `diff -r BEFORE AFTER`. Uses the build in dist/ and no cache. Usage:
//   node scripts/report-snapshot.mjs DIR [--realdata PATH]
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(import.meta.url), '../..');
const [out, ...rest] = process.argv.slice(2);
if (!out) {
  console.error('usage: node scripts/report-snapshot.mjs DIR [--realdata PATH]');
  process.exit(2);
}
const at = rest.indexOf('--realdata');
const realdata = at >= 0 ? rest[at + 1] : join(root, 'test/realdata');

const { openSource } = await import(join(root, 'dist/src/sources/index.js'));
const { scanImage } = await import(join(root, 'dist/src/scan/scan.js'));
const { IMAGE_NAMES, debianImagePaths } = await import(join(root, 'dist/test/fixtures/debian-images.js'));

const inputs = [];
for (const name of IMAGE_NAMES) {
  const { layout } = debianImagePaths(name);
  if (existsSync(join(layout, 'index.json'))) inputs.push([`test-${name}`, `oci:${layout}`]);
}
for (const path of [
  'images/dive/test-docker-image.tar',
  'images/trivy/alpine-39.tar.gz',
  'images/alpine/gliderlabs-library-3.9-x86_64/rootfs.tar.xz',
  'images/alpine/docker-alpine-3.20.3-x86_64/alpine-minirootfs-3.20.3-x86_64.tar.gz',
  'images/snyk-docker-plugin/busybox-1.31.1.tar',
  'images/snyk-docker-plugin/hello-world.tar',
]) {
  if (existsSync(join(realdata, path))) inputs.push([path.replace(/[/]/g, '_'), join(realdata, path)]);
}

mkdirSync(out, { recursive: true });
for (const [name, input] of inputs) {
  const source = await openSource(input, { env: {} });
  try {
    const { report } = await scanImage(source, { platform: { os: 'linux', architecture: 'amd64' } });
    writeFileSync(join(out, `${name}.json`), `${JSON.stringify({ ...report, createdAt: undefined }, null, 2)}\n`);
    console.log(
      `${name}: ${report.score.grade} ${report.os.classification}, ${report.packages.length} packages, ${report.findings.length} findings`,
    );
  } finally {
    await source.close();
  }
}
