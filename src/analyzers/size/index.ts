import { formatBytes } from '../../core/units.js';
import type { LayerChanges } from '../../fs/types.js';
import type { Finding } from '../../core/finding.js';
import { finding, type Analyzer, type AnalyzerOutput, type JudgeInput, type Rule } from '../types.js';

/**
 * Image weight with dive's definitions (github.com/wagoodman/dive, filetree/efficiency.go): every
 * leaf path of every layer (files, links, empty directories, whiteouts) adds its size to that
 * path's cumulative size; a whiteout of a directory counts what it removed, of a file zero.
 * efficiency = Σ smallest size per path / Σ cumulative sizes; wasted bytes = Σ cumulative sizes
 * of the paths that appear in two or more layers.
 */
export interface PathWaste {
  readonly path: string;
  readonly count: number;
  readonly cumulativeBytes: number;
}

export interface Efficiency {
  readonly efficiency: number;
  readonly wastedBytes: number;
  readonly inefficiencies: readonly PathWaste[];
}

/** One path across layers: how many layers have it as a leaf, their sizes summed, the smallest. */
interface PathTally {
  count: number;
  cumulative: number;
  min: number;
  /** The last layer that counted this path, its size there, and the smallest size before it. */
  layer: number;
  size: number;
  minBefore: number;
}

/** What each whiteout of a layer removed, as dive counts it: a directory's removed bytes, a file's zero. */
function whiteoutSizes(layer: LayerChanges): Map<string, number> {
  const targets = new Set(layer.whiteouts);
  const removedBytes = new Map<string, number>();
  const removedDirs = new Set<string>();
  // The whiteout that removed a path: the path itself or its nearest ancestor that is one,
  // remembered for every directory on the way, so that a deep tree costs a step per path and
  // not one per ancestor of every path.
  const owner = new Map<string, string | null>();
  const ownerOf = (path: string): string | null => {
    const climbed: string[] = [];
    let found: string | null = null;
    for (let at = path; ;) {
      if (targets.has(at)) {
        found = at;
        break;
      }
      const known = owner.get(at);
      if (known !== undefined) {
        found = known;
        break;
      }
      climbed.push(at);
      const slash = at.lastIndexOf('/');
      if (slash <= 0) break;
      at = at.slice(0, slash);
    }
    for (const at of climbed) owner.set(at, found);
    return found;
  };
  for (const e of layer.removed) {
    if (targets.has(e.path) && e.type === 'dir') removedDirs.add(e.path);
    if (e.type !== 'file') continue;
    const target = ownerOf(e.path);
    if (target !== null) removedBytes.set(target, (removedBytes.get(target) ?? 0) + e.size);
  }
  return new Map(
    layer.whiteouts.map((target) => [target, removedDirs.has(target) ? (removedBytes.get(target) ?? 0) : 0]),
  );
}

/** Efficiency, wasted bytes and the paths that waste them, over the layers of a filesystem. */
export function diveEfficiency(layers: readonly LayerChanges[]): Efficiency {
  const data = new Map<string, PathTally>();
  layers.forEach((layer, index) => {
    // The layer's own tree: its entries, then its whiteouts (dive shows both as nodes); a path
    // written twice in one layer counts once, with its last size.
    const whiteouts = layer.whiteouts.length ? whiteoutSizes(layer) : undefined;
    // dive visits leaves only: mark every ancestor, climbing only until one is already marked.
    const parents = new Set<string>();
    const markAncestors = (path: string): void => {
      for (let at = path.lastIndexOf('/'); at > 0; at = path.lastIndexOf('/', at - 1)) {
        const ancestor = path.slice(0, at);
        if (parents.has(ancestor)) break;
        parents.add(ancestor);
      }
    };
    const tally = (path: string, size: number): void => {
      if (parents.has(path)) return;
      const d = data.get(path);
      if (!d) data.set(path, { count: 1, cumulative: size, min: size, layer: index, size, minBefore: Infinity });
      else if (d.layer === index) {
        d.cumulative += size - d.size;
        d.min = Math.min(d.minBefore, size);
        d.size = size;
      } else {
        d.count++;
        d.cumulative += size;
        d.minBefore = d.min;
        d.min = Math.min(d.min, size);
        d.layer = index;
        d.size = size;
      }
    };
    for (const entry of layer.entries) markAncestors(entry.path);
    for (const path of whiteouts?.keys() ?? []) markAncestors(path);
    for (const entry of layer.entries) tally(entry.path, entry.type === 'file' ? entry.size : 0);
    for (const [path, size] of whiteouts ?? []) tally(path, size);
  });
  let minimum = 0;
  let discovered = 0;
  let wastedBytes = 0;
  const inefficiencies: PathWaste[] = [];
  for (const [path, d] of data) {
    minimum += d.min;
    discovered += d.cumulative;
    if (d.count >= 2) {
      wastedBytes += d.cumulative;
      inefficiencies.push({ path, count: d.count, cumulativeBytes: d.cumulative });
    }
  }
  inefficiencies.sort((a, b) => b.cumulativeBytes - a.cumulativeBytes || (a.path < b.path ? -1 : 1));
  return { efficiency: discovered === 0 ? 1 : minimum / discovered, wastedBytes, inefficiencies };
}

export const SIZE_RULES = {
  wasted: {
    id: 'size/wasted-bytes',
    severity: 'low',
    title: 'Layers carry files that later layers overwrite or delete',
    rationale:
      'Bytes written in one layer and removed or replaced in another are still pulled and stored; squash them by doing the work in one RUN or in a build stage.',
    references: ['https://github.com/wagoodman/dive'],
  },
} satisfies Record<string, Rule>;

/** Below this efficiency (dive's default CI threshold is 0.9) the waste is reported. */
export const EFFICIENCY_THRESHOLD = 0.9;
/** ...unless the waste is under 1 MB, which is noise. */
export const WASTE_FLOOR_BYTES = 1_000_000;

export const sizeAnalyzer = {
  id: 'size',
  version: 1,
  rules: Object.values(SIZE_RULES),
  // The weight is measured once for the report (scan/size.ts); only its judgement is here.
  analyze: (): AnalyzerOutput => ({}),
  judge(_evidence: unknown, { facts }: JudgeInput): Finding[] {
    const { efficiency, wastedBytes, inefficiencies } = facts.size;
    if (efficiency >= EFFICIENCY_THRESHOLD || wastedBytes < WASTE_FLOOR_BYTES) return [];
    const top = inefficiencies
      .slice(0, 5)
      .map((w) => `${w.path} (${w.count}×, ${formatBytes(w.cumulativeBytes)})`)
      .join(', ');
    return [
      finding(SIZE_RULES.wasted, {
        message: `Efficiency is ${(efficiency * 100).toFixed(1)} %: ${formatBytes(wastedBytes)} are written more than once, e.g. ${top}. Combine the steps that write and delete them, or use a multi-stage build.`,
        key: 'image',
      }),
    ];
  },
} satisfies Analyzer;
