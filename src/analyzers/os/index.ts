import type { OsInfo } from '../types.js';
import type { LayeredFs } from '../../fs/layered.js';
import { parseOsRelease } from './os-release.js';

/** Files that name the operating system, in the order they are trusted. */
export const OS_FILES = [
  '/etc/os-release',
  '/usr/lib/os-release',
  '/etc/alpine-release',
  '/etc/debian_version',
  '/etc/lsb-release',
  '/etc/redhat-release',
];

const text = (fs: LayeredFs, path: string): string | undefined => fs.content(path)?.data.toString('utf8');

/** Detects the OS from os-release and the distro-specific release files. */
export function detectOs(fs: LayeredFs): OsInfo {
  const statusD = fs.list('/var/lib/dpkg/status.d').some((e) => e.type === 'file');
  const distrolessLayout = statusD && !fs.stat('/var/lib/dpkg/status');
  for (const path of ['/etc/os-release', '/usr/lib/os-release']) {
    const content = text(fs, path);
    if (content === undefined) continue;
    const fields = parseOsRelease(content);
    if (!fields.ID) continue;
    const distroless = fields.PRETTY_NAME === 'Distroless' || distrolessLayout;
    return {
      id: fields.ID.toLowerCase(),
      ...(fields.VERSION_ID ? { versionId: fields.VERSION_ID } : {}),
      ...(fields.VERSION_CODENAME ? { versionCodename: fields.VERSION_CODENAME } : {}),
      ...(fields.PRETTY_NAME ? { prettyName: fields.PRETTY_NAME } : {}),
      source: fs.resolve(path) ?? path,
      ...(distroless ? { distroless: true } : {}),
    };
  }
  const alpine = text(fs, '/etc/alpine-release')?.trim();
  if (alpine)
    return { id: 'alpine', versionId: alpine, prettyName: `Alpine Linux v${alpine}`, source: '/etc/alpine-release' };
  const debian = text(fs, '/etc/debian_version')?.trim();
  if (debian) {
    return {
      id: 'debian',
      versionId: debian.split('.')[0]!,
      prettyName: `Debian ${debian}`,
      source: '/etc/debian_version',
      ...(distrolessLayout ? { distroless: true } : {}),
    };
  }
  const lsb = text(fs, '/etc/lsb-release');
  if (lsb) {
    const fields = parseOsRelease(lsb);
    if (fields.DISTRIB_ID) {
      return {
        id: fields.DISTRIB_ID.toLowerCase(),
        ...(fields.DISTRIB_RELEASE ? { versionId: fields.DISTRIB_RELEASE } : {}),
        ...(fields.DISTRIB_DESCRIPTION ? { prettyName: fields.DISTRIB_DESCRIPTION } : {}),
        source: '/etc/lsb-release',
      };
    }
  }
  const redhat = text(fs, '/etc/redhat-release')?.trim();
  if (redhat) {
    const version = /release (\d+(?:\.\d+)*)/.exec(redhat)?.[1];
    const id = /centos/i.test(redhat)
      ? 'centos'
      : /fedora/i.test(redhat)
        ? 'fedora'
        : /rocky/i.test(redhat)
          ? 'rocky'
          : 'rhel';
    return { id, ...(version ? { versionId: version } : {}), prettyName: redhat, source: '/etc/redhat-release' };
  }
  if (distrolessLayout) return { id: 'debian', distroless: true, source: '/var/lib/dpkg/status.d' };
  return { id: 'unknown' };
}

/**
 * OS detection, the phase before the analyzers: they read the OS it finds (the distro qualifier of
 * package URLs, which package database to trust). Declares what it reads as an analyzer does.
 */
export const osDetector = {
  id: 'os',
  version: 1,
  reads: (path: string) => OS_FILES.includes(path),
  detect: detectOs,
} as const;
