// Test harness: serves dist/webview and a test page on 127.0.0.1 (random port) and drives it with
// Playwright-core + Debian chromium. The page is the real webviewHtml() shell (same strict CSP) with
// two test-only additions: the Dark+ theme variables and fake-host.js before the bundle.
'use strict';
const fs = require('fs');
const http = require('http');
const path = require('path');
const Module = require('module');
const esbuild = require('esbuild');
const { chromium } = require('playwright-core');

const root = path.resolve(__dirname, '../..');
const OUT = path.join(root, 'test-output/webview');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** Load a TypeScript module of src/webview in node (bundled on the fly, as the extension host bundles it). */
function loadTs(rel) {
  const r = esbuild.buildSync({ entryPoints: [path.join(root, rel)], bundle: true, platform: 'node', format: 'cjs', write: false, logLevel: 'silent' });
  const m = new Module(rel, module);
  m._compile(r.outputFiles[0].text, path.join(root, rel));
  return m.exports;
}

const TYPES = { '.js': 'text/javascript', '.css': 'text/css', '.map': 'application/json', '.html': 'text/html' };

/** The labeling fake host (label-fake-host.mjs + the real protocol validators), bundled for the page. */
function labelHostBundle() {
  const r = esbuild.buildSync({ entryPoints: [path.join(__dirname, 'label-fake-host.mjs')], bundle: true, platform: 'browser', format: 'iife', target: ['chrome114'], write: false, logLevel: 'silent' });
  return r.outputFiles[0].text;
}

function startServer() {
  const { webviewHtml } = loadTs('src/extension/panels/html.ts');
  const labelHost = labelHostBundle();
  const nonce = 'TestNonce0123456789abcdef';
  return new Promise((resolve) => {
    const server = http.createServer((req, res) => {
      const url = new URL(req.url, 'http://x');
      const origin = `http://127.0.0.1:${server.address().port}`;
      if (url.pathname === '/' || url.pathname === '/index.html') {
        let html = webviewHtml({ scriptUri: `${origin}/dist/webview/main.js`, cssUri: `${origin}/dist/webview/main.css`, nonce, cspSource: origin });
        html = html
          .replace('<link rel="stylesheet"', `<link rel="stylesheet" href="${origin}/test/theme-dark.css">\n<link rel="stylesheet"`)
          .replace(`<script nonce="${nonce}"`, `<script nonce="${nonce}" src="${origin}/test/fake-host.js"></script>\n<script nonce="${nonce}" src="${origin}/test/label-fake-host.js"></script>\n<script nonce="${nonce}"`);
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end(html);
        return;
      }
      if (url.pathname === '/test/label-fake-host.js') {
        res.writeHead(200, { 'content-type': 'text/javascript' });
        res.end(labelHost);
        return;
      }
      const file = url.pathname.startsWith('/dist/webview/') ? path.join(root, url.pathname)
        : url.pathname.startsWith('/test/') ? path.join(__dirname, url.pathname.slice('/test/'.length)) : null;
      if (!file || !file.startsWith(root) || !fs.existsSync(file)) {
        res.writeHead(404);
        res.end();
        return;
      }
      res.writeHead(200, { 'content-type': TYPES[path.extname(file)] || 'application/octet-stream' });
      fs.createReadStream(file).pipe(res);
    });
    server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${server.address().port}/` }));
  });
}

async function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}

/** Open the page in a fresh context; collects console warnings, errors and page errors. */
async function openPage(browser, url, viewport = { width: 1400, height: 900 }) {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1, colorScheme: 'dark' });
  const page = await context.newPage();
  const log = { warnings: [], errors: [], pageErrors: [] };
  page.on('console', (m) => {
    if (m.type() === 'warning') log.warnings.push(m.text());
    if (m.type() === 'error') log.errors.push(m.text());
  });
  page.on('pageerror', (e) => log.pageErrors.push(String(e)));
  await page.goto(url);
  await page.waitForFunction(() => window.__host && window.__host.posted.length > 0);
  return { context, page, log };
}

async function screenshot(page, name) {
  fs.mkdirSync(OUT, { recursive: true });
  const file = path.join(OUT, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

module.exports = { root, OUT, loadTs, startServer, launch, openPage, screenshot };
