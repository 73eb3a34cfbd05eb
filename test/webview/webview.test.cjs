// The webview bundle in headless chromium with a mocked host (fake-host.js), on real PNG payloads.
'use strict';
const assert = require('assert');
const fx = require('./fixtures.cjs');
const { loadTs, startServer, launch, openPage, screenshot } = require('./harness.cjs');

describe('webview protocol and html (node)', () => {
  const p = loadTs('src/shared/webviewProtocol.ts');
  const { webviewHtml } = loadTs('src/extension/panels/html.ts');

  it('accepts well-formed webview messages and rejects malformed ones with a reason', () => {
    for (const m of [
      { type: 'ready', protocol: 1 },
      { type: 'listEpisodes', id: 1, from: 0, count: 100 },
      { type: 'openEpisode', id: 2, episodeId: 'r0e1', annotation: 'scribble' },
      { type: 'startTraining', id: 3, params: { method: 'panet', fold: 0, ways: 1, shots: 1, steps: 10, lr: 0.001, par: 1, freezeBackbone: false } },
      { type: 'startTraining', id: 6, params: { method: 'pixelmeta', fold: 0, ways: 1, shots: 1, steps: 10, lr: 0.001, par: 0, freezeBackbone: true, supervision: 'image-labels' } },
      { type: 'setSettings', id: 4, settings: { fold: 2 } },
      { type: 'cancel', id: 5, requestId: 2 },
    ]) assert.strictEqual(p.validateWebviewMessage(m), m);
    const bad = [
      [null, /object/], [{ type: 'ready' }, /protocol/], [{ type: 'listEpisodes', id: 1, from: -1, count: 5 }, /from/],
      [{ type: 'openEpisode', id: 1, episodeId: 'r0e1', annotation: 'pencil' }, /annotation/],
      [{ type: 'startTraining', id: 1, params: { method: 'panet', fold: 0, ways: 1, shots: 1, steps: 10, lr: -1, par: 1, freezeBackbone: false } }, /lr/],
      [{ type: 'setSettings', id: 1, settings: { ways: 0 } }, /ways/], [{ type: 'nope', id: 1 }, /unknown/],
      [{ type: 'startTraining', id: 1, params: { method: 'pixelmeta', fold: 0, ways: 1, shots: 1, steps: 10, lr: 0.001, par: 0, freezeBackbone: true, supervision: 'scribbles' } }, /supervision/],
    ];
    for (const [m, re] of bad) assert.throws(() => p.validateWebviewMessage(m), (e) => e instanceof p.WebviewProtocolError && re.test(e.message));
  });

  it('rejects images sent as JSON number arrays', () => {
    const view = { episode: { id: 'r0e1', classes: [1] }, classNames: ['background', 'a'], supports: [], model: {},
      queries: [{ imageId: 'x', width: 1, height: 1, image: [1, 2], gt: new Uint8Array(1), pred: new Uint8Array(1), classIoU: [] }] };
    assert.throws(() => p.validateHostMessage({ type: 'episode', inReplyTo: 1, view }), /binary/);
    view.queries[0].image = new Uint8Array(2);
    assert.ok(p.validateHostMessage({ type: 'episode', inReplyTo: 1, view }));
  });

  it('validates the weak-supervision section of a report (optional; malformed ones rejected with a reason)', () => {
    const msg = (result) => ({ type: 'evalResult', label: 'w.json', result, records: [] });
    assert.ok(p.validateHostMessage(msg(fx.report())), 'a report without weak');
    assert.ok(p.validateHostMessage(msg(fx.weakReport())), 'a report with weak');
    const nanMasks = fx.weakReport();
    nanMasks.weak.pseudoMasks.miou = null; // NaN written as JSON
    assert.ok(p.validateHostMessage(msg(nanMasks)));
    const broken = [
      [(w) => { w.supervision = 'scribbles'; }, /supervision/],
      [(w) => { delete w.parts; }, /parts/],
      [(w) => { w.parts.unknownLabels = 'tvmonitor'; }, /unknownLabels/],
      [(w) => { w.parts.threshold = '0.25'; }, /threshold/],
      [(w) => { w.pseudoMasks.fbiou = '52%'; }, /fbiou/],
      [(w) => { w.pseudoMasks.classIoU = [{ cls: 'x', iou: 1 }]; }, /classIoU/],
    ];
    for (const [edit, re] of broken) {
      const r = fx.weakReport();
      edit(r.weak);
      assert.throws(() => p.validateHostMessage(msg(r)), (e) => e instanceof p.WebviewProtocolError && re.test(e.message), re.source);
    }
  });

  it('validates the meta loss part of metrics rows and the supervision of a run', () => {
    assert.ok(p.validateHostMessage({ type: 'runMetrics', runId: 'r', rows: [{ step: 1, loss: 0.7, meta: 0.7 }] }));
    assert.throws(() => p.validateHostMessage({ type: 'runMetrics', runId: 'r', rows: [{ step: 1, loss: 0.7, meta: 'x' }] }), /meta/);
    assert.ok(p.validateHostMessage({ type: 'runStatus', run: { runId: 'r', state: 'completed', params: { method: 'pixelmeta', supervision: 'image-labels' } } }));
    assert.throws(() => p.validateHostMessage({ type: 'runStatus', run: { runId: 'r', state: 'completed', params: { supervision: 'boxes' } } }), /supervision/);
  });

  it('webviewHtml sets a strict CSP with the nonce and no unsafe-inline', () => {
    const html = webviewHtml({ scriptUri: 'https://x/main.js', cssUri: 'https://x/main.css', nonce: 'abcdefghijklmnop1234', cspSource: 'https://x' });
    assert.match(html, /default-src 'none'/);
    assert.match(html, /script-src 'nonce-abcdefghijklmnop1234'/);
    assert.doesNotMatch(html, /unsafe-inline|unsafe-eval/);
    assert.match(html, /<script nonce="abcdefghijklmnop1234" src="https:\/\/x\/main.js">/);
    assert.throws(() => webviewHtml({ scriptUri: 'a', cssUri: 'b', nonce: 'short', cspSource: 'c' }), /nonce/);
  });
});

describe('webview in headless chromium (mocked host)', function () {
  this.timeout(60000);
  let server, url, browser, fixtures, current;

  before(async () => {
    fixtures = await fx.build();
    ({ server, url } = await startServer());
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
    server?.close();
  });
  afterEach(async () => {
    if (!current) return;
    const { log, context } = current;
    current = null;
    await context.close();
    const csp = [...log.errors, ...log.warnings].filter((t) => /Content Security Policy|Refused to/i.test(t));
    assert.deepStrictEqual(csp, [], 'CSP violations');
    assert.deepStrictEqual(log.pageErrors, [], 'uncaught page errors');
  });

  async function open(auto) {
    current = await openPage(browser, url);
    if (auto) await current.page.evaluate((a) => window.__host.configure(a), auto);
    return current;
  }
  const deliver = (page, msg) => page.evaluate((m) => window.__host.deliver(m), msg);
  const posted = (page, type) => page.evaluate((t) => window.__host.of(t), type);
  const init = (page, view, extra = {}) => deliver(page, { type: 'init', view, settings: fx.settings, datasetInfo: fx.datasetInfo, datasets: [{ label: 'VOC 2012', root: fx.settings.dataset, kind: 'voc' }], checkpoints: ['runs/panet-f2/ckpt-1000.safetensors'], ...extra });
  const pixel = (page, sel, [x, y]) => page.evaluate(({ sel, x, y }) => Array.from(document.querySelector(sel).getContext('2d').getImageData(x, y, 1, 1).data), { sel, x, y });
  const setOpacity = (page, v) => page.evaluate((v) => {
    const s = document.querySelector('input.opacity');
    s.value = String(v);
    s.dispatchEvent(new Event('input'));
  }, v);
  const toggle = (page, layer) => page.click(`vscode-checkbox[data-layer="${layer}"]`);
  const swatch = (page, key) => page.evaluate((k) => {
    const m = /rgb\((\d+), (\d+), (\d+)\)/.exec(getComputedStyle(document.querySelector(`.legend-item[data-key="${k}"] .swatch`)).backgroundColor);
    return m.slice(1).map(Number);
  }, key);
  const Q = 'canvas.query-canvas[data-query="0"]';

  async function openFixtureEpisode(page) {
    await init(page, 'episodes', { totalEpisodes: 10000 });
    await page.waitForSelector('.vlist-row[data-episode="r0e3"]');
    await page.click('.vlist-row[data-episode="r0e3"]');
    await page.waitForFunction((sel) => { const c = document.querySelector(sel); return c && c.width === 160; }, Q);
  }

  it('posts the ready handshake first and nothing else before init', async () => {
    const { page } = await open();
    await page.waitForTimeout(100);
    const all = await page.evaluate(() => window.__host.posted);
    assert.deepStrictEqual(all, [{ type: 'ready', protocol: 1 }]);
    assert.strictEqual(await page.evaluate(() => window.__host.acquired), 1);
  });

  it('virtualises 10 000 episodes: few rows in the DOM, scrolling fetches further pages', async () => {
    const { page } = await open({ total: 10000 });
    await init(page, 'episodes', { totalEpisodes: 10000 });
    await page.waitForSelector('.vlist-row[data-episode="r0e0"]');
    const rows = await page.locator('.vlist-row').count();
    assert.ok(rows > 10 && rows < 80, `${rows} rows in the DOM`);
    const first = await posted(page, 'listEpisodes');
    assert.deepStrictEqual(first.map((m) => m.from), [0]);
    // scroll to the middle: the page covering row 5000 is asked for, and its rows render
    await page.evaluate(() => { document.querySelector('.vlist').scrollTop = 5000 * 30; });
    await page.waitForSelector('.vlist-row[data-episode="r0e5000"]');
    const froms = (await posted(page, 'listEpisodes')).map((m) => m.from);
    assert.ok(froms.includes(5000), `pages asked: ${froms}`);
    assert.ok(froms.length <= 4, `only visible pages are fetched (${froms})`);
    assert.ok((await page.locator('.vlist-row').count()) < 80);
    // smooth: scrolling through 100 positions keeps every frame's work small
    const ms = await page.evaluate(async () => {
      const el = document.querySelector('.vlist');
      const t0 = performance.now();
      for (let i = 0; i < 100; i++) {
        el.scrollTop = i * 2900;
        await new Promise((r) => requestAnimationFrame(r));
      }
      return (performance.now() - t0) / 100;
    });
    assert.ok(ms < 50, `${ms.toFixed(1)} ms per scrolled frame`);
  });

  it('selecting an episode posts openEpisode and draws its query and supports', async () => {
    const { page } = await open({ total: 10000, episodeView: fixtures.episodeView });
    await openFixtureEpisode(page);
    const reqs = await posted(page, 'openEpisode');
    assert.strictEqual(reqs.length, 1);
    assert.strictEqual(reqs[0].episodeId, 'r0e3');
    assert.strictEqual(reqs[0].annotation, 'dense');
    assert.strictEqual(await page.locator('canvas.support-canvas').count(), 2);
    const legend = await page.locator('.legend-item').allTextContents();
    assert.deepStrictEqual(legend, ['person', 'dog']);
  });

  it('overlay toggles change the canvas pixels; opacity blends', async () => {
    const { page } = await open({ total: 10000, episodeView: fixtures.episodeView });
    await openFixtureEpisode(page);
    await setOpacity(page, 100);
    const person = await swatch(page, 'c15');
    assert.deepStrictEqual((await pixel(page, Q, fx.PX.tp)).slice(0, 3), person, 'prediction drawn at a TP pixel');
    const imgAtFn = (await pixel(page, Q, fx.PX.fn)).slice(0, 3);
    assert.notDeepStrictEqual(imgAtFn, person, 'no prediction at an FN pixel');
    await toggle(page, 'pred');
    const bare = (await pixel(page, Q, fx.PX.tp)).slice(0, 3);
    assert.notDeepStrictEqual(bare, person, 'prediction off ⇒ image shows');
    await toggle(page, 'gt');
    assert.deepStrictEqual((await pixel(page, Q, fx.PX.fn)).slice(0, 3), person, 'ground truth drawn at an FN pixel');
    assert.notDeepStrictEqual((await pixel(page, Q, fx.PX.fp)).slice(0, 3), person, 'no truth at an FP pixel');
    await setOpacity(page, 50);
    const half = (await pixel(page, Q, fx.PX.fn)).slice(0, 3);
    for (let i = 0; i < 3; i++) assert.ok(Math.abs(half[i] - (imgAtFn[i] + person[i]) / 2) <= 2, `50% opacity blends (${half} vs ${imgAtFn}/${person})`);
    await toggle(page, 'gt');
    await toggle(page, 'pseudo');
    await setOpacity(page, 100);
    assert.deepStrictEqual((await pixel(page, Q, [50, 40])).slice(0, 3), person, 'pseudo-mask drawn');
    assert.notDeepStrictEqual((await pixel(page, Q, [42, 40])).slice(0, 3), person, 'outside the pseudo-mask');
    await toggle(page, 'pseudo');
    assert.deepStrictEqual((await pixel(page, Q, fx.PX.tp)).slice(0, 3), bare, 'all layers off ⇒ the image');
  });

  it('error map colours false positives and false negatives differently at the right pixels', async () => {
    const { page } = await open({ total: 10000, episodeView: fixtures.episodeView });
    await openFixtureEpisode(page);
    await setOpacity(page, 100);
    await toggle(page, 'pred');
    const tpBefore = (await pixel(page, Q, fx.PX.tp)).slice(0, 3);
    await toggle(page, 'error');
    const fp = await swatch(page, 'fp'), fn = await swatch(page, 'fn');
    assert.deepStrictEqual(fp, [241, 76, 76], 'FP = the theme error colour');
    assert.deepStrictEqual(fn, [55, 148, 255], 'FN = the theme info colour');
    assert.deepStrictEqual((await pixel(page, Q, fx.PX.fp)).slice(0, 3), fp, 'FP pixel (person predicted on background)');
    assert.deepStrictEqual((await pixel(page, Q, fx.PX.chairFp)).slice(0, 3), fp, 'FP pixel (dog predicted on a chair, which is background here)');
    assert.deepStrictEqual((await pixel(page, Q, fx.PX.fn)).slice(0, 3), fn, 'FN pixel (person predicted as background)');
    assert.deepStrictEqual((await pixel(page, Q, fx.PX.tp)).slice(0, 3), tpBefore, 'TP pixel untouched');
    // count every error pixel against the fixture's geometry
    const counts = await page.evaluate(({ sel, fp, fn }) => {
      const d = document.querySelector(sel).getContext('2d').getImageData(0, 0, 160, 120).data;
      let nfp = 0, nfn = 0;
      for (let i = 0; i < d.length; i += 4) {
        if (d[i] === fp[0] && d[i + 1] === fp[1] && d[i + 2] === fp[2]) nfp++;
        if (d[i] === fn[0] && d[i + 1] === fn[1] && d[i + 2] === fn[2]) nfn++;
      }
      return { nfp, nfn };
    }, { sel: Q, fp, fn });
    const { gt, pred } = fixtures.raw;
    let efp = 0, efn = 0;
    for (let i = 0; i < gt.length; i++) {
      if (gt[i] === 255) continue;
      const t = fx.CLASSES.includes(gt[i]) ? gt[i] : 0;
      if (t === pred[i]) continue;
      if (t === 0) efp++;
      else if (pred[i] === 0) efn++;
    }
    assert.deepStrictEqual(counts, { nfp: efp, nfn: efn });
    const legend = await page.locator('.legend-item').allTextContents();
    assert.ok(legend.includes('false positive') && legend.includes('false negative') && legend.includes('wrong class'), legend.join(','));
    await setOpacity(page, 60);
    await toggle(page, 'pred');
    await screenshot(page, 'episodes-error-map');
  });

  it('looks right with the prediction overlay (screenshot)', async () => {
    const { page } = await open({ total: 10000, episodeView: fixtures.episodeView });
    await openFixtureEpisode(page);
    // an eval's records give the rows their per-class IoU
    await deliver(page, { type: 'evalResult', label: 'panet-fold2.json', result: fx.report(), records: fx.records(300) });
    await page.waitForSelector('.vlist-row[data-episode="r0e3"] .iou-badge');
    const badge = await page.locator('.vlist-row[data-episode="r0e3"] .iou-badge').first().textContent();
    assert.strictEqual(badge, '1.0');
    await toggle(page, 'gt');
    await screenshot(page, 'episodes');
  });

  it('runs an eval with progress, streamed IoUs and cancel', async () => {
    const { page } = await open({ total: 10000, ack: true });
    await init(page, 'episodes', { totalEpisodes: 10000 });
    await page.waitForSelector('.vlist-row[data-episode="r0e0"]');
    await page.click('vscode-button.run-eval');
    const [req] = await posted(page, 'runEval');
    assert.ok(req);
    await deliver(page, { type: 'progress', requestId: req.id, done: 40, total: 5000 });
    await page.waitForFunction(() => /40 \/ 5000/.test(document.querySelector('.progress-text').textContent));
    await deliver(page, { type: 'evalRecords', requestId: req.id, records: fx.records(5).map((r) => ({ ...r, classIoU: [0.25, 0.75] })) });
    await page.waitForSelector('.vlist-row[data-episode="r0e1"] .iou-badge.bad');
    await screenshot(page, 'episodes-eval-progress');
    await page.click('vscode-button.cancel-eval');
    const cancels = await posted(page, 'cancel');
    assert.deepStrictEqual(cancels.map((c) => c.requestId), [req.id]);
    await deliver(page, { type: 'error', inReplyTo: req.id, message: 'cancelled' });
    await page.waitForSelector('.eval-progress[hidden]', { state: 'attached' });
  });

  it('settings bar posts setSettings and a settings reply resets the list', async () => {
    const { page } = await open({ total: 10000 });
    await init(page, 'episodes', { totalEpisodes: 10000 });
    await page.waitForSelector('.vlist-row[data-episode="r0e0"]');
    await page.evaluate(() => {
      const f = document.querySelector('vscode-textfield[data-setting="shots"]');
      f.value = '5';
      f.dispatchEvent(new Event('change'));
    });
    const [req] = await posted(page, 'setSettings');
    assert.deepStrictEqual(req.settings, { shots: 5 });
    await page.evaluate(() => window.__host.configure({ total: 2000 }));
    await deliver(page, { type: 'settings', inReplyTo: req.id, settings: { ...fx.settings, shots: 5 }, totalEpisodes: 2000 });
    await page.waitForFunction(() => document.querySelector('.count').textContent === '(2,000)');
  });

  it('failure browser: worst first, class filter, confusion cell → episodes, click opens', async () => {
    const { page } = await open({ episodeView: fixtures.episodeView });
    await init(page, 'failures');
    await deliver(page, { type: 'evalResult', label: 'panet-fold2.json', result: fx.report(), records: fx.records(300) });
    await page.waitForSelector('.vlist-row[data-record]');
    const scores = await page.$$eval('.vlist-row[data-record]', (rs) => rs.map((r) => [r.dataset.record, Number(r.querySelector('.score').textContent)]));
    assert.strictEqual(scores[0][0], 'r0e3', 'worst episode first');
    for (let i = 1; i < scores.length; i++) assert.ok(scores[i][1] >= scores[i - 1][1], `sorted: ${scores[i - 1]} then ${scores[i]}`);
    // heatmap: background row/col and the chair row exist; chair → diningtable holds the sum
    const cell = page.locator('td.cell[data-true="9"][data-pred="11"]');
    assert.strictEqual(await cell.getAttribute('data-pixels'), String(900 + 120 + 40));
    assert.strictEqual(await page.locator('td.cell[data-true="0"][data-pred="0"]').getAttribute('data-pixels'), '0');
    await cell.click();
    await page.waitForFunction(() => document.querySelectorAll('.vlist-row[data-record]').length === 3);
    const ids = await page.$$eval('.vlist-row[data-record]', (rs) => rs.map((r) => r.dataset.record));
    assert.deepStrictEqual(ids, ['r0e17', 'r0e5', 'r0e42'], 'episodes whose wrong pixels went chair → diningtable, most first');
    await page.click('.vlist-row[data-record="r0e17"]');
    await page.waitForFunction((sel) => document.querySelector(sel)?.width === 160, Q);
    const opens = await posted(page, 'openEpisode');
    assert.deepStrictEqual(opens.map((o) => [o.episodeId, o.query]), [['r0e17', 0]]);
    await screenshot(page, 'failures');
    // clear the cell, then filter by class
    await page.click('vscode-button.clear-cell');
    await page.evaluate(() => {
      const s = document.querySelector('vscode-single-select.class-filter');
      s.value = '13';
      s.dispatchEvent(new Event('change'));
    });
    await page.waitForFunction(() => /^120 of 300/.test(document.querySelector('.summary').textContent));
    const classes = await page.$$eval('.vlist-row[data-record]', (rs) => rs.map((r) => r.textContent));
    assert.ok(classes.every((t) => t.includes('horse')));
  });

  it('report renders mIoU / FB-IoU with std, per-class bars and baselines', async () => {
    const { page } = await open();
    await init(page, 'report');
    await deliver(page, { type: 'evalResult', label: 'panet-fold2.json', result: fx.report(), records: fx.records(50) });
    await page.waitForSelector('.card[data-metric="miou"]');
    assert.strictEqual(await page.textContent('.card[data-metric="miou"] .card-value'), '45.7 ± 1.2');
    assert.strictEqual(await page.textContent('.card[data-metric="fbiou"] .card-value'), '61.2 ± 0.5');
    assert.strictEqual(await page.locator('.class-bar').count(), 5);
    assert.strictEqual(await page.textContent('.class-bar[data-cls="15"] .class-value'), '61.7 ± 1.0');
    const width = await page.$eval('.class-bar[data-cls="15"] .bar-fill', (e) => e.style.width);
    assert.strictEqual(width, '61.67%');
    assert.match(await page.textContent('table.baselines'), /all background0.038.0/);
    await screenshot(page, 'report');
  });

  it('compare shows two reports side by side with per-class and per-episode deltas', async () => {
    const { page } = await open();
    await init(page, 'compare');
    await deliver(page, { type: 'evalResult', label: 'A: panet', result: fx.report(0.4567, 0.6123), records: fx.records(50) });
    await deliver(page, { type: 'evalResult', slot: 'b', label: 'B: pixelmeta', result: fx.report(0.5067, 0.6523), records: fx.records(50, 0.1) });
    await page.waitForSelector('table.compare-classes');
    assert.strictEqual(await page.textContent('tr[data-row="miou"] td.delta'), '+5.0');
    assert.strictEqual(await page.locator('.side-by-side .report').count(), 2);
    assert.strictEqual(await page.locator('.weak, tr[data-row="pseudo-miou"]').count(), 0, 'no weak-supervision section without weak results');
    assert.ok((await page.locator('table.compare-episodes tr[data-episode]').count()) > 10);
    await screenshot(page, 'compare');
  });

  it('runs dashboard: form posts startTraining, curves follow runMetrics, pause/cancel', async () => {
    const { page } = await open({ ack: true });
    await init(page, 'runs');
    await page.evaluate(() => {
      const set = (sel, v) => { const f = document.querySelector(sel); f.value = v; f.dispatchEvent(new Event('change')); };
      set('vscode-textfield.field-steps', '200');
      set('vscode-textfield.field-lr', '0.0005');
      set('vscode-single-select.field-method', 'pixelmeta');
    });
    await page.click('vscode-button.start-training');
    await page.waitForSelector('.run-item[data-run="run-1"]');
    const [start] = await posted(page, 'startTraining');
    // no PAR term in the pixel-level meta-learner: its field is hidden and the run asks for none; its
    // paper's frozen backbone is the form's default once the method is picked
    assert.deepStrictEqual(start.params, { method: 'pixelmeta', fold: 2, ways: 2, shots: 1, steps: 200, lr: 0.0005, par: 0, freezeBackbone: true, supervision: 'masks' });
    assert.strictEqual(await page.$eval('.row-par', (e) => e.getClientRects().length), 0, 'PAR field hidden');
    await deliver(page, { type: 'runStatus', run: { runId: 'run-1', state: 'running', step: 120, steps: 200 } });
    const rows = Array.from({ length: 120 }, (_, i) => ({ step: i + 1, loss: 1.2 * Math.exp(-i / 40) + 0.1 + 0.03 * Math.sin(i), seg: Math.exp(-i / 40) + 0.08, par: 0.2 * Math.exp(-i / 30), lr: 5e-4, ...(i % 20 === 19 ? { valMiou: 0.2 + 0.25 * (1 - Math.exp(-i / 50)) } : {}) }));
    await deliver(page, { type: 'runMetrics', runId: 'run-1', rows: rows.slice(0, 60), reset: true });
    await deliver(page, { type: 'runMetrics', runId: 'run-1', rows: rows.slice(60) });
    await page.waitForSelector('.chart .uplot canvas');
    assert.strictEqual(await page.locator('.chart .uplot').count(), 2);
    await page.waitForFunction(() => !document.querySelector('vscode-button.run-pause').disabled);
    await screenshot(page, 'runs');
    await page.click('vscode-button.run-pause');
    assert.deepStrictEqual((await posted(page, 'pauseTraining')).map((m) => m.runId), ['run-1']);
    await deliver(page, { type: 'runStatus', run: { runId: 'run-1', state: 'paused', step: 120, steps: 200 } });
    await page.waitForFunction(() => !document.querySelector('vscode-button.run-resume').disabled);
    await page.click('vscode-button.run-resume');
    await page.click('vscode-button.run-cancel');
    assert.strictEqual((await posted(page, 'resumeTraining')).length, 1);
    assert.strictEqual((await posted(page, 'cancelTraining')).length, 1);
  });

  it('report with weak supervision: image-label supports, the parts that made the pseudo masks, their own mIoU / FB-IoU', async () => {
    const { page } = await open();
    await init(page, 'report');
    await deliver(page, { type: 'evalResult', label: 'pixelmeta-weak-fold2.json', result: fx.weakReport(), records: fx.records(50) });
    await page.waitForSelector('.report .weak');
    // the model's own numbers stay the headline
    assert.strictEqual(await page.textContent('.card[data-metric="miou"] .card-value'), '33.1 ± 1.2');
    assert.match(await page.textContent('.weak-supervision'), /image-level labels only \(pseudo masks\)/);
    const parts = await page.$$eval('.weak-parts [data-part]', (els) => Object.fromEntries(els.map((e) => [e.dataset.part, e.textContent])));
    assert.deepStrictEqual(parts, { cam: 'CAM mobilenetv2-imagenet-cam', similarity: 'word similarity wordnet-wup', saliency: 'saliency spectral-residual', threshold: 'threshold 0.25' });
    assert.strictEqual(await page.textContent('.weak-unknown'), 'No word similarity for pottedplant, tvmonitor: those masks are the saliency alone.');
    assert.strictEqual(await page.textContent('.card[data-metric="pseudo-miou"] .card-value'), '28.7');
    assert.strictEqual(await page.textContent('.card[data-metric="pseudo-fbiou"] .card-value'), '52.3');
    assert.strictEqual(await page.textContent('.card[data-metric="pseudo-masks"] .card-value'), '1234');
    const classes = await page.$$eval('table.weak-classes tr[data-cls]', (rs) => rs.map((r) => [...r.children].map((c) => c.textContent)));
    assert.deepStrictEqual(classes, [['diningtable', '20.0'], ['dog', '25.0'], ['horse', '30.0'], ['motorbike', '35.0'], ['person', '–']]);
    await screenshot(page, 'report-weak');
    // no unknown labels ⇒ no note
    const known = fx.weakReport();
    known.weak.parts.unknownLabels = [];
    await deliver(page, { type: 'evalResult', label: 'known.json', result: known, records: [] });
    await page.waitForFunction(() => document.querySelector('.report h2')?.textContent === 'known.json');
    assert.strictEqual(await page.locator('.weak').count(), 1);
    assert.strictEqual(await page.locator('.weak-unknown').count(), 0);
  });

  it('report of an evaluation with a COCO-trained backbone shows the engine\'s not-comparable warning; a plain one shows none', async () => {
    const { page } = await open();
    await init(page, 'report');
    const warning = 'not comparable to the papers: backbone nanodet was trained on COCO detection, whose classes include every novel class of PASCAL-5i and COCO-20i';
    await deliver(page, { type: 'evalResult', label: 'nanodet.json', result: { ...fx.report(), backbone: { id: 'nanodet', weightsHash: 'abc', weightsSource: 'models/nanodet', trainedOn: 'COCO detection' }, protocolWarning: warning }, records: fx.records(20) });
    await page.waitForSelector('.report .protocol-warning');
    assert.match(await page.textContent('.report .protocol-warning'), /^Not comparable to the papers: backbone nanodet was trained on COCO detection/);
    await deliver(page, { type: 'evalResult', label: 'panet-fold2.json', result: fx.report(), records: fx.records(20) });
    await page.waitForFunction(() => document.querySelector('.report h2')?.textContent === 'panet-fold2.json');
    assert.strictEqual(await page.locator('.report .protocol-warning').count(), 0);
  });

  it('report without weak supervision shows no pseudo-mask section; compare shows pseudo-mask rows when one side has it', async () => {
    const { page, context } = await open();
    await init(page, 'report');
    await deliver(page, { type: 'evalResult', label: 'panet-fold2.json', result: fx.report(), records: fx.records(50) });
    await page.waitForSelector('.card[data-metric="miou"]');
    assert.strictEqual(await page.locator('.weak, .card[data-metric^="pseudo"]').count(), 0);
    const text = await page.textContent('.report');
    assert.doesNotMatch(text, /pseudo|image-level|word similarity|saliency/i);
    await context.close();
    const { page: p2 } = await open();
    await init(p2, 'compare');
    await deliver(p2, { type: 'evalResult', label: 'A: panet dense', result: fx.report(0.4567, 0.6123), records: fx.records(50) });
    await deliver(p2, { type: 'evalResult', slot: 'b', label: 'B: pixelmeta weak', result: fx.weakReport(0.3312, 0.5588), records: fx.records(50, 0.1) });
    await p2.waitForSelector('table.compare-classes');
    const sides = await p2.$$eval('.side-by-side .report', (rs) => rs.map((r) => r.querySelectorAll('.weak').length));
    assert.deepStrictEqual(sides, [0, 1], 'only report B has the weak-supervision section');
    const cells = await p2.$$eval('tr[data-row="pseudo-miou"] td', (tds) => tds.map((t) => t.textContent));
    assert.deepStrictEqual(cells, ['pseudo-mask mIoU', '–', '28.7', '–']);
    await screenshot(p2, 'compare-weak');
  });

  it('a theme switch (body class) redraws the episode with the new theme colours', async () => {
    const { page } = await open({ total: 10000, episodeView: fixtures.episodeView });
    await page.evaluate(() => document.body.classList.add('vscode-dark'));
    await openFixtureEpisode(page);
    await setOpacity(page, 100);
    await toggle(page, 'error');
    const chip = () => page.$eval('.viewer-title .chip .swatch', (e) => getComputedStyle(e).backgroundColor);
    const dark = { person: await swatch(page, 'c15'), fp: await swatch(page, 'fp'), chip: await chip(), tp: (await pixel(page, Q, fx.PX.tp)).slice(0, 3) };
    assert.deepStrictEqual(dark.tp, dark.person);
    // Light+ variables that apply once the body says vscode-light (VS Code switches both in one go)
    await page.evaluate(() => new Promise((resolve, reject) => {
      const l = document.createElement('link');
      l.rel = 'stylesheet';
      l.href = '/test/theme-light.css';
      l.onload = resolve;
      l.onerror = reject;
      document.head.appendChild(l);
    }));
    assert.deepStrictEqual((await pixel(page, Q, fx.PX.tp)).slice(0, 3), dark.tp, 'nothing changed yet');
    await page.evaluate(() => document.body.classList.replace('vscode-dark', 'vscode-light'));
    await page.waitForFunction((d) => getComputedStyle(document.querySelector('.legend-item[data-key="c15"] .swatch')).backgroundColor !== `rgb(${d.join(', ')})`, dark.person);
    const light = { person: await swatch(page, 'c15'), fp: await swatch(page, 'fp') };
    assert.notDeepStrictEqual(light.person, dark.person, 'person has the light theme colour');
    assert.deepStrictEqual(light.fp, [229, 20, 0], 'FP = Light+ error colour');
    assert.deepStrictEqual((await pixel(page, Q, fx.PX.tp)).slice(0, 3), light.person, 'canvas redrawn: TP pixel in the new person colour');
    assert.deepStrictEqual((await pixel(page, Q, fx.PX.fp)).slice(0, 3), light.fp, 'canvas redrawn: FP pixel in the new error colour');
    assert.strictEqual(await chip(), `rgb(${light.person.join(', ')})`, 'title chip recoloured');
    await screenshot(page, 'episodes-light-theme');
    // and back
    await page.evaluate(() => document.body.classList.replace('vscode-light', 'vscode-dark'));
    await page.waitForFunction((d) => getComputedStyle(document.querySelector('.legend-item[data-key="c15"] .swatch')).backgroundColor === `rgb(${d.join(', ')})`, dark.person);
    assert.deepStrictEqual((await pixel(page, Q, fx.PX.tp)).slice(0, 3), dark.tp);
    assert.deepStrictEqual((await pixel(page, Q, fx.PX.fp)).slice(0, 3), dark.fp);
  });

  it('runs: PAR λ only for PANet; the loss chart draws only the parts a run logs', async () => {
    const { page } = await open({ ack: true });
    await init(page, 'runs');
    const setMethod = (m) => page.evaluate((m) => {
      const f = document.querySelector('vscode-single-select.field-method');
      f.value = m;
      f.dispatchEvent(new Event('change'));
    }, m);
    const parShown = () => page.$eval('.row-par', (e) => e.getClientRects().length > 0);
    assert.strictEqual(await parShown(), true, 'PANet (default): PAR λ shown');
    await setMethod('metasegnet');
    assert.strictEqual(await parShown(), false, 'MetaSegNet: no PAR');
    await setMethod('pixelmeta');
    assert.strictEqual(await parShown(), false, 'pixel-level meta-learner: no PAR');
    const frozen = () => page.$eval('vscode-checkbox.field-freezeBackbone', (e) => e.checked);
    assert.strictEqual(await frozen(), true, 'the pixel-level meta-learner: frozen backbone by default (its paper)');
    await setMethod('panet');
    assert.strictEqual(await frozen(), false, 'PANet trains end to end');
    assert.strictEqual(await parShown(), true);
    assert.strictEqual(await page.$eval('vscode-textfield.field-par', (e) => e.value), '1', 'λ kept while hidden');
    await page.click('vscode-button.start-training');
    await page.waitForSelector('.run-item[data-run="run-1"]');
    assert.strictEqual((await posted(page, 'startTraining'))[0].params.par, 1, 'PANet run asks for its λ');
    await setMethod('metasegnet');
    await page.click('vscode-button.start-training');
    await page.waitForFunction(() => window.__host.of('startTraining').length === 2);
    const second = (await posted(page, 'startTraining'))[1].params;
    assert.deepStrictEqual([second.method, second.par], ['metasegnet', 0]);
    // restored form for a non-PANet method keeps the field hidden
    await page.reload();
    await page.waitForFunction(() => window.__host && window.__host.posted.length > 0);
    await init(page, 'runs');
    await page.waitForSelector('.row-par', { state: 'attached' });
    assert.strictEqual(await parShown(), false, 'restored MetaSegNet form: no PAR');

    const legend = () => page.evaluate(() => [...document.querySelectorAll('.chart')[0].querySelectorAll('.u-legend .u-series .u-label')].map((e) => e.textContent));
    const rows = (n, parts) => Array.from({ length: n }, (_, i) => ({ step: i + 1, loss: 1 / (i + 1), ...Object.fromEntries(parts.map((k) => [k, 0.5 / (i + 1)])) }));
    // MetaSegNet logs the segmentation loss only
    await deliver(page, { type: 'runMetrics', runId: 'metasegnet-run', rows: rows(30, ['seg']), reset: true });
    await page.click('.run-item[data-run="metasegnet-run"]');
    await page.waitForSelector('.chart .uplot');
    assert.deepStrictEqual(await legend(), ['step', 'loss', 'seg']);
    // a PANet run logs seg + PAR
    await deliver(page, { type: 'runMetrics', runId: 'panet-run', rows: rows(30, ['seg', 'par']), reset: true });
    await page.click('.run-item[data-run="panet-run"]');
    await page.waitForFunction(() => document.querySelectorAll('.chart')[0].querySelectorAll('.u-legend .u-series').length === 4);
    assert.deepStrictEqual(await legend(), ['step', 'loss', 'seg', 'PAR']);
    await screenshot(page, 'runs-panet-par');
    // the pixel-level meta-learner logs its meta (prototypical) loss part
    await deliver(page, { type: 'runMetrics', runId: 'pixelmeta-run', rows: rows(30, ['meta']), reset: true });
    await page.click('.run-item[data-run="pixelmeta-run"]');
    await page.waitForFunction(() => document.querySelectorAll('.chart')[0].querySelectorAll('.u-legend .u-series').length === 3);
    assert.deepStrictEqual(await legend(), ['step', 'loss', 'meta']);
    await screenshot(page, 'runs-pixelmeta-meta');
    // a run that logs no parts: the total loss alone
    await deliver(page, { type: 'runMetrics', runId: 'bare-run', rows: rows(30, []), reset: true });
    await page.click('.run-item[data-run="bare-run"]');
    await page.waitForFunction(() => document.querySelectorAll('.chart')[0].querySelectorAll('.u-legend .u-series').length === 2);
    assert.deepStrictEqual(await legend(), ['step', 'loss']);
    assert.strictEqual(await page.locator('.chart .uplot').count(), 2, 'one plot per chart (rebuilt, not stacked)');
    // a run the engine stopped because its loss diverged: a marker series at that step, the state badge, the reason
    const dRows = [...rows(3, ['seg']), { step: 4, loss: 28, divergedLoss: 28, diverged: 'the loss exploded (episode r0e3)' }];
    await deliver(page, { type: 'runMetrics', runId: 'diverged-run', rows: dRows, reset: true });
    await deliver(page, { type: 'runStatus', run: { runId: 'diverged-run', state: 'diverged', step: 3, steps: 20, message: 'diverged at step 4: the loss exploded (episode r0e3); last good checkpoint: step 2' } });
    await page.click('.run-item[data-run="diverged-run"]');
    await page.waitForFunction(() => document.querySelectorAll('.chart')[0].querySelectorAll('.u-legend .u-series').length === 4);
    assert.deepStrictEqual(await legend(), ['step', 'loss', 'seg', 'diverged']);
    assert.strictEqual(await page.locator('.run-item[data-run="diverged-run"] .state-diverged').count(), 1);
    assert.match(await page.locator('.run-status, .status').first().textContent(), /diverged at step 4: the loss exploded/);
    await screenshot(page, 'runs-diverged');
  });

  it('runs: the Supervision select posts with startTraining, is saved with the form, and marks weak runs', async () => {
    const { page } = await open({ ack: true });
    await init(page, 'runs');
    await page.waitForSelector('vscode-single-select.field-supervision');
    const options = await page.$$eval('vscode-single-select.field-supervision vscode-option', (os) => os.map((o) => [o.getAttribute('value'), o.textContent]));
    assert.deepStrictEqual(options, [['masks', 'masks'], ['image-labels', 'image labels (weak)']]);
    assert.strictEqual(await page.$eval('vscode-single-select.field-supervision', (e) => e.value), 'masks', 'masks by default');
    await page.evaluate(() => {
      const set = (sel, v) => { const f = document.querySelector(sel); f.value = v; f.dispatchEvent(new Event('change')); };
      set('vscode-single-select.field-method', 'pixelmeta');
      set('vscode-single-select.field-supervision', 'image-labels');
      set('vscode-textfield.field-steps', '50');
    });
    await page.click('vscode-button.start-training');
    await page.waitForSelector('.run-item[data-run="run-1"]');
    const [start] = await posted(page, 'startTraining');
    assert.strictEqual(start.params.supervision, 'image-labels');
    assert.deepStrictEqual([start.params.method, start.params.steps], ['pixelmeta', 50]);
    // the run is marked weakly supervised in the list and the status line
    assert.strictEqual(await page.$eval('.run-item[data-run="run-1"] .run-weak', (e) => e.textContent), 'image labels');
    assert.match(await page.$eval('.run-status', (e) => e.textContent), /^run-1: starting · image labels/);
    // a run the host reports from its config.json (weak), and one supervised by masks
    await deliver(page, { type: 'runStatus', run: { runId: 'old-weak', state: 'completed', step: 5, steps: 5, params: { method: 'pixelmeta', supervision: 'image-labels' } } });
    await deliver(page, { type: 'runStatus', run: { runId: 'old-dense', state: 'completed', step: 5, steps: 5, params: { method: 'panet' } } });
    await page.waitForSelector('.run-item[data-run="old-dense"]');
    assert.strictEqual(await page.locator('.run-item[data-run="old-weak"] .run-weak').count(), 1);
    assert.strictEqual(await page.locator('.run-item[data-run="old-dense"] .run-weak').count(), 0);
    await page.click('.run-item[data-run="old-dense"]');
    assert.doesNotMatch(await page.$eval('.run-status', (e) => e.textContent), /image labels/);
    // restored with the form
    await page.reload();
    await page.waitForFunction(() => window.__host && window.__host.posted.length > 0);
    await init(page, 'runs');
    await page.waitForSelector('vscode-single-select.field-supervision');
    assert.strictEqual(await page.$eval('vscode-single-select.field-supervision', (e) => e.value), 'image-labels', 'restored');
    await page.click('vscode-button.start-training');
    await page.waitForFunction(() => window.__host.of('startTraining').length === 1);
    assert.strictEqual((await posted(page, 'startTraining'))[0].params.supervision, 'image-labels', 'posted after a restore');
    // back to masks
    await page.evaluate(() => {
      const f = document.querySelector('vscode-single-select.field-supervision');
      f.value = 'masks';
      f.dispatchEvent(new Event('change'));
    });
    await page.click('vscode-button.start-training');
    await page.waitForFunction(() => window.__host.of('startTraining').length === 2);
    assert.strictEqual((await posted(page, 'startTraining'))[1].params.supervision, 'masks');
  });

  it('ignores invalid host messages with a console warning and keeps working', async () => {
    const { page, log } = await open({ total: 10000 });
    const invalid = [
      'not an object', { type: 'bogus' }, { type: 'init', view: 'nowhere', settings: fx.settings },
      { type: 'episodes', inReplyTo: 'x', from: 0, total: 1, episodes: [] },
      { type: 'progress', requestId: 1, done: -1, total: 5 },
      { type: 'runMetrics', runId: 'r', rows: [{ step: 1, loss: 'NaN' }] },
    ];
    for (const m of invalid) await deliver(page, m);
    // an episode whose image came as a JSON number array
    const bad = JSON.parse(JSON.stringify({ ...fixtures.episodeView, queries: [] }));
    bad.queries = [{ imageId: 'q', width: 2, height: 1, image: [1, 2, 3], gt: [0, 0], pred: [0, 0], classIoU: [] }];
    await deliver(page, { type: 'episode', inReplyTo: 99, view: bad });
    await page.waitForTimeout(100);
    const ignored = log.warnings.filter((w) => /ignored an invalid host message/.test(w));
    assert.strictEqual(ignored.length, invalid.length + 1, log.warnings.join('\n'));
    assert.ok(ignored.some((w) => /binary/.test(w)));
    await init(page, 'episodes', { totalEpisodes: 10000 });
    await page.waitForSelector('.vlist-row[data-episode="r0e0"]');
  });

  it('restores the view state after a reload (getState) and from the serializer (init.state)', async () => {
    const { page, context } = await open({ total: 10000, episodeView: fixtures.episodeView });
    await openFixtureEpisode(page);
    await toggle(page, 'error');
    await setOpacity(page, 80);
    await page.evaluate(() => { document.querySelector('.vlist').scrollTop = 40 * 30; });
    await page.waitForFunction(() => window.__host && JSON.parse(sessionStorage.getItem('protolab-test-state')).episodes.scrollTop === 1200);
    const saved = await page.evaluate(() => JSON.parse(sessionStorage.getItem('protolab-test-state')));
    assert.strictEqual(saved.episodes.selected, 'r0e3');
    assert.deepStrictEqual(saved.viewer, { gt: false, pred: true, pseudo: false, error: true, opacity: 0.8 });
    // 1) the webview reloads: getState() has it
    await page.reload();
    await page.waitForFunction(() => window.__host && window.__host.posted.length > 0);
    await page.evaluate((a) => window.__host.configure(a), { total: 10000, episodeView: fixtures.episodeView });
    await init(page, 'episodes', { totalEpisodes: 10000 });
    await page.waitForFunction((sel) => document.querySelector(sel)?.width === 160, Q);
    assert.deepStrictEqual((await posted(page, 'openEpisode')).map((m) => m.episodeId), ['r0e3']);
    assert.strictEqual(await page.$eval('vscode-checkbox[data-layer="error"]', (e) => e.checked), true);
    assert.strictEqual(await page.$eval('input.opacity', (e) => e.value), '80');
    await page.waitForFunction(() => document.querySelector('.vlist').scrollTop === 1200);
    await context.close();
    // 2) VS Code restarts: a fresh webview (empty getState) gets the state from the panel serializer
    current = await openPage(browser, url);
    const p2 = current.page;
    await p2.evaluate((a) => window.__host.configure(a), { total: 10000, episodeView: fixtures.episodeView });
    assert.strictEqual(await p2.evaluate(() => sessionStorage.getItem('protolab-test-state')), null);
    await init(p2, 'episodes', { totalEpisodes: 10000, state: saved });
    await p2.waitForFunction((sel) => document.querySelector(sel)?.width === 160, Q);
    assert.deepStrictEqual((await posted(p2, 'openEpisode')).map((m) => m.episodeId), ['r0e3']);
    assert.strictEqual(await p2.$eval('vscode-checkbox[data-layer="error"]', (e) => e.checked), true);
  });

  it('restores a report view from saved state without the host resending it', async () => {
    const { page } = await open();
    await init(page, 'report');
    await deliver(page, { type: 'evalResult', label: 'panet-fold2.json', result: fx.report(), records: fx.records(20) });
    await page.waitForSelector('.card[data-metric="miou"]');
    await page.reload();
    await page.waitForFunction(() => window.__host && window.__host.posted.length > 0);
    await init(page, 'report');
    await page.waitForSelector('.card[data-metric="miou"]');
    assert.strictEqual(await page.textContent('.card[data-metric="miou"] .card-value'), '45.7 ± 1.2');
  });
});
