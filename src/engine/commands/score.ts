// protolab score --gt DIR --pred DIR [--json OUT] [--classes N]
// Standard semantic-segmentation scoring of a folder of predicted index PNGs against ground truth,
// matched by file name: one confusion matrix summed over images, 255 ignored; per-class IoU, mIoU over
// every class present (background included, as VOC's own evaluation), FB-IoU.
import * as fs from 'fs';
import * as path from 'path';
import { int, parse, required } from '../cli/args';
import { pct, table } from '../cli/table';
import { DataError, UsageError } from '../errors';
import { writeFileAtomic } from '../fsutil';
import { readIndexPng } from '../image/png';
import { ConfusionMatrix } from '../eval/metrics';

export const scoreHelp = `protolab score --gt DIR --pred DIR [--json OUT] [--classes 21]
  Scores predicted index PNGs against ground-truth index PNGs (same file names). --classes = number of
  labels including background (default: 1 + the largest label seen, at least 21 for VOC-style data).`;

export async function scoreCommand(argv: string[]): Promise<number> {
  const v = parse(argv, { gt: { type: 'string' }, pred: { type: 'string' }, json: { type: 'string' }, classes: { type: 'string' } }, 'score');
  if (v.help) return console.log(scoreHelp), 0;
  const gtDir = path.resolve(required(v, 'gt', 'score'));
  const predDir = path.resolve(required(v, 'pred', 'score'));
  for (const d of [gtDir, predDir]) if (!fs.existsSync(d) || !fs.statSync(d).isDirectory()) throw new DataError(d, 'not a folder');
  const names = fs.readdirSync(gtDir).filter((f) => f.toLowerCase().endsWith('.png')).sort();
  if (!names.length) throw new DataError(gtDir, 'no .png ground-truth masks in this folder');
  const pairs: Array<{ name: string; gt: Uint8Array; pred: Uint8Array }> = [];
  const missing: string[] = [];
  let maxLabel = 0;
  for (const name of names) {
    const pf = path.join(predDir, name);
    if (!fs.existsSync(pf)) {
      missing.push(name);
      continue;
    }
    const gt = await readIndexPng(path.join(gtDir, name));
    const pred = await readIndexPng(pf);
    if (gt.width !== pred.width || gt.height !== pred.height) {
      throw new DataError(pf, `prediction is ${pred.width}×${pred.height}, ground truth ${gt.width}×${gt.height}`);
    }
    for (const a of [gt.data, pred.data]) for (const x of a) if (x !== 255 && x > maxLabel) maxLabel = x;
    pairs.push({ name, gt: gt.data, pred: pred.data });
  }
  if (!pairs.length) throw new UsageError(`no prediction in ${predDir} matches a ground-truth file name in ${gtDir}`);
  const n = int(v, 'classes', Math.max(21, maxLabel + 1), 2, 255);
  const cm = new ConfusionMatrix(n);
  for (const p of pairs) cm.add(p.gt, p.pred, path.join(predDir, p.name));
  const per = cm.classIoU();
  const rows = per.map((x, c) => [String(c), x === null ? '–' : pct(x)]).filter((r) => r[1] !== '–');
  console.log(table(['class', 'IoU %'], rows));
  console.log(`\nmIoU ${pct(cm.mIoU() ?? NaN)}   FB-IoU ${pct(cm.fbIoU() ?? NaN)}   pixel acc ${pct(cm.pixelAccuracy() ?? NaN)}   (${pairs.length} images)`);
  if (missing.length) console.log(`${missing.length} ground-truth files have no prediction (not scored): ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}`);
  if (typeof v.json === 'string') {
    const out = {
      tool: 'protolab', kind: 'score', createdAt: new Date().toISOString(), gt: gtDir, pred: predDir, images: pairs.length,
      missing, numClasses: n, miou: cm.mIoU(), fbiou: cm.fbIoU(), pixelAccuracy: cm.pixelAccuracy(),
      classIoU: per.map((iou, cls) => ({ cls, iou })),
    };
    writeFileAtomic(path.resolve(v.json), JSON.stringify(out, null, 2) + '\n');
  }
  return 0;
}
