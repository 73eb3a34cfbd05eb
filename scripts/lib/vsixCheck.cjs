#!/usr/bin/env node
// Opens a .vsix (a zip) and checks that it is a package for ONE platform:
//  - every native binary in it (found by its header bytes, whatever its name) is of the target's format
//    and architecture (scripts/lib/binaryFormat.cjs), and every file named like one (*.node, *.so*,
//    *.dylib, *.dll, *.exe) is one;
//  - no folder of another platform: @img/sharp-<other>, @img/sharp-libvips-<other>,
//    onnxruntime-node/bin/napi-v6/<other os>/<other arch>;
//  - sharp and its platform package for the target are there, with a libvips library;
//  - the tfjs wasm backend's .wasm files are there (dist/engine and the package itself) and are wasm;
//  - onnxruntime-node's binding for the target is there when `ort` is expected;
//  - the model files ProtoLab bundles (models/ of the clone: NanoDet with its licence) are there, byte for
//    byte (sha256), and nothing else under models/; the opt-in CenterNet (never redistributed: its licence
//    is unclear) and its package @vladmandic/human are nowhere in the package.
// No unzip tool needed: the zip's central directory is read here and each entry's first bytes inflated
// with node's zlib. Usage: node scripts/lib/vsixCheck.cjs FILE.vsix TARGET [--no-ort] [--json]
// (onnxruntime's binary is required when the installed onnxruntime-node has one for the target)
// (exit 1 and one line per problem when something is wrong).
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');
const bf = require('./binaryFormat.cjs');

// ---- a small zip reader (stored + deflated entries, no zip64: a .vsix is far below 4 GiB) ----

/** The entries of the zip at `file`: { name, method, crc, csize, size, offset } (offset: local header). */
function listZip(file) {
  const fd = fs.openSync(file, 'r');
  try {
    const { size } = fs.fstatSync(fd);
    const tailLen = Math.min(size, 22 + 0xffff);
    const tail = Buffer.alloc(tailLen);
    fs.readSync(fd, tail, 0, tailLen, size - tailLen);
    let eocd = -1;
    for (let i = tailLen - 22; i >= 0; i--) if (tail.readUInt32LE(i) === 0x06054b50) { eocd = i; break; }
    if (eocd < 0) throw new Error(`${file}: not a zip (no end of central directory)`);
    const count = tail.readUInt16LE(eocd + 10);
    const cdSize = tail.readUInt32LE(eocd + 12);
    const cdOff = tail.readUInt32LE(eocd + 16);
    if (count === 0xffff || cdSize === 0xffffffff || cdOff === 0xffffffff) throw new Error(`${file}: zip64 is not supported here`);
    const cd = Buffer.alloc(cdSize);
    fs.readSync(fd, cd, 0, cdSize, cdOff);
    const entries = [];
    for (let p = 0, i = 0; i < count; i++) {
      if (cd.readUInt32LE(p) !== 0x02014b50) throw new Error(`${file}: bad central directory entry ${i}`);
      const nameLen = cd.readUInt16LE(p + 28), extraLen = cd.readUInt16LE(p + 30), commentLen = cd.readUInt16LE(p + 32);
      entries.push({
        name: cd.toString('utf8', p + 46, p + 46 + nameLen),
        method: cd.readUInt16LE(p + 10),
        crc: cd.readUInt32LE(p + 16),
        csize: cd.readUInt32LE(p + 20),
        size: cd.readUInt32LE(p + 24),
        offset: cd.readUInt32LE(p + 42),
      });
      p += 46 + nameLen + extraLen + commentLen;
    }
    return entries;
  } finally {
    fs.closeSync(fd);
  }
}

/** Where an entry's compressed data starts (after its local header). */
function dataStart(fd, entry) {
  const h = Buffer.alloc(30);
  fs.readSync(fd, h, 0, 30, entry.offset);
  if (h.readUInt32LE(0) !== 0x04034b50) throw new Error(`bad local header for ${entry.name}`);
  return entry.offset + 30 + h.readUInt16LE(26) + h.readUInt16LE(28);
}

/** The first `n` bytes of an entry (fewer if it is shorter): inflates only a prefix of the data. */
function readHead(fd, entry, n) {
  const start = dataStart(fd, entry);
  if (entry.method === 0) {
    const len = Math.min(n, entry.csize);
    const b = Buffer.alloc(len);
    fs.readSync(fd, b, 0, len, start);
    return b;
  }
  if (entry.method !== 8) throw new Error(`${entry.name}: zip method ${entry.method} is not supported`);
  for (let take = Math.min(entry.csize, Math.max(4096, n)); ; take = Math.min(entry.csize, take * 4)) {
    const c = Buffer.alloc(take);
    fs.readSync(fd, c, 0, take, start);
    // A cut deflate stream inflates up to where it was cut with Z_SYNC_FLUSH (no 'unexpected end' error).
    const out = zlib.inflateRawSync(c, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    if (out.length >= n || take === entry.csize) return out.subarray(0, n);
  }
}

/** A whole entry. */
function readEntry(fd, entry) {
  const start = dataStart(fd, entry);
  const c = Buffer.alloc(entry.csize);
  fs.readSync(fd, c, 0, entry.csize, start);
  if (entry.method === 0) return c;
  if (entry.method === 8) return zlib.inflateRawSync(c);
  throw new Error(`${entry.name}: zip method ${entry.method} is not supported`);
}

/** Unpack every file of the zip under `dir` (the test loads the host platform's package from there). */
function extractAll(file, dir) {
  const entries = listZip(file);
  const fd = fs.openSync(file, 'r');
  try {
    for (const e of entries) {
      if (e.name.endsWith('/')) continue;
      const dest = path.resolve(dir, e.name);
      if (!dest.startsWith(path.resolve(dir) + path.sep)) throw new Error(`zip entry outside the folder: ${e.name}`);
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      fs.writeFileSync(dest, readEntry(fd, e));
    }
  } finally {
    fs.closeSync(fd);
  }
  return entries.length;
}

// ---- the check ----

const HEAD = 4096;
const WASM = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'];
// A platform folder anywhere under node_modules: sharp's prebuilt packages and onnxruntime-node's bin/.
const SHARP_DIR = /(^|\/)node_modules\/@img\/sharp-(libvips-)?([^/]+)\//;
const ORT_DIR = /(^|\/)node_modules\/onnxruntime-node\/bin\/napi-v\d+\/([^/]+)\/([^/]+)\//;

/**
 * Check a list of files { path, info } (info: binaryFormat.detect of the first bytes) against `target`.
 * Pure, so it can be tested on made-up lists. `paths` are inside the package (the .vsix's 'extension/').
 * opts.ort: whether onnxruntime-node's binary for the target must be there (default: when the target has one).
 */
function checkFiles(files, target, opts = {}) {
  const t = bf.TARGETS[target];
  if (!t) return { problems: [`unknown target ${target} (known: ${Object.keys(bf.TARGETS).join(', ')})`], binaries: [] };
  const problems = [];
  const binaries = [];
  const have = new Set(files.map((f) => f.path));
  for (const { path: p, info } of files) {
    if (bf.isNative(info) || (info && info.truncated)) {
      binaries.push({ path: p, what: bf.describe(info) });
      const why = bf.mismatch(info, target);
      if (why) problems.push(`${p}: ${why}`);
    } else if (bf.looksNative(p)) {
      problems.push(`${p}: named like a native binary but is ${info ? bf.describe(info) : 'no known binary format'}`);
    }
    const s = SHARP_DIR.exec(p);
    if (s && s[3] !== t.sharp) problems.push(`${p}: sharp's ${s[3]} package does not belong in ${target}`);
    const o = ORT_DIR.exec(p);
    if (o && `${o[2]}/${o[3]}` !== t.ort) problems.push(`${p}: onnxruntime-node's ${o[2]}/${o[3]} binary does not belong in ${target}`);
  }
  const nm = 'node_modules';
  if (!have.has(`${nm}/sharp/package.json`)) problems.push('sharp is missing (node_modules/sharp/package.json)');
  const sharpDir = `${nm}/@img/sharp-${t.sharp}/`;
  if (!have.has(`${sharpDir}package.json`)) problems.push(`sharp's platform package @img/sharp-${t.sharp} is missing`);
  else if (!files.some((f) => f.path.startsWith(sharpDir) && f.path.endsWith('.node') && bf.isNative(f.info))) problems.push(`@img/sharp-${t.sharp} has no .node binary`);
  // libvips: its own package (@img/sharp-libvips-<platform>) except on Windows, where the DLLs sit in sharp's.
  const vips = files.filter((f) => (f.path.startsWith(`${nm}/@img/sharp-libvips-${t.sharp}/`) || f.path.startsWith(sharpDir))
    && /\/libvips[^/]*\.(so(\.\d+)*|dylib|dll)$/.test(f.path) && bf.isNative(f.info));
  if (!vips.length) problems.push(`no libvips library for ${t.sharp} (@img/sharp-libvips-${t.sharp} or inside @img/sharp-${t.sharp})`);
  for (const w of WASM) {
    for (const dir of ['dist/engine', `${nm}/@tensorflow/tfjs-backend-wasm/dist`]) {
      const f = files.find((x) => x.path === `${dir}/${w}`);
      if (!f) problems.push(`wasm backend file ${dir}/${w} is missing`);
      else if (!f.info || f.info.format !== 'wasm') problems.push(`${dir}/${w} is not WebAssembly`);
    }
  }
  if (opts.models) {
    for (const [p, sha] of Object.entries(opts.models)) {
      const f = files.find((x) => x.path === p);
      if (!f) problems.push(`bundled model file ${p} is missing`);
      else if (f.sha256 !== sha) problems.push(`${p}: sha256 ${f.sha256} is not the clone's ${sha}`);
    }
    for (const f of files) if (f.path.startsWith('models/') && !(f.path in opts.models)) problems.push(`${f.path}: not a bundled model file (models/ carries exactly the clone's models/)`);
  }
  for (const f of files) {
    if (/(^|\/)centernet\.(json|bin)$/.test(f.path) || f.path.startsWith(`${nm}/@vladmandic/`)) problems.push(`${f.path}: CenterNet / @vladmandic is opt-in and must never be bundled`);
  }
  const wantOrt = opts.ort ?? !!t.ort;
  if (wantOrt && t.ort && !have.has(`${nm}/onnxruntime-node/bin/napi-v6/${t.ort}/onnxruntime_binding.node`)) {
    problems.push(`onnxruntime-node's binding for ${t.ort} is missing`);
  }
  return { problems, binaries };
}

/** Check the .vsix at `file` for `target`. Returns { target, files, binaries, problems, sharpVersion }. */
function checkVsix(file, target, opts = {}) {
  const entries = listZip(file).filter((e) => !e.name.endsWith('/'));
  const files = [];
  let sharpVersion = null;
  const t = bf.TARGETS[target];
  const fd = fs.openSync(file, 'r');
  try {
    for (const e of entries) {
      if (!e.name.startsWith('extension/')) continue;
      const p = e.name.slice('extension/'.length);
      let info = bf.detect(readHead(fd, e, HEAD));
      if (info && info.truncated && info.need <= e.size) info = bf.detect(readHead(fd, e, info.need));
      const sha256 = p.startsWith('models/') ? crypto.createHash('sha256').update(readEntry(fd, e)).digest('hex') : undefined;
      files.push({ path: p, info, size: e.size, ...(sha256 ? { sha256 } : {}) });
      if (t && p === `node_modules/@img/sharp-${t.sharp}/package.json`) sharpVersion = JSON.parse(readEntry(fd, e).toString('utf8')).version;
    }
  } finally {
    fs.closeSync(fd);
  }
  const { problems, binaries } = checkFiles(files, target, { models: bundledModels(), ...opts });
  if (opts.sharpVersion && sharpVersion && sharpVersion !== opts.sharpVersion) {
    problems.push(`@img/sharp-${t.sharp} is ${sharpVersion}, package-lock.json says ${opts.sharpVersion}`);
  }
  return { target, files: files.length, binaries, problems, sharpVersion };
}

module.exports = { listZip, readHead, readEntry, extractAll, checkFiles, checkVsix, ortShipsFor, bundledModels, WASM };

if (require.main === module) {
  const args = process.argv.slice(2);
  const pos = args.filter((a) => !a.startsWith('--'));
  if (pos.length !== 2) {
    console.error('usage: node scripts/lib/vsixCheck.cjs FILE.vsix TARGET [--no-ort] [--json]');
    process.exitCode = 2;
  } else main(pos, args);
}

/** The clone's models/ folder: { 'models/<dir>/<file>': sha256 } (what the package must carry, exactly). */
function bundledModels(root = path.resolve(__dirname, '../..')) {
  const out = {};
  const walk = (rel) => {
    for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const r = `${rel}/${e.name}`;
      if (e.isDirectory()) walk(r);
      else out[r] = crypto.createHash('sha256').update(fs.readFileSync(path.join(root, r))).digest('hex');
    }
  };
  if (fs.existsSync(path.join(root, 'models'))) walk('models');
  return out;
}

/** Whether onnxruntime-node, as installed in the clone, ships a binary for `target` (1.30.0 has none for
 *  darwin-x64: that package then evaluates on tfjs, as the engine says when onnxruntime cannot load). */
function ortShipsFor(target, root = path.resolve(__dirname, '../..')) {
  const t = bf.TARGETS[target];
  return !!(t && t.ort && fs.existsSync(path.join(root, 'node_modules/onnxruntime-node/bin/napi-v6', t.ort)));
}

function main(pos, args) {
  const r = checkVsix(pos[0], pos[1], { ort: args.includes('--no-ort') ? false : ortShipsFor(pos[1]) });
  if (args.includes('--json')) console.log(JSON.stringify(r, null, 2));
  else {
    for (const b of r.binaries) console.error(`  ${b.what.padEnd(26)} ${b.path}`);
    for (const p of r.problems) console.error(`PROBLEM ${p}`);
    console.error(`vsix-check ${path.basename(pos[0])} (${pos[1]}): ${r.files} files, ${r.binaries.length} native binaries, ${r.problems.length ? `${r.problems.length} problem(s)` : 'all for ' + pos[1]}`);
  }
  // exitCode, not process.exit(): node 20's process.exit() can deadlock while a background compile
  // job waits for a GC (seen here under load: main thread joining platform workers, one stuck in
  // CollectionBarrier::AwaitCollectionBackground). A natural exit disposes the isolate first, yet the
  // same deadlock was seen once at a natural exit: scripts/ci/package.sh runs this with --single-threaded.
  process.exitCode = r.problems.length ? 1 : 0;
}
