import { purl, type Package } from '../../core/package.js';
import type { Analyzer, AnalyzerInput, AnalyzerOutput } from '../types.js';
import { distroQualifier } from '../common/distro.js';
import { firstLayers } from '../common/history.js';
import { parseApkInstalled } from './parse.js';

/** Where apk keeps its database: Alpine and Wolfi use the first, apko images sometimes the second. */
export const APK_DBS = ['/lib/apk/db/installed', '/usr/lib/apk/db/installed'];

/** Alpine, Wolfi and Chainguard packages from the apk installed database. */
/** What apk's database says besides the packages: the newest build among them (a floor for the image's date). */
export interface ApkEvidence {
  readonly newestBuild?: string;
}

export const apkAnalyzer = {
  id: 'apk',
  version: 3,
  reads: (path: string) => APK_DBS.includes(path),
  analyze({ fs, os }: AnalyzerInput): AnalyzerOutput<ApkEvidence> {
    const packages: Package[] = [];
    let newest = 0;
    const distro = distroQualifier(os);
    const namespace = os.id === 'wolfi' || os.id === 'chainguard' ? os.id : 'alpine';
    const seen = new Set<string>();
    for (const db of APK_DBS) {
      const entry = fs.stat(db);
      const content = fs.content(db);
      if (!entry || !content || seen.has(entry.path)) continue;
      seen.add(entry.path);
      // A package belongs to the layer whose version of the database first lists it at this version.
      const history = firstLayers(fs, db, (text) => parseApkInstalled(text).map((r) => `${r.name}@${r.version}`));
      for (const record of parseApkInstalled(content.data.toString('utf8'))) {
        newest = Math.max(newest, record.buildTime ?? 0);
        packages.push({
          type: 'apk',
          name: record.name,
          version: record.version,
          ...(record.arch ? { arch: record.arch } : {}),
          ...(record.origin ? { source: record.origin, sourceVersion: record.version } : {}),
          ...(record.license ? { licenses: record.license.split(/\s+(?:AND|OR)\s+|\s+/).filter(Boolean) } : {}),
          purl: purl('apk', namespace, record.name, record.version, { arch: record.arch, distro }),
          locations: [{ path: entry.path, layer: history.get(`${record.name}@${record.version}`) ?? entry.layer }],
          files: record.files,
        });
      }
    }
    return { packages, ...(newest ? { evidence: { newestBuild: new Date(newest * 1000).toISOString() } } : {}) };
  },
} satisfies Analyzer<never, ApkEvidence>;
