// Every platform's .vsix: scripts/ci/package.sh --target T for linux-x64, linux-arm64,
// darwin-x64, darwin-arm64 and win32-x64, each opened and every file's header read:
//  - each native binary (whatever its name) is of that platform's format and architecture
//    (ELF x86-64 / aarch64, Mach-O x86-64 / arm64 or universal with that slice, PE x86-64);
//  - nothing of another platform: no other @img/sharp-* package, no other onnxruntime-node bin folder;
//  - sharp's platform package for the target (package-lock.json's version) and its libvips are there,
//    onnxruntime-node's binding where onnxruntime-node ships one (1.30.0: none for darwin-x64);
//  - the tfjs wasm backend's .wasm files are there;
//  - the package for this machine's platform, unpacked, loads sharp (and resizes an image) and
//    onnxruntime-node from its own node_modules.
// The binaries of the other platforms cannot run here: their headers are all that is checked.
// The packages are built once in `before` into a temp folder (SKIP_BUILD=1: the suite runs after
// `npm run build`), two at a time; PROTOLAB_VSIX_DIR=<folder with protolab-<version>-<target>.vsix>
// checks packages built beforehand (e.g. by `npm run package:all`) instead.
import * as assert from 'assert';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '../../..');
const TARGETS = ['linux-x64', 'linux-arm64', 'darwin-x64', 'darwin-arm64', 'win32-x64'];

interface Target { os: string; arch: string; format: string; sharp: string; ort: string | null }
interface Check { target: string; files: number; binaries: { path: string; what: string }[]; problems: string[]; sharpVersion: string | null }
// eslint-disable-next-line @typescript-eslint/no-require-imports
const bf = require(path.join(ROOT, 'scripts/lib/binaryFormat.cjs')) as { TARGETS: Record<string, Target> };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const vc = require(path.join(ROOT, 'scripts/lib/vsixCheck.cjs')) as {
  checkVsix(file: string, target: string, opts?: { ort?: boolean; sharpVersion?: string }): Check;
  listZip(file: string): { name: string; size: number }[];
  extractAll(file: string, dir: string): number;
  ortShipsFor(target: string): boolean;
};

const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version: string; optionalDependencies?: Record<string, string> }> };
const version = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** package.sh for one target; resolves with its last stdout line (the .vsix path). */
function packageOne(target: string, out: string): Promise<{ code: number; last: string; stderr: string; ms: number }> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [path.join(ROOT, 'scripts/ci/package.sh'), '--target', target, '--out', out], {
      cwd: ROOT, env: { ...process.env, SKIP_BUILD: '1' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, last: stdout.trim().split('\n').pop() ?? '', stderr, ms: Date.now() - t0 }));
  });
}

describe('every platform\'s .vsix carries that platform\'s binaries only', function () {
  this.timeout(900000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'protolab-vsix-test-'));
  const files: Record<string, string> = {};

  before(async function () {
    const given = process.env.PROTOLAB_VSIX_DIR;
    if (given) {
      for (const t of TARGETS) files[t] = path.resolve(given, `protolab-${version}-${t}.vsix`);
      const missing = TARGETS.filter((t) => !fs.existsSync(files[t]));
      assert.deepStrictEqual(missing, [], `PROTOLAB_VSIX_DIR=${given} lacks packages for ${missing.join(', ')}`);
      console.log(`      checking the packages in ${given}`);
      return;
    }
    assert.ok(fs.existsSync(path.join(ROOT, 'dist/extension.js')), 'dist/extension.js is missing: run npm run build first');
    const t0 = Date.now();
    // two at a time (2 cores: vsce's zip deflate overlaps with the other's staging and npm ls)
    const queue = [...TARGETS];
    const failures: string[] = [];
    const worker = async () => {
      for (let t = queue.shift(); t; t = queue.shift()) {
        const out = path.join(tmp, `protolab-${version}-${t}.vsix`);
        const r = await packageOne(t, out);
        if (r.code !== 0 || r.last !== out) failures.push(`${t}: exit ${r.code}, last line '${r.last}'\n${r.stderr.split('\n').filter((l) => !/^\s*[├└│]/.test(l)).slice(-25).join('\n')}`);
        files[t] = out;
        console.log(`      packaged ${t} in ${(r.ms / 1000).toFixed(1)} s: ${(fs.existsSync(out) ? fs.statSync(out).size / 1048576 : 0).toFixed(1)} MiB`);
      }
    };
    await Promise.all([worker(), worker()]);
    console.log(`      ${TARGETS.length} packages in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    assert.deepStrictEqual(failures, []);
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  for (const target of TARGETS) {
    const t = bf.TARGETS[target];
    it(`${target}: every native binary is ${t.format === 'macho' ? 'Mach-O' : t.format.toUpperCase()} ${t.arch}, nothing of another platform, sharp ${t.sharp} + wasm backend inside`, () => {
      const sharpLock = lock.packages[`node_modules/@img/sharp-${t.sharp}`];
      assert.ok(sharpLock, `package-lock.json has no @img/sharp-${t.sharp}`);
      const ort = vc.ortShipsFor(target);
      const r = vc.checkVsix(files[target], target, { ort, sharpVersion: sharpLock.version });
      assert.deepStrictEqual(r.problems, [], `${target}:\n${r.problems.join('\n')}`);
      assert.strictEqual(r.sharpVersion, sharpLock.version);

      const names = vc.listZip(files[target]).map((e) => e.name.replace(/^extension\//, ''));
      // exactly the target's sharp packages (libvips: its own package, or inside sharp's on Windows)
      const img = [...new Set(names.filter((n) => n.startsWith('node_modules/@img/')).map((n) => n.split('/')[2]))].sort();
      const libvips = Object.keys(sharpLock.optionalDependencies ?? {}).map((n) => n.replace('@img/', ''));
      assert.deepStrictEqual(img, ['colour', `sharp-${t.sharp}`, ...libvips].sort());
      if (t.os === 'win32') assert.deepStrictEqual(libvips, []);
      // onnxruntime-node: the target's folder only (none where the package ships none)
      const ortDirs = [...new Set(names.map((n) => /^node_modules\/onnxruntime-node\/bin\/napi-v\d+\/([^/]+\/[^/]+)\//.exec(n)?.[1]).filter(Boolean))];
      assert.deepStrictEqual(ortDirs, ort ? [t.ort] : []);

      // what each binary is, for the log, and the minimum expected: sharp's addon + libvips (+ onnxruntime)
      const want = t.format === 'elf' ? `ELF 64-bit ${t.arch}` : t.format === 'macho' ? `Mach-O 64-bit ${t.arch}` : `PE32+ ${t.arch}`;
      for (const b of r.binaries) assert.strictEqual(b.what, want, b.path);
      assert.ok(r.binaries.some((b) => b.path.startsWith(`node_modules/@img/sharp-${t.sharp}/`) && b.path.endsWith('.node')));
      assert.ok(r.binaries.some((b) => /\/libvips[^/]*\.(so[.\d]*|dylib|dll)$/.test(b.path)));
      if (ort) assert.ok(r.binaries.some((b) => b.path.endsWith('onnxruntime_binding.node')));
      console.log(`      ${target}: ${r.files} files, ${(fs.statSync(files[target]).size / 1048576).toFixed(1)} MiB, ${r.binaries.length} binaries (${want})${ort ? '' : ', no onnxruntime binary (none ships for it)'}`);
    });
  }

  const host = `${process.platform}-${process.arch}`;
  it(`the package for this machine (${host}), unpacked, loads sharp (resizes an image) and onnxruntime-node from its own node_modules`, function () {
    if (!TARGETS.includes(host)) this.skip();
    const dir = path.join(tmp, `unpacked-${host}`);
    vc.extractAll(files[host], dir);
    const ext = path.join(dir, 'extension');
    const script = `
      const sharp = require(${JSON.stringify(path.join(ext, 'node_modules/sharp'))});
      const ort = require(${JSON.stringify(path.join(ext, 'node_modules/onnxruntime-node'))});
      // the addons (require.cache) and, on Linux, the shared libraries mapped into the process
      const maps = process.platform === 'linux' ? require('fs').readFileSync('/proc/self/maps', 'utf8').split('\\n').map((l) => l.split(/\\s+/)[5]).filter((f) => f && /libvips|libonnxruntime/.test(f)) : [];
      const loaded = [...new Set([...Object.keys(require.cache).filter((f) => f.endsWith('.node')), ...maps])];
      sharp({ create: { width: 8, height: 6, channels: 3, background: '#c03' } }).resize(4, 3).png().toBuffer({ resolveWithObject: true })
        .then(({ info }) => console.log(JSON.stringify({ info, versions: sharp.versions, ort: typeof ort.InferenceSession.create, loaded })),
              (e) => { console.error(e); process.exitCode = 1; });`;
    const r = spawnSync(process.execPath, ['-e', script], { cwd: dir, encoding: 'utf8', env: { ...process.env, NODE_PATH: '' } });
    assert.strictEqual(r.status, 0, r.stderr);
    const got = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { info: { width: number; height: number }; ort: string; loaded: string[] };
    assert.deepStrictEqual([got.info.width, got.info.height], [4, 3]);
    assert.strictEqual(got.ort, 'function');
    assert.ok(got.loaded.length >= 1);
    for (const f of got.loaded) assert.ok(f.startsWith(ext + path.sep), `native addon loaded from outside the package: ${f}`);
    assert.ok(got.loaded.some((f) => f.includes(`@img${path.sep}sharp-${bf.TARGETS[host].sharp}`)), got.loaded.join('\n'));
    assert.ok(got.loaded.some((f) => f.endsWith('onnxruntime_binding.node')), got.loaded.join('\n'));
    if (process.platform === 'linux') {
      assert.ok(got.loaded.some((f) => /libvips-cpp\.so/.test(f)), `libvips not mapped from the package:\n${got.loaded.join('\n')}`);
      assert.ok(got.loaded.some((f) => /libonnxruntime\.so/.test(f)), `libonnxruntime not mapped from the package:\n${got.loaded.join('\n')}`);
    }
    console.log(`      ${host}: loaded from the package: ${got.loaded.map((f) => path.relative(ext, f)).join(', ')}`);
  });
});
