#!/usr/bin/env node
// `npm run test:hardening`: the reliability suite — a generated bad-input corpus through the
// CLI and the engine process, injected faults (SIGKILL, disk full, read-only folders, concurrent
// writers), cancels at random points, fuzzed webview messages and the CSP in chromium. Runs the compiled
// out/test/hardening/**/*.test.js and test/hardening/*.test.cjs (chromium), then prints what was tried
// (test/hardening/helpers/tally.ts) and, last, the CI line "N passed, N failed, N skipped".
'use strict';
const t0 = Date.now();
const fs = require('fs');
const path = require('path');
const Mocha = require('mocha');

const root = path.resolve(__dirname, '..');
const walk = (dir) => (fs.existsSync(dir)
  ? fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]))
  : []);
const compiled = walk(path.join(root, 'out/test/hardening')).filter((f) => f.endsWith('.test.js'));
const browser = walk(path.join(root, 'test/hardening')).filter((f) => f.endsWith('.test.cjs'));
const tallyFile = path.join(root, 'out/test/hardening/helpers/tally.js');
if (!compiled.length || !fs.existsSync(tallyFile)) {
  console.error('no compiled hardening tests in out/test/hardening (run `npm run build` first)');
  console.log('0 passed, 1 failed, 0 skipped');
  process.exit(1);
}
const grep = process.argv.find((a) => a.startsWith('--grep='))?.slice('--grep='.length);
const mocha = new Mocha({ timeout: 300000, reporter: 'spec', ...(grep ? { grep } : {}) });
[...compiled.sort(), ...browser.sort()].forEach((f) => mocha.addFile(f));

let passed = 0, failed = 0, skipped = 0;
const runner = mocha.run(() => {
  const { summaryLines } = require(tallyFile);
  const lines = [`hardening suite (${((Date.now() - t0) / 1000).toFixed(0)} s):`, ...summaryLines().map((l) => `  ${l}`)];
  console.log(`\n${lines.join('\n')}`);
  const out = path.join(root, 'test-output/hardening');
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, 'summary.txt'), `${lines.join('\n')}\n${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
  process.exit(failed > 0 ? 1 : 0);
});
runner.on('pass', () => passed++);
runner.on('fail', () => failed++);
runner.on('pending', () => skipped++);
