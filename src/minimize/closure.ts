import { elfLinkage, isElf, parseElf } from '../analyzers/common/elf.js';
import type { ImageConfig } from '../core/config.js';
import type { FsEntry } from '../fs/types.js';
import { joinInRoot, parentOf } from '../fs/path.js';

/**
 * The static closure of what an image's program needs, computed from the image alone: the
 * program, its ELF interpreter and every DT_NEEDED library resolved as ld.so resolves them
 * (DT_RPATH without DT_RUNPATH, LD_LIBRARY_PATH, DT_RUNPATH, /etc/ld.so.conf, the default and
 * multiarch directories; `$ORIGIN` expanded), libraries its strings name that it may `dlopen`
 * (where they resolve), the NSS modules /etc/nsswitch.conf names, script interpreters from
 * shebangs (`env` resolved on PATH), a runtime's application directory (node and its app folder
 * with node_modules; python and its standard library; a JVM's home), and the files any process
 * reads at run time. Every path is resolved inside the image root (a symlink never leads out;
 * loops end), and symlinks on the way are kept as links.
 */
export interface ClosureFs {
  /** The entry at a path, without following it (parents resolved inside the root). */
  lstat(path: string): FsEntry | undefined;
  /** Entries of a directory (following symlinks to it), sorted. */
  list(dir: string): FsEntry[];
  resolve(path: string, options?: { follow?: boolean }): string | undefined;
}

export interface ClosureInput {
  readonly fs: ClosureFs;
  /** What a file is, as a program (the resolved path): computed once per file, during the layer walk. */
  binary(path: string): BinaryFacts | undefined;
  /** A small text file's content (ld.so.conf, nsswitch.conf), the resolved path. */
  text(path: string): string | undefined;
  readonly config: ImageConfig;
  /** Other commands to keep (`--entry`), beside ENTRYPOINT + CMD. */
  readonly entries?: readonly (readonly string[])[];
  /** Paths kept whole (`--keep`): a directory with everything under it. */
  readonly keep?: readonly string[];
  /** Paths kept for a reason found elsewhere (`--trace`: the program looked for them). */
  readonly extra?: ReadonlyMap<string, string>;
}

/** Why each path is kept; application paths separately (they form their own layer). */
/** What the closure needs to know of a file: a script's interpreter line, or an ELF's links and names. */
export type BinaryFacts =
  | { readonly kind: 'script'; readonly shebang: readonly string[] }
  | {
      readonly kind: 'elf';
      readonly interpreter?: string;
      readonly needed: readonly string[];
      readonly runpath?: string;
      readonly rpath?: string;
      readonly soname?: string;
      /** Library names in its strings (what it may dlopen). */
      readonly sonames: readonly string[];
      /** Absolute paths in its strings (data files it may open). */
      readonly paths: readonly string[];
    };

/** The facts of one file's bytes (undefined: neither a script nor an ELF object). */
export function binaryFacts(data: Buffer): BinaryFacts | undefined {
  if (data[0] === 0x23 && data[1] === 0x21)
    return {
      kind: 'script',
      shebang: data
        .toString('latin1', 2, Math.min(data.length, 256))
        .split('\n')[0]!
        .trim()
        .split(/\s+/)
        .filter(Boolean),
    };
  if (!isElf(data)) return undefined;
  const linkage = elfLinkage(data);
  if (!linkage) return undefined;
  const dynamic = linkage.interpreter !== undefined || linkage.needed.length > 0;
  const sonames = new Set<string>();
  const paths = new Set<string>();
  for (const [from, to] of dataRanges(data)) {
    // The strings are searched a window at a time (overlapping by more than the longest match),
    // not as one string as large as the range: a 70 MB libnode costs 4 MB of text at a time.
    for (let start = from; start < to; start += STRINGS_WINDOW) {
      const text = data.toString('latin1', start, Math.min(to, start + STRINGS_WINDOW + STRINGS_OVERLAP));
      // A match starting past the window is the next window's (whole there); one starting inside it is whole here.
      const mine = (m: RegExpMatchArray) => m.index! < STRINGS_WINDOW;
      if (dynamic) for (const m of text.matchAll(SONAME_IN_STRINGS)) if (mine(m)) sonames.add(m[0]);
      for (const m of text.matchAll(PATH_IN_STRINGS)) if (mine(m) && paths.size < MAX_PATHS_PER_BINARY) paths.add(m[0]);
    }
  }
  return {
    kind: 'elf',
    ...linkage,
    sonames: [...sonames].filter((n) => !linkage.needed.includes(n)),
    paths: [...paths],
  };
}

/**
 * Where an ELF object's strings are: its loaded sections that are not code (.rodata, .data,
 * .dynstr…), in the file. Code is most of a large library's bytes and names nothing a program
 * opens. Without section headers (stripped of them), the whole file.
 */
function dataRanges(data: Buffer): [number, number][] {
  const elf = parseElf(data);
  if (!elf?.sectionCount) return [[0, data.length]];
  const ranges = elf.sections
    .filter((s) => s.flags & SHF_ALLOC && !(s.flags & SHF_EXECINSTR) && s.type !== SHT_NOBITS)
    .map((s): [number, number] => [Math.min(s.offset, data.length), Math.min(s.offset + s.size, data.length)])
    .filter(([from, to]) => to > from)
    .sort((a, b) => a[0] - b[0]);
  // Merged where they overlap: a hostile table of sections that all span the file is searched once.
  const merged: [number, number][] = [];
  for (const [from, to] of ranges) {
    const last = merged[merged.length - 1];
    if (last && from <= last[1]) last[1] = Math.max(last[1], to);
    else merged.push([from, to]);
  }
  return merged;
}
const SHF_ALLOC = 0x2;
const SHF_EXECINSTR = 0x4;
const SHT_NOBITS = 8;

const STRINGS_WINDOW = 4 * 1024 * 1024;
/** Longer than any match (paths are at most 245 characters): a name across a window's end is whole in the next. */
const STRINGS_OVERLAP = 512;

export interface Closure {
  readonly kept: ReadonlyMap<string, string>;
  /** Directories (and files) that are the application: everything under them goes to the app layer. */
  readonly applications: readonly string[];
  /** What the program needs that the image lacks (a library that does not resolve). */
  readonly missing: readonly string[];
}

/** Top-level names a Python file imports (`import a.b, c as d`, `from a.b import c`; relative imports are the file's own package). */
export function pythonImports(source: string): string[] {
  const names = new Set<string>();
  // A statement per line, or per `;` on it (a `;` in a string only adds a candidate name).
  for (const statement of source.split(/[\n;]/)) {
    const m = /^[ \t]*(?:from[ \t]+([A-Za-z_][\w.]*)[ \t]+import\b|import[ \t]+([^#]+))/.exec(statement);
    if (!m) continue;
    const modules = m[1] ? [m[1]] : m[2]!.split(',').map((part) => part.trim().split(/\s+/)[0] ?? '');
    for (const module of modules) {
      const top = module.split('.')[0]!;
      if (/^[A-Za-z_]\w*$/.test(top)) names.add(top);
    }
  }
  return [...names];
}

/** java's options that take a value (the next word), for finding its application. */
const JAVA_VALUE_OPTIONS = new Set([
  '-cp',
  '-classpath',
  '--class-path',
  '-p',
  '--module-path',
  '--upgrade-module-path',
  '--add-modules',
  '--add-opens',
  '--add-exports',
  '--add-reads',
  '--enable-native-access',
  '--limit-modules',
  '-m',
  '--module',
  '--source',
]);

/**
 * What a java command runs besides the JVM: the `-jar` file, the class and module path entries
 * (`dir/*` is the directory), a source file (`java App.java`), and CLASSPATH when no class path is
 * given. A bare main class with neither is in the working directory, which is not guessed at.
 */
export function javaApplication(args: readonly string[], classpath?: string): string[] {
  const paths: string[] = [];
  const entries = (list: string) =>
    list
      .split(':')
      .map((e) => e.replace(/\/\*$/, ''))
      .filter(Boolean);
  let sawClassPath = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const value = args[i + 1];
    if (arg === '-jar' && value) {
      paths.push(value);
      break; // what follows are the program's arguments
    }
    if ((arg === '-cp' || arg === '-classpath' || arg === '--class-path') && value) {
      sawClassPath = true;
      paths.push(...entries(value));
    } else if ((arg === '-p' || arg === '--module-path') && value) paths.push(...entries(value));
    else if (arg.startsWith('--class-path=')) {
      sawClassPath = true;
      paths.push(...entries(arg.slice('--class-path='.length)));
    } else if (arg.startsWith('--module-path=')) paths.push(...entries(arg.slice('--module-path='.length)));
    if (JAVA_VALUE_OPTIONS.has(arg)) {
      i++;
      continue;
    }
    if (arg.startsWith('-')) continue;
    // The main class or source file: the end of java's own options.
    if (arg.endsWith('.java')) paths.push(arg);
    break;
  }
  if (!sawClassPath && classpath && !paths.length) paths.push(...entries(classpath));
  return paths;
}

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const MULTIARCH = ['x86_64-linux-gnu', 'aarch64-linux-gnu', 'arm-linux-gnueabihf', 'i386-linux-gnu'];
const DEFAULT_LIBRARY_DIRS = [
  ...MULTIARCH.flatMap((m) => [`/lib/${m}`, `/usr/lib/${m}`]),
  '/lib64',
  '/usr/lib64',
  '/lib',
  '/usr/lib',
  '/usr/local/lib',
];
/** What any process may read at run time (kept when present). */
export const RUNTIME_FILES = [
  '/etc/passwd',
  '/etc/group',
  '/etc/nsswitch.conf',
  '/etc/hosts',
  '/etc/host.conf',
  '/etc/os-release',
  '/etc/ssl/certs/ca-certificates.crt',
  '/etc/ssl/cert.pem',
  '/etc/pki/tls/certs/ca-bundle.crt',
  '/etc/ssl/openssl.cnf',
  '/usr/lib/ssl/openssl.cnf',
  '/etc/localtime',
  '/etc/timezone',
];
/** Trees kept whole when present (time zones; the CA directory some clients read). */
const RUNTIME_TREES = ['/usr/share/zoneinfo'];
/** Files a binary's strings may name that a minimized image never takes on that ground (`--keep` does). */
const CREDENTIALS = /^\/etc\/(shadow|gshadow|\.pwd\.lock|security\/opasswd)-?$/;
const SONAME_IN_STRINGS = /\blib[A-Za-z0-9_+.-]*\.so(?:\.[0-9]+)*\b/g;
/** Absolute paths a binary names (data files it opens: Debian's node loads builtins from /usr/share/nodejs). */
const PATH_IN_STRINGS = /\/(?:usr|etc|lib|lib64|opt|var)\/[A-Za-z0-9_.+/-]{2,240}/g;
const MAX_PATHS_PER_BINARY = 10_000;
/** Budgets against hostile images: bounded work whatever the image holds. */
const MAX_FILES = 200_000;
const MAX_HOPS = 40;

export async function staticClosure(input: ClosureInput): Promise<Closure> {
  const { fs } = input;
  const kept = new Map<string, string>();
  const applications: string[] = [];
  const missing: string[] = [];
  const queue: string[] = [];
  const analysed = new Set<string>();
  const env = new Map(
    input.config.env.map((e) => [e.slice(0, Math.max(0, e.indexOf('='))), e.slice(e.indexOf('=') + 1)] as const),
  );
  const pathDirs = (env.get('PATH') ?? DEFAULT_PATH).split(':').filter((d) => d.startsWith('/'));

  const add = (path: string, reason: string) => {
    if (!kept.has(path) && kept.size < MAX_FILES) kept.set(path, reason);
  };

  /** Keeps a path and every symlink on the way to it; returns where it lands (undefined: missing). */
  const keepChain = (path: string, reason: string): string | undefined => {
    let pending = joinInRoot('/', path).split('/').filter(Boolean);
    let current = '/';
    for (let hops = 0; pending.length;) {
      const next = `${current === '/' ? '' : current}/${pending.shift()!}`;
      const node = fs.lstat(next);
      if (!node) return undefined;
      if (node.type === 'symlink') {
        if (++hops > MAX_HOPS) return undefined;
        add(next, `symlink on the way to ${path}`);
        pending = [
          ...joinInRoot(current, node.linkTarget ?? '')
            .split('/')
            .filter(Boolean),
          ...pending,
        ];
        current = '/';
        continue;
      }
      current = next;
    }
    const node = fs.lstat(current);
    if (!node) return undefined;
    add(current, reason);
    if (node.type === 'file' && !analysed.has(current)) queue.push(current);
    return current;
  };

  /**
   * Keeps a directory and everything under it (bounded), links as links and what they point to
   * (Debian's JVM has its conf/security files as links into /etc); a linked directory is kept
   * whole too, once (a link to an ancestor is no loop).
   */
  const keepTree = (path: string, reason: string, app = false) => {
    const root = keepChain(path, reason);
    if (!root) return;
    if (app) applications.push(root);
    const stack = [root];
    const walked = new Set<string>();
    while (stack.length && kept.size < MAX_FILES) {
      const dir = stack.pop()!;
      const node = fs.lstat(dir);
      if (node?.type !== 'dir' || walked.has(dir)) continue;
      walked.add(dir);
      for (const child of fs.list(dir)) {
        add(child.path, reason);
        if (child.type === 'dir') stack.push(child.path);
        // An application's files are analysed too: a native addon (node_modules/…/x.node) needs its libraries.
        else if (child.type === 'file') queue.push(child.path);
        else if (child.type === 'symlink') {
          const target = keepChain(child.path, reason);
          if (target && fs.lstat(target)?.type === 'dir') stack.push(target);
        }
      }
    }
  };

  /**
   * The packages a Python application imports from site-packages (not the standard library, kept
   * whole): `import a.b` and `from a import b` in its files, then in the files of what they bring
   * in, each top-level name looked up in the site directories in order — a package directory, a
   * module, an extension module — with its .dist-info/.egg-info metadata. Names found nowhere are
   * the standard library's or built in. Bounded by the closure's file budget.
   */
  const keepPythonImports = (app: string, sites: readonly string[]) => {
    const scanned = new Set<string>();
    const looked = new Set<string>();
    const pending = [app];
    while (pending.length && kept.size < MAX_FILES) {
      const root = pending.pop()!;
      const files = fs.lstat(root)?.type === 'dir' ? treeFiles(root) : [root];
      for (const file of files) {
        if (!file.endsWith('.py') || scanned.has(file)) continue;
        scanned.add(file);
        for (const name of pythonImports(input.text(file) ?? '')) {
          if (looked.has(name)) continue;
          looked.add(name);
          const found = pythonModule(name, sites);
          if (!found) continue;
          for (const path of found.metadata) keepTree(path, `metadata of the Python package ${name}`);
          keepTree(found.path, `imported by ${file} (Python package ${name})`);
          pending.push(found.path);
        }
      }
    }
  };
  /** The files under a directory (the image's view, links not followed), bounded. */
  const treeFiles = (dir: string): string[] => {
    const out: string[] = [];
    const stack = [dir];
    while (stack.length && out.length < MAX_FILES) {
      for (const child of fs.list(stack.pop()!)) {
        if (child.type === 'dir') stack.push(child.path);
        else if (child.type === 'file') out.push(child.path);
      }
    }
    return out;
  };
  /** Where a top-level module is in the site directories, and its distribution's metadata. */
  const pythonModule = (name: string, sites: readonly string[]): { path: string; metadata: string[] } | undefined => {
    const normalized = name.toLowerCase().replace(/[-_.]+/g, '_');
    for (const site of sites) {
      const entries = fs.list(site);
      const hit =
        entries.find((e) => e.path === `${site}/${name}` && (e.type === 'dir' || e.type === 'symlink')) ??
        entries.find((e) => e.path === `${site}/${name}.py`) ??
        entries.find((e) => e.path.startsWith(`${site}/${name}.`) && /\.(so|pyd)$/.test(e.path));
      if (!hit) continue;
      const metadata = entries
        .filter((e) => /\.(dist-info|egg-info)$/.test(e.path))
        .filter((e) => {
          const project = e.path.slice(site.length + 1).replace(/-[^-]*\.(dist-info|egg-info)$/, '');
          return project.toLowerCase().replace(/[-_.]+/g, '_') === normalized;
        })
        .map((e) => e.path);
      return { path: hit.path, metadata };
    }
    return undefined;
  };

  const onPath = (name: string): string | undefined =>
    name.includes('/')
      ? name.startsWith('/')
        ? name
        : joinInRoot(input.config.workingDir || '/', name)
      : pathDirs.map((d) => `${d}/${name}`).find((p) => fs.resolve(p) !== undefined);

  /** The directories /etc/ld.so.conf lists, its `include`s followed (bounded). */
  const ldConfDirs = async (): Promise<string[]> => {
    const dirs: string[] = [];
    const pending = ['/etc/ld.so.conf'];
    const seen = new Set<string>();
    while (pending.length && seen.size < 64) {
      const resolved = fs.resolve(pending.shift()!);
      if (!resolved || seen.has(resolved)) continue;
      seen.add(resolved);
      const text = input.text(resolved);
      if (text === undefined) continue;
      add(resolved, 'ld.so configuration');
      for (const line of text.split('\n').map((l) => l.replace(/#.*/, '').trim())) {
        const include = /^include\s+(\S+)/.exec(line)?.[1];
        if (include) {
          const glob = joinInRoot('/etc', include);
          const pattern = new RegExp(`^${glob.split('/').pop()!.replace(/\./g, '\\.').replace(/\*/g, '.*')}$`);
          for (const e of fs.list(parentOf(glob))) if (pattern.test(e.path.split('/').pop()!)) pending.push(e.path);
        } else if (line.startsWith('/')) dirs.push(line);
      }
    }
    return dirs;
  };
  const ldConf = await ldConfDirs();

  const findLibrary = (name: string, dirs: readonly string[]): string | undefined => {
    if (name.includes('/')) return fs.resolve(name) ? name : undefined;
    return dirs.map((d) => `${d}/${name}`).find((p) => fs.resolve(p) !== undefined);
  };

  /** DT_SONAMEs of the objects kept, and DT_NEEDED names no search found (judged at the end). */
  const loaded = new Set<string>();
  const unresolved: { name: string; by: string }[] = [];
  const analyse = (path: string): void => {
    analysed.add(path);
    const facts = input.binary(path);
    if (!facts) return;
    if (facts.kind === 'script') {
      // #!interpreter [arg]; `env NAME` looks NAME up on PATH.
      const [interpreter, first] = facts.shebang;
      if (interpreter) keepChain(interpreter, `interpreter of ${path} (shebang)`);
      if (interpreter && /\/env$/.test(interpreter) && first) {
        const program = onPath(first);
        if (program) keepChain(program, `interpreter of ${path} (via env)`);
      }
      return;
    }
    const linkage = facts;
    if (linkage.interpreter) {
      if (!keepChain(linkage.interpreter, `ELF interpreter of ${path}`)) missing.push(linkage.interpreter);
    }
    const origin = parentOf(path);
    const expand = (list: string | undefined) =>
      (list ?? '')
        .split(':')
        .filter(Boolean)
        .map((d) => d.replace(/\$(ORIGIN|\{ORIGIN\})/g, origin))
        .filter((d) => d.startsWith('/'));
    const search = [
      ...(linkage.runpath ? [] : expand(linkage.rpath)),
      ...expand(env.get('LD_LIBRARY_PATH')),
      ...expand(linkage.runpath),
      ...ldConf,
      ...DEFAULT_LIBRARY_DIRS,
    ];
    if (linkage.soname) loaded.add(linkage.soname);
    for (const name of linkage.needed) {
      const found = findLibrary(name, search);
      if (found) keepChain(found, `needed by ${path} (DT_NEEDED)`);
      else unresolved.push({ name, by: path });
    }
    // Libraries named in the binary's strings that it may dlopen, where they resolve.
    for (const name of linkage.sonames) {
      const found = findLibrary(name, search);
      if (found && !kept.has(found)) keepChain(found, `named in the strings of ${path} (dlopen)`);
    }
    // Files the binary names by absolute path, where the image has them as regular files (never
    // the password hashes or their lock: libc names them, a program that needs them is asked for).
    for (const candidate of linkage.paths) {
      const file = candidate.replace(/[/.]+$/, '');
      if (CREDENTIALS.test(file)) continue;
      const resolved = fs.resolve(file);
      const node = resolved ? fs.lstat(resolved) : undefined;
      if (node?.type === 'file' && !kept.has(resolved!)) keepChain(file, `named in the strings of ${path}`);
    }
    // glibc's NSS: the modules nsswitch.conf names, loaded by libc at run time.
    if (/\/libc\.so\.6$/.test(path)) {
      const conf = fs.resolve('/etc/nsswitch.conf');
      const text = (conf ? input.text(conf) : undefined) ?? 'passwd: files\nhosts: files dns\n';
      const services = new Set(
        text
          .split('\n')
          .map((l) => l.replace(/#.*/, ''))
          .flatMap((l) => l.split(':')[1]?.trim().split(/\s+/) ?? [])
          .filter((s) => /^[a-z0-9_]+$/.test(s)),
      );
      for (const service of services) {
        const found = findLibrary(`libnss_${service}.so.2`, search);
        if (found) keepChain(found, `NSS module "${service}" (/etc/nsswitch.conf), loaded by libc`);
      }
    }
  };

  // The commands: ENTRYPOINT + CMD, and the ones asked for.
  const commands = [[...(input.config.entrypoint ?? []), ...(input.config.cmd ?? [])], ...(input.entries ?? [])].filter(
    (c) => c.length,
  );
  for (const command of commands) {
    const argv = [...command];
    // `sh -c "…"`: the shell is needed, and the first word of its script.
    const program = onPath(argv[0]!);
    if (!program || !keepChain(program, `the command ${JSON.stringify(command.join(' '))}`)) {
      missing.push(argv[0]!);
      continue;
    }
    const base = program.split('/').pop()!;
    const script = argv.slice(1).find((a) => !a.startsWith('-'));
    if (/^(node|nodejs)$/.test(base) && script) {
      // The app's folder: the nearest ancestor of the script with a package.json, else its folder.
      const path = joinInRoot(input.config.workingDir || '/', script);
      let dir = parentOf(path);
      for (let d = dir; d !== '/'; d = parentOf(d))
        if (fs.resolve(`${d}/package.json`)) {
          dir = d;
          break;
        }
      // A script at the root is its own application: the root is not (it is the whole image).
      keepTree(dir === '/' ? path : dir, `the application of ${base} (${script})`, true);
    } else if (/^python[0-9.]*$/.test(base)) {
      const resolved = fs.resolve(program) ?? program;
      const version = /python(\d+\.\d+)/.exec(resolved)?.[1];
      for (const lib of ['/usr/lib', '/usr/local/lib'])
        if (version && fs.resolve(`${lib}/python${version}`))
          keepTree(`${lib}/python${version}`, `the standard library of ${base}`);
      if (script) {
        const path = joinInRoot(input.config.workingDir || '/', script);
        const app = parentOf(path) === '/' ? path : parentOf(path);
        keepTree(app, `the application of ${base}`, true);
        // A virtual environment's packages sit beside its interpreter (venv/bin/python → venv/lib).
        const venv = parentOf(parentOf(program));
        const sites = [
          ...(version ? [`${venv}/lib/python${version}/site-packages`] : []),
          ...(version
            ? ['/usr/local/lib', '/usr/lib'].flatMap((l) => [
                `${l}/python${version}/site-packages`,
                `${l}/python${version}/dist-packages`,
              ])
            : []),
          '/usr/local/lib/python3/dist-packages',
          '/usr/lib/python3/dist-packages',
        ].filter((d, i, all) => all.indexOf(d) === i && fs.lstat(fs.resolve(d) ?? d)?.type === 'dir');
        keepPythonImports(app, sites);
      }
    } else if (base === 'java') {
      const home = parentOf(parentOf(fs.resolve(program) ?? program));
      for (const part of ['lib', 'conf', 'release']) keepTree(`${home}/${part}`, `the JVM's home (${home})`);
      for (const path of javaApplication(argv.slice(1), env.get('CLASSPATH')))
        keepTree(joinInRoot(input.config.workingDir || '/', path), `the application of ${base}`, true);
    } else if (!/^(sh|bash|dash|ash)$/.test(base)) {
      const resolved = fs.resolve(program);
      if (resolved && !resolved.startsWith('/usr/') && !resolved.startsWith('/bin/') && !resolved.startsWith('/lib'))
        applications.push(resolved);
    }
  }
  for (const path of input.keep ?? []) keepTree(path, 'asked for (--keep)', true);
  for (const [path, reason] of input.extra ?? []) keepChain(path, reason);
  for (const path of RUNTIME_FILES) if (fs.resolve(path)) keepChain(path, 'read by processes at run time');
  for (const tree of RUNTIME_TREES) if (fs.resolve(tree)) keepTree(tree, 'time zone data');

  while (queue.length) {
    const next = queue.shift()!;
    if (!analysed.has(next)) analyse(next);
  }
  // A name no search finds is still met when a kept object carries it as its DT_SONAME: ld.so
  // matches names against what is loaded before it searches (a JVM loads lib/server/libjvm.so
  // by path, then its other libraries, which need "libjvm.so").
  for (const { name, by } of unresolved) if (!loaded.has(name)) missing.push(`${name} (needed by ${by})`);
  return { kept, applications, missing: [...new Set(missing)] };
}
