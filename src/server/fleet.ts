import { FLEET_SCHEMA, type FleetFigures, type FleetImage, type FleetMove, type FleetView } from '../core/fleet.js';
import type { FleetRow, Storage } from './storage.js';

/** Figures over a set of references: sums over their distinct scanned digests. */
export function fleetFigures(rows: readonly FleetRow[]): FleetFigures {
  const classes: Record<string, number> = {};
  const grades: Record<string, number> = {};
  const seen = new Set<string>();
  let pending = 0;
  const sums = { shells: 0, packageManagers: 0, setuid: 0, critical: 0, high: 0, sizeBytes: 0, packages: 0 };
  for (const row of rows) {
    const scan = row.scan;
    if (!scan) {
      pending++;
      continue;
    }
    if (seen.has(row.digest)) continue;
    seen.add(row.digest);
    classes[scan.classification] = (classes[scan.classification] ?? 0) + 1;
    grades[scan.grade] = (grades[scan.grade] ?? 0) + 1;
    sums.shells += scan.shells ?? 0;
    sums.packageManagers += scan.packageManagers ?? 0;
    sums.setuid += scan.setuid ?? 0;
    sums.critical += scan.vulnerabilities.critical;
    sums.high += scan.vulnerabilities.high;
    sums.sizeBytes += scan.sizeBytes;
    sums.packages += scan.packages;
  }
  return { references: rows.length, images: seen.size, pending, classes, grades, ...sums };
}

/** Per repository, the image whose move removes most; the best `limit` repositories. */
export function fleetMoves(rows: readonly FleetRow[], limit = 20): FleetMove[] {
  const best = new Map<string, FleetMove>();
  for (const { scan, reference, repository } of rows) {
    // A move pays when it removes something: bytes or packages of the base, or tools at hand.
    if (!scan?.move || ['distroless', 'scratch'].includes(scan.classification)) continue;
    if (!scan.move.bytes && !scan.move.packages && !scan.shells && !scan.packageManagers) continue;
    const move: FleetMove = {
      repository,
      reference,
      classification: scan.classification,
      to: scan.move.to,
      bytes: scan.move.bytes,
      packages: scan.move.packages,
      shells: scan.shells ?? 0,
      packageManagers: scan.packageManagers ?? 0,
    };
    const known = best.get(repository);
    if (!known || move.bytes > known.bytes) best.set(repository, move);
  }
  return [...best.values()]
    .sort(
      (a, b) =>
        b.bytes - a.bytes ||
        b.packages - a.packages ||
        b.shells + b.packageManagers - (a.shells + a.packageManagers) ||
        a.repository.localeCompare(b.repository),
    )
    .slice(0, limit);
}

const imageOf = (row: FleetRow): FleetImage => {
  const s = row.scan;
  return {
    reference: row.reference,
    digest: row.digest,
    running: row.running,
    ...(s
      ? {
          scanId: s.id,
          grade: s.grade,
          classification: s.classification,
          sizeBytes: s.sizeBytes,
          packages: s.packages,
          shells: s.shells ?? 0,
          packageManagers: s.packageManagers ?? 0,
          setuid: s.setuid ?? 0,
          critical: s.vulnerabilities.critical,
          high: s.vulnerabilities.high,
        }
      : {}),
  };
};

/** The sort keys of the image list: worst first for the numbers, by name otherwise. */
export const FLEET_SORTS = ['reference', 'grade', 'size', 'critical', 'shells', 'packages'] as const;
export type FleetSort = (typeof FLEET_SORTS)[number];

const SORTERS: Record<FleetSort, (a: FleetImage, b: FleetImage) => number> = {
  reference: (a, b) => a.reference.localeCompare(b.reference),
  grade: (a, b) => (b.grade ?? '~').localeCompare(a.grade ?? '~'),
  size: (a, b) => (b.sizeBytes ?? -1) - (a.sizeBytes ?? -1),
  critical: (a, b) => (b.critical ?? -1) - (a.critical ?? -1) || (b.high ?? -1) - (a.high ?? -1),
  shells: (a, b) => (b.shells ?? -1) - (a.shells ?? -1),
  packages: (a, b) => (b.packages ?? -1) - (a.packages ?? -1),
};

export interface FleetQuery {
  readonly page?: number;
  readonly size?: number;
  readonly sort?: FleetSort;
  /** Only references containing this text, or of this class (`class:general`), or running (`running`). */
  readonly filter?: string;
}

export const MAX_PAGE_SIZE = 500;

export async function fleetView(storage: Storage, query: FleetQuery = {}, now = new Date()): Promise<FleetView> {
  const rows = await storage.fleetRows();
  const size = Math.min(MAX_PAGE_SIZE, Math.max(1, query.size ?? 50));
  const sort = query.sort ?? 'reference';
  const filter = query.filter?.trim();
  const matches = (row: FleetRow): boolean =>
    !filter
      ? true
      : filter === 'running'
        ? row.running
        : filter.startsWith('class:')
          ? row.scan?.classification === filter.slice(6)
          : row.reference.includes(filter);
  const listed = rows
    .filter(matches)
    .map(imageOf)
    .sort((a, b) => SORTERS[sort](a, b) || a.reference.localeCompare(b.reference));
  const pages = Math.max(1, Math.ceil(listed.length / size));
  const number = Math.min(pages, Math.max(1, query.page ?? 1));
  const [snapshots, rematch] = await Promise.all([storage.snapshots(200), storage.lastRematch()]);
  return {
    schema: FLEET_SCHEMA,
    generatedAt: now.toISOString(),
    all: fleetFigures(rows),
    running: fleetFigures(rows.filter((r) => r.running)),
    moves: fleetMoves(rows),
    page: {
      number,
      size,
      total: listed.length,
      sort,
      ...(filter ? { filter } : {}),
      images: listed.slice((number - 1) * size, number * size),
    },
    trend: snapshots.map((s) => ({ takenAt: s.takenAt, figures: s.figures as FleetFigures })),
    ...(rematch
      ? {
          rematch: {
            at: rematch.at,
            vulnDb: rematch.vulnDb,
            scans: rematch.scans,
            added: rematch.changed.reduce((n, c) => n + c.added, 0),
            removed: rematch.changed.reduce((n, c) => n + c.removed, 0),
            changed: rematch.changed
              .slice(0, 50)
              .map(({ reference, added, removed }) => ({ reference, added, removed })),
          },
        }
      : {}),
  };
}

/** Records the fleet's figures now (the trend's points). */
export async function takeSnapshot(storage: Storage, at = new Date()): Promise<FleetFigures> {
  const figures = fleetFigures(await storage.fleetRows());
  await storage.saveSnapshot(figures, at);
  return figures;
}
