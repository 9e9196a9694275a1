import type { LayeredFs } from '../../fs/layered.js';

/**
 * The layer where each record of a package database first appears, over every version of the
 * database file the layers wrote (a later layer rewrites the whole file when it installs more):
 * `keys` names the records of one version (e.g. `name@version`). A record keeps the layer of the
 * version of the file where it was first seen; one the image's own version lacks is not listed.
 */
export function firstLayers(
  fs: LayeredFs,
  path: string,
  keys: (text: string) => readonly string[],
): Map<string, number> {
  const visible = fs.file(path);
  const versions = fs
    .hiddenFiles()
    .filter(({ entry }) => entry.path === (visible?.path ?? path))
    .map(({ entry }) => ({ layer: entry.layer, data: fs.hiddenContent(entry)?.data }));
  const content = fs.content(path);
  if (visible && content) versions.push({ layer: visible.layer, data: content.data });
  versions.sort((a, b) => a.layer - b.layer);
  const first = new Map<string, number>();
  for (const { layer, data } of versions) {
    if (!data) continue;
    for (const key of keys(data.toString('utf8'))) if (!first.has(key)) first.set(key, layer);
  }
  return first;
}
