// The webview's Content-Security-Policy proven in chromium: the real HTML shell
// (src/extension/panels/html.ts, the same nonce-based CSP the panels use) served with hostile content injected into
// its body. Inline scripts without the nonce, inline handlers, javascript: URLs, eval, remote scripts,
// images, styles, frames, objects, fetch/XHR/WebSocket/EventSource, workers and form posts must all be
// blocked — each seen as a securitypolicyviolation event — and no request may leave for another origin
// (Playwright's interception records any). The nonce'd bundle still runs (it posts `ready`).
'use strict';
const assert = require('assert');
const fs = require('fs');
const http = require('http');
const path = require('path');
const { loadTs, launch, root } = require('../webview/harness.cjs');
const { tally } = require(path.join(root, 'out/test/hardening/helpers/tally.js'));

const NONCE = 'CspProbeNonce0123456789abc';
const REMOTE = 'https://example.invalid';

/** What must not happen, each with the directive that stops it. */
const PROBES = [
  { id: 'inline-script', html: "<script>window.__ran.push('inline-script')</script>", directive: /script-src/ },
  { id: 'wrong-nonce', html: "<script nonce=\"WrongNonce00000000000000\">window.__ran.push('wrong-nonce')</script>", directive: /script-src/ },
  { id: 'inline-handler', html: "<img src=\"data:,\" onerror=\"window.__ran.push('inline-handler')\">", directive: /script-src/ },
  { id: 'remote-script', html: `<script src="${REMOTE}/x.js"></script>`, directive: /script-src/ },
  { id: 'remote-img', html: `<img src="${REMOTE}/pixel.png">`, directive: /img-src/ },
  { id: 'remote-css', html: `<link rel="stylesheet" href="${REMOTE}/s.css">`, directive: /style-src/ },
  { id: 'inline-style', html: '<style>body { --probe: 1 }</style>', directive: /style-src/ },
  { id: 'remote-frame', html: `<iframe src="${REMOTE}/frame"></iframe>`, directive: /frame-src|child-src|default-src/ },
  { id: 'remote-object', html: `<object data="${REMOTE}/o.swf"></object>`, directive: /object-src|default-src/ },
  { id: 'base-uri', html: `<base href="${REMOTE}/">`, directive: /base-uri/ },
];

/** Done by the nonce'd probe script itself (it is allowed to run; what it tries is not). */
const SCRIPTED = [
  { id: 'fetch', run: `fetch('${REMOTE}/f').then(() => window.__ran.push('fetch'), () => {})`, directive: /connect-src/ },
  { id: 'fetch-same-origin', run: "fetch('/dist/webview/main.css').then(() => window.__ran.push('fetch-same-origin'), () => {})", directive: /connect-src/ },
  { id: 'xhr', run: `try { const x = new XMLHttpRequest(); x.open('GET', '${REMOTE}/x'); x.onload = () => window.__ran.push('xhr'); x.send(); } catch (e) {}`, directive: /connect-src/ },
  { id: 'websocket', run: `try { new WebSocket('wss://example.invalid/ws').onopen = () => window.__ran.push('websocket'); } catch (e) {}`, directive: /connect-src/ },
  { id: 'eventsource', run: `try { new EventSource('${REMOTE}/es').onopen = () => window.__ran.push('eventsource'); } catch (e) {}`, directive: /connect-src/ },
  { id: 'eval', run: "try { eval(\"window.__ran.push('eval')\"); } catch (e) {}", directive: /script-src/ },
  { id: 'function', run: "try { new Function(\"window.__ran.push('function')\")(); } catch (e) {}", directive: /script-src/ },
  { id: 'dynamic-script', run: `{ const s = document.createElement('script'); s.src = '${REMOTE}/dyn.js'; document.body.appendChild(s); }`, directive: /script-src/ },
  { id: 'dynamic-inline', run: "{ const s = document.createElement('script'); s.textContent = \"window.__ran.push('dynamic-inline')\"; document.body.appendChild(s); }", directive: /script-src/ },
  { id: 'blob-worker', run: "try { new Worker(URL.createObjectURL(new Blob([\"postMessage(1)\"]))).onmessage = () => window.__ran.push('blob-worker'); } catch (e) {}", directive: /worker-src|script-src/ },
  { id: 'javascript-url', run: "{ const a = document.createElement('a'); a.href = \"javascript:window.__ran.push('javascript-url')\"; document.body.appendChild(a); a.click(); }", directive: /script-src/ },
  { id: 'form-post', run: `{ const f = document.createElement('form'); f.method = 'post'; f.action = '${REMOTE}/post'; document.body.appendChild(f); try { f.submit(); } catch (e) {} }`, directive: /form-action/ },
];

function page(webviewHtml, origin) {
  let html = webviewHtml({ scriptUri: `${origin}/dist/webview/main.js`, cssUri: `${origin}/dist/webview/main.css`, nonce: NONCE, cspSource: origin, title: 'CSP probe' });
  // first in the body (after the CSP in head): record violations, then let the hostile markup parse
  const setup = `<script nonce="${NONCE}">window.__ran = []; window.__violations = []; window.__probeRan = true;
document.addEventListener('securitypolicyviolation', (e) => window.__violations.push({ directive: e.effectiveDirective || e.violatedDirective, blocked: e.blockedURI, sample: e.sample }));</script>
<script nonce="${NONCE}" src="${origin}/test/fake-host.js"></script>`;
  const scripted = `<script nonce="${NONCE}">window.addEventListener('load', () => { ${SCRIPTED.map((s) => `try { ${s.run} } catch (e) {}`).join('\n')} });</script>`;
  html = html.replace('<body>', `<body>\n${setup}\n${PROBES.map((p) => p.html).join('\n')}\n${scripted}`);
  return html;
}

describe('CSP in chromium: the webview shell blocks what it must', function () {
  this.timeout(60000);
  let server, origin, browser;

  before(async () => {
    const chromium = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
    if (!fs.existsSync(chromium)) throw new Error(`chromium not found at ${chromium}: the CSP cannot be proven without it (apt-get install -y chromium)`);
    const { webviewHtml } = loadTs('src/extension/panels/html.ts');
    server = http.createServer((req, res) => {
      const url = new URL(req.url, 'http://x');
      if (url.pathname === '/') {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end(page(webviewHtml, origin));
        return;
      }
      const file = url.pathname.startsWith('/dist/webview/') ? path.join(root, url.pathname)
        : url.pathname === '/test/fake-host.js' ? path.join(root, 'test/webview/fake-host.js') : null;
      if (!file || !fs.existsSync(file)) {
        res.writeHead(404);
        res.end();
        return;
      }
      res.writeHead(200, { 'content-type': file.endsWith('.js') ? 'text/javascript' : 'text/css' });
      fs.createReadStream(file).pipe(res);
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    origin = `http://127.0.0.1:${server.address().port}`;
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
    server?.close();
  });

  it(`${PROBES.length + SCRIPTED.length} hostile probes: none runs or loads, each is a CSP violation; nothing leaves for another origin; the nonce'd bundle runs`, async () => {
    const context = await browser.newContext();
    const pg = await context.newPage();
    const remote = [];
    await pg.route('**/*', (route) => {
      const u = route.request().url();
      if (u.startsWith(origin) || u.startsWith('data:') || u.startsWith('blob:')) return route.continue();
      remote.push(u);
      return route.abort();
    });
    await pg.goto(`${origin}/`);
    await pg.waitForFunction(() => window.__host && window.__host.posted.length > 0, null, { timeout: 20000 });
    await pg.waitForTimeout(1500); // let the failures (and any success) of the async probes arrive
    const state = await pg.evaluate(() => ({ ran: window.__ran, violations: window.__violations, probeRan: window.__probeRan, posted: window.__host.posted }));
    await context.close();

    assert.strictEqual(state.probeRan, true, "the nonce'd script runs");
    assert.deepStrictEqual(state.posted[0], { type: 'ready', protocol: 1 }, "the nonce'd bundle runs and says ready");
    assert.deepStrictEqual(state.ran, [], `these got through: ${state.ran.join(', ')}`);
    assert.deepStrictEqual(remote, [], 'requests left for another origin');
    const seen = (d, blocked) => state.violations.some((v) => d.test(v.directive) && (blocked === undefined || String(v.blocked).includes(blocked)));
    const expectations = [
      ['inline-script', /script-src/, 'inline'], ['inline-handler', /script-src/, 'inline'], ['remote-script', /script-src/, `${REMOTE}/x.js`],
      ['remote-img', /img-src/, `${REMOTE}/pixel.png`], ['remote-css', /style-src/, `${REMOTE}/s.css`], ['inline-style', /style-src/, 'inline'],
      // (chromium reports only the origin of a blocked frame or object)
      ['remote-frame', /frame-src|child-src|default-src/, REMOTE], ['remote-object', /object-src|default-src/, REMOTE], ['base-uri', /base-uri/, REMOTE],
      ['fetch', /connect-src/, `${REMOTE}/f`], ['fetch-same-origin', /connect-src/, '/dist/webview/main.css'], ['xhr', /connect-src/, `${REMOTE}/x`],
      ['websocket', /connect-src/, 'wss://example.invalid'], ['eventsource', /connect-src/, `${REMOTE}/es`], ['eval', /script-src/, 'eval'],
      ['dynamic-script', /script-src/, `${REMOTE}/dyn.js`], ['blob-worker', /worker-src|script-src/, 'blob'], ['form-post', /form-action/, `${REMOTE}/post`],
    ];
    const missing = expectations.filter(([, d, b]) => !seen(d, b)).map(([id]) => id);
    assert.deepStrictEqual(missing, [], `no violation event for: ${missing.join(', ')}\n${JSON.stringify(state.violations, null, 1)}`);
    tally.csp.probes += PROBES.length + SCRIPTED.length;
    tally.csp.ran += state.ran.length + remote.length;
  });
});
