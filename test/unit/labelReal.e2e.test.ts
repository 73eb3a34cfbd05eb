// `protolab label` on real photos (the labeling engine's acceptance test): Debian's labelme-examples VOC photos
// (scripts/fetch-labelme.sh; skipped without them unless CI=true). One person photo annotated with its
// labelme mask, the other two labelled by the CLI with the default method; the export opens as a VOC
// dataset and the other person photo's mask finds the person well above the all-foreground IoU.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { openDataset } from '../../src/engine/data/open';
import { encodeIndexPng, readIndexPng } from '../../src/engine/image/png';
import { cli } from './helpers/cli';

const extracted = process.env.PROTOLAB_LABELME_DIR ?? path.join(os.homedir(), '.cache', 'protolab-test', 'labelme');
const vocDir = path.join(extracted, 'root', 'usr', 'share', 'doc', 'labelme-examples', 'examples', 'instance_segmentation', 'data_dataset_voc');
const PERSON = 15;

/** IoU of `label` in the prediction against `cls` in the truth, 255 in the truth ignored. */
function iouOf(pred: Uint8Array, gt: Uint8Array, label: number, cls: number): { iou: number; allFg: number } {
  let inter = 0, union = 0, fg = 0, n = 0;
  for (let i = 0; i < gt.length; i++) {
    if (gt[i] === 255) continue;
    n++;
    const g = gt[i] === cls, p = pred[i] === label;
    if (g) fg++;
    if (g && p) inter++;
    if (g || p) union++;
  }
  return { iou: inter / union, allFg: fg / n };
}

describe('protolab label on real photos (labelme-examples)', function () {
  this.timeout(600000);
  let dir: string;

  before(function () {
    if (!fs.existsSync(path.join(vocDir, 'JPEGImages'))) {
      const msg = `labelme-examples not found under ${extracted}: run scripts/fetch-labelme.sh (or set PROTOLAB_LABELME_DIR)`;
      if (process.env.CI === 'true') throw new Error(msg);
      console.log(`      skipped: ${msg}`);
      this.skip();
    }
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'protolab-labelreal-'));
  });
  after(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('labels the other two photos from one annotated person photo; the export reads back; the person is found', async () => {
    const images = path.join(dir, 'photos');
    fs.mkdirSync(images);
    for (const f of fs.readdirSync(path.join(vocDir, 'JPEGImages'))) fs.copyFileSync(path.join(vocDir, 'JPEGImages', f), path.join(images, f));
    // the support: 2011_000003's labelme mask, person → class 1, every other class → background, 255 kept
    const truth = await readIndexPng(path.join(vocDir, 'SegmentationClassPNG', '2011_000003.png'));
    const support = path.join(dir, 'support.png');
    fs.writeFileSync(support, encodeIndexPng({ ...truth, data: truth.data.map((v) => (v === 255 ? 255 : v === PERSON ? 1 : 0)) }));
    const out = path.join(dir, 'export');
    const r = cli(['label', '--images', images, '--support', `2011_000003.jpg=${support}`, '--classes', 'person', '--out', out]);
    assert.strictEqual(r.code, 0, r.stderr);
    assert.match(r.stdout, /labelled 3 images: 1 drawn, 0 pseudo \(from tags\), 2 predicted/);
    const m = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8'));
    assert.strictEqual(m.model.method, 'quality');
    assert.deepStrictEqual(m.perImage.map((p: { id: string; mask: string }) => [p.id, p.mask]).sort(),
      [['2011_000003.jpg', 'human'], ['2011_000006.jpg', 'prediction'], ['2011_000025.jpg', 'prediction']]);

    const voc = await openDataset({ data: out, dataset: 'voc', cacheDir: path.join(dir, 'cache') });
    assert.deepStrictEqual(voc.classNames, ['background', 'person']);
    const pred = await voc.loadMask('2011_000006');
    const gt = await readIndexPng(path.join(vocDir, 'SegmentationClassPNG', '2011_000006.png'));
    assert.deepStrictEqual([pred.width, pred.height], [gt.width, gt.height], 'the mask is at the photo\'s full size');
    const { iou, allFg } = iouOf(pred.data, gt.data, 1, PERSON);
    // bench:label measures this pair at 0.56 through the same service (all-foreground 0.19)
    assert.ok(iou > allFg + 0.1, `person IoU ${iou.toFixed(3)} vs all-foreground ${allFg.toFixed(3)}`);
  });
});
