#!/usr/bin/env node
// The labeling webview's share of the draw → mask loop, measured where the user sees it: headless
// chromium, the real bundle (dist/webview), the test harness's fake host answering at once (so the
// numbers are the webview's own overhead plus the fake host's PNG encode, which runs in the same page).
// Draws N mouse strokes on a W×H image, waits for each new mask to be painted, and reads the webview's
// ring buffer (window.__protolabLabel). Also times the fill tool on a large photo (the full-size mask
// shape it encodes) and the grid's scroll through 5,000 thumbnails.
// Usage: npm run bench:label-webview [-- --strokes 50 --size 640x480]
// Last line: one JSON object {strokes, p50_ms, p95_ms, max_ms, webview_p50_ms, webview_p95_ms, webview_max_ms,
// fill_preview_ms, fill_ms, fill_size, grid_frame_ms}.
'use strict';
const { startServer, launch, openPage } = require('../test/webview/harness.cjs');
const fx = require('../test/webview/fixtures.cjs');

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
};
const strokes = Number(arg('strokes', '50'));
const [W, H] = arg('size', '640x480').split('x').map(Number);

async function open(browser, url, cfg) {
  const s = await openPage(browser, url);
  await s.page.evaluate((c) => window.__labelHost.configure(c), cfg);
  await s.page.evaluate((st) => window.__host.deliver({ type: 'init', view: 'label', settings: st }), fx.settings);
  await s.page.waitForFunction(() => window.__protolabLabel?.openId() && document.querySelector('.canvas-message').textContent === '', null, { timeout: 60000 });
  return s;
}

(async () => {
  const { server, url } = await startServer();
  const browser = await launch();
  const out = {};
  try {
    // 1) strokes
    {
      const { page, context } = await open(browser, url, { width: W, height: H });
      const client = (x, y) => page.evaluate(([x, y]) => window.__protolabLabel.toClient(x, y), [x, y]);
      for (let i = 0; i < strokes; i++) {
        const y = H * (0.1 + (0.8 * (i % 40)) / 40);
        await page.mouse.move(...(await client(W * 0.1, y)));
        await page.mouse.down();
        await page.mouse.move(...(await client(W * 0.9, y)), { steps: 4 });
        await page.mouse.up();
        await page.waitForFunction((n) => window.__protolabLabel.painted() >= n, i + 1);
      }
      const s = await page.evaluate(() => window.__protolabLabel.stats());
      const own = await page.evaluate(() => window.__protolabLabel.ownStats());
      Object.assign(out, {
        strokes: s.n, p50_ms: +s.p50.toFixed(2), p95_ms: +s.p95.toFixed(2), max_ms: +s.max.toFixed(2),
        webview_p50_ms: +own.p50.toFixed(2), webview_p95_ms: +own.p95.toFixed(2), webview_max_ms: +own.max.toFixed(2),
      });
      await context.close();
    }
    // 2) fill on a 12-megapixel photo: flood fill + a full-size index PNG
    {
      const fw = 4032, fh = 3024;
      const { page, context } = await open(browser, url, { width: fw, height: fh, display: 0.1, maskScale: 0.1 });
      const client = (x, y) => page.evaluate(([x, y]) => window.__protolabLabel.toClient(x, y), [x, y]);
      await page.mouse.move(...(await client(1000, 1000)));
      await page.mouse.down();
      await page.mouse.move(...(await client(2000, 2000)), { steps: 3 });
      await page.mouse.up();
      await page.waitForFunction(() => window.__protolabLabel.painted() >= 1);
      await page.keyboard.press('f');
      const [x, y] = await client(1200, 1800);
      // preview: the pointerdown handler (region at mask resolution, drawn at once); sent: until the
      // full-size mask shape has been encoded and posted
      const { preview, sent } = await page.evaluate(([x, y]) => new Promise((resolve) => {
        const c = document.querySelector('canvas.label-canvas');
        const opts = { bubbles: true, clientX: x, clientY: y, button: 0, pointerId: 7, isPrimary: true };
        const t0 = performance.now();
        c.dispatchEvent(new PointerEvent('pointerdown', opts));
        const t1 = performance.now();
        c.dispatchEvent(new PointerEvent('pointerup', opts));
        const poll = () => (window.__host.of('labelSetShapes').length === 2 ? resolve({ preview: t1 - t0, sent: performance.now() - t0 }) : setTimeout(poll, 1));
        poll();
      }), [x, y]);
      Object.assign(out, { fill_preview_ms: +preview.toFixed(1), fill_ms: +sent.toFixed(1), fill_size: `${fw}x${fh}` });
      await context.close();
    }
    // 3) the grid: per-frame time while flinging through 5,000 images
    {
      const { page, context } = await open(browser, url, { count: 5000 });
      await page.waitForTimeout(500);
      const ms = await page.evaluate(async () => {
        const el = document.querySelector('.label-grid-list');
        const t0 = performance.now();
        for (let i = 0; i <= 100; i++) {
          el.scrollTop = (i / 100) * el.scrollHeight;
          await new Promise((r) => requestAnimationFrame(r));
        }
        return (performance.now() - t0) / 101;
      });
      Object.assign(out, { grid_frame_ms: +ms.toFixed(1) });
      await context.close();
    }
  } finally {
    await browser.close();
    server.close();
  }
  console.log(`stroke → mask painted (fake host in the page): p50 ${out.p50_ms} ms, p95 ${out.p95_ms} ms, max ${out.max_ms} ms over ${out.strokes} strokes (${W}×${H})`);
  console.log(`the webview's own share (post + decode + paint): p50 ${out.webview_p50_ms} ms, p95 ${out.webview_p95_ms} ms, max ${out.webview_max_ms} ms`);
  console.log(`fill tool on a ${out.fill_size} photo: region shown in ${out.fill_preview_ms} ms, full-size mask shape sent after ${out.fill_ms} ms; grid fling through 5,000 images: ${out.grid_frame_ms} ms per frame`);
  console.log(JSON.stringify(out));
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
