#!/usr/bin/env node
// Builds the webview bundle and runs test/webview/*.test.cjs (headless chromium, mocked host) with
// mocha; ends with the CI line "N passed, N failed, N skipped" and exits 1 on any failure.
// Screenshots go to test-output/webview/. CHROMIUM_PATH overrides /usr/bin/chromium.
'use strict';
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const Mocha = require('mocha');
const { runWithSummary } = require('./mocha-summary.cjs');

const root = path.resolve(__dirname, '..');
if (!process.argv.includes('--no-build')) execFileSync(process.execPath, [path.join(root, 'scripts/build-webview.mjs')], { stdio: 'inherit', cwd: root });
const chromium = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
if (!fs.existsSync(chromium)) {
  console.error(`chromium not found at ${chromium} (apt-get install -y chromium, or set CHROMIUM_PATH)`);
  console.log('0 passed, 1 failed, 0 skipped');
  process.exit(1);
}
const dir = path.join(root, 'test/webview');
const grep = process.argv.find((a) => a.startsWith('--grep='))?.slice('--grep='.length);
const mocha = new Mocha({ timeout: 60000, reporter: 'spec', ...(grep ? { grep } : {}) });
fs.readdirSync(dir).filter((f) => f.endsWith('.test.cjs')).sort().forEach((f) => mocha.addFile(path.join(dir, f)));
runWithSummary(mocha);
