// protolab score --gt DIR --pred DIR [--json OUT] [--classes N]
// Standard semantic-segmentation scoring of a folder of predicted index PNGs against ground truth,
// matched by file name: one confusion matrix summed over images, 255 ignored; per-class IoU, mIoU over
// every class present (background included, as VOC's own evaluation), FB-IoU.
import * as fs from 'fs';
import * as path from 'path';
import { int, parse, required } from '../cli/args';
import { pct, table } from '../cli/table';
import { DataError, UsageError } from '../errors';
import { isStorageError } from '../storageError';
import { writeFileAtomic } from '../fsutil';
import { readIndexPng } from '../image/png';
import { ConfusionMatrix } from '../eval/metrics';
import { applyLimitFlags, limitHelp, limitOptions } from './common';

export const scoreHelp = `protolab score --gt DIR --pred DIR [--json OUT] [--classes 21]
  Scores predicted index PNGs against ground-truth index PNGs (same file names). --classes = number of
  labels including background (default: 1 + the largest label seen, at least 21 for VOC-style data).
${limitHelp}`;

export async function scoreCommand(argv: string[]): Promise<number> {
  const v = parse(argv, { gt: { type: 'string' }, pred: { type: 'string' }, json: { type: 'string' }, classes: { type: 'string' }, ...limitOptions }, 'score');
  if (v.help) return console.log(scoreHelp), 0;
  applyLimitFlags(v);
  const gtDir = path.resolve(required(v, 'gt', 'score'));
  const predDir = path.resolve(required(v, 'pred', 'score'));
  for (const d of [gtDir, predDir]) if (!fs.existsSync(d) || !fs.statSync(d).isDirectory()) throw new DataError(d, 'not a folder');
  const names = fs.readdirSync(gtDir).filter((f) => f.toLowerCase().endsWith('.png')).sort();
  if (!names.length) throw new DataError(gtDir, 'no .png ground-truth masks in this folder');
  const pairs: Array<{ name: string; gt: Uint8Array; pred: Uint8Array }> = [];
  const missing: string[] = [];
  // A pair that cannot be scored (unreadable, sizes differ, labels outside --classes) is reported and
  // left out; the rest is scored (DESIGN.md "Errors").
  const skipped: Array<{ file: string; problem: string }> = [];
  let maxLabel = 0;
  for (const name of names) {
    const pf = path.join(predDir, name);
    if (!fs.existsSync(pf)) {
      missing.push(name);
      continue;
    }
    try {
      const gt = await readIndexPng(path.join(gtDir, name));
      const pred = await readIndexPng(pf);
      if (gt.width !== pred.width || gt.height !== pred.height) {
        throw new DataError(pf, `prediction is ${pred.width}×${pred.height}, ground truth ${gt.width}×${gt.height}`);
      }
      pairs.push({ name, gt: gt.data, pred: pred.data });
    } catch (e) {
      if (!(e instanceof DataError) || isStorageError(e)) throw e;
      skipped.push({ file: e.file, problem: e.problem });
    }
  }
  for (const p of pairs) for (const a of [p.gt, p.pred]) for (const x of a) if (x !== 255 && x > maxLabel) maxLabel = x;
  const n = int(v, 'classes', Math.max(21, maxLabel + 1), 2, 255);
  // Labels must lie in 0..n-1, checked before a single pixel is counted; pixels whose truth is 255 are
  // ignored whatever they predict (as ConfusionMatrix.add does).
  const scorable = pairs.filter((p) => {
    const i = p.gt.findIndex((g, k) => g !== 255 && (g >= n || p.pred[k] >= n));
    if (i < 0) return true;
    const [a, dir] = p.gt[i] >= n ? [p.gt, gtDir] : [p.pred, predDir];
    skipped.push({ file: path.join(dir, p.name), problem: `label ${a[i]} at pixel ${i} is outside 0..${n - 1} (--classes ${n})` });
    return false;
  });
  if (!scorable.length) {
    if (skipped.length) throw new DataError(skipped[0].file, `no pair could be scored; ${skipped.length} refused, the first: ${skipped[0].problem}`);
    throw new UsageError(`no prediction in ${predDir} matches a ground-truth file name in ${gtDir}`);
  }
  const cm = new ConfusionMatrix(n);
  for (const p of scorable) cm.add(p.gt, p.pred, path.join(predDir, p.name));
  const per = cm.classIoU();
  const rows = per.map((x, c) => [String(c), x === null ? '–' : pct(x)]).filter((r) => r[1] !== '–');
  console.log(table(['class', 'IoU %'], rows));
  console.log(`\nmIoU ${pct(cm.mIoU() ?? NaN)}   FB-IoU ${pct(cm.fbIoU() ?? NaN)}   pixel acc ${pct(cm.pixelAccuracy() ?? NaN)}   (${scorable.length} images)`);
  if (skipped.length) {
    console.log(`${skipped.length} file(s) could not be scored (left out):`);
    for (const k of skipped.slice(0, 20)) console.log(`  ${k.file}: ${k.problem}`);
    if (skipped.length > 20) console.log(`  … (${skipped.length - 20} more${typeof v.json === 'string' ? ' in the JSON' : ''})`);
  }
  if (missing.length) console.log(`${missing.length} ground-truth files have no prediction (not scored): ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}`);
  if (typeof v.json === 'string') {
    const out = {
      tool: 'protolab', kind: 'score', createdAt: new Date().toISOString(), gt: gtDir, pred: predDir, images: scorable.length,
      missing, skipped, numClasses: n, miou: cm.mIoU(), fbiou: cm.fbIoU(), pixelAccuracy: cm.pixelAccuracy(),
      classIoU: per.map((iou, cls) => ({ cls, iou })),
    };
    writeFileAtomic(path.resolve(v.json), JSON.stringify(out, null, 2) + '\n');
  }
  return 0;
}
