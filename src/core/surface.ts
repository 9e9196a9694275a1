/** Attack-surface categories, as in the report contract. */
export const SURFACE_CATEGORIES = [
  'shells',
  'packageManagers',
  'networkTools',
  'interpreters',
  'buildTools',
  'privilegeTools',
] as const;
export type SurfaceCategory = (typeof SURFACE_CATEGORIES)[number];

/** Every file list of the surface: the tool categories, then the mode-based lists. */
export const SURFACE_LISTS = [...SURFACE_CATEGORIES, 'setuid', 'setgid', 'worldWritable', 'capabilities'] as const;
export type SurfaceList = (typeof SURFACE_LISTS)[number];

/** How the lists are named in text. */
export const SURFACE_LABELS: Readonly<Record<SurfaceList, string>> = {
  shells: 'shells',
  packageManagers: 'package managers',
  networkTools: 'network tools',
  interpreters: 'interpreters',
  buildTools: 'build tools',
  privilegeTools: 'privilege tools',
  setuid: 'setuid',
  setgid: 'setgid',
  worldWritable: 'world-writable',
  capabilities: 'capabilities',
};

export interface SurfaceItem {
  readonly path: string;
  /** The tool's name (`sh`, `apt-get`, `curl`), or the file's base name for mode-based lists. */
  readonly name: string;
  readonly layer: number;
  /** How the path reaches the tool: `busybox` for applet links, `hardlink`, `symlink`. */
  readonly via?: string;
  /** For setuid/setgid/capabilities: the mode (octal) or capability set. */
  readonly detail?: string;
}

export type PasswordState = 'empty' | 'locked' | 'hash' | 'absent';

export interface UserAccount {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly shell?: string;
  readonly home?: string;
  readonly password: PasswordState;
}

export interface Surface {
  readonly shells: readonly SurfaceItem[];
  readonly packageManagers: readonly SurfaceItem[];
  readonly networkTools: readonly SurfaceItem[];
  readonly interpreters: readonly SurfaceItem[];
  readonly buildTools: readonly SurfaceItem[];
  readonly privilegeTools: readonly SurfaceItem[];
  readonly setuid: readonly SurfaceItem[];
  readonly setgid: readonly SurfaceItem[];
  readonly worldWritable: readonly SurfaceItem[];
  readonly capabilities: readonly SurfaceItem[];
  readonly users: readonly UserAccount[];
}
