// The labeling view (src/webview/views/label) in headless chromium against label-fake-host.mjs, which
// validates every message the webview posts with the real protocol validator and answers with PNGs it
// generates (its prediction: each class's shapes' bounding box, at half resolution). The open image is
// 640×480 at full resolution but displayed from a 320×240 copy, so coordinates that come back in full
// resolution prove the webview converts through the view transform, not through the bitmap.
'use strict';
const assert = require('assert');
const fx = require('./fixtures.cjs');
const { loadTs, startServer, launch, openPage, screenshot } = require('./harness.cjs');

describe('label protocol (node)', () => {
  const p = loadTs('src/shared/webviewProtocol.ts');
  const lp = loadTs('src/shared/webviewLabelProtocol.ts');
  const png = new Uint8Array([137, 80, 78, 71]);
  const rejects = (fn, re) => assert.throws(fn, (e) => e instanceof p.WebviewProtocolError && re.test(e.message), re.source);

  it('accepts every well-formed label message in both directions (through the shared validators)', () => {
    const stroke = { kind: 'stroke', label: 1, radius: 4.5, points: [10.25, 20, 30, 40.5] };
    const good = [
      { type: 'labelSync', id: 1 },
      { type: 'labelOpenImage', id: 2, imageId: 'a/b.jpg' },
      { type: 'labelSetShapes', id: 3, imageId: 'x', generation: 1, redo: [], shapes: [
        stroke, { kind: 'erase', radius: 3, points: [1, 2] }, { kind: 'box', label: 0, x0: 1, y0: 2, x1: 3, y1: 4 },
        { kind: 'polygon', label: 255, points: [0, 0, 10, 0, 5, 5] }, { kind: 'mask', png: 'iVBORw0KGgo=' }] },
      { type: 'labelThumbs', id: 4, imageIds: ['a', 'b'] },
      { type: 'labelSetClasses', id: 5, classes: [{ id: 1, name: 'cat' }, { id: 7, name: 'dog', color: '#aabbcc' }] },
      { type: 'labelAccept', id: 6, imageIds: ['a'] },
      { type: 'labelCountAbove', id: 7, threshold: 0.9 },
      { type: 'labelExport', id: 8, formats: ['voc', 'coco'] },
      { type: 'labelSetOptions', id: 9, method: 'panet' },
      { type: 'labelSetMode', id: 10, mode: 'tags', folderTags: true },
      { type: 'labelSetTags', id: 11, imageId: 'a', tags: ['cat'] },
      { type: 'labelCancelGrid', id: 12, pass: 3 },
      { type: 'labelMetrics', id: 13, strokeToPaintMs: [3.2, 4], webviewMs: [1, 2.5] },
      { type: 'labelUseAsSupport', id: 14, imageId: 'a', support: false },
      { type: 'labelSuggest', id: 15 },
      { type: 'labelAcceptAbove', id: 16, threshold: 0 },
    ];
    for (const m of good) assert.strictEqual(p.validateWebviewMessage(m), m, m.type);
    const info = { id: 'a', name: 'a.jpg', status: 'predicted', confidence: 0.5, rev: 2 };
    const options = { methods: [{ id: 'panet', label: 'PANet' }], backbones: [], checkpoints: [], method: 'panet', backbone: 'mobilenetv2' };
    const hostGood = [
      { type: 'labelState', inReplyTo: 1, classes: [{ id: 1, name: 'cat' }], images: [info, { id: 'b', name: 'b.jpg', status: 'broken', reason: 'truncated' }], options, mode: 'draw', folderTags: false },
      { type: 'labelImage', inReplyTo: 2, imageId: 'a', width: 640, height: 480, image: png, shapes: [stroke], redo: [], generation: 4, mask: png, confidence: 1 },
      { type: 'labelPrediction', imageId: 'a', generation: 5 },
      { type: 'labelThumbs', thumbs: [{ imageId: 'a', image: png.buffer, mask: png }] },
      { type: 'labelImages', images: [info], removed: ['c'] },
      { type: 'labelCount', inReplyTo: 3, threshold: 0.5, count: 7, accepted: false },
      { type: 'labelExported', inReplyTo: 4, folder: '/tmp/x', images: 3, formats: ['coco'] },
      { type: 'labelGridProgress', pass: 1, done: 3, total: 9 },
      { type: 'labelSuggestion', inReplyTo: 5, reason: 'all done' },
    ];
    for (const m of hostGood) assert.strictEqual(p.validateHostMessage(m), m, m.type);
  });

  it('rejects malformed label messages with a reason naming the field', () => {
    const set = (shapes, extra = {}) => ({ type: 'labelSetShapes', id: 1, imageId: 'x', generation: 1, shapes, redo: [], ...extra });
    const cases = [
      [set([{ kind: 'stroke', label: 1, radius: 2, points: [1, 2, 3] }]), /shapes\[0\]\.points must hold x,y pairs/],
      [set([{ kind: 'stroke', label: 254, radius: 2, points: [1, 2] }]), /shapes\[0\]\.label/],
      [set([{ kind: 'stroke', label: 1, radius: 0, points: [1, 2] }]), /radius/],
      [set([{ kind: 'stroke', label: 1, radius: 2, points: [1, NaN] }]), /points\[1\]/],
      [set([{ kind: 'polygon', label: 1, points: [0, 0, 1, 1] }]), /at least 3 points/],
      [set([{ kind: 'box', label: 1, x0: 0, y0: 0, x1: 'a', y1: 1 }]), /x1/],
      [set([{ kind: 'mask', png: 'not base64!' }]), /base64/],
      [set([{ kind: 'blob' }]), /kind/],
      [set([], { generation: 0 }), /generation/],
      [set([], { redo: 'no' }), /redo must be an array/],
      [{ type: 'labelSetClasses', id: 1, classes: [{ id: 1, name: 'cat' }, { id: 2, name: 'Cat' }] }, /used twice/],
      [{ type: 'labelSetClasses', id: 1, classes: [{ id: 254, name: 'x' }] }, /id/],
      [{ type: 'labelCountAbove', id: 1, threshold: 1.5 }, /threshold/],
      [{ type: 'labelExport', id: 1, formats: ['png'] }, /formats/],
      [{ type: 'labelExport', id: 1, formats: [] }, /formats/],
      [{ type: 'labelAccept', id: 1, imageIds: [] }, /empty/],
      [{ type: 'labelSetOptions', id: 1 }, /must change/],
      [{ type: 'labelMetrics', id: 1, strokeToPaintMs: [-1] }, /strokeToPaintMs\[0\]/],
      [{ type: 'labelMetrics', id: 1, strokeToPaintMs: [1, 2], webviewMs: [1] }, /one value per/],
      [{ type: 'labelSync' }, /id/],
    ];
    for (const [m, re] of cases) rejects(() => p.validateWebviewMessage(m), re);
    const hostBad = [
      [{ type: 'labelPrediction', imageId: 'a', generation: 1, mask: [137, 80] }, /mask must be binary.*JSON array/],
      [{ type: 'labelImage', imageId: 'a', width: 0, height: 1, image: png, shapes: [], redo: [], generation: 0 }, /width/],
      [{ type: 'labelImage', imageId: 'a', width: 4, height: 4, image: 'file:///etc/passwd', shapes: [], redo: [], generation: 0 }, /image must be binary/],
      [{ type: 'labelImages', images: [{ id: 'a', name: 'a', status: 'lost' }] }, /status/],
      [{ type: 'labelImages', images: [{ id: 'a', name: 'a', status: 'predicted', confidence: 2 }] }, /confidence/],
      [{ type: 'labelGridProgress', pass: 1, done: 5, total: 4 }, /done must be ≤ total/],
      [{ type: 'labelThumbs', thumbs: [{ imageId: 'a', image: new Uint8Array(0) }] }, /empty/],
      [{ type: 'labelState', classes: [], images: [{ id: 'a', name: 'a', status: 'unlabeled' }, { id: 'a', name: 'b', status: 'unlabeled' }], options: { methods: [], backbones: [], checkpoints: [], method: 'm', backbone: 'b' }, mode: 'draw', folderTags: false }, /used twice/],
      [{ type: 'labelCount', inReplyTo: 1, threshold: 0.5, count: -1, accepted: true }, /count/],
    ];
    for (const [m, re] of hostBad) rejects(() => p.validateHostMessage(m), re);
    assert.ok(lp.isLabelWebviewType('labelSync') && !lp.isLabelWebviewType('listEpisodes'));
  });
});

describe('label view pieces (node)', () => {
  it('ShapeHistory: every edit appends one shape; undo/redo move the last one; generations count changes', () => {
    const { ShapeHistory } = loadTs('src/webview/views/label/history.ts');
    const a = { kind: 'box', label: 1, x0: 0, y0: 0, x1: 1, y1: 1 }, b = { kind: 'erase', radius: 2, points: [1, 1] }, c = { kind: 'mask', png: 'AA==' };
    const h = new ShapeHistory('img', [a], [], 7);
    assert.strictEqual(h.add(b), 8);
    assert.deepStrictEqual([h.list, h.redoList], [[a, b], []]);
    assert.strictEqual(h.undo(), 9);
    assert.strictEqual(h.undo(), 10);
    assert.strictEqual(h.undo(), undefined, 'nothing left to undo: no new generation');
    assert.deepStrictEqual([h.list, h.redoList], [[], [b, a]]);
    assert.strictEqual(h.redo(), 11);
    assert.deepStrictEqual([h.list, h.redoList], [[a], [b]]);
    assert.strictEqual(h.add(c), 12);
    assert.deepStrictEqual([h.list, h.redoList, h.canRedo], [[a, c], [], false], 'a new edit clears redo');
  });

  it('grid order: filter by status, sort by uncertainty (no confidence last) / name (numeric) / status', () => {
    const { arrange, parseTags } = loadTs('src/webview/views/label/grid.ts');
    const im = [
      { id: 'a', name: 'img10.jpg', status: 'predicted', confidence: 0.9 },
      { id: 'b', name: 'img2.jpg', status: 'unlabeled' },
      { id: 'c', name: 'img1.jpg', status: 'predicted', confidence: 0.2 },
      { id: 'd', name: 'img3.jpg', status: 'broken', reason: 'x' },
      { id: 'e', name: 'img4.jpg', status: 'accepted', confidence: 0.5 },
    ];
    const ids = (xs) => xs.map((x) => x.id).join('');
    assert.strictEqual(ids(arrange(im, 'uncertainty', 'all')), 'ceabd');
    assert.strictEqual(ids(arrange(im, 'name', 'all')), 'cbdea');
    assert.strictEqual(ids(arrange(im, 'status', 'all')), 'bcaed');
    assert.strictEqual(ids(arrange(im, 'name', 'predicted')), 'ca');
    assert.deepStrictEqual(parseTags(' cat, dog;;Cat\nbird , '), ['cat', 'dog', 'bird']);
  });

  it('fill: the 4-connected region under the point, at full size, 254 elsewhere', async () => {
    const { floodRegion, fillRegion } = loadTs('src/webview/views/label/fill.ts');
    const { decode } = await import('fast-png');
    // 4×3 mask: two separate 1-regions (diagonal contact only) and a 2
    const m = { width: 4, height: 3, data: Uint8Array.from([1, 0, 0, 2, 0, 1, 1, 0, 0, 1, 0, 0]) };
    const r = floodRegion(m, 1, 1);
    assert.deepStrictEqual([r.label, r.pixels, Array.from(r.region)], [1, 3, [0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 0, 0]]);
    const f = fillRegion(m, 3.5, 3.5, 8, 6); // image 8×6, mask 4×3: image (3.5, 3.5) is mask (1, 1)
    const png = decode(Buffer.from(f.png, 'base64'));
    assert.deepStrictEqual([png.width, png.height, f.label], [8, 6, 1]);
    const at = (x, y) => png.data[y * 8 + x];
    assert.deepStrictEqual([at(2, 2), at(3, 3), at(5, 2), at(2, 5)], [1, 1, 1, 1]);
    assert.deepStrictEqual([at(0, 0), at(6, 0), at(1, 2), at(7, 5)], [254, 254, 254, 254], 'the other 1-region and the rest are left alone');
  });

  it('view transform: zoom keeps the point under the pointer; fit centres; latency ring buffer and meter', () => {
    const { ViewTransform } = loadTs('src/webview/views/label/transform.ts');
    const t = new ViewTransform();
    t.fit(640, 480, 1000, 250, 5); // height-bound: (250 − 2·5) / 480 = 0.5
    assert.deepStrictEqual([t.scale, t.x, t.y], [0.5, 340, 5]);
    const before = t.toImage(400, 300);
    t.zoomAt(3, 400, 300);
    assert.deepStrictEqual(t.toImage(400, 300).map((v) => +v.toFixed(9)), before.map((v) => +v.toFixed(9)));
    assert.strictEqual(t.scale, 1.5);
    t.pan(10, -4);
    assert.deepStrictEqual(t.toScreen(...t.toImage(7, 9)).map((v) => +v.toFixed(9)), [7, 9]);
    const { RingBuffer, quantile, LatencyMeter } = loadTs('src/webview/views/label/metrics.ts');
    const rb = new RingBuffer(3);
    [1, 2, 3, 4, 5].forEach((v) => rb.push(v));
    assert.deepStrictEqual(rb.values(), [3, 4, 5]);
    assert.strictEqual(quantile([5, 1, 4, 2, 3], 0.95), 5);
    assert.strictEqual(quantile([5, 1, 4, 2, 3], 0.5), 3);
    let now = 0;
    const batches = [];
    const m = new LatencyMeter((b, own) => batches.push([b, own]), () => now);
    m.editEnded(1, 0);
    m.editEnded(2, 10);
    now = 12;
    m.posted(2); // 2 ms to post
    now = 25;
    assert.strictEqual(m.painted(2, 22), 15, 'the newest edit painted: 15 ms');
    assert.strictEqual(m.painted(1), undefined, 'older edits are settled by it');
    m.flush();
    assert.deepStrictEqual(batches, [[[15], [5]]], 'own share: 2 ms posting + 3 ms from receipt to paint');
  });

  it('masks: the direct reader of plain index PNGs gives what fast-png gives; filtered, split or damaged ones are handled', () => {
    const { decodeIndexMask, decodePlainIndexPng } = loadTs('src/webview/masks.ts');
    const { encodeIndexPng } = loadTs('src/engine/image/png.ts');
    const { encode, decode } = require('fast-png');
    const zlib = require('zlib');
    const w = 417, h = 301;
    const data = new Uint8Array(w * h).map((_, i) => (((i % w) - 200) ** 2 + (Math.floor(i / w) - 150) ** 2 < 8000 ? 1 : i % w > 400 ? 255 : (i * 7) % 3));
    const m = { width: w, height: h, data };
    const viaFastPng = (png) => {
      const d = decode(png);
      return { width: d.width, height: d.height, data: Uint8Array.from(d.data) };
    };
    // the engine's transit and file encodings, fast-png's grey: read directly, the same as fast-png
    for (const [name, png] of [
      ['engine transit', encodeIndexPng(m, { fast: true })], ['engine file', encodeIndexPng(m)],
      ['fast-png grey', encode({ width: w, height: h, data, depth: 8, channels: 1 })],
    ]) {
      const direct = decodePlainIndexPng(png);
      assert.ok(direct, `${name}: read directly`);
      assert.deepStrictEqual(direct, m, name);
      assert.deepStrictEqual(viaFastPng(png), m, `${name} (fast-png)`);
    }
    // IDAT split in two chunks
    const one = Buffer.from(encodeIndexPng(m, { fast: true }));
    const chunks = [];
    for (let o = 8; o < one.length;) {
      const n = one.readUInt32BE(o);
      chunks.push([one.toString('latin1', o + 4, o + 8), one.subarray(o + 8, o + 8 + n)]);
      o += 12 + n;
    }
    const chunk = ([t, d]) => {
      const b = Buffer.alloc(12 + d.length);
      b.writeUInt32BE(d.length, 0);
      b.write(t, 4, 'latin1');
      d.copy(b, 8);
      b.writeUInt32BE(zlib.crc32 ? zlib.crc32(b.subarray(4, 8 + d.length)) : 0, 8 + d.length);
      return b;
    };
    const build = (list) => Buffer.concat([one.subarray(0, 8), ...list.map(chunk)]);
    const idat = chunks.find(([t]) => t === 'IDAT')[1];
    const split = build(chunks.flatMap(([t, d]) => (t === 'IDAT' ? [['IDAT', d.subarray(0, 100)], ['IDAT', d.subarray(100)]] : [[t, d]])));
    assert.deepStrictEqual(decodePlainIndexPng(split), m, 'two IDAT chunks');
    // rows with a PNG filter (Sub on every other row): left to fast-png, same result
    const rows = Buffer.alloc(h * (w + 1));
    for (let y = 0; y < h; y++) {
      rows[y * (w + 1)] = y % 2;
      for (let x = 0; x < w; x++) rows[y * (w + 1) + 1 + x] = (data[y * w + x] - (y % 2 && x ? data[y * w + x - 1] : 0)) & 255;
    }
    const filtered = build(chunks.map(([t, d]) => (t === 'IDAT' ? [t, zlib.deflateSync(rows)] : [t, d])));
    assert.strictEqual(decodePlainIndexPng(filtered), undefined, 'filtered rows are not read directly');
    assert.deepStrictEqual(decodeIndexMask(filtered), m, 'and decode as before');
    // a header that promises more rows than the stream has, or fewer: not read directly
    const ihdr = (hh) => chunks.map(([t, d]) => (t === 'IHDR' ? [t, Buffer.concat([d.subarray(0, 4), Buffer.from([0, 0, hh >> 8, hh & 255]), d.subarray(8)])] : [t, d]));
    assert.strictEqual(decodePlainIndexPng(build(ihdr(h + 1))), undefined, 'stream shorter than the header says');
    assert.strictEqual(decodePlainIndexPng(build(ihdr(h - 1))), undefined, 'stream longer than the header says');
    assert.strictEqual(decodePlainIndexPng(build(chunks.filter(([t]) => t !== 'IEND'))), undefined, 'no IEND');
    assert.strictEqual(decodePlainIndexPng(Buffer.concat([one.subarray(0, 8), chunk(['IHDR', chunks[0][1]]), chunk(['IDAT', idat.subarray(0, 50)]), chunk(['IEND', Buffer.alloc(0)])])), undefined, 'cut stream');
    assert.throws(() => decodeIndexMask(one.subarray(0, 60)), 'a cut file still fails');
  });

  it('class names: empty, built-in and duplicate names are refused with a reason', () => {
    const { nameProblem } = loadTs('src/webview/views/label/classList.ts');
    const cl = [{ id: 1, name: 'cat' }, { id: 2, name: 'dog' }];
    assert.match(nameProblem('  ', cl), /needs a name/);
    assert.match(nameProblem('Background', cl), /built-in/);
    assert.match(nameProblem('DOG', cl), /already a class "DOG"/);
    assert.strictEqual(nameProblem('Cat', cl, 1), null, 'renaming cat to Cat');
    assert.strictEqual(nameProblem('bird', cl), null);
  });
});

describe('labeling view in headless chromium (label fake host)', function () {
  this.timeout(90000);
  let server, url, browser, current;

  before(async () => {
    ({ server, url } = await startServer());
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
    server?.close();
  });
  afterEach(async () => {
    if (!current) return;
    const { log, context, page } = current;
    current = null;
    const host = await page.evaluate(() => ({ invalid: window.__labelHost.invalid, sentInvalid: window.__labelHost.sentInvalid })).catch(() => ({ invalid: [], sentInvalid: [] }));
    await context.close();
    assert.deepStrictEqual(host.invalid, [], 'every message the webview sent passes the protocol validator');
    assert.deepStrictEqual(host.sentInvalid, [], 'the fake host sends only valid messages');
    const csp = [...log.errors, ...log.warnings].filter((t) => /Content Security Policy|Refused to/i.test(t));
    assert.deepStrictEqual(csp, [], 'CSP violations');
    assert.deepStrictEqual(log.pageErrors, [], 'uncaught page errors');
  });

  const deliver = (page, msg) => page.evaluate((m) => window.__host.deliver(m), msg);
  const posted = (page, type) => page.evaluate((t) => window.__host.of(t), type);
  const hook = (page, fn, ...args) => page.evaluate(({ fn, args }) => window.__protolabLabel[fn](...args), { fn, args });

  async function openLabel(cfg = {}, { reuse } = {}) {
    if (!reuse) current = await openPage(browser, url);
    const { page } = current;
    await page.evaluate((c) => window.__labelHost.configure(c), cfg);
    await deliver(page, { type: 'init', view: 'label', settings: fx.settings });
    await page.waitForFunction(() => window.__protolabLabel?.openId() && document.querySelector('.canvas-message').textContent === '');
    return current;
  }

  /** RGB of the canvas pixel over image point (x, y). */
  const pixel = (page, x, y) => page.evaluate(([x, y]) => {
    const c = document.querySelector('canvas.label-canvas');
    const [cx, cy] = window.__protolabLabel.toClient(x, y);
    const r = c.getBoundingClientRect();
    const d = c.getContext('2d').getImageData(Math.floor((cx - r.left) * devicePixelRatio), Math.floor((cy - r.top) * devicePixelRatio), 1, 1).data;
    return [d[0], d[1], d[2]];
  }, [x, y]);
  const swatch = (page, label) => page.$eval(`.class-item[data-label="${label}"] .swatch`, (e) => getComputedStyle(e).backgroundColor.match(/\d+/g).slice(0, 3).map(Number));
  const client = (page, x, y) => hook(page, 'toClient', x, y);
  async function drag(page, pts, steps = 6) {
    const [x0, y0] = await client(page, ...pts[0]);
    await page.mouse.move(x0, y0);
    await page.mouse.down();
    for (const p of pts.slice(1)) {
      const [x, y] = await client(page, ...p);
      await page.mouse.move(x, y, { steps });
    }
    await page.mouse.up();
  }
  async function clickAt(page, x, y, opts) {
    const [cx, cy] = await client(page, x, y);
    await page.mouse.click(cx, cy, opts);
  }
  /** Set the mask opacity and wait for the redraw (two frames). */
  const setOpacity = (page, v) => page.evaluate((v) => {
    const s = document.querySelector('input.mask-opacity');
    s.value = String(v);
    s.dispatchEvent(new Event('input'));
    return new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  }, v);
  const waitPainted = (page, n) => page.waitForFunction((n) => window.__protolabLabel.painted() >= n, n);
  const lastShapes = async (page) => (await posted(page, 'labelSetShapes')).at(-1);
  const near = (a, b, tol, what) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b} (±${tol})`);
  const same = (a, b, tol = 2) => a.every((v, i) => Math.abs(v - b[i]) <= tol);

  it('handshake: ready, then labelSync; opens the least confident image of the grid', async () => {
    const { page } = await openLabel();
    const all = await page.evaluate(() => window.__host.posted.map((m) => m.type));
    assert.deepStrictEqual(all.slice(0, 3), ['ready', 'labelSync', 'labelOpenImage']);
    assert.strictEqual((await posted(page, 'labelOpenImage'))[0].imageId, 'img00000', 'confidence 0: first by uncertainty');
    assert.strictEqual(await page.textContent('.image-name'), 'photo_00000.jpg');
    assert.deepStrictEqual(await page.$$eval('.class-item .class-name', (es) => es.map((e) => e.textContent)), ['background', 'cat', 'dog', 'unsure']);
    assert.strictEqual(await page.$eval('vscode-single-select.label-method', (e) => e.value), 'panet');
  });

  it('a mouse stroke → labelSetShapes in full-resolution image pixels → the host mask is painted; undo and redo restore both', async () => {
    const { page } = await openLabel();
    // VS Code's webview preload prevents Ctrl+Z / Ctrl+Y (and forwards them to the workbench) before the page sees them
    await page.evaluate(() => window.addEventListener('keydown', (e) => {
      if ((e.ctrlKey || e.metaKey) && /^[zy]$/i.test(e.key)) e.preventDefault();
    }, true));
    await setOpacity(page, 100);
    const cat = await swatch(page, 1);
    const before = { off: await pixel(page, 220, 230), on: await pixel(page, 250, 150) };
    assert.ok(!same(before.off, cat, 20) && !same(before.on, cat, 20), 'no cat colour before drawing');
    await drag(page, [[200, 150], [300, 150], [300, 250]]);
    await page.waitForFunction(() => window.__host.of('labelSetShapes').length === 1);
    const m = await lastShapes(page);
    assert.strictEqual(m.imageId, 'img00000');
    assert.strictEqual(m.generation, 1);
    assert.deepStrictEqual(m.redo, []);
    assert.strictEqual(m.shapes.length, 1);
    const s = m.shapes[0];
    assert.deepStrictEqual([s.kind, s.label, s.radius], ['stroke', 1, 8]);
    const pts = s.points;
    assert.ok(pts.length >= 6 && pts.length % 2 === 0, `${pts.length} numbers`);
    // a screen pixel is 640/scale image px: allow one of them
    const tol = await page.evaluate(() => { const [a] = window.__protolabLabel.toClient(0, 0), [b] = window.__protolabLabel.toClient(100, 0); return 100 / (b - a) + 0.01; });
    near(pts[0], 200, tol, 'x0'); near(pts[1], 150, tol, 'y0');
    near(pts.at(-2), 300, tol, 'x end'); near(pts.at(-1), 250, tol, 'y end');
    assert.ok(pts.some((v, i) => i % 2 === 0 && Math.abs(v - 300) < 2 && Math.abs(pts[i + 1] - 150) < 3), 'passes the corner (300, 150)');
    // the fake host predicts cat over the stroke's bounding box: (220, 230) is inside it, far from the stroke
    await waitPainted(page, 1);
    assert.deepStrictEqual(await pixel(page, 220, 230), cat, 'predicted mask painted');
    assert.deepStrictEqual(await pixel(page, 250, 150), cat, 'the stroke itself');
    assert.match(await page.textContent('.image-conf'), /confidence \d+%/);
    await page.waitForFunction(() => document.querySelector('.tile[data-id="img00000"] .tile-status').textContent === 'drawn');
    const stats = await hook(page, 'stats');
    assert.strictEqual(stats.n, 1, 'one latency sample');

    await page.keyboard.press('Control+z');
    await page.waitForFunction(() => window.__host.of('labelSetShapes').length === 2);
    const u = await lastShapes(page);
    assert.strictEqual(u.generation, 2);
    assert.deepStrictEqual(u.shapes, []);
    assert.deepStrictEqual(u.redo, [s]);
    await waitPainted(page, 2);
    assert.deepStrictEqual(await pixel(page, 220, 230), before.off, 'undo: the mask is gone');
    assert.deepStrictEqual(await pixel(page, 250, 150), before.on, 'undo: the stroke is gone');
    assert.strictEqual(await page.$eval('button.undo', (b) => b.disabled), true);

    await page.keyboard.press('Control+Shift+z');
    await page.waitForFunction(() => window.__host.of('labelSetShapes').length === 3);
    const r = await lastShapes(page);
    assert.deepStrictEqual([r.generation, r.shapes, r.redo], [3, [s], []]);
    await waitPainted(page, 3);
    assert.deepStrictEqual(await pixel(page, 220, 230), cat, 'redo: mask back');
    assert.deepStrictEqual(await pixel(page, 250, 150), cat, 'redo: stroke back');
    // Ctrl+Y redoes too
    await page.keyboard.press('Control+z');
    await page.keyboard.press('Control+y');
    await page.waitForFunction(() => window.__host.of('labelSetShapes').length === 5);
    assert.deepStrictEqual((await lastShapes(page)).shapes, [s]);
    await screenshot(page, 'label-stroke');
  });

  it('box and polygon tools (mouse) produce their shapes with the selected label; eraser and unsure too', async () => {
    const { page } = await openLabel();
    const tol = 1;
    await page.keyboard.press('2'); // dog
    await page.keyboard.press('r');
    assert.strictEqual(await page.$eval('button.tool-box', (b) => b.getAttribute('aria-pressed')), 'true');
    await drag(page, [[100, 300], [180, 380]]);
    await page.waitForFunction(() => window.__host.of('labelSetShapes').length === 1);
    const box = (await lastShapes(page)).shapes[0];
    assert.strictEqual(box.kind, 'box');
    assert.strictEqual(box.label, 2);
    near(box.x0, 100, tol, 'x0'); near(box.y0, 300, tol, 'y0'); near(box.x1, 180, tol, 'x1'); near(box.y1, 380, tol, 'y1');
    await waitPainted(page, 1);
    await setOpacity(page, 100);
    assert.deepStrictEqual(await pixel(page, 140, 340), await swatch(page, 2), 'box drawn in the dog colour');

    await page.keyboard.press('1');
    await page.keyboard.press('p');
    for (const [x, y] of [[400, 100], [500, 120], [450, 200]]) await clickAt(page, x, y);
    await clickAt(page, 400.5, 100.5); // the first corner closes it
    await page.waitForFunction(() => window.__host.of('labelSetShapes').length === 2);
    const poly = (await lastShapes(page)).shapes[1];
    assert.deepStrictEqual([poly.kind, poly.label, poly.points.length], ['polygon', 1, 6]);
    [[400, 100], [500, 120], [450, 200]].forEach(([x, y], i) => { near(poly.points[2 * i], x, tol, `px${i}`); near(poly.points[2 * i + 1], y, tol, `py${i}`); });
    // a second polygon closed with a double-click
    for (const [x, y] of [[50, 50], [120, 50]]) await clickAt(page, x, y);
    await clickAt(page, 90, 120, { clickCount: 2 });
    await page.waitForFunction(() => window.__host.of('labelSetShapes').length === 3);
    assert.strictEqual((await lastShapes(page)).shapes[2].points.length, 6, 'double-click closes without a duplicate corner');

    await page.keyboard.press('u');
    await page.keyboard.press('b');
    await drag(page, [[560, 400], [600, 420]]);
    await page.keyboard.press('e');
    await drag(page, [[560, 400], [580, 410]]);
    await page.waitForFunction(() => window.__host.of('labelSetShapes').length === 5);
    const sh = (await lastShapes(page)).shapes;
    assert.deepStrictEqual(sh.slice(3).map((x) => [x.kind, x.label]), [['stroke', 255], ['erase', undefined]]);
    await screenshot(page, 'label-shapes');
  });

  it('the fill tool turns the clicked predicted region into a full-size mask shape', async () => {
    const { page } = await openLabel();
    await drag(page, [[200, 150], [300, 150], [300, 250]]);
    await waitPainted(page, 1);
    await page.keyboard.press('f');
    await clickAt(page, 220, 230);
    await page.waitForFunction(() => window.__host.of('labelSetShapes').length === 2);
    const m = (await lastShapes(page)).shapes[1];
    assert.strictEqual(m.kind, 'mask');
    const { decode } = await import('fast-png');
    const img = decode(Buffer.from(m.png, 'base64'));
    assert.deepStrictEqual([img.width, img.height, img.channels], [640, 480, 1], 'mask at full resolution');
    const at = (x, y) => img.data[y * 640 + x];
    // the predicted box (cat = 1) is the stroke's bounding box [192, 142] – [308, 258] at half resolution
    assert.strictEqual(at(220, 230), 1);
    assert.strictEqual(at(200, 200), 1);
    assert.strictEqual(at(100, 100), 254, 'outside the region: left as it is');
    assert.strictEqual(at(400, 400), 254);
    let inside = 0;
    for (const v of img.data) if (v === 1) inside++;
    near(inside, 116 * 116, 4 * 116, 'region size');
    assert.match(await page.textContent('.label-note'), /Filled a cat region/);
  });

  it('keyboard only: tools by key, arrows move the cursor, Enter paints (pen down / up), fill at the cursor', async () => {
    const { page } = await openLabel();
    await page.focus('canvas.label-canvas');
    await page.keyboard.press('b');
    await page.keyboard.press('2');
    for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowRight');
    await page.keyboard.press('Enter');
    for (let i = 0; i < 4; i++) await page.keyboard.press('ArrowRight');
    for (let i = 0; i < 2; i++) await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => window.__host.of('labelSetShapes').length === 1);
    const s = (await lastShapes(page)).shapes[0];
    // the cursor starts at the image centre (320, 240) and steps half the brush radius (8 / 2 = 4 px)
    assert.deepStrictEqual(s, { kind: 'stroke', label: 2, radius: 8, points: [332, 240, 336, 240, 340, 240, 344, 240, 348, 240, 348, 244, 348, 248] });
    await waitPainted(page, 1);
    // a box from the keyboard: Enter at one corner, Enter at the other
    await page.keyboard.press('r');
    await page.keyboard.press('Enter');
    for (let i = 0; i < 5; i++) await page.keyboard.press('Shift+ArrowLeft'); // 4 × 4 px each
    for (let i = 0; i < 2; i++) await page.keyboard.press('Shift+ArrowDown');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => window.__host.of('labelSetShapes').length === 2);
    assert.deepStrictEqual((await lastShapes(page)).shapes[1], { kind: 'box', label: 2, x0: 268, y0: 248, x1: 348, y1: 280 });
    // fill under the cursor, moved inside the predicted dog box
    await page.keyboard.press('f');
    for (const k of ['ArrowUp', 'ArrowUp', 'ArrowRight', 'ArrowRight']) await page.keyboard.press(k);
    await waitPainted(page, 2);
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => window.__host.of('labelSetShapes').length === 3);
    assert.strictEqual((await lastShapes(page)).shapes[2].kind, 'mask');
    assert.match(await page.textContent('.label-note'), /Filled a dog region/);
    // undo from the keyboard while the canvas has focus
    await page.keyboard.press('Control+z');
    await page.waitForFunction(() => window.__host.of('labelSetShapes').length === 4);
    assert.strictEqual((await lastShapes(page)).shapes.length, 2);
    // polygon: Enter adds corners, Shift+Enter closes
    await page.keyboard.press('p');
    await page.keyboard.press('Enter');
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('Enter');
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('Enter');
    await page.keyboard.press('Shift+Enter');
    await page.waitForFunction(() => window.__host.of('labelSetShapes').length === 5);
    assert.deepStrictEqual((await lastShapes(page)).shapes[2], { kind: 'polygon', label: 2, points: [276, 272, 276, 268, 272, 268] });
    await screenshot(page, 'label-keyboard');
  });

  it('stale replies are dropped: the newest generation wins whatever order the host answers in', async () => {
    const { page } = await openLabel();
    await setOpacity(page, 100);
    const cat = await swatch(page, 1);
    await page.evaluate(() => { window.__labelHost.hold = true; });
    await drag(page, [[100, 100], [150, 100]]);
    await drag(page, [[400, 300], [450, 350]]);
    await page.waitForFunction(() => window.__labelHost.held.length === 2);
    const held = await page.evaluate(() => window.__labelHost.held.map((m) => m.generation));
    assert.deepStrictEqual(held, [1, 2]);
    const painted0 = await hook(page, 'painted');
    await page.evaluate(() => window.__labelHost.release([1])); // generation 2 first
    await waitPainted(page, painted0 + 1);
    // (445, 305): inside the second stroke's box, off the stroke itself: only generation 2 predicts it
    assert.deepStrictEqual(await pixel(page, 445, 305), cat, 'generation 2 painted');
    await page.evaluate(() => window.__labelHost.release([0])); // then the stale generation 1
    await page.waitForFunction(() => window.__protolabLabel.dropped() === 1);
    await page.waitForTimeout(50);
    assert.strictEqual(await hook(page, 'painted'), painted0 + 1, 'generation 1 never painted');
    assert.deepStrictEqual(await pixel(page, 445, 305), cat, 'still generation 2\'s mask');
  });

  it('ignores malformed host messages (with a warning) and keeps drawing', async () => {
    const { page, log } = await openLabel();
    const bad = [
      { type: 'labelPrediction', imageId: 'img00000', generation: 99, mask: [137, 80, 78, 71] },
      { type: 'labelPrediction', imageId: 'img00000', generation: 99, confidence: 7 },
      { type: 'labelImages', images: [{ id: 'img00001', name: 'x', status: 'bogus' }] },
      { type: 'labelThumbs', thumbs: [{ imageId: 'img00001', image: 'AAAA' }] },
      { type: 'labelGridProgress', pass: 1, done: 9, total: 2 },
      { type: 'labelClasses', classes: [{ id: 0, name: 'zero' }] },
      { type: 'labelState', classes: [], images: 'all', options: {}, mode: 'draw', folderTags: false },
    ];
    for (const m of bad) await deliver(page, m);
    // well-formed but not a PNG: reaches the view, which keeps the old mask and says so in the console
    await deliver(page, { type: 'labelPrediction', imageId: 'img00000', generation: 99, mask: { $b64: 'AAAAAAAA' } });
    await page.waitForTimeout(100);
    const ignored = log.warnings.filter((w) => /ignored an invalid host message/.test(w));
    assert.strictEqual(ignored.length, bad.length, log.warnings.join('\n'));
    assert.ok(log.warnings.some((w) => /not an index PNG/.test(w)), 'undecodable mask reported');
    assert.deepStrictEqual(await page.$$eval('.class-item .class-name', (es) => es.map((e) => e.textContent)), ['background', 'cat', 'dog', 'unsure'], 'classes untouched');
    await setOpacity(page, 100);
    await drag(page, [[200, 150], [300, 250]]);
    await waitPainted(page, 1);
    assert.deepStrictEqual(await pixel(page, 210, 240), await swatch(page, 1));
  });

  it('grid: 5,000 images virtualised, thumbnails fetched for the visible window only, scroll to the end', async () => {
    const { page } = await openLabel({ count: 5000, broken: [3, 4999] });
    await page.waitForSelector('.tile[data-id="img00000"]');
    assert.strictEqual(await page.textContent('.grid-count'), '5,000 images');
    const tiles = await page.locator('.tile').count();
    assert.ok(tiles > 4 && tiles < 80, `${tiles} tiles in the DOM`);
    await page.waitForFunction(() => window.__labelHost.thumbAsks.length >= 1);
    const asked = await page.evaluate(() => window.__labelHost.thumbAsks.flat());
    assert.ok(asked.length <= tiles, `asked ${asked.length} thumbnails for ${tiles} tiles`);
    await page.waitForFunction(() => !document.querySelector('.tile[data-id="img00000"]').classList.contains('loading'));
    // fling to the end: the window there renders, and only it is fetched
    const ms = await page.evaluate(async () => {
      const el = document.querySelector('.label-grid-list');
      const t0 = performance.now();
      for (let i = 0; i <= 60; i++) {
        el.scrollTop = (i / 60) * el.scrollHeight;
        await new Promise((r) => requestAnimationFrame(r));
      }
      return (performance.now() - t0) / 61;
    });
    const order = await page.evaluate(() => [...document.querySelectorAll('.tile')].map((t) => Number(t.dataset.index)));
    assert.ok(Math.max(...order) === 4999, `last tile rendered (max index ${Math.max(...order)})`);
    assert.ok(await page.locator('.tile').count() < 80);
    await page.waitForFunction(() => window.__labelHost.thumbAsks.flat().length > 0 && ![...document.querySelectorAll('.tile:not(.status-broken)')].some((t) => t.classList.contains('loading')));
    const total = await page.evaluate(() => window.__labelHost.thumbAsks.flat().length);
    assert.ok(total < 200, `${total} thumbnails asked for after scrolling through 5,000`);
    // the broken one at the end says why on hover
    const title = await page.$eval('.tile[data-id="img04999"]', (t) => t.title);
    assert.match(title, /photo_04999\.jpg: not a JPEG/);
    await screenshot(page, 'label-grid-end');
    // smooth: each frame of the fling above stayed small (a loaded machine slows it; quoted in the report)
    assert.ok(ms < 50, `${ms.toFixed(1)} ms per scrolled frame`);
  });

  it('grid: sort by name / status, filter by status, keyboard opens a tile; broken shows its reason', async () => {
    const { page } = await openLabel({ count: 40 });
    // tiles in grid order (the DOM order of recycled rows is not the grid's)
    const names = () => page.$$eval('.tile', (ts) => ts.sort((a, b) => a.dataset.index - b.dataset.index).map((t) => t.dataset.name));
    const setSel = (cls, v) => page.evaluate(({ cls, v }) => { const s = document.querySelector(`vscode-single-select.${cls}`); s.value = v; s.dispatchEvent(new Event('change')); }, { cls, v });
    await setSel('grid-sort', 'name');
    await page.waitForFunction(() => document.querySelector('.tile[data-index="1"]')?.dataset.name === 'photo_00001.jpg');
    assert.strictEqual(await page.textContent('.tile[data-index="1"] .tile-name'), '…_00001.jpg', 'long names keep their end');
    assert.deepStrictEqual((await names()).slice(0, 4), ['photo_00000.jpg', 'photo_00001.jpg', 'photo_00002.jpg', 'photo_00003.jpg']);
    await setSel('grid-filter', 'broken');
    await page.waitForFunction(() => document.querySelectorAll('.tile').length === 1);
    assert.deepStrictEqual(await names(), ['photo_00003.jpg']);
    assert.strictEqual(await page.textContent('.grid-count'), '1 of 40');
    assert.match(await page.$eval('.tile', (t) => t.title), /not a JPEG: unexpected end of file/);
    await setSel('grid-filter', 'unlabeled');
    await page.waitForFunction(() => [...document.querySelectorAll('.tile .tile-status')].every((s) => s.textContent === 'unlabeled'));
    assert.strictEqual(await page.locator('.tile').count(), 16, '40 × 40% unlabeled');
    await setSel('grid-filter', 'all');
    await setSel('grid-sort', 'status');
    await page.waitForFunction(() => document.querySelector('.tile[data-index="0"] .tile-status').textContent === 'unlabeled');
    // keyboard: focus the grid, move right, Enter opens
    await page.focus('.label-grid-list');
    await page.keyboard.press('Home');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('Enter');
    const second = await page.$eval('.tile[data-index="1"]', (t) => t.dataset.id);
    await page.waitForFunction((id) => window.__protolabLabel.openId() === id, second);
    assert.strictEqual(await page.$eval('.tile[data-index="1"]', (t) => t.getAttribute('aria-selected')), 'true');
    // PageDown anywhere else opens the next image in grid order
    await page.focus('canvas.label-canvas');
    await page.keyboard.press('PageDown');
    const third = await page.$eval('.tile[data-index="2"]', (t) => t.dataset.id);
    await page.waitForFunction((id) => window.__protolabLabel.openId() === id, third);
  });

  it('accept, accept-above with the count first, use as support, suggest next, export', async () => {
    const { page } = await openLabel({ count: 40, discs: true });
    await drag(page, [[200, 150], [300, 250]]);
    await waitPainted(page, 1);
    await page.click('vscode-button.label-accept');
    await page.waitForFunction(() => document.querySelector('.image-status').textContent === 'accepted');
    assert.deepStrictEqual((await posted(page, 'labelAccept')).map((m) => m.imageIds), [['img00000']]);
    assert.match(await page.textContent('.label-note'), /Accepted photo_00000\.jpg/);

    // predicted images ≥ 0.9 in the fake host: confidence (i·37 mod 100)/100 for i < 24, excluding the broken 3
    const expected = await page.evaluate(() => window.__labelHost.images.filter((x) => x.status === 'predicted' && x.confidence >= 0.9).length);
    assert.ok(expected > 0);
    await page.click('vscode-button.accept-count');
    await page.waitForSelector('.accept-confirm:not([hidden])');
    assert.strictEqual(await page.textContent('.accept-confirm span'), `Accept ${expected} images with confidence ≥ 0.9?`);
    assert.strictEqual((await posted(page, 'labelAcceptAbove')).length, 0, 'nothing accepted before the confirm');
    await page.click('vscode-button.accept-yes');
    await page.waitForFunction(() => /^Accepted \d+ images?\.$/.test(document.querySelector('.accept-confirm span').textContent));
    assert.deepStrictEqual((await posted(page, 'labelAcceptAbove')).map((m) => m.threshold), [0.9]);
    assert.strictEqual(await page.textContent('.accept-confirm span'), `Accepted ${expected} image${expected === 1 ? '' : 's'}.`);

    await page.click('vscode-button.label-support');
    await page.waitForFunction(() => document.querySelector('vscode-button.label-support').textContent === 'Remove from supports');
    assert.deepStrictEqual((await posted(page, 'labelUseAsSupport')).map((m) => [m.imageId, m.support]), [['img00000', true]]);
    await page.waitForSelector('.tile[data-id="img00000"] .tile-support:not([hidden])');
    assert.strictEqual(await page.locator('.tile .tile-support:not([hidden])').count(), 1, 'only the support is starred');

    await page.click('vscode-button.label-suggest');
    await page.waitForFunction(() => /^Suggested photo_\d+\.jpg: least confident/.test(document.querySelector('.label-note').textContent));
    const suggested = await page.evaluate(() => window.__labelHost.images.filter((x) => x.status === 'predicted').sort((a, b) => a.confidence - b.confidence)[0].id);
    await page.waitForFunction((id) => window.__protolabLabel.openId() === id, suggested);

    await page.click('vscode-checkbox.export-coco');
    await page.click('vscode-button.label-export');
    await page.waitForFunction(() => /^Exported \d+ images? \(VOC\) to \/home\/user\/exports\/photos-voc$/.test(document.querySelector('.label-note').textContent));
    assert.deepStrictEqual((await posted(page, 'labelExport')).map((m) => m.formats), [['voc']], 'only the formats; the host picks the folder');
    await screenshot(page, 'label-actions');
  });

  it('classes: add and rename in place; the host gets the whole list; number keys follow', async () => {
    const { page } = await openLabel();
    await page.click('button.class-add');
    await page.keyboard.type('bird');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => window.__host.of('labelSetClasses').length === 1);
    assert.deepStrictEqual((await posted(page, 'labelSetClasses'))[0].classes, [{ id: 1, name: 'cat' }, { id: 2, name: 'dog' }, { id: 3, name: 'bird' }]);
    await page.waitForSelector('.class-item[data-label="3"][aria-checked="true"]');
    assert.strictEqual(await page.textContent('.class-item[data-label="3"] .class-key'), '3');
    await page.dblclick('.class-item[data-label="1"]');
    await page.keyboard.press('Control+a');
    await page.keyboard.type('kitten');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => window.__host.of('labelSetClasses').length === 2);
    assert.deepStrictEqual((await posted(page, 'labelSetClasses'))[1].classes.map((c) => c.name), ['kitten', 'dog', 'bird']);
    // a duplicate name is refused with a reason, nothing sent
    await page.click('button.class-add');
    await page.keyboard.type('Dog');
    await page.keyboard.press('Enter');
    assert.match(await page.textContent('.label-classes .form-error'), /already a class "Dog"/);
    assert.strictEqual((await posted(page, 'labelSetClasses')).length, 2);
    await page.keyboard.press('3');
    assert.strictEqual(await page.$eval('.class-item[data-label="3"]', (e) => e.getAttribute('aria-checked')), 'true');
  });

  it('restores after a reload: the open image and view from setState, shapes and undo from the host', async () => {
    const { page } = await openLabel({ count: 40 });
    const pick = await page.$eval('.tile[data-index="3"]', (t) => t.dataset.id);
    await page.click(`.tile[data-id="${pick}"]`);
    await page.waitForFunction((id) => window.__protolabLabel.openId() === id && document.querySelector('.canvas-message').textContent === '', pick);
    await drag(page, [[200, 150], [300, 250]]);
    await page.keyboard.press('2');
    await drag(page, [[400, 300], [450, 320]]);
    await page.keyboard.press('Control+z');
    await page.waitForFunction(() => window.__host.of('labelSetShapes').length === 3);
    await page.mouse.move(...(await client(page, 320, 240)));
    await page.mouse.wheel(0, -300); // zoom in at the image centre
    await page.waitForFunction(() => JSON.parse(sessionStorage.getItem('protolab-test-state') || '{}').label?.transform?.scale > 1.5);
    const saved = await page.evaluate(() => JSON.parse(sessionStorage.getItem('protolab-test-state')).label);
    const host = await page.evaluate((id) => window.__labelHost.state.get(id), pick);
    assert.strictEqual(host.generation, 3);
    assert.strictEqual(host.shapes.length, 1);
    assert.strictEqual(host.redo.length, 1);
    const onStroke = await client(page, 250, 200);
    await page.reload();
    await page.waitForFunction(() => window.__host && window.__host.posted.length > 0);
    // the host kept the shapes (the fake host forgets on reload: hand it what it stored)
    await openLabel({ count: 40, preset: { [pick]: host } }, { reuse: true });
    assert.strictEqual(await hook(page, 'openId'), pick, 'the saved open image, not the least confident one');
    const t = await page.evaluate(() => window.__protolabLabel.toClient(250, 200));
    assert.deepStrictEqual(t.map(Math.round), onStroke.map(Math.round), 'same zoom and pan');
    await setOpacity(page, 100);
    assert.deepStrictEqual(await pixel(page, 250, 200), await swatch(page, 1), 'the stroke is drawn again');
    assert.strictEqual(await page.$eval('button.redo', (b) => b.disabled), false, 'redo available');
    await page.keyboard.press('Control+Shift+z');
    await page.waitForFunction(() => window.__host.of('labelSetShapes').length === 1);
    const r = await lastShapes(page);
    assert.strictEqual(r.generation, 4, 'generations continue from the host\'s');
    assert.deepStrictEqual(r.shapes, [...host.shapes, ...host.redo]);
    assert.deepStrictEqual(saved.tool, 'brush');
  });

  it('image tags mode: a field per image, pseudo masks come back into the grid; sub-folder toggle', async () => {
    const { page } = await openLabel({ count: 12 });
    await page.evaluate(() => { const s = document.querySelector('vscode-single-select.label-mode'); s.value = 'tags'; s.dispatchEvent(new Event('change')); });
    await page.waitForFunction(() => window.__host.of('labelSetMode').length === 1);
    assert.deepStrictEqual((await posted(page, 'labelSetMode'))[0], { type: 'labelSetMode', id: (await posted(page, 'labelSetMode'))[0].id, mode: 'tags', folderTags: false });
    await page.waitForSelector('.tile input.tile-tags');
    const id = await page.$eval('.tile:not(.status-broken)', (t) => t.dataset.id);
    await page.fill(`.tile[data-id="${id}"] input.tile-tags`, 'cat, dog ,, Cat');
    await page.press(`.tile[data-id="${id}"] input.tile-tags`, 'Enter');
    await page.waitForFunction(() => window.__host.of('labelSetTags').length === 1);
    const tags = (await posted(page, 'labelSetTags'))[0];
    assert.deepStrictEqual([tags.imageId, tags.tags], [id, ['cat', 'dog']]);
    await page.waitForFunction((id) => /pseudo mask/.test(document.querySelector(`.tile[data-id="${id}"]`)?.title ?? ''), id);
    await screenshot(page, 'label-tags-mode');
    await page.click('vscode-checkbox.label-folder-tags');
    await page.waitForFunction(() => window.__host.of('labelSetMode').length === 2);
    assert.strictEqual((await posted(page, 'labelSetMode'))[1].folderTags, true);
    await page.waitForFunction(() => [...document.querySelectorAll('.tile input.tile-tags')].every((i) => i.hidden));
  });

  it('grid pass progress with cancel; method selector; help overlay on ?', async () => {
    const { page } = await openLabel();
    await deliver(page, { type: 'labelGridProgress', pass: 2, done: 10, total: 40, note: 'PANet · MobileNetV2' });
    await page.waitForSelector('.grid-progress:not([hidden])');
    assert.strictEqual(await page.textContent('.grid-progress-text'), 'Segmenting 10 / 40 · PANet · MobileNetV2');
    await page.click('vscode-button.grid-cancel');
    await page.waitForFunction(() => window.__host.of('labelCancelGrid').length === 1);
    assert.strictEqual((await posted(page, 'labelCancelGrid'))[0].pass, 2);
    await page.waitForSelector('.grid-progress[hidden]', { state: 'attached' });

    await page.evaluate(() => { const s = document.querySelector('vscode-single-select.label-method'); s.value = 'metasegnet'; s.dispatchEvent(new Event('change')); });
    await page.waitForFunction(() => window.__host.of('labelSetOptions').length === 1);
    assert.strictEqual((await posted(page, 'labelSetOptions'))[0].method, 'metasegnet');

    await page.focus('canvas.label-canvas');
    await page.keyboard.press('?');
    await page.waitForSelector('.help-overlay:not([hidden])');
    const text = await page.textContent('.help-overlay');
    for (const k of ['Ctrl+Z', 'Ctrl+Shift+Z / Ctrl+Y', 'Space + drag', 'Shift+Enter']) assert.ok(text.includes(k), k);
    await screenshot(page, 'label-help');
    await page.keyboard.press('Escape');
    await page.waitForSelector('.help-overlay[hidden]', { state: 'attached' });
    assert.strictEqual(await page.evaluate(() => document.activeElement.classList.contains('label-canvas')), true, 'focus back on the canvas');
    // tooltips name the shortcuts; every control has an accessible name
    assert.strictEqual(await page.$eval('button.tool-box', (b) => b.title), 'Box (R)');
    assert.strictEqual(await page.$eval('button.undo', (b) => b.title), 'Undo (Ctrl+Z)');
    // (the inputs inside vscode-elements are theirs: the element itself carries the name)
    const unnamed = await page.$$eval('.view-label button, .view-label input, .view-label [role="radio"], .view-label canvas[tabindex], .view-label vscode-single-select, .view-label vscode-textfield, .view-label vscode-checkbox, .view-label vscode-button',
      (es) => es.filter((e) => e.getRootNode() === document)
        .filter((e) => !(e.getAttribute('aria-label') || e.getAttribute('label') || e.textContent.trim())).map((e) => e.outerHTML.slice(0, 80)));
    assert.deepStrictEqual(unnamed, []);
    // the elements' own inner fields get their names too
    assert.strictEqual(await page.$eval('vscode-textfield.accept-threshold', (e) => e.shadowRoot.querySelector('input').getAttribute('aria-label')), 'Confidence threshold (0 to 1)');
  });

  it('zoom (wheel at the pointer, keys), space-drag pan, fit to view', async () => {
    const { page } = await openLabel();
    const at = (x, y) => hook(page, 'toClient', x, y);
    const c0 = await at(320, 240);
    await page.mouse.move(...c0);
    await page.mouse.wheel(0, -400);
    await page.waitForFunction(() => true);
    await page.waitForTimeout(50);
    const c1 = await at(320, 240);
    assert.ok(Math.abs(c1[0] - c0[0]) < 1 && Math.abs(c1[1] - c0[1]) < 1, 'the point under the pointer stays put');
    const zoomed = (await at(420, 240))[0] - c1[0];
    assert.ok(zoomed > ((await at(420, 240))[0] - c0[0]) * 0.99 && zoomed > 150, `zoomed in (${zoomed} px per 100 image px)`);
    await page.focus('canvas.label-canvas');
    await page.keyboard.down(' ');
    await page.mouse.down();
    await page.mouse.move(c0[0] + 100, c0[1] + 40, { steps: 4 });
    await page.mouse.up();
    await page.keyboard.up(' ');
    const c2 = await at(320, 240);
    assert.ok(Math.abs(c2[0] - c1[0] - 100) < 1 && Math.abs(c2[1] - c1[1] - 40) < 1, `panned by the drag (${c2} vs ${c1})`);
    assert.strictEqual((await posted(page, 'labelSetShapes')).length, 0, 'a pan draws nothing');
    await page.keyboard.press('0');
    const c3 = await at(320, 240);
    const box = await page.$eval('canvas.label-canvas', (c) => { const r = c.getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; });
    assert.ok(Math.abs(c3[0] - box[0]) < 1 && Math.abs(c3[1] - box[1]) < 1, 'fit centres the image');
  });

  it('stroke → painted latency: measured in the webview, kept in ring buffers, reported to the host', async () => {
    const { page } = await openLabel();
    for (let i = 0; i < 20; i++) {
      const y = 40 + i * 20;
      await drag(page, [[60, y], [580, y]], 3);
      await waitPainted(page, i + 1);
    }
    const s = await hook(page, 'stats'), own = await hook(page, 'ownStats');
    assert.strictEqual(s.n, 20);
    assert.strictEqual(own.n, 20);
    console.log(`      stroke end → mask painted, fake host in the same page (its PNG encode included), loaded machine: p50 ${s.p50.toFixed(1)} ms, p95 ${s.p95.toFixed(1)} ms, max ${s.max.toFixed(1)} ms`);
    console.log(`      the webview's own share (post the edit + decode and paint the reply): p50 ${own.p50.toFixed(1)} ms, p95 ${own.p95.toFixed(1)} ms, max ${own.max.toFixed(1)} ms`);
    const lat = await hook(page, 'latencies');
    assert.ok(lat.every((x, i) => x >= 0 && x < 10000), `samples ${lat}`);
    await page.waitForFunction(() => window.__labelHost.metrics.length === 20, null, { timeout: 5000 });
    const reported = await page.evaluate(() => ({ ms: window.__labelHost.metrics, own: window.__labelHost.webviewMs }));
    assert.deepStrictEqual(reported.ms.map((x) => Math.round(x * 1000)), lat.map((x) => Math.round(x * 1000)), 'the host gets every sample');
    assert.strictEqual(reported.own.length, 20);
    assert.ok(reported.own.every((o, i) => o <= reported.ms[i] + 0.001), 'the webview share is part of the loop');
    // the webview's part of the < 50 ms loop (the host's part is the engine's, measured by bench:label)
    assert.ok(own.p95 < 50, `webview share p95 ${own.p95.toFixed(1)} ms`);
  });

  it('looks right in the dark and the light theme (screenshots)', async () => {
    const { page } = await openLabel({ count: 60, discs: true });
    await drag(page, [[200, 150], [300, 150], [300, 250]]);
    await page.keyboard.press('2');
    await drag(page, [[420, 300], [520, 360]]);
    await page.keyboard.press('g');
    await drag(page, [[60, 420], [200, 440]]);
    await waitPainted(page, 3);
    await deliver(page, { type: 'labelGridProgress', pass: 1, done: 23, total: 60 });
    await page.waitForSelector('.grid-progress:not([hidden])');
    await page.waitForFunction(() => ![...document.querySelectorAll('.tile:not(.status-broken)')].some((t) => t.classList.contains('loading')));
    await screenshot(page, 'label-dark');
    await page.evaluate(() => new Promise((resolve, reject) => {
      const l = document.createElement('link');
      l.rel = 'stylesheet';
      l.href = '/test/theme-light.css';
      l.onload = resolve;
      l.onerror = reject;
      document.head.appendChild(l);
    }));
    const darkCat = await swatch(page, 1), darkDog = await swatch(page, 2);
    await page.evaluate(() => document.body.classList.add('vscode-light'));
    await page.waitForFunction((d) => getComputedStyle(document.querySelector('.class-item[data-label="2"] .swatch')).backgroundColor !== `rgb(${d.join(', ')})`, darkDog);
    await setOpacity(page, 100);
    const lightDog = await swatch(page, 2);
    assert.deepStrictEqual(lightDog, [56, 138, 52], 'dog = Light+ charts-green');
    assert.deepStrictEqual(await pixel(page, 470, 330), lightDog, 'the canvas redrawn in the light colours');
    assert.deepStrictEqual(darkCat, await swatch(page, 1), 'cat keeps charts-orange (same in both themes)');
    await setOpacity(page, 50);
    await screenshot(page, 'label-light');
  });
});
