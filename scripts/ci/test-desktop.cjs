#!/usr/bin/env node
// npm run test:desktop — the same in-host integration tests, in desktop VS Code (Electron) through
// @vscode/test-electron. It downloads VS Code from update.code.visualstudio.com unless VSCODE_EXECUTABLE
// points at an installed `code` binary; where neither works (offline CI) it fails with a clear message.
// The CI gate for a real VS Code host is `npm run test:code-server` (code-server, installable offline).
// On Linux without a display run it under xvfb-run.
// Env: VSCODE_EXECUTABLE (skip the download), VSCODE_VERSION (default 'stable'), EXT_TESTS_PATH,
//      COUNTS_FILE (default test-output/counts/desktop.json).
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');

const repo = path.resolve(__dirname, '../..');
const countsFile = path.resolve(process.env.COUNTS_FILE || path.join(repo, 'test-output/counts/desktop.json'));
const candidates = process.env.EXT_TESTS_PATH
  ? [path.resolve(process.env.EXT_TESTS_PATH)]
  : ['out/test/integration/index.js', 'dist/test/integration/index.js', 'dist/test/integration.js'].map((p) => path.join(repo, p));

function counts(c) {
  fs.mkdirSync(path.dirname(countsFile), { recursive: true });
  fs.writeFileSync(countsFile, JSON.stringify({ suite: 'desktop', passed: c.passed | 0, failed: c.failed | 0, skipped: c.skipped | 0 }) + '\n');
  console.log(`${c.passed | 0} passed, ${c.failed | 0} failed, ${c.skipped | 0} skipped  (desktop VS Code)`);
}
function die(msg) { console.error('test:desktop: ' + msg); counts({ passed: 0, failed: 1 }); process.exit(1); }

(async () => {
  const tests = candidates.find((p) => fs.existsSync(p));
  if (!tests) die(`no integration test entry (${candidates.map((p) => path.relative(repo, p)).join(', ')}): run npm run build first`);
  let runTests, downloadAndUnzipVSCode;
  try { ({ runTests, downloadAndUnzipVSCode } = require('@vscode/test-electron')); } catch (e) { die(`@vscode/test-electron is not installed (${e.message})`); }

  // Same workspace as the code-server test: the sample dataset + settings pointing ProtoLab at it.
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'protolab-desktop-'));
  const ws = path.join(work, 'ws');
  fs.mkdirSync(path.join(ws, '.vscode'), { recursive: true });
  execFileSync(process.execPath, [path.join(repo, 'bin/protolab.js'), 'sample', '--out', path.join(ws, 'sample'), '--train', '20', '--val', '40'], { stdio: ['ignore', 'ignore', 'inherit'] });
  fs.writeFileSync(path.join(ws, '.vscode/settings.json'), execFileSync(process.execPath, [path.join(__dirname, 'workspace-settings.cjs'), ws, '--ci']));
  const result = path.join(work, 'integration-result.json');

  let vscodeExecutablePath = process.env.VSCODE_EXECUTABLE;
  if (!vscodeExecutablePath) {
    try {
      vscodeExecutablePath = await downloadAndUnzipVSCode({
        version: process.env.VSCODE_VERSION || 'stable', timeout: 30000,
        cachePath: path.join(process.env.PROTOLAB_TOOLS || path.join(os.homedir(), '.cache/protolab-tools'), 'vscode-test'),
      });
    } catch (e) {
      fs.rmSync(work, { recursive: true, force: true });
      die(`could not download VS Code (${String(e && e.message || e).split('\n')[0]}).\n` +
        '  @vscode/test-electron needs update.code.visualstudio.com, which this machine cannot reach.\n' +
        '  Run it where VS Code can be downloaded, or set VSCODE_EXECUTABLE=/path/to/code.\n' +
        '  Offline, the real-VS-Code gate is `npm run test:code-server` (code-server from npm).');
    }
  }
  let rc = 1;
  try {
    rc = await runTests({
      vscodeExecutablePath,
      extensionDevelopmentPath: repo,
      extensionTestsPath: tests,
      launchArgs: [ws, '--disable-extensions', '--disable-workspace-trust', '--skip-welcome', '--skip-release-notes'],
      extensionTestsEnv: { PROTOLAB_TEST_RESULT: result },
    });
  } catch (e) {
    console.error('test:desktop: VS Code ran the tests and reported failure or crashed: ' + (e && e.message || e));
  }
  let res = null;
  try { res = JSON.parse(fs.readFileSync(result, 'utf8')); } catch { /* no result file */ }
  fs.rmSync(work, { recursive: true, force: true });
  if (!res) die('the test entry wrote no result file');
  if (typeof res.log === 'string' && res.log.trim()) console.log(res.log.trimEnd());
  counts(res);
  process.exit(rc === 0 && !(res.failed > 0) && res.passed > 0 ? 0 : 1);
})().catch((e) => die(e && e.stack ? e.stack : String(e)));
