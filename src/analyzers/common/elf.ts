/**
 * Just enough ELF to find sections and map virtual addresses to file offsets (System V gABI,
 * https://refspecs.linuxfoundation.org/elf/gabi4+/ch4.eheader.html). Bounds-checked throughout:
 * binaries in images are untrusted input.
 */
export interface ElfSection {
  readonly offset: number;
  readonly size: number;
  readonly addr: number;
  /** sh_type (SHT_NOBITS = 8: no bytes in the file) and sh_flags (SHF_ALLOC = 2, SHF_EXECINSTR = 4). */
  readonly type: number;
  readonly flags: number;
}

export interface ElfFile {
  readonly is64: boolean;
  readonly little: boolean;
  /** Number of section headers (0: stripped of them). */
  readonly sectionCount: number;
  /** The first section with this name. */
  section(name: string): ElfSection | undefined;
  readonly sections: readonly ElfSection[];
  readonly segments: readonly { readonly vaddr: number; readonly offset: number; readonly filesz: number }[];
  /** File offset of a virtual address, or undefined when no loaded segment holds it. */
  offsetOf(addr: number): number | undefined;
  readUint(offset: number, size: number): number;
}

export const isElf = (data: Uint8Array): boolean =>
  data.length > 52 && data[0] === 0x7f && data[1] === 0x45 && data[2] === 0x4c && data[3] === 0x46;

/** Several extractors read the same binary during a walk: it is parsed once. */
const parsed = new WeakMap<Buffer, ElfFile | undefined>();

export function parseElf(data: Buffer): ElfFile | undefined {
  if (!isElf(data)) return undefined;
  if (parsed.has(data)) return parsed.get(data);
  const elf = readElf(data);
  parsed.set(data, elf);
  return elf;
}

function readElf(data: Buffer): ElfFile {
  const is64 = data[4] === 2;
  const little = data[5] === 1;
  const u16 = (at: number) => (at + 2 <= data.length ? (little ? data.readUInt16LE(at) : data.readUInt16BE(at)) : 0);
  const u32 = (at: number) => (at + 4 <= data.length ? (little ? data.readUInt32LE(at) : data.readUInt32BE(at)) : 0);
  // Two 32-bit halves, not a BigInt: ~30 sections × 4 fields per binary, 600+ binaries per image.
  const u64 = (at: number) =>
    at + 8 > data.length
      ? 0
      : little
        ? data.readUInt32LE(at) + data.readUInt32LE(at + 4) * 2 ** 32
        : data.readUInt32BE(at) * 2 ** 32 + data.readUInt32BE(at + 4);
  const word = is64 ? u64 : u32;
  const phoff = is64 ? u64(0x20) : u32(0x1c);
  const shoff = is64 ? u64(0x28) : u32(0x20);
  const phentsize = u16(is64 ? 0x36 : 0x2a);
  const phnum = u16(is64 ? 0x38 : 0x2c);
  const shentsize = u16(is64 ? 0x3a : 0x2e);
  const shnum = u16(is64 ? 0x3c : 0x30);
  const shstrndx = u16(is64 ? 0x3e : 0x32);
  const segments: { vaddr: number; offset: number; filesz: number }[] = [];
  for (let i = 0; i < phnum && phoff + (i + 1) * phentsize <= data.length; i++) {
    const at = phoff + i * phentsize;
    if (u32(at) !== 1) continue; // PT_LOAD
    segments.push(
      is64
        ? { offset: u64(at + 8), vaddr: u64(at + 16), filesz: u64(at + 32) }
        : { offset: u32(at + 4), vaddr: u32(at + 8), filesz: u32(at + 16) },
    );
  }
  const headers: (ElfSection & { readonly nameOff: number })[] = [];
  for (let i = 0; i < shnum && shoff + (i + 1) * shentsize <= data.length; i++) {
    const at = shoff + i * shentsize;
    headers.push(
      is64
        ? {
            nameOff: u32(at),
            type: u32(at + 4),
            flags: u64(at + 8),
            addr: u64(at + 16),
            offset: u64(at + 24),
            size: u64(at + 32),
          }
        : {
            nameOff: u32(at),
            type: u32(at + 4),
            flags: u32(at + 8),
            addr: u32(at + 12),
            offset: u32(at + 16),
            size: u32(at + 20),
          },
    );
  }
  const strtab = headers[shstrndx];
  /** Compares the name in the string table with `name` byte by byte: no string is decoded. */
  const named = (header: { nameOff: number }, name: string): boolean => {
    if (!strtab) return false;
    const start = strtab.offset + header.nameOff;
    if (start + name.length >= data.length) return false;
    for (let i = 0; i < name.length; i++) if (data[start + i] !== name.charCodeAt(i)) return false;
    return data[start + name.length] === 0;
  };
  return {
    is64,
    little,
    segments,
    sectionCount: headers.length,
    sections: headers,
    section: (name) => headers.find((h) => named(h, name)),
    offsetOf: (addr) => {
      const seg = segments.find((s) => addr >= s.vaddr && addr < s.vaddr + s.filesz);
      return seg ? seg.offset + (addr - seg.vaddr) : undefined;
    },
    readUint: (offset, size) => (size === 8 ? word(offset) : u32(offset)),
  };
}

/** How an executable is linked: its program interpreter and the shared libraries it needs (DT_NEEDED). */
export interface ElfLinkage {
  readonly interpreter?: string;
  readonly needed: readonly string[];
  /** DT_RUNPATH and DT_RPATH (colon-separated lists as written, `$ORIGIN` unexpanded). */
  readonly runpath?: string;
  readonly rpath?: string;
  /** DT_SONAME: the name other objects' DT_NEEDED match once this one is loaded. */
  readonly soname?: string;
}

export function elfLinkage(data: Buffer): ElfLinkage | undefined {
  const elf = parseElf(data);
  if (!elf) return undefined;
  const section = (name: string) => {
    const found = elf.section(name);
    return found && found.offset + found.size <= data.length ? found : undefined;
  };
  const cString = (start: number): string => {
    const end = data.indexOf(0, start);
    return end > start ? data.toString('latin1', start, Math.min(end, start + 4096)) : '';
  };
  const interp = section('.interp');
  const dynamic = section('.dynamic');
  const dynstr = section('.dynstr');
  const needed: string[] = [];
  let runpath: string | undefined;
  let rpath: string | undefined;
  let soname: string | undefined;
  if (dynamic && dynstr) {
    const word = elf.is64 ? 8 : 4;
    for (
      let at = dynamic.offset;
      at + 2 * word <= dynamic.offset + dynamic.size && needed.length < 256;
      at += 2 * word
    ) {
      const tag = elf.readUint(at, word);
      if (tag === 0) break; // DT_NULL
      if (tag === 1) needed.push(cString(dynstr.offset + elf.readUint(at + word, word)));
      else if (tag === 29)
        runpath = cString(dynstr.offset + elf.readUint(at + word, word)); // DT_RUNPATH
      else if (tag === 15)
        rpath = cString(dynstr.offset + elf.readUint(at + word, word)); // DT_RPATH
      else if (tag === 14) soname = cString(dynstr.offset + elf.readUint(at + word, word)); // DT_SONAME
    }
  }
  return {
    ...(interp ? { interpreter: cString(interp.offset) } : {}),
    needed: needed.filter(Boolean),
    ...(runpath ? { runpath } : {}),
    ...(rpath ? { rpath } : {}),
    ...(soname ? { soname } : {}),
  };
}
