#!/usr/bin/env node
// The labeling workbench's draw → mask loop end to end, minus VS Code itself: the real webview bundle
// (dist/webview) in headless chromium (test/webview/harness.cjs) → a relay standing in for VS Code's
// postMessage (a Playwright binding one way, page.evaluate the other) → the same glue the panel
// (src/extension/label/panel.ts) puts around the real LabelController: the validating gate
// (panels/gate.ts) and isLabelWebviewMessage → the real EngineClient forking the bundled engine
// (dist/engine/server.js, with the options EngineHost gives it) → LabelService with the default method
// → the reply back the same way → decoded and painted by the webview.
//
// A temp copy of the labelme VOC photos (real JPEGs): one is a support (its truth mask as a `mask`
// shape, person = class 1), the webview opens another and N mouse strokes are drawn on it (class 1 on
// the person, background beside it, alternately), each waited for until its mask is painted.
// Per stroke: stroke end → mask painted from the webview's own ring buffer (window.__protolabLabel,
// what the user sees), the webview's own share, and where the rest went: page → relay, host (gate +
// controller), engine IPC, the engine's own time (predict, PNG encode: the labelSetShapes result's
// `timing`), relay → page. The relay legs are measured across two clocks (chromium's and node's
// performance.timeOrigin + now(); same machine): approximate.
//
// Usage: npm run bench:label-editor [-- --strokes 40 --warmup 3 --verbose --profile --screenshot FILE]
// (--verbose: one line per stroke; --profile: CPU profiles of the page, the host process and the engine, top self time;
// --screenshot: the view as the user sees it after the last stroke, as a PNG — the README's picture is
// `-- --strokes 4 --warmup 0 --screenshot media/readme/labeling.png`)
// Last line: one JSON object {strokes, p50_ms, p95_ms, max_ms, breakdown_p50_ms: {...}, ...}.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');
const { performance } = require('perf_hooks');
const sharp = require('sharp');
const { root, loadTs, startServer, launch } = require('../test/webview/harness.cjs');
const fx = require('../test/webview/fixtures.cjs');

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
};
const STROKES = Number(arg('strokes', '40'));
const WARMUP = Number(arg('warmup', '3'));
const VERBOSE = process.argv.includes('--verbose');
const PROFILE = process.argv.includes('--profile');
const SCREENSHOT = arg('screenshot', '') && path.resolve(arg('screenshot', ''));

const built = (rel) => require(path.join(root, 'out', rel));
const { EngineClient } = built('src/extension/engineClient.js');
const { LabelController } = built('src/extension/label/controller.js');
const { receiveWebviewMessage } = built('src/extension/panels/gate.js');
const { isLabelWebviewMessage } = built('src/shared/webviewLabelProtocol.js');
const { validateHostMessage } = built('src/shared/webviewProtocol.js');
const { encodeIndexPng } = built('src/engine/image/png.js');
const { decodeIndexMask } = loadTs('src/webview/masks.ts');

// where scripts/fetch-labelme.sh extracts the Debian labelme-examples package
const VOC = path.join(process.env.PROTOLAB_LABELME_DIR || path.join(os.homedir(), '.cache/protolab-test/labelme'), 'root/usr/share/doc/labelme-examples/examples/instance_segmentation/data_dataset_voc');
const SUPPORT = '2011_000006.jpg';
const OPEN = '2011_000003.jpg'; // the image the strokes are drawn on
const PERSON = [192, 128, 128]; // VOC colour of class 15; the border colour (224,224,192) is unsure

const epoch = () => performance.timeOrigin + performance.now();
const median = (xs) => quantile(xs, 0.5);
/** nearest rank, as the webview's metrics.ts */
function quantile(xs, q) {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}
const r2 = (x) => (Number.isFinite(x) ? +x.toFixed(2) : null);

/** The truth of a VOC photo as labels: person 1, border 255, everything else 0. */
async function truth(name) {
  const { data, info } = await sharp(path.join(VOC, 'SegmentationClassPNG', name.replace(/\.jpg$/, '.png'))).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const labels = new Uint8Array(info.width * info.height);
  for (let i = 0; i < labels.length; i++) {
    const [r, g, b] = [data[3 * i], data[3 * i + 1], data[3 * i + 2]];
    labels[i] = r === PERSON[0] && g === PERSON[1] && b === PERSON[2] ? 1 : r === 224 && g === 224 && b === 192 ? 255 : 0;
  }
  return { width: info.width, height: info.height, data: labels };
}

/** Seeded strokes: horizontal segments whose ends and middle lie in `want` (1 person, 0 background). */
function planStrokes(t, n) {
  let s = 12345;
  const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const at = (x, y) => t.data[Math.round(y) * t.width + Math.round(x)];
  const out = [];
  for (let i = 0; out.length < n && i < 100000; i++) {
    const label = out.length % 2 === 0 ? 1 : 0;
    const len = 20 + rnd() * 40;
    const x = rnd() * (t.width - len - 2), y = 1 + rnd() * (t.height - 2);
    if ([0, 0.5, 1].every((f) => at(x + f * len, y) === label)) out.push({ label, x0: x, x1: x + len, y });
  }
  if (out.length < n) throw new Error('could not place the strokes');
  return out;
}

/** Uint8Array → {$b64} (the fake host's deliver() revives them): Playwright's own typed-array path is slow. */
function toWire(x) {
  if (x instanceof Uint8Array) return { $b64: Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString('base64') };
  if (Array.isArray(x)) return x.map(toWire);
  if (x && typeof x === 'object') {
    const o = {};
    for (const k of Object.keys(x)) o[k] = toWire(x[k]);
    return o;
  }
  return x;
}

async function main() {
  if (!fs.existsSync(path.join(VOC, 'JPEGImages', OPEN))) execFileSync('bash', [path.join(root, 'scripts/fetch-labelme.sh')], { stdio: 'inherit' });
  const cpus = os.cpus();
  const load0 = os.loadavg();
  console.log(`machine: ${cpus[0]?.model ?? 'unknown cpu'} × ${cpus.length}, load average ${load0.map((x) => x.toFixed(2)).join(' ')}, node ${process.version}`);

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'protolab-bench-editor-'));
  const folder = path.join(tmp, 'photos');
  fs.mkdirSync(folder);
  for (const f of fs.readdirSync(path.join(VOC, 'JPEGImages'))) fs.copyFileSync(path.join(VOC, 'JPEGImages', f), path.join(folder, f));

  const logs = [];
  const log = (l) => {
    logs.push(l);
    if (VERBOSE) console.log(`  [host] ${l}`);
  };
  // what EngineHost.processOptions() gives the engine with default settings
  const dist = path.join(root, 'dist', 'engine');
  const client = new EngineClient({
    serverPath: path.join(dist, 'server.js'),
    execArgv: [...built('src/extension/engineFlags.js').engineExecArgv(4096), ...(PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${path.join(tmp, 'engine-profile')}`] : [])],
    env: {
      ELECTRON_RUN_AS_NODE: '1', PROTOLAB_CACHE_DIR: path.join(tmp, 'cache'), PROTOLAB_MAX_PIXELS: String(64 * 1024 * 1024),
      PROTOLAB_WASM_DIR: fs.existsSync(path.join(dist, 'tfjs-backend-wasm-simd.wasm')) ? dist : undefined,
    },
    log,
  });

  // ---- per-generation marks (strokes are sequential: one in flight at a time) ----
  const marks = new Map(); // generation → {pageAt, n1, n2, n3, n4, timing, maskBytes, shapesChars}
  const mark = (g) => (marks.has(g) ? marks.get(g) : marks.set(g, {}).get(g));
  let currentGen = -1;
  let measuring = false;
  const engine = {
    request: (req, onEvent) => client.request(req, onEvent),
    call: async (req, onEvent) => {
      if (req.type !== 'labelSetShapes' || currentGen < 0) return client.call(req, onEvent);
      const m = mark(currentGen);
      m.n2 = epoch();
      const r = await client.call(req, onEvent);
      m.n3 = epoch();
      m.timing = r.timing;
      return r;
    },
  };

  let page, cdp;
  let ready = false;
  const queue = [];
  let rejected = 0;
  const posted = [];
  const asked = new Map(); // webview request id → {type, at}: the host's time per request type
  const hostMs = {};
  const deliver = (m) => {
    const q = m.inReplyTo !== undefined && asked.get(m.inReplyTo);
    if (q && measuring) (hostMs[q.type] ??= []).push(epoch() - q.at);
    if (m.type === 'labelPrediction' && m.inReplyTo !== undefined) {
      const k = mark(m.generation);
      k.n4 = epoch();
      k.maskBytes = m.mask?.length;
      k.mask = m.mask;
    }
    const s = JSON.stringify(toWire(m));
    if (VERBOSE) log(`→ webview ${m.type}${m.inReplyTo !== undefined ? ` (reply to ${m.inReplyTo})` : ''}`);
    // straight through CDP (Runtime.evaluate): a third of page.evaluate's overhead per message
    cdp.send('Runtime.evaluate', { expression: `window.__benchDeliver(${JSON.stringify(s)})` }).catch((e) => log(`deliver failed: ${e.message}`));
  };
  let invalidHostPosts = 0;
  const SETUP = 1e6; // ids of the bench's own setup requests: their replies are not the webview's
  const ui = {
    log, pickExport: async () => undefined, withProgress: (_t, work) => work(() => undefined, () => undefined),
    exported: async () => undefined, checkpoints: async () => [], vggWeights: () => undefined,
  };
  const ctl = new LabelController({
    folder, classes: ['person'], tool: 'ProtoLab bench (bench-label-editor)', engine: () => engine, ui,
    post: (m) => {
      // the panel's WebviewHost checks every host message and drops a bad one: so does the bench
      try {
        validateHostMessage(m);
      } catch (e) {
        invalidHostPosts++;
        log(`BUG: host message ${m.type} fails the webview protocol (${e.message}); not sent`);
        return;
      }
      posted.push(m.type === 'labelGridProgress' ? m : { type: m.type });
      if ('inReplyTo' in m && m.inReplyTo >= SETUP) return;
      if (!ready) queue.push(m);
      else deliver(m);
    },
  });
  // panel.ts's receive(): the one validating gate, then the controller
  const receive = (raw) => receiveWebviewMessage(raw, {
    log: (l) => log(`labeling webview ${l}`),
    rejected: (id, reason) => {
      rejected++;
      if (id !== undefined) deliver({ type: 'error', inReplyTo: id, message: `invalid message: ${reason}` });
    },
    ready: () => undefined, // the page said ready before the relay was installed: init is sent below
    request: async (msg) => {
      if (!isLabelWebviewMessage(msg)) {
        ctlPost({ type: 'error', inReplyTo: msg.id, message: `the labeling view does not handle ${msg.type}` });
        return;
      }
      await ctl.handle(msg);
    },
    failed: (msg, e) => ctlPost({ type: 'error', inReplyTo: msg.id, message: String(e?.message ?? e) }),
  });
  const ctlPost = (m) => (ready ? deliver(m) : queue.push(m));

  const { server, url } = await startServer();
  const browser = await launch();
  let result;
  try {
    // ---- the folder in the engine, one support from its truth mask ----
    const t0 = Date.now();
    await ctl.start();
    const hello = client.info;
    const sup = await truth(SUPPORT);
    const png = Buffer.from(encodeIndexPng(sup)).toString('base64');
    await ctl.handle({ type: 'labelSetShapes', id: SETUP, imageId: SUPPORT, generation: 1, shapes: [{ kind: 'mask', png }], redo: [] });
    const until = async (what, f, ms = 300000) => {
      const end = Date.now() + ms;
      while (!f()) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    // the grid pass the new support starts: every other image predicted (features encoded once)
    await until('the grid pass', () => posted.some((m) => m.type === 'labelGridProgress' && m.total > 0 && m.done === m.total));
    console.log(`setup: engine pid ${hello?.pid} backend ${hello?.backend}; folder opened, support ${SUPPORT} set, grid pass done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    // ---- the webview, its messages relayed to the controller ----
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, deviceScaleFactor: 1, colorScheme: 'dark' });
    page = await context.newPage();
    cdp = await context.newCDPSession(page);
    const pageErrors = [];
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    page.on('console', (m) => {
      if ((m.type() === 'error' || m.type() === 'warning') && !m.text().startsWith('Failed to load resource')) pageErrors.push(m.text());
    });
    page.on('response', (r) => {
      if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) pageErrors.push(`${r.status()} ${r.url()}`);
    });
    await page.addInitScript(() => {
      // the relay's end in the page: bytes travel as base64 (decoded natively), then a structured-clone
      // postMessage as VS Code's webview host does
      const fromB64 = Uint8Array.fromBase64 ? (b) => Uint8Array.fromBase64(b) : (b) => Uint8Array.from(atob(b), (c) => c.charCodeAt(0));
      const revive = (x) => {
        if (Array.isArray(x)) return x.map(revive);
        if (x && typeof x === 'object') {
          if (typeof x.$b64 === 'string') return fromB64(x.$b64);
          for (const k of Object.keys(x)) x[k] = revive(x[k]);
        }
        return x;
      };
      window.__benchDeliver = (json) => window.postMessage(revive(JSON.parse(json)), '*');
      // when each prediction reply reaches the page (capture: before the view's own listener paints it)
      window.__benchRecv = {};
      window.addEventListener('message', (e) => {
        const d = e.data;
        if (d && d.type === 'labelPrediction' && d.inReplyTo !== undefined) window.__benchRecv[d.generation] = performance.timeOrigin + performance.now();
      }, true);
    });
    await page.exposeBinding('__protolabRelay', (_src, json, at) => {
      const m = JSON.parse(json);
      if (VERBOSE) log(`← webview ${m.type} ${m.id}`);
      asked.set(m.id, { type: m.type, at: epoch() });
      if (m.type === 'labelSetShapes') {
        currentGen = m.generation;
        const k = mark(m.generation);
        k.pageAt = at;
        k.n1 = epoch();
        k.shapesChars = json.length;
      }
      return receive(m);
    });
    await page.goto(url);
    await page.waitForFunction(() => window.__host && window.__host.posted.length > 0); // ready
    await page.evaluate(() => {
      window.__host.relay = (m) => void window.__protolabRelay(JSON.stringify(m), performance.timeOrigin + performance.now());
    });
    // panel.ts's sendInit()
    ready = true;
    deliver({ type: 'init', view: 'label', settings: fx.settings, trusted: true });
    for (const m of queue.splice(0)) deliver(m);
    // the view opens the grid's first image (least confident first): click the one to label
    await page.waitForFunction(() => window.__protolabLabel?.openId() !== undefined, null, { timeout: 120000 });
    if ((await page.evaluate(() => window.__protolabLabel.openId())) !== OPEN) await page.click(`.tile[data-id="${OPEN}"]`);
    await page.waitForFunction((id) => window.__protolabLabel?.openId() === id && document.querySelector('.canvas-message')?.textContent === '', OPEN, { timeout: 20000 }).catch(async (e) => {
      const seen = await page.evaluate(() => ({ open: window.__protolabLabel?.openId(), message: document.querySelector('.canvas-message')?.textContent })).catch(() => ({}));
      throw new Error(`the webview did not open ${OPEN}: ${JSON.stringify(seen)}; page errors: ${pageErrors.join(' | ')} (${e.message.split('\n')[0]})`);
    });
    await page.waitForTimeout(1000); // the open image's prediction refresh, if any, settles

    // ---- strokes ----
    const t = await truth(OPEN);
    const plan = planStrokes(t, WARMUP + STROKES);
    const client2 = (x, y) => page.evaluate(([x, y]) => window.__protolabLabel.toClient(x, y), [x, y]);
    let label = -1;
    const gens = [];
    let prof;
    for (let i = 0; i < plan.length; i++) {
      const p = plan[i];
      if (i === WARMUP) measuring = true;
      if (PROFILE && i === WARMUP) prof = await startProfiles(context, page);
      if (p.label !== label) {
        await page.keyboard.press(p.label === 1 ? '1' : 'g');
        label = p.label;
      }
      const n0 = await page.evaluate(() => window.__protolabLabel.latencies().length);
      await page.mouse.move(...(await client2(p.x0, p.y)));
      await page.mouse.down();
      await page.mouse.move(...(await client2(p.x1, p.y)), { steps: 6 });
      await page.mouse.up();
      await page.waitForFunction((n) => window.__protolabLabel.latencies().length > n, n0, { timeout: 120000 });
      gens.push(await page.evaluate(() => window.__protolabLabel.generation()));
    }
    await page.waitForTimeout(500); // the last stroke's thumbnail refresh
    measuring = false;
    if (SCREENSHOT) {
      await page.waitForTimeout(3000); // the grid pass after the last stroke repaints the other tiles
      await page.screenshot({ path: SCREENSHOT });
      console.error(`screenshot: ${SCREENSHOT}`);
    }
    if (prof) await prof.stop();
    const lat = (await page.evaluate(() => window.__protolabLabel.latencies())).slice(-STROKES);
    const own = (await page.evaluate(() => window.__protolabLabel.ownLatencies())).slice(-STROKES);
    const recv = await page.evaluate(() => window.__benchRecv);
    const dropped = await page.evaluate(() => window.__protolabLabel.dropped());
    const shapes = await page.evaluate(() => window.__protolabLabel.shapes().length);

    // ---- per stroke ----
    const lastMask = marks.get(gens.at(-1))?.mask;
    const maskSize = lastMask ? (({ width, height }) => `${width}x${height}`)(decodeIndexMask(lastMask)) : null;
    const rows = gens.slice(-STROKES).map((g, i) => {
      const k = marks.get(g) ?? {};
      const rt = k.n3 - k.n2;
      let decode = Infinity;
      for (let j = 0; k.mask && j < 3; j++) {
        const d0 = performance.now();
        decodeIndexMask(k.mask);
        decode = Math.min(decode, performance.now() - d0);
      }
      const row = {
        gen: g, total: lat[i], webview: own[i],
        toHost: k.n1 - k.pageAt,
        controller: k.n4 - k.n1 - rt,
        ipc: rt - (k.timing?.totalMs ?? NaN),
        engineQueue: (k.timing?.totalMs ?? NaN) - (k.timing?.predictMs ?? NaN) - (k.timing?.encodeMs ?? NaN),
        predict: k.timing?.predictMs ?? NaN,
        encode: k.timing?.encodeMs ?? NaN,
        toWebview: recv[g] - k.n4,
        decode: Number.isFinite(decode) ? decode : NaN,
        shapesKB: k.shapesChars / 1024,
        maskKB: k.maskBytes / 1024,
      };
      row.rest = row.total - row.webview - row.toHost - (k.n4 - k.n1) - row.toWebview;
      return row;
    });
    if (VERBOSE) for (const r of rows) console.log(Object.entries(r).map(([k, v]) => `${k} ${typeof v === 'number' ? v.toFixed(1) : v}`).join('  '));
    const col = (k) => rows.map((r) => r[k]);
    const breakdown = {};
    for (const k of ['webview', 'toHost', 'controller', 'ipc', 'engineQueue', 'predict', 'encode', 'toWebview', 'rest', 'decode']) breakdown[k] = r2(median(col(k)));
    const load1 = os.loadavg();
    result = {
      strokes: lat.length, warmup: WARMUP,
      p50_ms: r2(median(lat)), p95_ms: r2(quantile(lat, 0.95)), max_ms: r2(Math.max(...lat)), mean_ms: r2(lat.reduce((a, b) => a + b, 0) / lat.length),
      webview_p50_ms: r2(median(own)), webview_p95_ms: r2(quantile(own, 0.95)),
      predict_p95_ms: r2(quantile(col('predict'), 0.95)),
      breakdown_p50_ms: {
        webview: breakdown.webview, relay_to_host: breakdown.toHost, host_controller: breakdown.controller, engine_ipc: breakdown.ipc,
        engine_queue: breakdown.engineQueue, engine_predict: breakdown.predict, png_encode: breakdown.encode, relay_to_webview: breakdown.toWebview,
        unaccounted: breakdown.rest, png_decode_in_webview_share: breakdown.decode,
      },
      shapes_json_kb_last: r2(rows.at(-1)?.shapesKB), mask_kb_p50: r2(median(col('maskKB'))), mask_size: maskSize, shapes_on_image: shapes,
      host_requests: Object.fromEntries(Object.entries(hostMs).map(([t, xs]) => [t, { n: xs.length, p50_ms: r2(median(xs)) }])),
      dropped, rejected, invalid_host_posts: invalidHostPosts, page_errors: pageErrors.length,
      backend: hello?.backend, images: fs.readdirSync(folder).filter((f) => f.endsWith('.jpg')).length,
      cpu: `${cpus[0]?.model ?? '?'} x ${cpus.length}`, loadavg_start: load0.map((x) => +x.toFixed(2)), loadavg_end: load1.map((x) => +x.toFixed(2)),
    };
    if (pageErrors.length) console.log(`page errors/warnings: ${pageErrors.slice(0, 5).join(' | ')}`);
    await context.close();
  } finally {
    await browser.close().catch(() => undefined);
    server.close();
    await ctl.close().catch(() => undefined);
    await client.stop().catch(() => undefined);
    if (PROFILE) {
      // written when the engine exits: its whole life (the setup's grid pass included)
      const dir = path.join(tmp, 'engine-profile');
      for (const f of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
        const keep = path.join(os.tmpdir(), `protolab-bench-engine-${Date.now()}.cpuprofile`);
        fs.copyFileSync(path.join(dir, f), keep);
        console.log(`engine profile (${keep}), self time over the whole run:`);
        for (const [fn, ms] of selfTimes(JSON.parse(fs.readFileSync(keep, 'utf8'))).slice(0, 16)) console.log(`  ${ms.toFixed(1).padStart(8)} ms  ${fn}`);
      }
    }
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const b = result.breakdown_p50_ms;
  console.log(`stroke → mask painted (real controller + engine, ${result.backend}): p50 ${result.p50_ms} ms, p95 ${result.p95_ms} ms, max ${result.max_ms} ms over ${result.strokes} strokes (+${WARMUP} warm-up)`);
  console.log(`medians: webview ${b.webview} (PNG decode ≈${b.png_decode_in_webview_share}) | relay→host ${b.relay_to_host} | controller ${b.host_controller} | engine IPC ${b.engine_ipc} | engine queue ${b.engine_queue} | predict ${b.engine_predict} | PNG encode ${b.png_encode} | relay→webview ${b.relay_to_webview} | unaccounted ${b.unaccounted} ms`);
  console.log(`payloads: last labelSetShapes ${result.shapes_json_kb_last} KB JSON (${result.shapes_on_image} shapes), mask PNG ${result.mask_kb_p50} KB (${result.mask_size}); dropped ${result.dropped}, rejected ${result.rejected}, invalid host posts ${result.invalid_host_posts}; load average at end ${result.loadavg_end.join(' ')}`);
  console.log(JSON.stringify(result));
}

/** --profile: CPU profiles of the page (CDP) and of this process (the relay, gate, controller and
 *  EngineClient) over the measured strokes; prints the functions with the most self time. */
async function startProfiles(context, page) {
  const inspector = require('inspector');
  const cdp = await context.newCDPSession(page);
  const host = new inspector.Session();
  host.connect();
  const hostSend = (method, params = {}) => new Promise((res, rej) => host.post(method, params, (e, r) => (e ? rej(e) : res(r))));
  for (const send of [(m, p) => cdp.send(m, p), hostSend]) {
    await send('Profiler.enable', {});
    await send('Profiler.setSamplingInterval', { interval: 200 });
    await send('Profiler.start', {});
  }
  return {
    async stop() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'protolab-bench-profile-'));
      for (const [name, send] of [['webview', (m, p) => cdp.send(m, p)], ['host', hostSend]]) {
        const { profile } = await send('Profiler.stop', {});
        fs.writeFileSync(path.join(dir, `${name}.cpuprofile`), JSON.stringify(profile));
        console.log(`${name} profile (${path.join(dir, `${name}.cpuprofile`)}), self time over the measured strokes:`);
        for (const [fn, ms] of selfTimes(profile).slice(0, 14)) console.log(`  ${ms.toFixed(1).padStart(8)} ms  ${fn}`);
      }
      host.disconnect();
    },
  };
}

function selfTimes(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const acc = new Map();
  profile.samples.forEach((id, i) => {
    const f = byId.get(id).callFrame;
    const key = `${f.functionName || '(anonymous)'} ${f.url ? `${path.basename(f.url)}:${f.lineNumber + 1}` : ''}`;
    acc.set(key, (acc.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  return [...acc.entries()].sort((a, b) => b[1] - a[1]);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
