// scripts/lib/binaryFormat.cjs (which platform a native binary is for, from its first bytes) on hand-made
// headers, the per-target rules of scripts/lib/vsixCheck.cjs on made-up file lists, and its zip reader on
// a zip made here. The real packages are checked in vsix.e2e.test.ts.
import * as assert from 'assert';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { zipSync } from 'fflate';

const ROOT = path.resolve(__dirname, '../../..');

interface Info { format: string; arch?: string; archs?: string[]; bits?: number; endian?: string; machine?: number; cputype?: number; version?: number; truncated?: boolean; need?: number }
interface Target { os: string; arch: string; format: string; sharp: string; ort: string | null }
interface ZipEntry { name: string; method: number; csize: number; size: number; offset: number }
// The modules are plain CommonJS (package.sh runs them without a build): their shape, as used here.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const bf = require(path.join(ROOT, 'scripts/lib/binaryFormat.cjs')) as {
  detect(b: Uint8Array): Info | null;
  isNative(i: Info | null): boolean;
  looksNative(p: string): boolean;
  mismatch(i: Info | null, target: string): string | null;
  describe(i: Info | null): string;
  TARGETS: Record<string, Target>;
};
// eslint-disable-next-line @typescript-eslint/no-require-imports
const vc = require(path.join(ROOT, 'scripts/lib/vsixCheck.cjs')) as {
  listZip(file: string): ZipEntry[];
  readHead(fd: number, e: ZipEntry, n: number): Buffer;
  readEntry(fd: number, e: ZipEntry): Buffer;
  extractAll(file: string, dir: string): number;
  checkFiles(files: { path: string; info: Info | null; sha256?: string }[], target: string, opts?: { ort?: boolean; models?: Record<string, string> }): { problems: string[]; binaries: { path: string; what: string }[] };
  bundledModels(root?: string): Record<string, string>;
};

/** `len` zero bytes with `parts` written at their offsets: [offset, bytes]. */
function bytes(len: number, ...parts: [number, number[]][]): Buffer {
  const b = Buffer.alloc(len);
  for (const [off, v] of parts) Buffer.from(v).copy(b, off);
  return b;
}
const u16le = (n: number) => [n & 0xff, n >> 8];
const u16be = (n: number) => [n >> 8, n & 0xff];
const u32le = (n: number) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24];
const u32be = (n: number) => u32le(n).reverse();

// ELF: magic, EI_CLASS (1 32-bit, 2 64-bit), EI_DATA (1 LE, 2 BE), EI_VERSION; e_machine at 18.
const elf = (cls: number, data: number, machine: number) => bytes(64, [0, [0x7f, 0x45, 0x4c, 0x46, cls, data, 1]], [18, data === 1 ? u16le(machine) : u16be(machine)]);
// Mach-O, little-endian as on disk: CF FA ED FE (64-bit) / CE FA ED FE (32-bit), then cputype.
const macho64 = (cputype: number) => bytes(32, [0, [0xcf, 0xfa, 0xed, 0xfe]], [4, u32le(cputype)]);
// Fat: CA FE BA BE, nfat_arch, then 20-byte fat_arch records (cputype first), all big-endian.
const fat = (...cputypes: number[]) => bytes(8 + 20 * cputypes.length, [0, [0xca, 0xfe, 0xba, 0xbe]], [4, u32be(cputypes.length)],
  ...cputypes.map((c, i): [number, number[]] => [8 + 20 * i, [...u32be(c), ...u32be(3), ...u32be(0x4000 * (i + 1)), ...u32be(0x1000), ...u32be(14)]]));
// PE: 'MZ', e_lfanew at 0x3C -> 'PE\0\0', COFF Machine, ..., optional header magic (0x20b PE32+) at +24.
const pe = (machine: number, optMagic = 0x20b, lfanew = 0x80) => bytes(lfanew + 64, [0, [0x4d, 0x5a]], [0x3c, u32le(lfanew)], [lfanew, [0x50, 0x45, 0, 0]], [lfanew + 4, u16le(machine)], [lfanew + 24, u16le(optMagic)]);

describe('binaryFormat: platform of a native binary from its header', () => {
  it('ELF: x86-64 (e_machine 0x3E), aarch64 (0xB7), 32-bit ARM (0x28), big-endian s390x (0x16)', () => {
    assert.deepStrictEqual(bf.detect(elf(2, 1, 0x3e)), { format: 'elf', arch: 'x64', bits: 64, endian: 'le', machine: 0x3e });
    assert.deepStrictEqual(bf.detect(elf(2, 1, 0xb7)), { format: 'elf', arch: 'arm64', bits: 64, endian: 'le', machine: 0xb7 });
    assert.deepStrictEqual(bf.detect(elf(1, 1, 0x28)), { format: 'elf', arch: 'arm', bits: 32, endian: 'le', machine: 0x28 });
    assert.deepStrictEqual(bf.detect(elf(2, 2, 0x16)), { format: 'elf', arch: 's390x', bits: 64, endian: 'be', machine: 0x16 });
    assert.strictEqual(bf.detect(elf(2, 1, 0x1234))?.arch, 'unknown(0x1234)');
    assert.strictEqual(bf.detect(elf(3, 1, 0x3e)), null, 'EI_CLASS 3 is not ELF');
    assert.deepStrictEqual(bf.detect(elf(2, 1, 0x3e).subarray(0, 12)), { format: 'elf', truncated: true, need: 20 });
  });

  it('Mach-O: x86-64 (cputype 0x01000007), arm64 (0x0100000C), 32-bit i386, big-endian', () => {
    assert.deepStrictEqual(bf.detect(macho64(0x01000007)), { format: 'macho', arch: 'x64', bits: 64, endian: 'le', cputype: 0x01000007 });
    assert.deepStrictEqual(bf.detect(macho64(0x0100000c)), { format: 'macho', arch: 'arm64', bits: 64, endian: 'le', cputype: 0x0100000c });
    assert.deepStrictEqual(bf.detect(bytes(32, [0, [0xce, 0xfa, 0xed, 0xfe]], [4, u32le(7)])), { format: 'macho', arch: 'ia32', bits: 32, endian: 'le', cputype: 7 });
    assert.deepStrictEqual(bf.detect(bytes(32, [0, [0xfe, 0xed, 0xfa, 0xcf]], [4, u32be(0x01000012)])), { format: 'macho', arch: 'ppc64', bits: 64, endian: 'be', cputype: 0x01000012 });
  });

  it('fat/universal Mach-O lists its slices; a Java class file (same CAFEBABE magic) is not one', () => {
    const u = bf.detect(fat(0x01000007, 0x0100000c));
    assert.strictEqual(u?.format, 'macho-fat');
    assert.deepStrictEqual(u?.archs, ['x64', 'arm64']);
    // fat_arch_64 (CAFEBABF): 32-byte records
    const f64 = bytes(8 + 64, [0, [0xca, 0xfe, 0xba, 0xbf]], [4, u32be(2)], [8, u32be(0x0100000c)], [40, u32be(0x01000007)]);
    assert.deepStrictEqual(bf.detect(f64)?.archs, ['arm64', 'x64']);
    // Java 8 class: CAFEBABE, minor 0, major 52 -> the "count" word is 52
    assert.strictEqual(bf.detect(bytes(16, [0, [0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 52]])), null);
    assert.deepStrictEqual(bf.detect(fat(0x01000007, 0x0100000c).subarray(0, 30)), { format: 'macho-fat', truncated: true, need: 48 });
  });

  it('PE: x86-64 (machine 0x8664), arm64 (0xAA64), i386 PE32; an MZ without a PE signature is not one', () => {
    assert.deepStrictEqual(bf.detect(pe(0x8664)), { format: 'pe', arch: 'x64', bits: 64, machine: 0x8664 });
    assert.deepStrictEqual(bf.detect(pe(0xaa64, 0x20b, 0xf8)), { format: 'pe', arch: 'arm64', bits: 64, machine: 0xaa64 });
    assert.deepStrictEqual(bf.detect(pe(0x14c, 0x10b)), { format: 'pe', arch: 'ia32', bits: 32, machine: 0x14c });
    const noSig = pe(0x8664); noSig.write('XX', 0x80);
    assert.strictEqual(bf.detect(noSig), null);
    assert.strictEqual(bf.detect(Buffer.from('MZ is how this text file happens to begin, and it goes on for a while more.')), null);
    assert.deepStrictEqual(bf.detect(pe(0x8664, 0x20b, 0x200).subarray(0, 0x100)), { format: 'pe', truncated: true, need: 0x200 + 26 });
  });

  it('WebAssembly and non-binaries', () => {
    assert.deepStrictEqual(bf.detect(Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0])), { format: 'wasm', version: 1 });
    assert.strictEqual(bf.isNative(bf.detect(Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]))), false);
    assert.strictEqual(bf.isNative(bf.detect(elf(2, 1, 0x3e))), true);
    assert.strictEqual(bf.detect(Buffer.from('{"name": "x"}')), null);
    assert.strictEqual(bf.detect(Buffer.from([0x7f, 0x45])), null);
    assert.strictEqual(bf.detect(new Uint8Array(0)), null);
  });

  it('names that look native: *.node, *.so, *.so.N.M, *.dylib, *.dll, *.exe — not core-js\'s es.array.some.js', () => {
    for (const p of ['a/b.node', 'lib/libonnxruntime.so.1', 'lib/libvips-cpp.so.8.18.7', 'x.so', 'libonnxruntime.1.30.0.dylib', 'DirectML.DLL', 'a.exe']) assert.ok(bf.looksNative(p), p);
    for (const p of ['es.array.some.js', 'es.array.sort.js', 'a.so.js', 'node.js', 'x.nodes', 'dll.txt']) assert.ok(!bf.looksNative(p), p);
  });

  it('mismatch: which target each binary runs on', () => {
    const x64elf = bf.detect(elf(2, 1, 0x3e)), armElf = bf.detect(elf(2, 1, 0xb7));
    assert.strictEqual(bf.mismatch(x64elf, 'linux-x64'), null);
    assert.strictEqual(bf.mismatch(x64elf, 'alpine-x64'), null);
    assert.match(bf.mismatch(x64elf, 'linux-arm64') ?? '', /ELF 64-bit x64, not arm64/);
    assert.match(bf.mismatch(x64elf, 'darwin-x64') ?? '', /loads Mach-O/);
    assert.match(bf.mismatch(x64elf, 'win32-x64') ?? '', /loads PE/);
    assert.strictEqual(bf.mismatch(armElf, 'linux-arm64'), null);
    assert.match(bf.mismatch(bf.detect(elf(1, 1, 0x3e)), 'linux-x64') ?? '', /32-bit/, 'x32 ELF is not an x64 binary');
    assert.strictEqual(bf.mismatch(bf.detect(elf(1, 1, 0x28)), 'linux-armhf'), null);
    assert.strictEqual(bf.mismatch(bf.detect(macho64(0x0100000c)), 'darwin-arm64'), null);
    assert.match(bf.mismatch(bf.detect(macho64(0x0100000c)), 'darwin-x64') ?? '', /not x64/);
    const uni = bf.detect(fat(0x01000007, 0x0100000c));
    assert.strictEqual(bf.mismatch(uni, 'darwin-x64'), null);
    assert.strictEqual(bf.mismatch(uni, 'darwin-arm64'), null);
    assert.match(bf.mismatch(bf.detect(fat(0x01000007)), 'darwin-arm64') ?? '', /no arm64 slice/);
    assert.strictEqual(bf.mismatch(bf.detect(pe(0x8664)), 'win32-x64'), null);
    assert.match(bf.mismatch(bf.detect(pe(0xaa64)), 'win32-x64') ?? '', /PE32\+ arm64, not x64/);
    assert.match(bf.mismatch(bf.detect(pe(0x14c, 0x10b)), 'win32-x64') ?? '', /not x64/);
    assert.match(bf.mismatch(null, 'linux-x64') ?? '', /not a known binary/);
    assert.match(bf.mismatch(x64elf, 'web') ?? '', /unknown target/);
  });

  it('agrees with the binaries onnxruntime-node ships for every platform (real files from node_modules)', function () {
    const bin = path.join(ROOT, 'node_modules/onnxruntime-node/bin/napi-v6');
    if (!fs.existsSync(bin)) this.skip();
    let n = 0;
    for (const osName of fs.readdirSync(bin)) {
      for (const arch of fs.readdirSync(path.join(bin, osName))) {
        const target = `${osName}-${arch}`;
        for (const f of fs.readdirSync(path.join(bin, osName, arch))) {
          const fd = fs.openSync(path.join(bin, osName, arch, f), 'r');
          const head = Buffer.alloc(4096);
          const got = fs.readSync(fd, head, 0, 4096, 0);
          fs.closeSync(fd);
          const info = bf.detect(head.subarray(0, got));
          assert.strictEqual(bf.mismatch(info, target), null, `${osName}/${arch}/${f}: ${bf.describe(info)}`);
          for (const other of ['linux-x64', 'linux-arm64', 'darwin-x64', 'darwin-arm64', 'win32-x64'].filter((t) => t !== target)) {
            assert.notStrictEqual(bf.mismatch(info, other), null, `${osName}/${arch}/${f} must not pass as ${other}`);
          }
          n++;
        }
      }
    }
    assert.ok(n >= 4, `only ${n} binaries found`);
  });
});

describe('vsixCheck: the per-target rules on made-up file lists', () => {
  const wasm = { format: 'wasm', version: 1 };
  const W = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'];
  const wasmFiles = W.flatMap((w) => ['dist/engine', 'node_modules/@tensorflow/tfjs-backend-wasm/dist'].map((d) => ({ path: `${d}/${w}`, info: wasm as Info })));
  const text = (p: string) => ({ path: p, info: null });
  const linux = () => [
    text('package.json'), text('dist/extension.js'), text('node_modules/sharp/package.json'), text('node_modules/es.array.some.js'),
    text('node_modules/@img/sharp-linux-x64/package.json'),
    { path: 'node_modules/@img/sharp-linux-x64/lib/sharp-linux-x64-0.35.5.node', info: bf.detect(elf(2, 1, 0x3e)) },
    text('node_modules/@img/sharp-libvips-linux-x64/package.json'),
    { path: 'node_modules/@img/sharp-libvips-linux-x64/lib/libvips-cpp.so.8.18.7', info: bf.detect(elf(2, 1, 0x3e)) },
    { path: 'node_modules/onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node', info: bf.detect(elf(2, 1, 0x3e)) },
    { path: 'node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1', info: bf.detect(elf(2, 1, 0x3e)) },
    ...wasmFiles,
  ];

  it('a clean linux-x64 list passes', () => {
    const r = vc.checkFiles(linux(), 'linux-x64');
    assert.deepStrictEqual(r.problems, []);
    assert.strictEqual(r.binaries.length, 4);
  });

  it('the same list is wrong for every other target, and says why', () => {
    const r = vc.checkFiles(linux(), 'darwin-arm64');
    assert.ok(r.problems.some((p) => /sharp-linux-x64-0.35.5.node: ELF 64-bit x64, but darwin-arm64 loads Mach-O/.test(p)), r.problems.join('\n'));
    assert.ok(r.problems.some((p) => /sharp's linux-x64 package does not belong in darwin-arm64/.test(p)));
    assert.ok(r.problems.some((p) => /onnxruntime-node's linux\/x64 binary does not belong/.test(p)));
    assert.ok(r.problems.some((p) => /@img\/sharp-darwin-arm64 is missing/.test(p)));
    assert.ok(r.problems.some((p) => /no libvips library for darwin-arm64/.test(p)));
    assert.ok(vc.checkFiles(linux(), 'linux-arm64').problems.some((p) => /not arm64/.test(p)));
  });

  it('a binary of another platform under any name, a misnamed file, missing wasm / onnxruntime', () => {
    const l = linux();
    l.push({ path: 'node_modules/some-pkg/prebuilds/helper.bin', info: bf.detect(macho64(0x0100000c)) });
    l.push(text('node_modules/some-pkg/build/fake.node'));
    const r = vc.checkFiles(l.filter((f) => f.path !== 'dist/engine/tfjs-backend-wasm-simd.wasm' && !f.path.endsWith('onnxruntime_binding.node')), 'linux-x64');
    assert.ok(r.problems.some((p) => /helper.bin: Mach-O 64-bit arm64, but linux-x64 loads ELF/.test(p)), r.problems.join('\n'));
    assert.ok(r.problems.some((p) => /fake.node: named like a native binary/.test(p)));
    assert.ok(r.problems.some((p) => /dist\/engine\/tfjs-backend-wasm-simd.wasm is missing/.test(p)));
    assert.ok(r.problems.some((p) => /binding for linux\/x64 is missing/.test(p)));
    assert.ok(!vc.checkFiles(l, 'linux-x64', { ort: false }).problems.some((p) => /binding/.test(p)));
  });

  it("bundled models: exactly the clone's models/ (NanoDet + licence), byte for byte; CenterNet / @vladmandic never", () => {
    const models = vc.bundledModels();
    const nanodetBin = fs.readFileSync(path.join(ROOT, 'models/nanodet/nanodet.bin'));
    assert.strictEqual(models['models/nanodet/nanodet.bin'], crypto.createHash('sha256').update(nanodetBin).digest('hex'));
    assert.deepStrictEqual(Object.keys(models).sort(), ['models/nanodet/LICENSE', 'models/nanodet/NOTICE', 'models/nanodet/nanodet.bin', 'models/nanodet/nanodet.json']);
    const withModels = [...linux(), ...Object.entries(models).map(([p, sha256]) => ({ ...text(p), sha256 }))];
    assert.deepStrictEqual(vc.checkFiles(withModels, 'linux-x64', { models }).problems, []);
    const bad = withModels.filter((f) => f.path !== 'models/nanodet/LICENSE').map((f) => (f.path.endsWith('nanodet.json') ? { ...f, sha256: '00' } : f));
    bad.push({ ...text('models/other/x.bin'), sha256: '11' }, text('node_modules/@vladmandic/human/models/centernet.bin'), text('dist/centernet.json'));
    const r = vc.checkFiles(bad, 'linux-x64', { models }).problems;
    assert.ok(r.some((p) => /models\/nanodet\/LICENSE is missing/.test(p)), r.join('\n'));
    assert.ok(r.some((p) => /nanodet\.json: sha256 00 is not the clone's/.test(p)));
    assert.ok(r.some((p) => /models\/other\/x\.bin: not a bundled model file/.test(p)));
    assert.ok(r.some((p) => /@vladmandic\/human\/models\/centernet\.bin: CenterNet/.test(p)));
    assert.ok(r.some((p) => /dist\/centernet\.json: CenterNet/.test(p)));
  });

  it('win32-x64: libvips sits inside @img/sharp-win32-x64; darwin-x64 needs no onnxruntime folder when none ships', () => {
    const peX64 = bf.detect(pe(0x8664));
    const win = [text('node_modules/sharp/package.json'), text('node_modules/@img/sharp-win32-x64/package.json'),
      { path: 'node_modules/@img/sharp-win32-x64/lib/sharp-win32-x64-0.35.5.node', info: peX64 },
      { path: 'node_modules/@img/sharp-win32-x64/lib/libvips-42.dll', info: peX64 },
      { path: 'node_modules/@img/sharp-win32-x64/lib/libvips-cpp-8.18.7.dll', info: peX64 },
      { path: 'node_modules/onnxruntime-node/bin/napi-v6/win32/x64/onnxruntime_binding.node', info: peX64 }, ...wasmFiles];
    assert.deepStrictEqual(vc.checkFiles(win, 'win32-x64').problems, []);
    assert.ok(vc.checkFiles(win.filter((f) => !/libvips/.test(f.path)), 'win32-x64').problems.some((p) => /no libvips/.test(p)));
    const mx = bf.detect(macho64(0x01000007));
    const mac = [text('node_modules/sharp/package.json'), text('node_modules/@img/sharp-darwin-x64/package.json'),
      { path: 'node_modules/@img/sharp-darwin-x64/lib/sharp-darwin-x64-0.35.5.node', info: mx },
      { path: 'node_modules/@img/sharp-libvips-darwin-x64/lib/libvips-cpp.8.18.7.dylib', info: mx }, ...wasmFiles];
    assert.deepStrictEqual(vc.checkFiles(mac, 'darwin-x64', { ort: false }).problems, []);
    assert.ok(vc.checkFiles(mac, 'darwin-x64').problems.some((p) => /binding for darwin\/x64 is missing/.test(p)));
  });
});

describe('vsixCheck: zip reader', () => {
  it('lists entries and reads heads of stored and deflated entries, and extracts them byte for byte', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'protolab-zip-'));
    try {
      const noise = crypto.randomBytes(300000); // incompressible: a deflated head must be found without inflating it all
      const big = Buffer.concat([elf(2, 1, 0xb7), noise]);
      const zeros = Buffer.concat([pe(0x8664), Buffer.alloc(2_000_000)]); // 1000:1 compressible
      const files = { 'extension/a/big.node': big, 'extension/b/zeros.dll': zeros, 'extension/c/small.txt': Buffer.from('hello'), 'extension/d/stored.so.1': macho64(0x01000007) };
      const zip = zipSync({
        'extension/a/big.node': [big, { level: 6 }], 'extension/b/zeros.dll': [zeros, { level: 9 }],
        'extension/c/small.txt': [Buffer.from('hello'), { level: 6 }], 'extension/d/stored.so.1': [macho64(0x01000007), { level: 0 }],
      });
      const file = path.join(dir, 'x.vsix');
      fs.writeFileSync(file, zip);
      const entries = vc.listZip(file);
      assert.deepStrictEqual(entries.map((e) => e.name).sort(), Object.keys(files).sort());
      const fd = fs.openSync(file, 'r');
      try {
        const by = (n: string) => entries.find((e) => e.name === n)!;
        assert.strictEqual(by('extension/d/stored.so.1').method, 0);
        assert.strictEqual(by('extension/a/big.node').method, 8);
        assert.deepStrictEqual(bf.detect(vc.readHead(fd, by('extension/a/big.node'), 4096))?.arch, 'arm64');
        assert.deepStrictEqual(vc.readHead(fd, by('extension/a/big.node'), 4096), big.subarray(0, 4096));
        assert.deepStrictEqual(bf.detect(vc.readHead(fd, by('extension/b/zeros.dll'), 4096))?.machine, 0x8664);
        assert.strictEqual(vc.readHead(fd, by('extension/c/small.txt'), 4096).toString(), 'hello');
        assert.strictEqual(bf.detect(vc.readHead(fd, by('extension/d/stored.so.1'), 4096))?.arch, 'x64');
      } finally {
        fs.closeSync(fd);
      }
      const out = path.join(dir, 'out');
      assert.strictEqual(vc.extractAll(file, out), 4);
      for (const [n, b] of Object.entries(files)) assert.ok(fs.readFileSync(path.join(out, n)).equals(b), n);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
