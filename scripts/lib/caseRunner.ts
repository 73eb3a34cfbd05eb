// One benchmark case (realCases.ts) run through the label service, as a labeler drives it: a folder
// holding the case's photos, the support's truth given as a `mask` shape on a support image, the
// query's mask read back at full size (fullMask) and scored per class (255 ignored):
//   - 1-shot IoU of each class of the case;
//   - the same with the query's own scribbles (PANet's scribble generator on its truth, photoEval.ts);
//   - clicks to accept (clicker.ts): from the 1-shot mask (or from nothing, all background, for a
//     single), each click a one-point `stroke` of radius CLICK_RADIUS px at full size, of the class on a
//     false negative, of what the truth holds there (background or another class of the case) on a
//     false positive; NoC@85 / NoC@90.
import * as fs from 'fs';
import * as path from 'path';
import type { LabelModel } from '../../src/engine/label/methods';
import { LabelService } from '../../src/engine/label/service';
import { maskShape, type Shape } from '../../src/engine/label/shapes';
import type { IndexMask } from '../../src/engine/types';
import { binaryIoU, MAX_CLICKS, nocOf, runClicks, type Click } from './clicker';
import { queryStrokes } from './photoEval';
import { binaryTruth, caseMask, type CaseKind, type LabelCase } from './realCases';

/** A click's brush radius, pixels at the photo's full size. */
export const CLICK_RADIUS = 5;

export interface ClassResult {
  case: string;
  kind: CaseKind;
  class: string;
  small: boolean;
  coverage: number;
  /** 1-shot IoU; null for a single (nothing predicts it before the first click) */
  iou: number | null;
  /** IoU with the query's own scribbles; null for a single or when not asked */
  iouStrokes: number | null;
  /** IoU of an all-class mask (the trivial baseline) */
  allFg: number;
  /** IoU of the starting mask, then after each click (empty when clicks were not asked) */
  clickIous: number[];
  noc85: number | null;
  noc90: number | null;
}

const binary = (m: IndexMask, label: number) => m.data.map((v) => (v === label ? 1 : 0));

function clickShape(c: Click, label: number): Shape {
  return { kind: 'stroke', label, radius: CLICK_RADIUS, points: [c.x + 0.5, c.y + 0.5] };
}

/** Run one case (see the header). `featureDir` may be shared by every case of one model: features are
 *  cached by image content, so a photo is encoded once per model. */
export async function runCase(model: LabelModel, c: LabelCase, o: { work: string; featureDir: string; strokes?: boolean; clicks?: boolean; maxClicks?: number }): Promise<ClassResult[]> {
  const dir = fs.mkdtempSync(path.join(o.work, 'case-'));
  const qid = `query${path.extname(c.query.file).toLowerCase()}`;
  const sid = c.support ? `support${path.extname(c.support.file).toLowerCase()}` : undefined;
  fs.copyFileSync(c.query.file, path.join(dir, qid));
  if (c.support && sid) fs.copyFileSync(c.support.file, path.join(dir, sid));
  const svc = await LabelService.open(dir, { classes: c.classes.map((k) => k.name), model, featureDir: o.featureDir, lock: false, stateDir: path.join(dir, '.state') });
  const out: ClassResult[] = [];
  try {
    if (c.support && sid) await svc.setShapes(sid, [maskShape(caseMask(c.support, c))], { support: true });
    const qm = caseMask(c.query, c);
    const W = qm.width, H = qm.height;
    const start = c.support ? await svc.fullMask(qid) : { width: W, height: H, data: new Uint8Array(W * H) };
    for (const k of c.classes) {
      const gt = binaryTruth(qm, k.label);
      const first = binary(start, k.label);
      const r: ClassResult = {
        case: c.id, kind: c.kind, class: k.name, small: k.small, coverage: k.coverage,
        iou: c.support ? binaryIoU(first, gt) : null, iouStrokes: null, allFg: binaryIoU(new Uint8Array(gt.length).fill(1), gt), clickIous: [], noc85: null, noc90: null,
      };
      if (c.support && o.strokes) {
        const scribble = queryStrokes(qm, k.label, 7);
        for (let i = 0; i < scribble.length; i++) if (scribble[i] === 1) scribble[i] = k.label;
        await svc.setShapes(qid, [maskShape({ width: W, height: H, data: scribble })], {});
        r.iouStrokes = binaryIoU(binary(await svc.fullMask(qid), k.label), gt);
        await svc.setShapes(qid, [], {});
      }
      if (o.clicks) {
        const run = await runClicks({
          start: first, gt, w: W, h: H, max: o.maxClicks ?? MAX_CLICKS,
          apply: async (clicks) => {
            // a negative click paints what the truth holds there: background, or another class of the case
            await svc.setShapes(qid, clicks.map((cl) => clickShape(cl, cl.positive ? k.label : qm.data[cl.y * W + cl.x])), {});
            return binary(await svc.fullMask(qid), k.label);
          },
        });
        await svc.setShapes(qid, [], {});
        r.clickIous = run.ious;
        r.noc85 = nocOf(run.ious, 0.85, o.maxClicks ?? MAX_CLICKS);
        r.noc90 = nocOf(run.ious, 0.9, o.maxClicks ?? MAX_CLICKS);
      }
      out.push(r);
    }
  } finally {
    await svc.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);

export interface CaseSummary {
  photo_miou: number | null;
  photo_miou_strokes: number | null;
  /** the all-class baseline over the 1-shot rows */
  photo_all_fg: number | null;
  photo_miou_by_kind: Record<string, number | null>;
  photo_miou_by_class: Record<string, number | null>;
  noc85: number | null;
  noc90: number | null;
  noc85_by_kind: Record<string, number | null>;
  noc90_by_kind: Record<string, number | null>;
  /** 1-shot scored classes (rows) and clicked rows */
  photo_rows: number;
  click_rows: number;
}

/** Means over rows: IoU over the 1-shot rows (by kind photo / video / small, by class), NoC over every
 *  clicked row (by kind photo / video / single / small). */
export function summarize(rows: ClassResult[]): CaseSummary {
  const shot = rows.filter((r) => r.iou !== null);
  const clicked = rows.filter((r) => r.noc85 !== null);
  const iouOf = (rs: ClassResult[]) => mean(rs.map((r) => r.iou as number));
  const noc = (rs: ClassResult[], k: 'noc85' | 'noc90') => mean(rs.map((r) => r[k] as number));
  const kinds = (rs: ClassResult[], f: (x: ClassResult[]) => number | null, all: string[]) =>
    Object.fromEntries(all.map((k) => [k, f(rs.filter((r) => (k === 'small' ? r.small : r.kind === k)))]));
  const strokes = shot.filter((r) => r.iouStrokes !== null);
  return {
    photo_miou: iouOf(shot),
    photo_miou_strokes: strokes.length ? mean(strokes.map((r) => r.iouStrokes as number)) : null,
    photo_all_fg: mean(shot.map((r) => r.allFg)),
    photo_miou_by_kind: kinds(shot, iouOf, ['photo', 'video', 'small']),
    photo_miou_by_class: Object.fromEntries([...new Set(shot.map((r) => r.class))].sort().map((c) => [c, iouOf(shot.filter((r) => r.class === c))])),
    noc85: noc(clicked, 'noc85'),
    noc90: noc(clicked, 'noc90'),
    noc85_by_kind: kinds(clicked, (x) => noc(x, 'noc85'), ['photo', 'video', 'single', 'small']),
    noc90_by_kind: kinds(clicked, (x) => noc(x, 'noc90'), ['photo', 'video', 'single', 'small']),
    photo_rows: shot.length,
    click_rows: clicked.length,
  };
}
