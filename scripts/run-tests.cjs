#!/usr/bin/env node
// Runs the unit suite with mocha's programmatic API and ends with the one line CI reads:
//   "N passed, N failed, N skipped"
// (mocha's own "N passing" summary is not read by CI). Exit code 1 on any failure.
'use strict';
const path = require('path');
const Mocha = require('mocha');
const { runWithSummary } = require('./mocha-summary.cjs');
const fs = require('fs');

// node 20 has no fs.globSync: a small walk is enough for 'dir/**/*.test.js'.
function walk(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

const root = path.resolve(__dirname, '..');
// Arguments: test files, or folders searched for *.test.js (default: the compiled unit suite).
const args = process.argv.slice(2).length ? process.argv.slice(2) : ['out/test/unit'];
const files = args
  .map((a) => path.resolve(root, a))
  .flatMap((a) => (fs.existsSync(a) && fs.statSync(a).isDirectory() ? walk(a).filter((f) => f.endsWith('.test.js')) : [a]))
  .sort();
const missing = files.filter((f) => !fs.existsSync(f));
if (missing.length) {
  console.error(`no such test file: ${missing.map((f) => path.relative(root, f)).join(', ')} (did the TypeScript build run?)`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}
if (files.length === 0) {
  console.error(`no test files in ${args.join(' ')} (did the TypeScript build run?)`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}
const mocha = new Mocha({ timeout: 180000, reporter: 'spec' });
files.forEach((f) => mocha.addFile(f));
runWithSummary(mocha);
