import type { SurfaceCategory } from '../../core/surface.js';

/**
 * Which executables belong to which attack-surface category. Names match the file's base name;
 * patterns catch versioned names (python3.11, perl5.36.0). Kept as data: add a tool here, not code.
 */
export const TOOLS: Readonly<
  Record<SurfaceCategory, { readonly names: readonly string[]; readonly patterns?: readonly RegExp[] }>
> = {
  shells: {
    names: [
      'sh',
      'bash',
      'dash',
      'ash',
      'zsh',
      'ksh',
      'ksh93',
      'mksh',
      'csh',
      'tcsh',
      'fish',
      'rbash',
      'busybox',
      'toybox',
      'hush',
      'yash',
    ],
  },
  packageManagers: {
    names: [
      'apt',
      'apt-get',
      'aptitude',
      'dpkg',
      'dpkg-deb',
      'apk',
      'rpm',
      'yum',
      'dnf',
      'microdnf',
      'tdnf',
      'zypper',
      'pacman',
      'opkg',
      'pip',
      'pip2',
      'pip3',
      'easy_install',
      'gem',
      'npm',
      'npx',
      'yarn',
      'pnpm',
      'conda',
      'mamba',
      'composer',
      'bundle',
      'bundler',
      'cpan',
      'cpanm',
      'uv',
      'poetry',
    ],
    patterns: [/^pip\d+(\.\d+)?$/],
  },
  networkTools: {
    names: [
      'curl',
      'wget',
      'nc',
      'ncat',
      'netcat',
      'nc.openbsd',
      'nc.traditional',
      'socat',
      'ssh',
      'scp',
      'sftp',
      'telnet',
      'ftp',
      'tftp',
      'rsync',
      'nmap',
      'dig',
      'nslookup',
      'host',
      'ping',
      'ping6',
      'traceroute',
      'tcpdump',
      'ssl_client',
      'openssl',
      'aria2c',
      'lftp',
      'httpie',
      'http',
    ],
  },
  interpreters: {
    names: [
      'python',
      'python2',
      'python3',
      'perl',
      'ruby',
      'node',
      'nodejs',
      'php',
      'lua',
      'luajit',
      'tclsh',
      'wish',
      'awk',
      'gawk',
      'mawk',
      'nawk',
      'java',
      'jshell',
      'jjs',
      'Rscript',
      'deno',
      'bun',
      'pwsh',
      'irb',
      'expect',
    ],
    patterns: [
      /^python\d+(\.\d+)*m?$/,
      /^perl\d+(\.\d+)*$/,
      /^ruby\d+(\.\d+)*$/,
      /^php\d+(\.\d+)*$/,
      /^lua\d+(\.\d+)*$/,
      /^tclsh\d+(\.\d+)*$/,
    ],
  },
  buildTools: {
    names: [
      'gcc',
      'g++',
      'cc',
      'c++',
      'clang',
      'clang++',
      'tcc',
      'make',
      'gmake',
      'cmake',
      'ninja',
      'ld',
      'ld.bfd',
      'ld.gold',
      'as',
      'ar',
      'gdb',
      'strace',
      'ltrace',
      'go',
      'rustc',
      'cargo',
      'javac',
      'mvn',
      'gradle',
      'ant',
      'valgrind',
      'perf',
      'objdump',
      'gdbserver',
    ],
    patterns: [/^(gcc|g\+\+|cpp|clang)-\d+(\.\d+)*$/, /^x86_64-linux-gnu-(gcc|g\+\+|ld|as)(-\d+)?$/],
  },
  privilegeTools: {
    names: [
      'sudo',
      'su',
      'doas',
      'pkexec',
      'runuser',
      'setpriv',
      'capsh',
      'nsenter',
      'unshare',
      'chroot',
      'newgrp',
      'sg',
    ],
  },
};

/** Directories whose executables count: anything named bin or sbin, and distroless's /busybox. */
export function inBinDir(path: string): boolean {
  // Called for every file of an image: compares in place instead of slicing the parent out.
  const slash = path.lastIndexOf('/');
  const start = path.lastIndexOf('/', slash - 1) + 1;
  const length = slash - start;
  return (
    (length === 3 && path.startsWith('bin', start)) ||
    (length === 4 && path.startsWith('sbin', start)) ||
    (slash === 8 && path.startsWith('/busybox/'))
  );
}

/** The category of an executable name, if any. */
export function categoryOf(name: string): SurfaceCategory | undefined {
  for (const { category, names, patterns } of LOOKUP) {
    if (names.has(name) || patterns.some((p) => p.test(name))) return category;
  }
  return undefined;
}

/** TOOLS in its order, with the names in sets: categoryOf runs for every executable in a bin directory. */
const LOOKUP = (Object.entries(TOOLS) as [SurfaceCategory, (typeof TOOLS)[SurfaceCategory]][]).map(
  ([category, { names, patterns }]) => ({ category, names: new Set(names), patterns: patterns ?? [] }),
);
