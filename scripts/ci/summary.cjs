#!/usr/bin/env node
// Sums the counts every suite wrote and prints ONE final line, the only one CI reads:
//   "N passed, N failed, N skipped"
// Each suite writes test-output/counts/<suite>.json = {suite, passed, failed, skipped}.
// Usage: node scripts/ci/summary.cjs [--dir test-output/counts] [--expect unit,webview,code-server-e2e,integration]
//   --expect: a listed suite that wrote no counts file counts as 1 failed (a stage that crashed before
//   writing its counts must not vanish from the total). Exit code 1 when the total has failures.
'use strict';
const fs = require('fs');
const path = require('path');

const args = process.argv.slice(2);
const opt = (name, def) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : def; };
const root = path.resolve(__dirname, '../..');
const dir = path.resolve(root, opt('--dir', 'test-output/counts'));
const expect = (opt('--expect', process.env.PROTOLAB_EXPECT_SUITES || '') || '').split(',').map((s) => s.trim()).filter(Boolean);

const total = { passed: 0, failed: 0, skipped: 0 };
const seen = new Set();
const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort() : [];
for (const f of files) {
  const name = f.replace(/\.json$/, '');
  let c;
  try { c = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')); } catch (e) {
    console.log(`  ${name.padEnd(18)} unreadable counts file (${e.message}): 1 failed`);
    total.failed += 1; seen.add(name); continue;
  }
  const n = (k) => (Number.isFinite(Number(c[k])) ? Number(c[k]) : 0);
  seen.add(c.suite || name); seen.add(name);
  total.passed += n('passed'); total.failed += n('failed'); total.skipped += n('skipped');
  console.log(`  ${(c.suite || name).padEnd(18)} ${n('passed')} passed, ${n('failed')} failed, ${n('skipped')} skipped`);
}
for (const s of expect) {
  if (!seen.has(s)) { console.log(`  ${s.padEnd(18)} wrote no counts (crashed or did not run): 1 failed`); total.failed += 1; }
}
if (files.length === 0 && expect.length === 0) { console.log(`  no counts in ${path.relative(root, dir) || dir}: 1 failed`); total.failed += 1; }
console.log(`${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
process.exit(total.failed > 0 ? 1 : 0);
