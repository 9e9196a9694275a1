import type { SurfaceCategory } from '../../core/surface.js';

/**
 * Which executables belong to which attack-surface category. Names match the file's base name;
 * patterns catch versioned names (python3.11, perl5.36.0). Kept as data: add a tool here, not code.
 */
export const TOOLS: Readonly<Record<SurfaceCategory, { readonly names: readonly string[]; readonly patterns?: readonly RegExp[] }>> = {
  shells: { names: ['sh', 'bash', 'dash', 'ash', 'zsh', 'ksh', 'ksh93', 'mksh', 'csh', 'tcsh', 'fish', 'rbash', 'busybox', 'toybox', 'hush', 'yash'] },
  packageManagers: {
    names: ['apt', 'apt-get', 'aptitude', 'dpkg', 'dpkg-deb', 'apk', 'rpm', 'yum', 'dnf', 'microdnf', 'tdnf', 'zypper', 'pacman', 'opkg',
      'pip', 'pip2', 'pip3', 'easy_install', 'gem', 'npm', 'npx', 'yarn', 'pnpm', 'conda', 'mamba', 'composer', 'bundle', 'bundler', 'cpan', 'cpanm', 'uv', 'poetry'],
    patterns: [/^pip\d+(\.\d+)?$/],
  },
  networkTools: {
    names: ['curl', 'wget', 'nc', 'ncat', 'netcat', 'nc.openbsd', 'nc.traditional', 'socat', 'ssh', 'scp', 'sftp', 'telnet', 'ftp', 'tftp',
      'rsync', 'nmap', 'dig', 'nslookup', 'host', 'ping', 'ping6', 'traceroute', 'tcpdump', 'ssl_client', 'openssl', 'aria2c', 'lftp', 'httpie', 'http'],
  },
  interpreters: {
    names: ['python', 'python2', 'python3', 'perl', 'ruby', 'node', 'nodejs', 'php', 'lua', 'luajit', 'tclsh', 'wish', 'awk', 'gawk', 'mawk', 'nawk', 'java', 'jshell', 'jjs', 'Rscript', 'deno', 'bun', 'pwsh', 'irb', 'expect'],
    patterns: [/^python\d+(\.\d+)*m?$/, /^perl\d+(\.\d+)*$/, /^ruby\d+(\.\d+)*$/, /^php\d+(\.\d+)*$/, /^lua\d+(\.\d+)*$/, /^tclsh\d+(\.\d+)*$/],
  },
  buildTools: {
    names: ['gcc', 'g++', 'cc', 'c++', 'clang', 'clang++', 'tcc', 'make', 'gmake', 'cmake', 'ninja', 'ld', 'ld.bfd', 'ld.gold', 'as', 'ar', 'gdb', 'strace', 'ltrace',
      'go', 'rustc', 'cargo', 'javac', 'mvn', 'gradle', 'ant', 'valgrind', 'perf', 'objdump', 'gdbserver'],
    patterns: [/^(gcc|g\+\+|cpp|clang)-\d+(\.\d+)*$/, /^x86_64-linux-gnu-(gcc|g\+\+|ld|as)(-\d+)?$/],
  },
  privilegeTools: { names: ['sudo', 'su', 'doas', 'pkexec', 'runuser', 'setpriv', 'capsh', 'nsenter', 'unshare', 'chroot', 'newgrp', 'sg'] },
};

/** Directories whose executables count: anything named bin or sbin, and distroless's /busybox. */
export function inBinDir(path: string): boolean {
  const parent = path.slice(0, path.lastIndexOf('/'));
  const dir = parent.slice(parent.lastIndexOf('/') + 1);
  return dir === 'bin' || dir === 'sbin' || parent === '/busybox';
}

/** The category of an executable name, if any. */
export function categoryOf(name: string): SurfaceCategory | undefined {
  for (const [category, { names, patterns }] of Object.entries(TOOLS) as [SurfaceCategory, (typeof TOOLS)[SurfaceCategory]][]) {
    if (names.includes(name) || patterns?.some((p) => p.test(name))) return category;
  }
  return undefined;
}
