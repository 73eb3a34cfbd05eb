#!/usr/bin/env node
// Bundles the webview UI for the browser: dist/webview/main.js (+ main.css from the CSS it imports:
// media/webview.css and uPlot's stylesheet). IIFE, no eval, no inline styles, so the strict CSP of
// src/extension/panels/html.ts holds. Usage: node scripts/build-webview.mjs [--watch] [--minify]
import * as esbuild from 'esbuild';
import * as fs from 'fs';
import * as path from 'path';
import { fileURLToPath } from 'url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const watch = process.argv.includes('--watch');
const minify = process.argv.includes('--minify');

const options = {
  absWorkingDir: root,
  entryPoints: { main: 'src/webview/main.ts' },
  outdir: 'dist/webview',
  bundle: true,
  platform: 'browser',
  format: 'iife',
  target: ['chrome114'],
  sourcemap: 'linked',
  minify,
  legalComments: 'linked',
  logLevel: 'warning',
  // fast-png's dependency iobuffer/pako are plain browser JS; nothing here may pull node built-ins
  define: { 'process.env.NODE_ENV': minify ? '"production"' : '"development"' },
};

const t0 = Date.now();
if (watch) {
  await (await esbuild.context(options)).watch();
  console.log('build-webview: watching src/webview');
} else {
  await esbuild.build(options);
  const size = (f) => (fs.statSync(path.join(root, 'dist/webview', f)).size / 1024).toFixed(0) + ' KiB';
  console.log(`build-webview: dist/webview/main.js ${size('main.js')}, main.css ${size('main.css')} (${Date.now() - t0} ms)`);
}
