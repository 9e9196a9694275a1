import type { ReportWarning } from '../../core/warnings.js';
import { purl, type Package } from '../../core/package.js';
import type { Analyzer, AnalyzerInput, AnalyzerOutput } from '../types.js';
import { distroQualifier } from '../common/distro.js';
import { firstLayers } from '../common/history.js';
import { parseCopyrightLicenses, parseDpkgStatus, parseFileList, type DpkgRecord } from './parse.js';

const STATUS = '/var/lib/dpkg/status';
const STATUS_D = '/var/lib/dpkg/status.d/';
const INFO = '/var/lib/dpkg/info/';
/** Debian's per-package copyright files, where licences are recorded. */
const COPYRIGHT = /^\/usr\/share\/doc\/[^/]+\/copyright$/;
const MAX_COPYRIGHT = 512 * 1024;

/**
 * Debian packages from /var/lib/dpkg/status, or, in distroless images, from status.d/<pkg>
 * (control records) with status.d/<pkg>.md5sums as the file lists.
 * https://github.com/GoogleContainerTools/distroless/blob/main/PACKAGE_METADATA.md
 */
export const dpkgAnalyzer = {
  id: 'dpkg',
  version: 4,
  // info/ holds a .list (read) and a .md5sums (not needed: the .list names the same files) per package.
  reads: (path: string, size: number) =>
    path === STATUS ||
    path.startsWith(STATUS_D) ||
    (path.startsWith(INFO) && path.endsWith('.list')) ||
    (size <= MAX_COPYRIGHT && COPYRIGHT.test(path)),
  analyze({ fs, os }: AnalyzerInput): AnalyzerOutput {
    const packages: Package[] = [];
    const warnings: ReportWarning[] = [];
    const found: { record: DpkgRecord; path: string; layer: number; files?: string[] }[] = [];
    const status = fs.stat(STATUS);
    const statusText = fs.content(STATUS);
    if (status && statusText) {
      if (statusText.truncated)
        warnings.push({
          code: 'W_DPKG_TRUNCATED',
          message: `${STATUS} is larger than the read limit; packages past it are missing`,
        });
      // A package belongs to the layer that installed it (at this version): the layer of its
      // info/<pkg>.list, which dpkg writes when it installs or upgrades it; else the first version
      // of the status file that lists it.
      const history = firstLayers(fs, STATUS, (text) => parseDpkgStatus(text).map((r) => `${r.package}@${r.version}`));
      for (const record of parseDpkgStatus(statusText.data.toString('utf8'))) {
        const listPath = [`${INFO}${record.package}:${record.architecture}.list`, `${INFO}${record.package}.list`].find(
          (p) => fs.content(p),
        );
        const list = listPath ? fs.content(listPath) : undefined;
        const layer =
          (listPath ? fs.file(listPath)?.layer : undefined) ??
          history.get(`${record.package}@${record.version}`) ??
          status.layer;
        found.push({
          record,
          path: STATUS,
          layer,
          ...(list ? { files: parseFileList(list.data.toString('utf8'), false) } : {}),
        });
      }
    }
    for (const entry of fs.list(STATUS_D)) {
      if (entry.type !== 'file' || entry.path.endsWith('.md5sums')) continue;
      const content = fs.content(entry.path);
      if (!content) continue;
      const md5 = fs.content(`${entry.path}.md5sums`);
      for (const record of parseDpkgStatus(content.data.toString('utf8'))) {
        found.push({
          record,
          path: entry.path,
          layer: entry.layer,
          ...(md5 ? { files: parseFileList(md5.data.toString('utf8'), true) } : {}),
        });
      }
    }
    const distro = distroQualifier(os);
    const namespace = os.id === 'ubuntu' ? 'ubuntu' : 'debian';
    for (const { record, path, layer, files } of found) {
      const copyright = fs.content(`/usr/share/doc/${record.package}/copyright`);
      const licenses = copyright ? parseCopyrightLicenses(copyright.data.toString('utf8')) : [];
      packages.push({
        type: 'deb',
        name: record.package,
        version: record.version,
        ...(record.architecture ? { arch: record.architecture } : {}),
        ...(record.source ? { source: record.source, sourceVersion: record.sourceVersion! } : {}),
        ...(licenses.length ? { licenses } : {}),
        purl: purl('deb', namespace, record.package, record.version, { arch: record.architecture, distro }),
        locations: [{ path, layer }],
        ...(files ? { files } : {}),
      });
    }
    return { packages, warnings };
  },
} satisfies Analyzer;
