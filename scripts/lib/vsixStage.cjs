#!/usr/bin/env node
// Stages the extension for ONE platform's .vsix in a folder of its own, so the working node_modules is
// never touched (scripts/ci/package.sh runs vsce in that folder):
//   - the files vsce would package from the clone, minus node_modules (`vsce ls --no-dependencies`);
//   - the production dependencies (`npm ls --omit=dev --all --parseable`), hard-linked (copied where the
//     folders sit on different file systems), WITHOUT any of sharp's platform packages and without
//     onnxruntime-node's binaries for other platforms (bin/napi-v6/<os>/<arch>);
//   - sharp's platform package(s) for the target: @img/sharp-<platform> and, where sharp has one,
//     @img/sharp-libvips-<platform> (Windows: the libvips DLLs are inside @img/sharp-win32-<arch>), at the
//     versions package-lock.json pins. Taken from node_modules when that exact version is installed there
//     (npm ci checked it against the lockfile), else `npm pack <name>@<version>` from the npm registry,
//     its sha512 checked against the lockfile's `integrity`, cached in
//     ${PROTOLAB_TOOLS:-~/.cache/protolab-tools}/vsix-natives/ (outside the clone) and re-checked on every use.
// Nothing is ever written through a hard link: the staging copy only adds and unlinks names.
// Usage: node scripts/lib/vsixStage.cjs --target T --dir STAGE --ignore-file FILE [--cache DIR]
'use strict';
const cp = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { TARGETS } = require('./binaryFormat.cjs');

const log = (...a) => console.error('stage:', ...a);

/** sharp's platform packages for `target` with the lockfile's version and integrity, after checking
 *  that the installed sharp is the lockfile's and names them. */
function sharpPackagesFor(root, target) {
  const t = TARGETS[target];
  if (!t) throw new Error(`unknown target ${target} (known: ${Object.keys(TARGETS).join(', ')})`);
  const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8'));
  const pk = lock.packages || {};
  const sharpLock = pk['node_modules/sharp'];
  if (!sharpLock) throw new Error('package-lock.json has no node_modules/sharp');
  const sharpPkg = JSON.parse(fs.readFileSync(path.join(root, 'node_modules/sharp/package.json'), 'utf8'));
  if (sharpPkg.version !== sharpLock.version) throw new Error(`node_modules/sharp is ${sharpPkg.version}, package-lock.json says ${sharpLock.version}: run npm ci`);
  const names = [`@img/sharp-${t.sharp}`];
  const main = pk[`node_modules/${names[0]}`];
  if (!main) throw new Error(`package-lock.json has no entry node_modules/${names[0]} (npm normally records every platform's optional package; regenerate the lockfile with a full npm install)`);
  names.push(...Object.keys(main.optionalDependencies || {}).filter((n) => n.startsWith('@img/sharp-libvips-')));
  return names.map((name) => {
    const e = pk[`node_modules/${name}`];
    if (!e || !e.version || !e.integrity) throw new Error(`package-lock.json has no version + integrity for node_modules/${name}`);
    const wanted = (sharpLock.optionalDependencies || {})[name] || (main.optionalDependencies || {})[name];
    if (wanted && wanted !== e.version) throw new Error(`package-lock.json: ${name} is ${e.version} but sharp asks for ${wanted}`);
    return { name, version: e.version, integrity: e.integrity };
  });
}

/** Whether `file`'s bytes match an SRI string (one or more 'algo-base64' separated by spaces). */
function matchesIntegrity(file, integrity) {
  const data = fs.readFileSync(file);
  const want = integrity.trim().split(/\s+/).map((s) => /^(sha\d+)-(.+)$/.exec(s)).filter(Boolean);
  const usable = want.filter(([, algo]) => crypto.getHashes().includes(algo));
  if (!usable.length) throw new Error(`no usable hash in integrity '${integrity}'`);
  return usable.some(([, algo, b64]) => crypto.createHash(algo).update(data).digest('base64') === b64);
}

function cacheDir() {
  return path.join(process.env.PROTOLAB_TOOLS || path.join(os.homedir(), '.cache/protolab-tools'), 'vsix-natives');
}

/** The verified tarball of pkg in the cache, fetched with `npm pack` when missing or corrupt. */
function fetchTarball(pkg, dir = cacheDir()) {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${pkg.name.replace(/^@/, '').replace(/\//g, '-')}-${pkg.version}.tgz`);
  if (fs.existsSync(file)) {
    if (matchesIntegrity(file, pkg.integrity)) return { file, fetched: false };
    log(`cached ${path.basename(file)} does not match package-lock.json's integrity: fetching it again`);
    fs.rmSync(file, { force: true });
  }
  const tmp = fs.mkdtempSync(path.join(dir, '.pack-'));
  try {
    const spec = `${pkg.name}@${pkg.version}`;
    const r = cp.spawnSync('npm', ['pack', spec, '--json', '--loglevel=error', '--pack-destination', tmp], {
      cwd: tmp, encoding: 'utf8', shell: process.platform === 'win32', env: { ...process.env, npm_config_update_notifier: 'false' },
    });
    if (r.status !== 0) throw new Error(`npm pack ${spec} failed (${r.status}): ${(r.stderr || r.error || '').toString().trim().slice(-2000)}`);
    const made = fs.readdirSync(tmp).filter((f) => f.endsWith('.tgz'));
    if (made.length !== 1) throw new Error(`npm pack ${spec} wrote ${made.length} tarballs`);
    const got = path.join(tmp, made[0]);
    if (!matchesIntegrity(got, pkg.integrity)) throw new Error(`npm pack ${spec}: the tarball does not match package-lock.json's integrity ${pkg.integrity}`);
    fs.renameSync(got, file); // atomic: another packager running at once sees the whole file or none
    return { file, fetched: true };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

// ---- linking ----
let copied = 0, linked = 0;
/** Hard-link (or copy, across file systems) src's tree to dst, skipping what skip(relative path) says. */
function linkTree(src, dst, skip = () => false, rel = '') {
  const st = fs.lstatSync(src);
  if (st.isSymbolicLink()) {
    fs.symlinkSync(fs.readlinkSync(src), dst);
  } else if (st.isDirectory()) {
    fs.mkdirSync(dst, { recursive: true });
    for (const e of fs.readdirSync(src)) {
      const r = rel ? `${rel}/${e}` : e;
      if (!skip(r)) linkTree(path.join(src, e), path.join(dst, e), skip, r);
    }
  } else if (st.isFile()) {
    fs.mkdirSync(path.dirname(dst), { recursive: true });
    try {
      fs.linkSync(src, dst);
      linked++;
    } catch (e) {
      if (!['EXDEV', 'EPERM', 'ENOTSUP', 'EMLINK', 'EACCES'].includes(e.code)) throw e;
      fs.copyFileSync(src, dst);
      fs.chmodSync(dst, st.mode & 0o777);
      copied++;
    }
  }
}

function run(cmd, args, cwd) {
  const r = cp.spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, shell: process.platform === 'win32' && cmd === 'npm' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${(r.stderr || r.error || '').toString().trim().slice(-2000)}`);
  return r.stdout;
}

/** Build the staging folder `dir` for `target`. Returns what it took from where. */
function stage({ root, target, dir, ignoreFile, cache = cacheDir() }) {
  const t = TARGETS[target];
  if (!t) throw new Error(`unknown target ${target} (known: ${Object.keys(TARGETS).join(', ')})`);
  const natives = sharpPackagesFor(root, target);
  fs.mkdirSync(dir, { recursive: true });
  if (fs.readdirSync(dir).length) throw new Error(`staging folder ${dir} is not empty`);

  // 1. the extension's own files, as vsce lists them (the ignore file applies)
  const vsce = path.join(root, 'node_modules/@vscode/vsce/vsce');
  const own = run(process.execPath, [vsce, 'ls', '--no-dependencies', '--ignoreFile', ignoreFile], root)
    .split(/\r?\n/).map((l) => l.trim()).filter((l) => l && fs.existsSync(path.join(root, l)));
  if (!own.includes('package.json')) throw new Error(`vsce ls listed no package.json (got ${own.length} lines)`);
  for (const f of own) linkTree(path.join(root, f), path.join(dir, f));

  // 2. production dependencies, less every sharp platform package and other platforms' onnxruntime
  const sharpPlatforms = new Set(Object.keys(JSON.parse(fs.readFileSync(path.join(root, 'node_modules/sharp/package.json'), 'utf8')).optionalDependencies || {}));
  const prod = run('npm', ['ls', '--omit=dev', '--all', '--parseable', '--loglevel=error'], root)
    .split(/\r?\n/).map((l) => l.trim()).filter(Boolean)
    .map((abs) => path.relative(root, abs).split(path.sep).join('/'))
    .filter((r) => r.startsWith('node_modules/'))
    .sort();
  const taken = [];
  const pkgName = (r) => r.slice(r.lastIndexOf('node_modules/') + 'node_modules/'.length);
  let skipped = 0;
  for (const r of prod) {
    if (sharpPlatforms.has(pkgName(r))) { skipped++; continue; }
    linkTree(path.join(root, r), path.join(dir, r), (sub) => {
      if (sub === 'node_modules' || sub.startsWith('node_modules/')) return true; // nested packages come from the list
      if (pkgName(r) === 'onnxruntime-node') {
        const m = /^bin\/napi-v\d+\/([^/]+)\/([^/]+)$/.exec(sub);
        if (m && `${m[1]}/${m[2]}` !== t.ort) return true;
      }
      return false;
    });
    taken.push(r);
  }

  // 3. sharp's packages for the target
  const sources = [];
  for (const pkg of natives) {
    const dest = path.join(dir, 'node_modules', pkg.name);
    const installed = path.join(root, 'node_modules', pkg.name);
    let v = null;
    try { v = JSON.parse(fs.readFileSync(path.join(installed, 'package.json'), 'utf8')).version; } catch { /* not installed */ }
    if (v === pkg.version) {
      linkTree(installed, dest, (sub) => sub === 'node_modules' || sub.startsWith('node_modules/'));
      sources.push(`${pkg.name}@${pkg.version} (installed in node_modules)`);
    } else {
      const { file, fetched } = fetchTarball(pkg, cache);
      fs.mkdirSync(dest, { recursive: true });
      run('tar', ['xzf', file, '-C', dest, '--strip-components=1'], dir);
      sources.push(`${pkg.name}@${pkg.version} (${fetched ? 'fetched with npm pack' : 'cached'} ${file}, integrity checked)`);
    }
  }
  const ortVersion = JSON.parse(fs.readFileSync(path.join(root, 'node_modules/onnxruntime-node/package.json'), 'utf8')).version;
  if (!t.ort || !fs.existsSync(path.join(root, 'node_modules/onnxruntime-node/bin/napi-v6', t.ort))) {
    log(`${target}: onnxruntime-node ${ortVersion} ships no binary for this platform: the package evaluates on tfjs (the engine says onnxruntime cannot load)`);
  }
  log(`${target}: ${own.length} files of the extension, ${taken.length} production packages (${skipped} sharp platform package(s) of this machine left out), ${linked} hard links, ${copied} copies`);
  for (const s of sources) log(`${target}: ${s}`);
  return { own: own.length, packages: taken.length, natives, sources };
}

module.exports = { sharpPackagesFor, matchesIntegrity, fetchTarball, cacheDir, stage, linkTree };

if (require.main === module) {
  const a = process.argv.slice(2);
  const opt = (k) => { const i = a.indexOf(k); return i >= 0 ? a[i + 1] : undefined; };
  const target = opt('--target'), dir = opt('--dir'), ignoreFile = opt('--ignore-file');
  if (!target || !dir || !ignoreFile) {
    console.error('usage: node scripts/lib/vsixStage.cjs --target T --dir STAGE --ignore-file FILE [--cache DIR]');
    process.exitCode = 2;
  } else try {
    stage({ root: path.resolve(__dirname, '../..'), target, dir: path.resolve(dir), ignoreFile: path.resolve(ignoreFile), cache: opt('--cache') || cacheDir() });
  } catch (e) {
    console.error(`stage: ${e.message}`);
    process.exitCode = 1; // not process.exit(): see vsixCheck.cjs
  }
}
