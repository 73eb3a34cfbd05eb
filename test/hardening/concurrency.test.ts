// Two processes writing the same .protolab/ files at once (two VS Code windows, or a window and a CLI):
// the run lock excludes a second trainer, report and run names cannot be taken twice, atomic writes of
// one file never show a reader half a file, and two processes building the same dataset index caches end
// with one valid cache. Each case races real child processes (node on the compiled engine).
import * as assert from 'assert';
import { spawn } from 'child_process';
import * as os from 'os';
import * as fs from 'fs';
import * as path from 'path';
import { BIN } from '../unit/helpers/cli';
import { readMetrics } from '../../src/engine/train/log';
import { pristine, tempLeftovers, TMP, freshCase } from './helpers/fixtures';
import { countFault } from './helpers/tally';

const ENGINE = path.resolve(__dirname, '../../src/engine');
const EXT = path.resolve(__dirname, '../../src/extension');

interface Done { code: number; out: string; err: string }

function run(args: string[]): Promise<Done> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (err += d));
    c.on('error', reject);
    c.on('close', (code) => resolve({ code: code ?? -1, out, err }));
  });
}

/** A child script in TMP (it requires the compiled engine by absolute path). */
function script(name: string, body: string): string {
  const f = path.join(TMP, 'scripts', `${name}.cjs`);
  fs.mkdirSync(path.dirname(f), { recursive: true });
  fs.writeFileSync(f, `'use strict';\nconst fs = require('fs');\nconst path = require('path');\nconst sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);\n${body}\n`);
  return f;
}

describe('faults: two processes writing the same files at once', function () {
  this.timeout(300000);

  it('the run lock: two processes, 40 critical sections each, starting from a dead process\'s stale lock: never both inside', async () => {
    const dir = path.join(TMP, 'lock-race');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'counter'), '0');
    const dead = await run(['-e', 'console.log(process.pid)']);
    fs.writeFileSync(path.join(dir, '.lock'), JSON.stringify({ pid: Number(dead.out.trim()), host: os.hostname(), since: '2000-01-01T00:00:00Z', purpose: 'training' }));
    const worker = script('lock-worker', `
      const { acquireLock } = require(${JSON.stringify(path.join(ENGINE, 'lock.js'))});
      const [dir, n, tag] = process.argv.slice(2);
      // a start line: on a loaded machine one process could finish all its sections before the other
      // has even started, and then nothing was raced
      fs.writeFileSync(path.join(dir, 'ready-' + tag), '');
      const t0 = Date.now();
      while (fs.readdirSync(dir).filter((f) => f.startsWith('ready-')).length < 2 && Date.now() - t0 < 60000) sleep(1);
      let done = 0, contended = 0;
      while (done < Number(n)) {
        let lock;
        try { lock = acquireLock(path.join(dir, '.lock'), 'test ' + tag, dir); }
        catch (e) { if (e.name !== 'LockedError') throw e; contended++; sleep(1); continue; }
        fs.appendFileSync(path.join(dir, 'log'), tag + ' in\\n');
        const c = Number(fs.readFileSync(path.join(dir, 'counter'), 'utf8'));
        sleep(2);
        fs.writeFileSync(path.join(dir, 'counter'), String(c + 1));
        fs.appendFileSync(path.join(dir, 'log'), tag + ' out\\n');
        lock.release();
        done++;
      }
      console.log(JSON.stringify({ done, contended }));`);
    const [a, b] = await Promise.all([run([worker, dir, '40', 'A']), run([worker, dir, '40', 'B'])]);
    assert.ok(a.code === 0 && b.code === 0, a.err + b.err);
    assert.strictEqual(fs.readFileSync(path.join(dir, 'counter'), 'utf8'), '80', 'no lost update: the sections never overlapped');
    const log = fs.readFileSync(path.join(dir, 'log'), 'utf8').trim().split('\n');
    for (let i = 0; i < log.length; i += 2) assert.ok(log[i].endsWith(' in') && log[i + 1] === log[i].replace(' in', ' out'), `interleaved at ${i}: ${log.slice(i, i + 2)}`);
    const contended = JSON.parse(a.out).contended + JSON.parse(b.out).contended;
    assert.ok(contended > 0, 'the two really competed');
    assert.ok(!fs.existsSync(path.join(dir, '.lock')));
    countFault('concurrent writers');
  });

  it('two `protolab train` on the same --out at once: one trains, the other is refused by name; the run is whole', async () => {
    const f = await pristine();
    const out = path.join(TMP, 'two-trains');
    const args = [BIN, 'train', '--data', f.root, '--fold', '0', '--ways', '1', '--shots', '1', '--steps', '3', '--size', '32', '--method', 'metasegnet',
      '--freeze-backbone', '--backbone', 'mobilenetv2', '--backend', 'wasm', '--val-every', '0', '--checkpoint-every', '1', '--out', out];
    const both = await Promise.all([run(args), run(args)]);
    const won = both.filter((r) => r.code === 0);
    const lost = both.filter((r) => r.code !== 0);
    assert.strictEqual(won.length, 1, both.map((r) => `${r.code}: ${r.err}`).join('\n---\n'));
    assert.match(lost[0].err, /is in use by training \(pid \d+|already holds a training run/);
    assert.doesNotMatch(lost[0].err, /\n\s+at \S+ \(/, 'no stack trace');
    assert.deepStrictEqual(readMetrics(path.join(out, 'metrics.jsonl')).map((r) => r.step), [1, 2, 3]);
    const latest = JSON.parse(fs.readFileSync(path.join(out, 'latest.json'), 'utf8'));
    assert.strictEqual(latest.step, 3);
    assert.ok(fs.existsSync(path.join(out, latest.checkpoint)));
    assert.deepStrictEqual(tempLeftovers(out), []);
    assert.ok(!fs.existsSync(path.join(out, '.lock')));
    countFault('concurrent writers');
  });

  it('report and run names: two processes reserving 40 each at the same second get 80 different ones', async () => {
    const dir = path.join(TMP, 'names');
    const worker = script('names-worker', `
      const { reserveUniqueFile, createUniqueDir } = require(${JSON.stringify(path.join(EXT, 'uniqueNames.js'))});
      const [dir, tag] = process.argv.slice(2);
      for (let i = 0; i < 40; i++) {
        const r = reserveUniqueFile(path.join(dir, 'reports'), '2024-01-01T00-00-00-sample-f0-1w1s', '.json');
        fs.writeFileSync(r.file + '.tmp-' + tag, tag + ' ' + i);
        fs.renameSync(r.file + '.tmp-' + tag, r.file);
        r.release();
        const d = createUniqueDir(path.join(dir, 'runs'), '2024-01-01T00-00-00-panet-f0');
        fs.writeFileSync(path.join(d, 'owner'), tag + ' ' + i);
      }`);
    const [a, b] = await Promise.all([run([worker, dir, 'A']), run([worker, dir, 'B'])]);
    assert.ok(a.code === 0 && b.code === 0, a.err + b.err);
    const reports = fs.readdirSync(path.join(dir, 'reports'));
    assert.strictEqual(reports.filter((x) => x.endsWith('.json')).length, 80);
    assert.deepStrictEqual(reports.filter((x) => !x.endsWith('.json')), [], 'no reservation left behind');
    const owners = reports.map((x) => fs.readFileSync(path.join(dir, 'reports', x), 'utf8'));
    assert.strictEqual(new Set(owners).size, 80, 'no report overwrote another');
    const runs = fs.readdirSync(path.join(dir, 'runs')).map((d) => fs.readFileSync(path.join(dir, 'runs', d, 'owner'), 'utf8'));
    assert.strictEqual(new Set(runs).size, 80, 'no run folder shared');
    countFault('concurrent writers');
  });

  it('one file rewritten by two processes 150 times each (writeFileAtomic) is never seen half-written', async () => {
    const file = path.join(TMP, 'hammer', 'latest.json');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const worker = script('hammer-worker', `
      const { writeFileAtomic } = require(${JSON.stringify(path.join(ENGINE, 'fsutil.js'))});
      const [file, tag] = process.argv.slice(2);
      for (let i = 0; i < 150; i++) {
        const pad = tag.repeat(20000 + 97 * i);
        writeFileAtomic(file, JSON.stringify({ tag, i, pad, sum: pad.length }));
      }`);
    const writers = Promise.all([run([worker, file, 'A']), run([worker, file, 'B'])]);
    let reads = 0, finished = false;
    void writers.then(() => (finished = true));
    while (!finished) {
      let text: string;
      try {
        text = fs.readFileSync(file, 'utf8');
      } catch {
        await new Promise((r) => setImmediate(r));
        continue; // not there yet
      }
      const j = JSON.parse(text);
      assert.strictEqual(j.pad.length, j.sum, 'a whole version');
      reads++;
      await new Promise((r) => setImmediate(r));
    }
    const [a, b] = await writers;
    assert.ok(a.code === 0 && b.code === 0, a.err + b.err);
    assert.ok(reads > 10, `the reader saw ${reads} versions`);
    assert.deepStrictEqual(tempLeftovers(path.dirname(file)), []);
    countFault('concurrent writers');
  });

  it('two processes building the same COCO and VOC index caches at once end with one valid cache and the same masks', async () => {
    const f = await freshCase('index race');
    const worker = script('index-worker', `
      const crypto = require('crypto');
      const { openDataset } = require(${JSON.stringify(path.join(ENGINE, 'data', 'open.js'))});
      (async () => {
        const [root, coco] = process.argv.slice(2);
        const h = crypto.createHash('sha256');
        const c = await openDataset({ data: coco, dataset: 'coco' });
        for (const id of await c.imageIds('val')) h.update((await c.loadMask(id)).data);
        const v = await openDataset({ data: root, dataset: 'voc' });
        h.update(JSON.stringify(await v.index('val')));
        console.log(h.digest('hex'));
      })().catch((e) => { console.error(e.stack); process.exit(1); });`);
    for (let round = 0; round < 3; round++) {
      for (const c of [path.join(f.coco, '.protolab-cache'), path.join(f.voc, '.protolab-cache')]) fs.rmSync(c, { recursive: true, force: true });
      const [a, b] = await Promise.all([run([worker, f.root, f.coco]), run([worker, f.root, f.coco])]);
      assert.ok(a.code === 0 && b.code === 0, a.err + b.err);
      assert.strictEqual(a.out, b.out, 'both saw the same masks and index');
      // and a third reader, from the caches alone, sees them too
      const c = await run([worker, f.root, f.coco]);
      assert.strictEqual(c.out, a.out);
      for (const dir of [path.join(f.coco, '.protolab-cache'), path.join(f.voc, '.protolab-cache')]) {
        assert.deepStrictEqual(tempLeftovers(dir), []);
        for (const x of fs.readdirSync(dir).filter((n) => n.endsWith('.json'))) JSON.parse(fs.readFileSync(path.join(dir, x), 'utf8'));
      }
    }
    countFault('concurrent writers');
  });
});
