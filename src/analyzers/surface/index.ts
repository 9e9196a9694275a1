import type { Finding, Severity } from '../../core/finding.js';
import type { RuntimeContext } from '../../core/runtime.js';
import { SURFACE_LISTS, type SurfaceItem, type SurfaceList } from '../../core/surface.js';
import type { LayeredFs } from '../../fs/layered.js';
import type { FsEntry } from '../../fs/types.js';
import { baseName } from '../../fs/path.js';
import {
  finding,
  type Analyzer,
  type AnalyzerInput,
  type AnalyzerOutput,
  type JudgeInput,
  type Rule,
} from '../types.js';
import { categoryOf, inBinDir } from './catalogue.js';

const CIS_SETUID = 'CIS Docker Benchmark 4.8: remove setuid and setgid permissions';
const TESLA = 'https://redlock.io/blog/cryptojacking-tesla';

export const SURFACE_RULES = {
  shells: {
    id: 'surface/shell',
    severity: 'medium',
    title: 'Image contains a shell',
    rationale:
      'A shell turns any code-execution bug into an interactive foothold: the first thing an intruder uses (Tesla 2018). Distroless images have none.',
    references: [TESLA],
  },
  packageManagers: {
    id: 'surface/package-manager',
    severity: 'medium',
    title: 'Image contains a package manager',
    rationale: 'A package manager lets an intruder install whatever tools they need, and is dead weight at run time.',
    references: ['CIS Docker Benchmark 4.3: do not install unnecessary packages'],
  },
  networkTools: {
    id: 'surface/network-tools',
    severity: 'low',
    title: 'Image contains network tools',
    rationale: 'curl, wget, nc and friends download payloads and exfiltrate data; most services need none of them.',
    references: [TESLA],
  },
  interpreters: {
    id: 'surface/interpreters',
    severity: 'info',
    title: 'Image contains interpreters',
    rationale: 'Interpreters run arbitrary code; expected when they are the application runtime, surface otherwise.',
    references: [],
  },
  buildTools: {
    id: 'surface/build-tools',
    severity: 'medium',
    title: 'Image contains build tools or debuggers',
    rationale:
      'Compilers and debuggers belong in a build stage; in a runtime image they help an intruder build exploits.',
    references: ['CIS Docker Benchmark 4.3: do not install unnecessary packages'],
  },
  privilegeTools: {
    id: 'surface/privilege-tools',
    severity: 'medium',
    title: 'Image contains privilege tools',
    rationale: 'sudo, su and similar tools are paths from a compromised user to root inside the container.',
    references: ['CIS Docker Benchmark 4.8'],
  },
  setuid: {
    id: 'surface/setuid',
    severity: 'medium',
    title: 'Image contains setuid binaries',
    rationale:
      'Setuid-root binaries are the classic privilege-escalation route and make a container escape (Azurescape 2021) worse.',
    references: [CIS_SETUID],
  },
  setgid: {
    id: 'surface/setgid',
    severity: 'low',
    title: 'Image contains setgid binaries',
    rationale: 'Setgid binaries grant group privileges (shadow, tty) to whoever runs them.',
    references: [CIS_SETUID],
  },
  worldWritable: {
    id: 'surface/world-writable',
    severity: 'medium',
    title: 'World-writable paths without the sticky bit',
    rationale: 'Any user can replace or plant files there, including in directories on PATH.',
    references: ['CIS Docker Benchmark 4'],
  },
  capabilities: {
    id: 'surface/file-capabilities',
    severity: 'low',
    title: 'Files with capabilities',
    rationale: 'File capabilities (security.capability) grant root powers to a binary without setuid.',
    references: ['https://man7.org/linux/man-pages/man7/capabilities.7.html'],
  },
  noShell: {
    id: 'debug/no-shell',
    severity: 'info',
    title: 'No shell: debug with an ephemeral container',
    rationale:
      'An image without a shell is debugged from outside: kubectl debug with a debug image sharing the process namespace, or a :debug / -dev variant in development.',
    references: ['https://kubernetes.io/docs/tasks/debug/debug-application/debug-running-pod/#ephemeral-container'],
  },
} satisfies Record<string, Rule>;

const EXEC = 0o111;

const itemOf = (entry: FsEntry, detail: string): SurfaceItem => ({
  path: entry.path,
  name: baseName(entry.path),
  layer: entry.layer,
  detail,
});

/** Walks the squashed filesystem once and sorts what it finds into the surface categories. */
export function collectSurface(fs: LayeredFs): Record<SurfaceList, SurfaceItem[]> {
  const out = Object.fromEntries(SURFACE_LISTS.map((list) => [list, []])) as unknown as Record<
    SurfaceList,
    SurfaceItem[]
  >;
  const entries = fs.entries();
  // The file(s) busybox really is: applets are symlinks to it, or hardlinks to whichever name the
  // archive stored first (often /bin/[), so compare resolved targets, not names.
  const busybox = new Set<string>();
  for (const entry of entries) {
    if (entry.path.endsWith('/busybox')) {
      const resolved = fs.file(entry.path);
      if (resolved) busybox.add(resolved.path);
    }
  }
  for (const entry of entries) {
    // Most entries are none of the below: their names are not sliced out.
    if (entry.type === 'file' || entry.type === 'hardlink' || entry.type === 'symlink') {
      const category = inBinDir(entry.path) ? categoryOf(baseName(entry.path)) : undefined;
      if (category) {
        const resolved = fs.file(entry.path);
        if (resolved && resolved.mode & EXEC) {
          const name = baseName(entry.path);
          const via =
            busybox.has(resolved.path) && name !== 'busybox'
              ? 'busybox'
              : entry.type === 'hardlink'
                ? 'hardlink'
                : undefined;
          out[category].push({ path: entry.path, name, layer: entry.layer, ...(via ? { via } : {}) });
        }
      }
    }
    if (entry.type === 'file' || entry.type === 'hardlink') {
      if (entry.mode & 0o4000)
        out.setuid.push(itemOf(entry, `${entry.mode.toString(8).padStart(4, '0')} uid ${entry.uid}`));
      if (entry.mode & 0o2000)
        out.setgid.push(itemOf(entry, `${entry.mode.toString(8).padStart(4, '0')} gid ${entry.gid}`));
      if (entry.xattrs?.['security.capability'] !== undefined)
        out.capabilities.push(itemOf(entry, 'security.capability'));
    }
    const worldWritable = entry.mode & 0o002;
    if (worldWritable && (entry.type === 'file' || (entry.type === 'dir' && !(entry.mode & 0o1000)))) {
      out.worldWritable.push(itemOf(entry, entry.mode.toString(8).padStart(4, '0')));
    }
  }
  return out;
}

const list = (items: readonly SurfaceItem[], max = 6): string =>
  items
    .slice(0, max)
    .map((i) => i.path + (i.via ? ` (${i.via})` : ''))
    .join(', ') + (items.length > max ? ` and ${items.length - max} more` : '');

const FIX: Readonly<Record<SurfaceList, string>> = {
  shells:
    'Use a distroless or Chainguard base (no shell), or delete the shell in the final stage; debug with kubectl debug instead.',
  packageManagers: 'Install packages in a build stage and copy only the result into a distroless final stage.',
  networkTools: 'Remove them from the final image; if a healthcheck needs HTTP, use a tiny static probe binary.',
  interpreters: 'Keep only the runtime the application needs.',
  buildTools: 'Build in a separate stage (multi-stage build) and copy artifacts only.',
  privilegeTools: 'Remove su/sudo; run as a non-root user that needs no elevation.',
  setuid: 'Remove the setuid bit (RUN find / -perm /4000 -type f -exec chmod u-s {} +) or the binaries.',
  setgid: 'Remove the setgid bit (chmod g-s) or the binaries.',
  worldWritable: 'chmod o-w, or add the sticky bit to shared directories.',
  capabilities: 'Drop file capabilities (setcap -r) unless the binary needs them.',
};

/**
 * Where the runtime takes a list's risk away: with no_new_privs (allowPrivilegeEscalation: false)
 * setuid and setgid bits and file capabilities grant nothing on exec, and su or sudo cannot
 * elevate; a read-only root filesystem cannot be written, world-writable or not. Undefined: the
 * rule's own severity stands.
 */
function mitigated(list: SurfaceList, context: RuntimeContext): { severity: Severity; why: string } | undefined {
  const noEscalation = !context.allowPrivilegeEscalation && !context.privileged;
  const why = 'allowPrivilegeEscalation is false (no_new_privs), so they grant no privileges on exec.';
  if (noEscalation && (list === 'setuid' || list === 'setgid' || list === 'capabilities'))
    return { severity: 'info', why };
  if (noEscalation && list === 'privilegeTools') return { severity: 'low', why };
  if (list === 'worldWritable' && context.readOnlyRootFilesystem)
    return { severity: 'info', why: 'the root filesystem is read-only, so they cannot be written.' };
  return undefined;
}

export const surfaceAnalyzer = {
  id: 'surface',
  version: 1,
  rules: Object.values(SURFACE_RULES),
  analyze({ fs }: AnalyzerInput): AnalyzerOutput {
    return { surface: collectSurface(fs) };
  },
  judge(_evidence: unknown, { facts, context }: JudgeInput): Finding[] {
    const findings: Finding[] = [];
    for (const key of SURFACE_LISTS) {
      const items = facts.surface[key];
      if (!items.length) continue;
      const rule = SURFACE_RULES[key];
      const first = items[0]!;
      const softer = mitigated(key, context);
      findings.push(
        finding(rule, {
          title: `${rule.title} (${items.length})`,
          message: `${list(items)}. ${rule.rationale} ${softer ? `Here ${softer.why} ` : ''}${FIX[key]}`,
          location: { path: first.path, layer: first.layer },
          key: items.map((i) => i.path).join(','),
          ...(softer ? { severity: softer.severity } : {}),
        }),
      );
    }
    if (facts.surface.shells.length === 0) {
      findings.push(
        finding(SURFACE_RULES.noShell, {
          message:
            'This image has no shell, so `kubectl exec … sh` will not work. Debug it with an ephemeral container that shares its process namespace: ' +
            '`kubectl debug -it POD --image=busybox:1.36 --target=CONTAINER`, or use the :debug tag (gcr.io/distroless) or the -dev variant (Chainguard) in development.',
        }),
      );
    }
    return findings;
  },
} satisfies Analyzer;
