// End to end through the real CLI (bin/protolab.js on the compiled engine): sample → eval (JSON +
// records) → masks → score → segment, plus the errors a user meets first.
import * as assert from 'assert';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { decodeIndexPng } from '../../src/engine/image/png';
import { BIN, cli, type CliResult } from './helpers/cli';

describe('protolab CLI end to end (sample data)', function () {
  this.timeout(600000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'protolab-e2e-'));
  const data = path.join(dir, 'sample');

  before(() => {
    const r = cli(['sample', '--out', data, '--train', '20', '--val', '40']);
    assert.strictEqual(r.code, 0, r.stderr);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('eval prints the table and writes JSON with every setting and one record per episode', () => {
    const json = path.join(dir, 'r.json'), rec = path.join(dir, 'r.jsonl');
    const r = cli(['eval', '--data', data, '--dataset', 'voc', '--fold', '1', '--ways', '1', '--shots', '1', '--episodes', '12', '--runs', '2',
      '--size', '128', '--backbone', 'mobilenetv2', '--json', json, '--records', rec, '--workers', '2']);
    assert.strictEqual(r.code, 0, r.stderr);
    assert.match(r.stdout, /baseline: all background/);
    assert.match(r.stdout, /mIoU per run/);
    const res = JSON.parse(fs.readFileSync(json, 'utf8'));
    assert.ok(typeof res.miou === 'number' && res.miou > 0 && res.miou <= 1);
    assert.ok(typeof res.fbiou === 'number');
    assert.deepStrictEqual(
      { fold: res.settings.fold, ways: res.settings.ways, shots: res.settings.shots, episodes: res.settings.episodes, runs: res.settings.runs, seed: res.settings.seed, size: res.settings.size, list: res.settings.list },
      { fold: 1, ways: 1, shots: 1, episodes: 12, runs: 2, seed: 1234, size: 128, list: 'val' },
    );
    assert.strictEqual(res.backbone.id, 'mobilenetv2');
    assert.match(res.backbone.weightsHash, /^[0-9a-f]{12}$/);
    assert.strictEqual(res.backend, 'wasm');
    assert.deepStrictEqual(res.data.foldClasses.map((c: { cls: number }) => c.cls), [6, 7, 8, 9, 10]);
    assert.strictEqual(res.runs.length, 2);
    // a learned backbone on 1-way 1-shot must beat "label everything as the class"
    assert.ok(res.miou > res.baselines.allForeground.miou, `mIoU ${res.miou} vs all-fg ${res.baselines.allForeground.miou}`);
    const lines = fs.readFileSync(rec, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.strictEqual(lines.length, 24);
    assert.match(lines[0].id, /^r0e0$/);
    assert.strictEqual(lines[0].supports[0].length, 1);
  });

  it('Ctrl-C: eval stops at an episode boundary, still prints and writes what it scored, exits 130; train writes a checkpoint to resume', async () => {
    /** Start a command, send SIGINT once `ready` shows on stderr, collect its output and exit code. */
    const interrupted = (args: string[], ready: RegExp): Promise<CliResult> => new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '', stderr = '', sent = false;
      child.stdout.on('data', (d) => { stdout += d; });
      child.stderr.on('data', (d) => {
        stderr += d;
        if (!sent && ready.test(stderr)) { sent = true; child.kill('SIGINT'); }
      });
      child.on('error', reject);
      child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    });
    const json = path.join(dir, 'cancelled.json');
    const e = await interrupted(['eval', '--data', data, '--fold', '1', '--ways', '1', '--shots', '1', '--episodes', '100000', '--runs', '1',
      '--size', '64', '--backbone', 'mobilenetv2', '--workers', '0', '--json', json], /eval: [1-9]/);
    assert.strictEqual(e.code, 130, e.stderr);
    assert.match(e.stderr, /stopping after this episode/);
    assert.match(e.stdout, /CANCELLED: the numbers above cover only the episodes scored before the stop/);
    const r = JSON.parse(fs.readFileSync(json, 'utf8'));
    assert.strictEqual(r.complete, false);
    assert.ok(r.episodesScored > 0 && r.episodesScored < 100000);

    const run = path.join(dir, 'cancelled-run');
    const t = await interrupted(['train', '--data', data, '--fold', '1', '--ways', '1', '--shots', '1', '--steps', '100000', '--size', '32',
      '--method', 'metasegnet', '--freeze-backbone', '--backbone', 'mobilenetv2', '--val-every', '0', '--checkpoint-every', '0', '--out', run], /train: [1-9]/);
    assert.strictEqual(t.code, 130, t.stderr);
    assert.match(t.stderr, /stopping after this step and writing a checkpoint/);
    assert.match(t.stdout, /continue with: protolab train --resume/);
    assert.ok(fs.readdirSync(path.join(run, 'checkpoints')).some((f) => f.endsWith('.safetensors')));
  });

  it('the same seed gives the same result', () => {
    const a = path.join(dir, 'a.json'), b = path.join(dir, 'b.json');
    const args = ['eval', '--data', data, '--fold', '0', '--episodes', '6', '--runs', '1', '--size', '96', '--backbone', 'mobilenetv2'];
    assert.strictEqual(cli([...args, '--json', a]).code, 0);
    assert.strictEqual(cli([...args, '--json', b, '--workers', '0']).code, 0);
    const ra = JSON.parse(fs.readFileSync(a, 'utf8')), rb = JSON.parse(fs.readFileSync(b, 'utf8'));
    assert.strictEqual(ra.miou, rb.miou);
    assert.deepStrictEqual(ra.runs, rb.runs);
  });

  it('masks writes what the engine sees; score of masks against themselves is perfect', () => {
    const out = path.join(dir, 'masks');
    const r = cli(['masks', '--data', data, '--dataset', 'coco', '--out', out, '--list', 'val']);
    assert.strictEqual(r.code, 0, r.stderr);
    const pngs = fs.readdirSync(out).filter((f) => f.endsWith('.png'));
    assert.strictEqual(pngs.length, 40);
    const json = path.join(dir, 's.json');
    const s = cli(['score', '--gt', out, '--pred', out, '--json', json]);
    assert.strictEqual(s.code, 0, s.stderr);
    const res = JSON.parse(fs.readFileSync(json, 'utf8'));
    assert.strictEqual(res.miou, 1);
    assert.strictEqual(res.fbiou, 1);
    // without --list: every image of the dataset's lists, as its help says (20 train + 40 val)
    const all = path.join(dir, 'masks-all');
    const ra = cli(['masks', '--data', data, '--dataset', 'voc', '--out', all]);
    assert.strictEqual(ra.code, 0, ra.stderr);
    assert.strictEqual(fs.readdirSync(all).filter((f) => f.endsWith('.png')).length, 60);
    assert.match(cli(['masks', '--help']).stdout, /--list all, the default/);
  });

  it('segment writes an index mask per query at the query size, with the support labels', () => {
    const voc = path.join(data, 'VOCdevkit', 'VOC2012');
    const ids = fs.readFileSync(path.join(voc, 'ImageSets', 'Segmentation', 'val.txt'), 'utf8').trim().split('\n');
    const out = path.join(dir, 'seg');
    const r = cli(['segment', '--support', path.join(voc, 'JPEGImages', `${ids[0]}.jpg`), '--support-mask', path.join(voc, 'SegmentationClass', `${ids[0]}.png`),
      '--query', path.join(voc, 'JPEGImages', `${ids[1]}.jpg`), '--out', out, '--size', '160']);
    assert.strictEqual(r.code, 0, r.stderr);
    const pred = decodeIndexPng(fs.readFileSync(path.join(out, `${ids[1]}.png`)), 'pred');
    const gt = decodeIndexPng(fs.readFileSync(path.join(voc, 'SegmentationClass', `${ids[1]}.png`)), 'gt');
    assert.deepStrictEqual([pred.width, pred.height], [gt.width, gt.height]);
    const supportLabels = new Set(decodeIndexPng(fs.readFileSync(path.join(voc, 'SegmentationClass', `${ids[0]}.png`)), 's').data);
    supportLabels.delete(255);
    for (const v of new Set(pred.data)) assert.ok(supportLabels.has(v), `label ${v} is not a support label`);
  });

  it('bad input: a corrupt image names the file; a missing flag names the flag', () => {
    const bad = path.join(dir, 'bad.jpg');
    fs.writeFileSync(bad, 'not a jpeg');
    const voc = path.join(data, 'VOCdevkit', 'VOC2012');
    const id = fs.readFileSync(path.join(voc, 'ImageSets', 'Segmentation', 'val.txt'), 'utf8').trim().split('\n')[0];
    const r = cli(['segment', '--support', bad, '--support-mask', path.join(voc, 'SegmentationClass', `${id}.png`), '--query', bad, '--out', path.join(dir, 'x')]);
    assert.strictEqual(r.code, 1);
    assert.match(r.stderr, /bad\.jpg: not a readable image/);
    const m = cli(['eval', '--data', data]);
    assert.strictEqual(m.code, 2);
    assert.match(m.stderr, /--fold is required/);
    const u = cli(['eval', '--data', data, '--fold', '0', '--ways', 'x']);
    assert.match(u.stderr, /--ways must be an integer/);
  });
});
