#!/usr/bin/env node
// Runs the mocha integration tests INSIDE code-server's (Node) extension host.
// Opens the workbench with a `payload` carrying extensionDevelopmentPath + extensionTestsPath (what VS Code
// web's "Extension Development Host" uses; the server must run with --vscode-option enable-smoke-test-driver),
// then waits for the result file the in-host test entry writes. The remote extension host's stdout is not
// visible from here, so the entry MUST write that file.
//
// Contract with the test entry (test/integration/index.ts → run()):
//   write JSON {suite?, passed, failed, skipped?, failures?: [{title, error}], log?: string}
//   to process.env.PROTOLAB_TEST_RESULT (absolute path; code-server passes its env to the extension host),
//   falling back to <extension root>/test-output/integration/result.json.
//
// Env: CS_HOST (127.0.0.1:PORT, required), EXT_DIR (extension root, default the repo), WS_DIR (folder to open),
//      EXT_TESTS_PATH (default: first of out/test/integration/index.js, dist/test/integration/index.js),
//      PROTOLAB_TEST_RESULT (default <repo>/test-output/integration/result.json), OUT_DIR (screenshots),
//      COUNTS_FILE (default test-output/counts/integration.json), INTEGRATION_TIMEOUT_S (default 300).
'use strict';
const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');

const REPO = path.resolve(__dirname, '../..');
const HOST = process.env.CS_HOST;
const EXT = path.resolve(process.env.EXT_DIR || REPO);
const WS = process.env.WS_DIR || EXT;
const OUT = path.resolve(process.env.OUT_DIR || path.join(REPO, 'test-output/code-server'));
const COUNTS = path.resolve(process.env.COUNTS_FILE || path.join(REPO, 'test-output/counts/integration.json'));
const TIMEOUT = Number(process.env.INTEGRATION_TIMEOUT_S || 300) * 1000;
const RESULT = path.resolve(process.env.PROTOLAB_TEST_RESULT || path.join(EXT, 'test-output/integration/result.json'));
const FALLBACK = path.join(EXT, 'test-output/integration/result.json');
const candidates = process.env.EXT_TESTS_PATH
  ? [path.resolve(process.env.EXT_TESTS_PATH)]
  : ['out/test/integration/index.js', 'dist/test/integration/index.js', 'dist/test/integration.js'].map((p) => path.join(EXT, p));
const TESTS = candidates.find((p) => fs.existsSync(p));

function writeCounts(c) {
  fs.mkdirSync(path.dirname(COUNTS), { recursive: true });
  fs.writeFileSync(COUNTS, JSON.stringify({ suite: 'integration', passed: c.passed | 0, failed: c.failed | 0, skipped: c.skipped | 0 }) + '\n');
  console.log(`${c.passed | 0} passed, ${c.failed | 0} failed, ${c.skipped | 0} skipped  (integration, inside the VS Code extension host)`);
}
function fail(msg) {
  console.error('integration: ' + msg);
  writeCounts({ passed: 0, failed: 1, skipped: 0 });
  process.exit(1);
}

(async () => {
  if (!HOST) fail('CS_HOST is not set (code-server 127.0.0.1:PORT)');
  if (!TESTS) fail(`no integration test entry: looked for ${candidates.map((p) => path.relative(REPO, p)).join(', ')} (did npm run build compile test/integration?)`);
  const t0 = Date.now();
  const ts = () => ((Date.now() - t0) / 1000).toFixed(1) + 's';
  for (const f of new Set([RESULT, FALLBACK])) fs.rmSync(f, { force: true });
  fs.mkdirSync(OUT, { recursive: true });
  const remote = (p) => `vscode-remote://${HOST}${p}`;
  const payload = [['extensionDevelopmentPath', remote(EXT)], ['extensionTestsPath', remote(TESTS)]];
  const url = `http://${HOST}/?folder=${encodeURIComponent(WS)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
  console.log(`integration: ${path.relative(REPO, TESTS)} in the extension host of ${HOST} (result file ${RESULT})`);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  let closed = false;
  page.on('close', () => { closed = true; });
  const consoleLines = [];
  page.on('console', (m) => consoleLines.push(`[${m.type()}] ${m.text().slice(0, 400)}`));
  await page.goto(url);
  await page.waitForSelector('.monaco-workbench', { timeout: 90000 });
  console.log(ts(), 'workbench up (extension development host)');
  const found = () => [RESULT, FALLBACK].find((f) => fs.existsSync(f));
  const deadline = Date.now() + TIMEOUT;
  while (!found() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
  // The entry writes the file at the end of run(): give a partial write a moment to finish.
  await new Promise((r) => setTimeout(r, 300));
  if (!closed) await page.screenshot({ path: path.join(OUT, 'integration-host.png') }).catch(() => {});
  await browser.close().catch(() => {});
  const file = found();
  if (!file) {
    const tail = consoleLines.filter((l) => /error|fail|extensionTests|test/i.test(l)).slice(-15).join('\n  ');
    fail(`no result file after ${TIMEOUT / 1000}s (${RESULT}). Last workbench console lines:\n  ${tail}`);
  }
  let res;
  try { res = JSON.parse(fs.readFileSync(file, 'utf8')); } catch (e) { fail(`result file ${file} is not JSON: ${e.message}`); }
  if (typeof res.log === 'string' && res.log.trim()) console.log(res.log.trimEnd());
  for (const f of res.failures || []) console.log(`  FAILED ${f.title}\n    ${String(f.error || '').split('\n').join('\n    ')}`);
  console.log(ts(), 'done');
  if (!(res.passed > 0) && !(res.failed > 0)) fail(`the test entry ran no tests (${file})`);
  writeCounts(res);
  process.exit(res.failed > 0 || !(res.passed > 0) ? 1 : 0);
})().catch((e) => fail(e && e.stack ? e.stack : String(e)));
