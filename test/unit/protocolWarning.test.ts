// A backbone trained on COCO has seen every novel class of PASCAL-5i and COCO-20i, so an evaluation with
// it must say it is not comparable to the papers: in the result JSON, in the terminal table, and (a
// sharded evaluation included) wherever the result is rebuilt from its identity. An ImageNet-style
// backbone (no trainedOn) and a dataset outside the protocol get no warning.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { useTestBackend } from './helpers/tf';
import { tinyBackbone } from './helpers/tinyBackbone';
import { openDataset } from '../../src/engine/data/open';
import { writeSampleDataset } from '../../src/engine/data/sample';
import { evaluate, type EvalSettings } from '../../src/engine/eval/evaluate';
import { evalTable } from '../../src/engine/commands/evalReport';
import { protocolWarning } from '../../src/engine/eval/protocolWarning';
import { panetMethod } from '../../src/engine/fewshot/method';

describe('protocol warning for COCO-trained backbones', function () {
  this.timeout(120000);
  it('warns for COCO-trained features on voc and coco, and only then', () => {
    assert.match(protocolWarning('voc', 'nanodet', 'COCO detection') ?? '', /not comparable to the papers.*nanodet.*COCO detection/);
    assert.match(protocolWarning('coco', 'centernet', 'COCO detection') ?? '', /novel class of PASCAL-5i and COCO-20i/);
    assert.strictEqual(protocolWarning('voc', 'vgg16', undefined), undefined);
    assert.strictEqual(protocolWarning('voc', 'x', 'ImageNet-21k'), undefined);
    assert.strictEqual(protocolWarning('folder', 'nanodet', 'COCO detection'), undefined);
  });

  it('an evaluation with a COCO-trained backbone carries the warning in its JSON and its table; without, neither', async () => {
    await useTestBackend('wasm');
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'protolab-protowarn-'));
    try {
      await writeSampleDataset({ out: path.join(tmp, 'data'), images: { train: 6, val: 12 }, size: 48 });
      const ds = await openDataset({ data: path.join(tmp, 'data'), dataset: 'voc' });
      const s: EvalSettings = {
        method: 'panet', dataset: 'voc', split: 'panet', fold: 0, ways: 1, shots: 1, episodes: 3, runs: 1, seed: 3, size: 32,
        list: 'val', annotation: 'dense', minPixels: 1, queriesPerClass: 1,
      };
      const plain = tinyBackbone(5);
      const coco = { ...tinyBackbone(5), trainedOn: 'COCO detection' };
      try {
        const a = await evaluate(ds, plain, panetMethod, s, 'wasm');
        const b = await evaluate(ds, coco, panetMethod, s, 'wasm');
        assert.strictEqual(a.protocolWarning, undefined);
        assert.doesNotMatch(evalTable(a), /WARNING/);
        assert.strictEqual(b.backbone.trainedOn, 'COCO detection');
        assert.match(b.protocolWarning ?? '', /not comparable to the papers/);
        const json = JSON.parse(JSON.stringify(b));
        assert.strictEqual(json.protocolWarning, b.protocolWarning);
        assert.match(evalTable(b).split('\n').slice(0, 4).join('\n'), /^WARNING: not comparable to the papers: backbone tiny/m);
        assert.strictEqual(a.miou, b.miou, 'the warning changes no number');
      } finally {
        plain.dispose();
        coco.dispose();
      }
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
