// Helpers to drive a real VS Code workbench (code-server) with playwright-core + Debian chromium:
// the command palette, quick picks, notifications, webview frames, screenshots, and a tiny step runner
// that counts passed / failed / skipped and writes them for scripts/ci/summary.cjs.
'use strict';
const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');

const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--no-first-run', '--disable-dev-shm-usage'];

async function launch({ viewport = { width: 1440, height: 900 } } = {}) {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
  const page = await browser.newPage({ viewport });
  return { browser, page };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Wait until fn() returns a truthy value (or throw with `what` after timeout ms). */
async function until(fn, { timeout = 30000, interval = 250, what = 'condition' } = {}) {
  const end = Date.now() + timeout;
  let last;
  while (Date.now() < end) {
    try { last = await fn(); if (last) return last; } catch (e) { last = e; }
    await sleep(interval);
  }
  throw new Error(`timed out after ${timeout / 1000}s waiting for ${what}${last instanceof Error ? ` (${last.message.split('\n')[0]})` : ''}`);
}

class Workbench {
  constructor(page, outDir) { this.page = page; this.outDir = outDir; this.shots = []; }

  async open(url) {
    await this.page.goto(url);
    await this.page.waitForSelector('.monaco-workbench', { timeout: 90000 });
  }

  /** Screenshot of the whole workbench into OUT_DIR/<name>.png. */
  async shot(name) {
    const file = path.join(this.outDir, name.replace(/[^\w.-]+/g, '-') + '.png');
    await this.page.screenshot({ path: file });
    this.shots.push(file);
    return file;
  }

  async focusWorkbench() {
    // Give focus back to the workbench, NOT to a webview iframe: a quick pick closes when focus moves,
    // and focus returning into a webview after one pick would close the next. The side bar's title
    // is inert to clicks; the editor area is the fallback when the side bar is hidden.
    const title = this.page.locator('.part.sidebar .composite.title .title-label').first();
    if (await title.isVisible().catch(() => false)) await title.click({ timeout: 2000 }).catch(() => {});
    else await this.page.click('.monaco-workbench .part.editor', { position: { x: 40, y: 40 }, timeout: 2000 }).catch(() => {});
  }

  /** Palette rows for `>text`, without running anything. */
  async paletteRows(text) {
    await this.focusWorkbench();
    await this.page.keyboard.press('Control+Shift+P');
    const input = this.page.locator('.quick-input-widget:visible input.input');
    await input.waitFor({ state: 'visible', timeout: 15000 });
    await input.fill('>' + text);
    await this.page.waitForSelector('.quick-input-list .monaco-list-row', { timeout: 5000 }).catch(() => {});
    await sleep(300);
    // the row's visible label ("ProtoLab: Open"); aria-labels carry extras (", recently used", keybindings)
    return this.page.$$eval('.quick-input-list .monaco-list-row', (r) => r.map((x) => {
      const name = x.querySelector('.label-name');
      return ((name && name.textContent) || x.getAttribute('aria-label') || x.textContent || '').replace(/\s+/g, ' ').trim();
    }));
  }

  /**
   * Run a command by its palette title ("ProtoLab: Open"). Remote extensions register a few seconds after
   * the workbench paints, so retry until the title is the first row.
   */
  async runCommand(title, { timeout = 60000 } = {}) {
    const end = Date.now() + timeout;
    let rows = [];
    while (Date.now() < end) {
      rows = await this.paletteRows(title);
      // exact: "ProtoLab: Open" must not take "ProtoLab: Open Report"
      const i = rows.findIndex((r) => r === title || r.startsWith(title + ','));
      if (i >= 0) {
        for (let k = 0; k < i; k++) await this.page.keyboard.press('ArrowDown');
        await this.page.keyboard.press('Enter');
        return rows[i];
      }
      await this.page.keyboard.press('Escape');
      await sleep(1000);
    }
    throw new Error(`command "${title}" never appeared in the palette (last rows: ${JSON.stringify(rows.slice(0, 3))})`);
  }

  /**
   * A quick pick is open (or about to open): choose the row whose label contains `text`, by typing it
   * into the filter and pressing Enter once that row is the first one (keyboard, not clicks: the list
   * re-renders while one pick replaces the previous one).
   */
  async quickPick(text, { timeout = 30000 } = {}) {
    const rowsSel = '.quick-input-widget:visible .quick-input-list .monaco-list-row';
    const labels = () => this.page.$$eval(rowsSel, (els) => els.map((x) => x.getAttribute('aria-label') || x.textContent || '')).catch(() => []);
    await until(async () => (await labels()).some((l) => l.includes(text)), { timeout, what: `a quick pick row "${text}"` });
    const input = this.page.locator('.quick-input-widget:visible input.input');
    // the widget is briefly inert while one pick replaces the previous one: wait that out
    await until(async () => input.evaluate((el) => !el.closest('[inert]') && document.activeElement === el), { timeout: 10000, what: 'the quick pick input to take focus' });
    await input.fill(text, { timeout: 5000 });
    const first = await until(async () => { const r = await labels(); return r.length && r[0].includes(text) ? r[0] : null; }, { timeout: 10000, what: `"${text}" as the first row` });
    await input.press('Enter');
    // wait for this pick to close or be replaced by the next one
    await until(async () => !(await labels()).includes(first), { timeout: 10000, what: `the quick pick "${text}" to close` });
    return first;
  }

  async quickPickOpen() {
    return this.page.locator('.quick-input-widget:visible').count().then((n) => n > 0);
  }

  /** Texts of the visible notification toasts (and the notification center if open). */
  async notifications() {
    return this.page.$$eval('.notifications-toasts .notification-list-item, .notifications-center .notification-list-item',
      (els) => els.map((e) => (e.getAttribute('aria-label') || e.textContent || '').replace(/\s+/g, ' ').trim()));
  }

  async waitNotification(re, { timeout = 30000 } = {}) {
    return until(async () => (await this.notifications()).find((n) => re.test(n)), { timeout, what: `a notification matching ${re}` });
  }

  /** The first frame (webview content lives in the inner iframe of an iframe) that has `selector`. */
  async frameWith(selector, { timeout = 30000 } = {}) {
    return until(async () => {
      for (const f of this.page.frames()) {
        if (f === this.page.mainFrame()) continue;
        try { if (await f.$(selector)) return f; } catch { /* frame navigated away */ }
      }
      return null;
    }, { timeout, what: `a webview frame with ${selector}` });
  }

  /** The side-bar pane (view) titled `title`, expanded; show its container first ("View: Show ProtoLab"). */
  async pane(title, { timeout = 30000 } = {}) {
    const exact = new RegExp(`^\\s*${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`, 'i');
    const pane = this.page.locator('.part.sidebar .pane').filter({ has: this.page.locator('.pane-header h3.title', { hasText: exact }) }).first();
    const header = pane.locator('.pane-header').first();
    await header.waitFor({ state: 'visible', timeout });
    if ((await header.getAttribute('aria-expanded')) === 'false') await header.click();
    return pane;
  }

  /** A tree row in `pane` whose text matches `re` (waits for it: trees refresh on file events). */
  async treeRow(pane, re, { timeout = 30000 } = {}) {
    const row = pane.locator('.monaco-list-row').filter({ hasText: re }).first();
    await row.waitFor({ state: 'visible', timeout });
    return row;
  }

  /**
   * Right-click `target` (a locator) and click the context-menu entry labelled `label`. The menu is
   * rendered by the workbench (in a shadow root, which Playwright's CSS locators pierce); retried once
   * if it closes before the click lands (focus moving in code-server).
   */
  async contextMenu(target, label, { shot } = {}) {
    const item = this.page.locator('.context-view .monaco-menu .action-item:not(.disabled) .action-label')
      .filter({ hasText: new RegExp(`^\\s*${label}\\s*$`) }).first();
    for (let attempt = 1; ; attempt++) {
      try {
        await target.click({ button: 'right' });
        await item.waitFor({ state: 'visible', timeout: 5000 });
        if (shot) await this.shot(shot);
        await item.click({ timeout: 5000 });
        return;
      } catch (e) {
        if (attempt >= 3) throw new Error(`context menu entry "${label}" could not be clicked: ${e.message.split('\n')[0]}`);
        await this.page.keyboard.press('Escape');
        await sleep(1000);
      }
    }
  }

  /** Status bar text (progress of withProgress in the window location shows here). */
  async statusBar() {
    return this.page.$$eval('.part.statusbar .statusbar-item', (els) => els.map((e) => (e.getAttribute('aria-label') || e.textContent || '').trim()).filter(Boolean));
  }
}

/** A tiny step runner: each step passes, fails (screenshot + message), or is skipped (a step it needs failed). */
class Steps {
  constructor(wb, suite) { this.wb = wb; this.suite = suite; this.results = []; this.t0 = Date.now(); }
  ts() { return ((Date.now() - this.t0) / 1000).toFixed(1).padStart(6) + 's'; }
  ok(name) { return this.results.some((r) => r.name === name && r.status === 'passed'); }
  async step(name, fn, { needs = [] } = {}) {
    const missing = needs.filter((n) => !this.ok(n));
    if (missing.length) {
      this.results.push({ name, status: 'skipped', why: `needs ${missing.join(', ')}` });
      console.log(`${this.ts()}  -  ${name} (skipped: needs ${missing.join(', ')})`);
      return undefined;
    }
    const s = Date.now();
    try {
      const v = await fn();
      this.results.push({ name, status: 'passed', ms: Date.now() - s });
      console.log(`${this.ts()}  ✓  ${name} (${((Date.now() - s) / 1000).toFixed(1)}s)${typeof v === 'string' ? ' — ' + v : ''}`);
      return v;
    } catch (e) {
      this.results.push({ name, status: 'failed', error: e.message });
      console.log(`${this.ts()}  ✗  ${name}\n           ${String(e.message).split('\n').join('\n           ')}`);
      await this.wb.shot('FAILED-' + name).catch(() => {});
      return undefined;
    }
  }
  /** Record a step as skipped on purpose (why is printed). */
  skip(name, why) {
    this.results.push({ name, status: 'skipped', why });
    console.log(`${this.ts()}  -  ${name} (skipped: ${why})`);
  }
  counts() {
    const n = (s) => this.results.filter((r) => r.status === s).length;
    return { suite: this.suite, passed: n('passed'), failed: n('failed'), skipped: n('skipped') };
  }
  finish(countsFile) {
    const c = this.counts();
    if (countsFile) {
      fs.mkdirSync(path.dirname(countsFile), { recursive: true });
      fs.writeFileSync(countsFile, JSON.stringify({ ...c, steps: this.results }, null, 1) + '\n');
    }
    console.log(`${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped  (${this.suite})`);
    return c;
  }
}

module.exports = { launch, until, sleep, Workbench, Steps };
