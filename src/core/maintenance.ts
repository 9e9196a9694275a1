/**
 * The report's `maintenance` section (report@1 revision 3): what keeping the image up to date
 * costs — support of its release and runtimes, packages behind their repositories, its age, its
 * base, and one burden figure. Computed on every scan from the facts and the local data, like the
 * vulnerabilities, so that a data update changes it without re-reading the image.
 */
export interface SupportStatus {
  /** endoflife.date's product: `debian`, `alpine-linux`, `nodejs`… */
  readonly product: string;
  readonly cycle?: string;
  readonly codename?: string;
  /** End of standard security support (YYYY-MM-DD), `true` when only "ended" is known. */
  readonly eol?: string | true;
  /** End of extended support (Debian LTS, Ubuntu ESM). */
  readonly extendedEol?: string;
  /**
   * supported; ending (within 180 days); extended (standard support over, public extended support
   * such as Debian LTS still publishes fixes); ended (no fixes where the image looks for them);
   * rolling (no releases: Wolfi, Chainguard); unknown (not in the table).
   */
  readonly state: 'supported' | 'ending' | 'extended' | 'ended' | 'rolling' | 'unknown';
  /** Days until standard support ends, negative since it ended. */
  readonly days?: number;
}

export interface RuntimeSupport extends SupportStatus {
  /** As detected: `node`, `python`, `openjdk`, `go`… */
  readonly name: string;
  readonly version: string;
}

export interface OutdatedPackageInfo {
  readonly name: string;
  readonly installed: string;
  /** The newest version any suite of the release offers, and the suite it comes from. */
  readonly available: string;
  readonly suite: string;
  /** A newer version is in a security suite: the update fixes a vulnerability. */
  readonly security: boolean;
  /**
   * Since when the repository offers it, as far as the index says (ISO): the version's build time
   * (APKINDEX), else the index's date — for Debian a lower bound, the update may be older.
   */
  readonly since?: string;
  /** Days from `since` to the scan. */
  readonly daysBehind?: number;
}

export interface MaintenanceBurden {
  /** The figure (see docs/rules.md, "Maintenance burden"). */
  readonly value: number;
  /** OS packages: each can need an update. */
  readonly packages: number;
  readonly outdated: number;
  readonly securityUpdates: number;
  /** Known vulnerabilities with a fixed version. */
  readonly fixable: number;
  /** Points for the release's and runtimes' support state. */
  readonly support: number;
}

export interface Maintenance {
  readonly release: SupportStatus;
  readonly runtimes: readonly RuntimeSupport[];
  /** Absent when no repository index covers the release (`db update` brings them). */
  readonly outdated?: {
    readonly suites: readonly string[];
    readonly security: number;
    readonly other: number;
    readonly packages: readonly OutdatedPackageInfo[];
  };
  readonly image: {
    /** The config's `created`, unless it is the epoch or absent. */
    readonly created?: string;
    /**
     * The newest build time among the installed packages (apk records one per package): the image
     * cannot be older. The cross-check of `created`, and the only date of a reproducible build.
     */
    readonly newestPackage?: string;
    /** From `created`, else (epoch or absent) from `newestPackage`: how long its content has not been refreshed. */
    readonly ageDays?: number;
    readonly ageFrom?: 'config' | 'packages';
    /** epoch: a reproducible build that sets no date. */
    readonly createdState: 'dated' | 'epoch' | 'absent';
  };
  /** From the `org.opencontainers.image.base.*` labels. */
  readonly base?: {
    readonly name?: string;
    readonly digest?: string;
    /** What the base's tag points at now (a registry lookup; absent offline or when not looked up). */
    readonly currentDigest?: string;
    readonly drifted?: boolean;
    /** Vulnerability ids of this image that the current base no longer has (it was scanned). */
    readonly fixes?: readonly string[];
  };
  readonly burden: MaintenanceBurden;
  /** Where the data came from: the end-of-life table (shipped, of its date, or the database's). */
  readonly data: {
    readonly eol: 'database' | 'shipped';
    readonly eolTableDate: string;
    readonly repositories: boolean;
  };
}
