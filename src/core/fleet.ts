/**
 * The fleet view (`GET /api/fleet`, the fleet page): figures over every image the server knows,
 * the same figures over the images that run in a cluster, where a move to a minimal base removes
 * most, one page of images, and each figure's trend. Schema `distrolens/fleet@1`.
 */
export const FLEET_SCHEMA = 'distrolens/fleet@1';

export interface FleetFigures {
  /** References (tags) in the fleet. */
  readonly references: number;
  /** Distinct manifest digests with a report: what the sums below are over. */
  readonly images: number;
  /** References whose digest has no report yet (queued, failed or pending). */
  readonly pending: number;
  readonly classes: Readonly<Record<string, number>>;
  readonly grades: Readonly<Record<string, number>>;
  readonly shells: number;
  readonly packageManagers: number;
  readonly setuid: number;
  readonly critical: number;
  readonly high: number;
  readonly sizeBytes: number;
  readonly packages: number;
}

/** A repository where a move pays: the most a move of one of its images removes. */
export interface FleetMove {
  readonly repository: string;
  readonly reference: string;
  readonly classification: string;
  readonly to: string;
  readonly bytes: number;
  readonly packages: number;
  readonly shells: number;
  readonly packageManagers: number;
}

export interface FleetImage {
  readonly reference: string;
  readonly digest: string;
  readonly running: boolean;
  readonly scanId?: string;
  readonly grade?: string;
  readonly classification?: string;
  readonly sizeBytes?: number;
  readonly packages?: number;
  readonly shells?: number;
  readonly packageManagers?: number;
  readonly setuid?: number;
  readonly critical?: number;
  readonly high?: number;
}

export interface FleetView {
  readonly schema: typeof FLEET_SCHEMA;
  readonly generatedAt: string;
  readonly all: FleetFigures;
  /** Over the images seen running (workloads and clusters). */
  readonly running: FleetFigures;
  /** Best moves first (bytes removed), at most 20. */
  readonly moves: readonly FleetMove[];
  readonly page: {
    readonly number: number;
    readonly size: number;
    readonly total: number;
    readonly sort: string;
    readonly filter?: string;
    readonly images: readonly FleetImage[];
  };
  /** Snapshots of `all` over time, oldest first. */
  readonly trend: readonly { readonly takenAt: string; readonly figures: FleetFigures }[];
  /** The last re-match of stored reports against a new vulnerability database. */
  readonly rematch?: {
    readonly at: string;
    readonly vulnDb: string;
    readonly scans: number;
    readonly added: number;
    readonly removed: number;
    readonly changed: readonly { readonly reference: string; readonly added: number; readonly removed: number }[];
  };
}
