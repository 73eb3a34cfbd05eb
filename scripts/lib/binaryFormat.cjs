// What a native binary is built for, read from its first bytes (no tool, no execution): ELF (Linux),
// Mach-O thin and fat/universal (macOS), PE/COFF (Windows), and WebAssembly. Used to check that each
// platform's .vsix carries only that platform's binaries (scripts/lib/vsixCheck.cjs,
// test/unit/binaryFormat.test.ts, test/unit/vsix.e2e.test.ts).
//
// detect(bytes) returns null for anything that is not one of these formats, else
//   { format: 'elf',  arch, bits: 32|64, endian: 'le'|'be', machine }   machine = e_machine
//   { format: 'macho', arch, bits, endian, cputype }                     thin Mach-O
//   { format: 'macho-fat', archs: [arch...], slices: [{cputype, arch}] } universal Mach-O
//   { format: 'pe',   arch, bits, machine }                              machine = COFF Machine
//   { format: 'wasm', version }
// `arch` uses Node's names (process.arch): x64, arm64, arm, ia32, ppc64, s390x, riscv64, ... or
// 'unknown(0x..)'. A header cut short (fewer bytes than the format needs) gives
// { format, truncated: true, need } so a caller can read more and retry.
'use strict';

const ELF_MACHINES = { 0x03: 'ia32', 0x08: 'mips', 0x14: 'ppc', 0x15: 'ppc64', 0x16: 's390x', 0x28: 'arm', 0x3e: 'x64', 0xb7: 'arm64', 0xf3: 'riscv64', 0x102: 'loong64' };
// Mach-O cputype: CPU_ARCH_ABI64 = 0x01000000, CPU_ARCH_ABI64_32 = 0x02000000.
const MACHO_CPUS = { 0x7: 'ia32', 0x01000007: 'x64', 0xc: 'arm', 0x0100000c: 'arm64', 0x0200000c: 'arm64_32', 0x12: 'ppc', 0x01000012: 'ppc64' };
const PE_MACHINES = { 0x14c: 'ia32', 0x8664: 'x64', 0xaa64: 'arm64', 0xa641: 'arm64ec', 0x1c4: 'arm', 0x1c0: 'arm' };

const hex = (n) => `0x${n.toString(16)}`;
const name = (table, n) => table[n] || `unknown(${hex(n)})`;

/** @param {Uint8Array} bytes the file's first bytes (4 KiB is enough for every binary seen so far) */
function detect(bytes) {
  const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.length < 4) return null;
  const m = b.readUInt32BE(0);

  // ELF: 7F 'E' 'L' 'F', EI_CLASS (1: 32-bit, 2: 64-bit), EI_DATA (1: little, 2: big endian); e_machine at 18.
  if (m === 0x7f454c46) {
    if (b.length < 20) return { format: 'elf', truncated: true, need: 20 };
    const bits = b[4] === 2 ? 64 : b[4] === 1 ? 32 : 0;
    const endian = b[5] === 2 ? 'be' : b[5] === 1 ? 'le' : '';
    if (!bits || !endian) return null;
    const machine = endian === 'le' ? b.readUInt16LE(18) : b.readUInt16BE(18);
    return { format: 'elf', arch: name(ELF_MACHINES, machine), bits, endian, machine };
  }

  // Thin Mach-O: magic FEEDFACE (32-bit) / FEEDFACF (64-bit) in the file's byte order; cputype follows.
  const le = b.readUInt32LE(0);
  if (le === 0xfeedface || le === 0xfeedfacf || m === 0xfeedface || m === 0xfeedfacf) {
    if (b.length < 8) return { format: 'macho', truncated: true, need: 8 };
    const endian = le === 0xfeedface || le === 0xfeedfacf ? 'le' : 'be';
    const cputype = endian === 'le' ? b.readUInt32LE(4) : b.readUInt32BE(4);
    const bits = (endian === 'le' ? le : m) === 0xfeedfacf ? 64 : 32;
    return { format: 'macho', arch: name(MACHO_CPUS, cputype), bits, endian, cputype };
  }

  // Fat (universal) Mach-O: big-endian CAFEBABE (fat_arch: 20 bytes) or CAFEBABF (fat_arch_64: 32 bytes),
  // nfat_arch, then one entry per slice starting with its cputype. Java class files share CAFEBABE; their
  // next word is minor<<16|major with major >= 45, while a fat binary has a handful of slices.
  if (m === 0xcafebabe || m === 0xcafebabf) {
    if (b.length < 8) return { format: 'macho-fat', truncated: true, need: 8 };
    const n = b.readUInt32BE(4);
    if (n === 0 || n > 20) return null; // a Java class file (or not a binary)
    const size = m === 0xcafebabf ? 32 : 20;
    const need = 8 + n * size;
    if (b.length < need) return { format: 'macho-fat', truncated: true, need };
    const slices = [];
    for (let i = 0; i < n; i++) {
      const cputype = b.readUInt32BE(8 + i * size);
      slices.push({ cputype, arch: name(MACHO_CPUS, cputype) });
    }
    return { format: 'macho-fat', archs: slices.map((s) => s.arch), slices };
  }

  // PE: 'MZ', e_lfanew (offset of 'PE\0\0') at 0x3C, COFF Machine right after the signature, and the
  // optional header's magic (0x10b PE32, 0x20b PE32+) after the 20-byte COFF header.
  if (b[0] === 0x4d && b[1] === 0x5a) {
    if (b.length < 0x40) return { format: 'pe', truncated: true, need: 0x40 };
    const off = b.readUInt32LE(0x3c);
    if (off < 0x40 || off > 0x10000000) return null; // an 'MZ' that is not a PE (DOS stub only, or text)
    if (b.length < off + 26) return { format: 'pe', truncated: true, need: off + 26 };
    if (b.readUInt32BE(off) !== 0x50450000) return null;
    const machine = b.readUInt16LE(off + 4);
    const opt = b.readUInt16LE(off + 24);
    return { format: 'pe', arch: name(PE_MACHINES, machine), bits: opt === 0x20b ? 64 : opt === 0x10b ? 32 : 0, machine };
  }

  // WebAssembly: '\0asm' + version 1.
  if (m === 0x0061736d) {
    if (b.length < 8) return { format: 'wasm', truncated: true, need: 8 };
    return { format: 'wasm', version: b.readUInt32LE(4) };
  }
  return null;
}

/** True for formats that load as native code (everything detect() knows but WebAssembly). */
const isNative = (info) => !!info && info.format !== 'wasm';

/** File names that look like native code or native libraries: *.node, *.so, *.so.1.2, *.dylib, *.dll, *.exe. */
const NATIVE_NAME = /\.(node|dylib|dll|exe|so)$|\.so(\.\d+)+$/i;
const looksNative = (p) => NATIVE_NAME.test(p);

// vsce targets: the binary format and architecture each one runs. `sharp` is the platform name of
// sharp's prebuilt package (@img/sharp-<sharp>, @img/sharp-libvips-<sharp>), `ort` the folder
// onnxruntime-node keeps its binary in (bin/napi-v6/<ort>), null where it ships none (musl, armhf).
const TARGETS = {
  'linux-x64': { os: 'linux', arch: 'x64', format: 'elf', sharp: 'linux-x64', ort: 'linux/x64' },
  'linux-arm64': { os: 'linux', arch: 'arm64', format: 'elf', sharp: 'linux-arm64', ort: 'linux/arm64' },
  'linux-armhf': { os: 'linux', arch: 'arm', format: 'elf', sharp: 'linux-arm', ort: null },
  'alpine-x64': { os: 'linux', arch: 'x64', format: 'elf', sharp: 'linuxmusl-x64', ort: null },
  'alpine-arm64': { os: 'linux', arch: 'arm64', format: 'elf', sharp: 'linuxmusl-arm64', ort: null },
  'darwin-x64': { os: 'darwin', arch: 'x64', format: 'macho', sharp: 'darwin-x64', ort: 'darwin/x64' },
  'darwin-arm64': { os: 'darwin', arch: 'arm64', format: 'macho', sharp: 'darwin-arm64', ort: 'darwin/arm64' },
  'win32-x64': { os: 'win32', arch: 'x64', format: 'pe', sharp: 'win32-x64', ort: 'win32/x64' },
  'win32-arm64': { os: 'win32', arch: 'arm64', format: 'pe', sharp: 'win32-arm64', ort: 'win32/arm64' },
};

/** Why `info` (from detect) cannot run on vsce target `target`, or null when it can. A universal Mach-O
 *  runs where one of its slices does. 64-bit targets need 64-bit ELF / PE32+ / Mach-O. */
function mismatch(info, target) {
  const t = TARGETS[target];
  if (!t) return `unknown target ${target}`;
  if (!info) return 'not a known binary format';
  if (info.truncated) return `${info.format} header cut short (need ${info.need} bytes)`;
  if (info.format === 'wasm') return null;
  const fmt = info.format === 'macho-fat' ? 'macho' : info.format;
  const what = describe(info);
  if (fmt !== t.format) return `${what}, but ${target} loads ${t.format === 'macho' ? 'Mach-O' : t.format.toUpperCase()}`;
  if (info.format === 'macho-fat') return info.archs.includes(t.arch) ? null : `${what} has no ${t.arch} slice`;
  if (info.arch !== t.arch) return `${what}, not ${t.arch}`;
  const wantBits = t.arch === 'x64' || t.arch === 'arm64' ? 64 : 32;
  if (info.bits && info.bits !== wantBits) return `${what} is ${info.bits}-bit, ${target} needs ${wantBits}-bit`;
  return null;
}

/** One line: 'ELF 64-bit x64', 'Mach-O 64-bit arm64', 'Mach-O universal (x64, arm64)', 'PE32+ x64', 'wasm'. */
function describe(info) {
  if (!info) return 'not a binary';
  if (info.truncated) return `${info.format} (truncated)`;
  switch (info.format) {
    case 'elf': return `ELF ${info.bits}-bit ${info.arch}`;
    case 'macho': return `Mach-O ${info.bits}-bit ${info.arch}`;
    case 'macho-fat': return `Mach-O universal (${info.archs.join(', ')})`;
    case 'pe': return `${info.bits === 64 ? 'PE32+' : 'PE32'} ${info.arch}`;
    case 'wasm': return `wasm v${info.version}`;
    default: return info.format;
  }
}

module.exports = { detect, isNative, looksNative, mismatch, describe, TARGETS, ELF_MACHINES, MACHO_CPUS, PE_MACHINES };
