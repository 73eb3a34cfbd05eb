// The quality labeling predictor through the real CLI: `segment` (its default), `eval --predictor
// quality` (an option beside the papers' PANet), and the flag errors a user meets.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { decodeIndexPng } from '../../src/engine/image/png';
import { cli } from './helpers/cli';

describe('protolab segment / eval with the quality predictor (sample data)', function () {
  this.timeout(600000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'protolab-label-e2e-'));
  const data = path.join(dir, 'sample');
  const voc = path.join(data, 'VOCdevkit', 'VOC2012');
  let ids: string[];

  before(() => {
    const r = cli(['sample', '--out', data, '--train', '10', '--val', '20']);
    assert.strictEqual(r.code, 0, r.stderr);
    ids = fs.readFileSync(path.join(voc, 'ImageSets', 'Segmentation', 'val.txt'), 'utf8').trim().split('\n');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('segment (quality by default) writes each query mask at its own size with the support labels, and its confidence', () => {
    const out = path.join(dir, 'seg');
    const r = cli(['segment', '--support', path.join(voc, 'JPEGImages', `${ids[0]}.jpg`), '--support-mask', path.join(voc, 'SegmentationClass', `${ids[0]}.png`),
      '--query', path.join(voc, 'JPEGImages', `${ids[1]}.jpg`), '--query', path.join(voc, 'JPEGImages', `${ids[2]}.jpg`), '--out', out, '--size', '160']);
    assert.strictEqual(r.code, 0, r.stderr);
    assert.match(r.stderr, /quality predictor/);
    const supportLabels = new Set(decodeIndexPng(fs.readFileSync(path.join(voc, 'SegmentationClass', `${ids[0]}.png`)), 's').data);
    supportLabels.delete(255);
    for (const id of [ids[1], ids[2]]) {
      assert.match(r.stderr, new RegExp(`${id}\\.png: confidence (0|1)\\.\\d{3}`));
      const pred = decodeIndexPng(fs.readFileSync(path.join(out, `${id}.png`)), 'pred');
      const gt = decodeIndexPng(fs.readFileSync(path.join(voc, 'SegmentationClass', `${id}.png`)), 'gt');
      assert.deepStrictEqual([pred.width, pred.height], [gt.width, gt.height]);
      for (const v of new Set(pred.data)) assert.ok(supportLabels.has(v), `label ${v} is not a support label`);
    }
  });

  it('segment --predictor panet refuses quality flags; --levels is for the multi-level backbones (not vgg16)', () => {
    const args = ['--support', path.join(voc, 'JPEGImages', `${ids[0]}.jpg`), '--support-mask', path.join(voc, 'SegmentationClass', `${ids[0]}.png`), '--query', path.join(voc, 'JPEGImages', `${ids[1]}.jpg`), '--out', path.join(dir, 'x')];
    const a = cli(['segment', ...args, '--predictor', 'panet', '--refine', 'crf']);
    assert.strictEqual(a.code, 2);
    assert.match(a.stderr, /--refine tune the quality predictor: add --predictor quality/);
    const b = cli(['segment', ...args, '--backbone', 'vgg16', '--levels', '8,16']);
    assert.strictEqual(b.code, 2);
    assert.match(b.stderr, /--levels applies to the mobilenetv2, nanodet and centernet backbones; vgg16 has one feature level/);
  });

  it('eval --predictor quality scores the same episodes as PANet and records its settings; eval stays PANet by default', () => {
    const common = ['eval', '--data', data, '--dataset', 'voc', '--fold', '0', '--ways', '1', '--shots', '1', '--episodes', '4', '--runs', '1', '--size', '128', '--backbone', 'mobilenetv2', '--workers', '1'];
    const qj = path.join(dir, 'q.json'), pj = path.join(dir, 'p.json'), qr = path.join(dir, 'q.jsonl'), pr = path.join(dir, 'p.jsonl');
    const q = cli([...common, '--predictor', 'quality', '--refine', 'guided', '--json', qj, '--records', qr]);
    assert.strictEqual(q.code, 0, q.stderr);
    const p = cli([...common, '--json', pj, '--records', pr]);
    assert.strictEqual(p.code, 0, p.stderr);
    const rq = JSON.parse(fs.readFileSync(qj, 'utf8')), rp = JSON.parse(fs.readFileSync(pj, 'utf8'));
    assert.strictEqual(rq.settings.method, 'quality');
    assert.strictEqual(rp.settings.method, 'panet');
    assert.strictEqual(rp.predictor, undefined);
    assert.deepStrictEqual([rq.predictor.id, rq.predictor.refine, rq.predictor.levels], ['quality', 'guided', [16, 32]]);
    assert.ok(typeof rq.miou === 'number' && rq.miou >= 0 && rq.miou <= 1);
    const eps = (f: string) => fs.readFileSync(f, 'utf8').trim().split('\n').map((l) => JSON.parse(l)).map((e) => [e.supports, e.queries]);
    assert.deepStrictEqual(eps(qr), eps(pr), 'the same episodes');
    const bad = cli([...common, '--levels', '8']);
    assert.strictEqual(bad.code, 2);
    assert.match(bad.stderr, /add --predictor quality/);
  });
});
