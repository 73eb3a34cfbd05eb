// `npm run bench:label`: the labeling engine's numbers, measured on this machine.
//  1. first pass: a folder of ≥ 200 generated photos (the sample set's JPEGs), one annotated support,
//     the whole grid segmented cold (decode + encode + predict every image): images/s;
//  2. re-segmentation latency from cached features: a user adds strokes one by one to one image
//     (warm-up, then ≥ 50 timed setShapes calls, each re-segmenting that image): p50 / p95 / max ms;
//     the same with the strokes on a SUPPORT image (every stroke refits the model);
//  3. real photos: labelme-examples' VOC photos (scripts/fetch-labelme.sh) and the hand-traced scikit-image
//     photos (node out/scripts/make-photo-truth.js), 1-shot: every ordered pair
//     (support, query) sharing a class, the support's mask restricted to the shared classes; mean over
//     pairs of the query's foreground IoU at full size, beside the all-foreground baseline; then again
//     with the query's own scribbles (photo_miou_strokes: PANet's scribble generator on its truth);
//  4. peak RSS of the process.
// Every predictor configuration (by default every variant of every method in label/methods.ts: the
// quality ablations plug in there) gets 2 and 3; 1 runs for the first configuration.
// Last line: one JSON object (p50_ms, p95_ms, max_ms, grid_images_per_s, peak_rss_mb, photo_miou, …).
// Flags: --size 417 --images 200 --timed 60 --warmup 5 --configs method[:variant],… --backend wasm|…
//        --workers N (encoder threads for the first pass; default cores, ≤ 4, as protolab label)
//        --labelme DIR (the extracted labelme-examples root) --photo-truth DIR --skip-grid --skip-photos
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseArgs } from 'util';
import { selectBackend, type BackendPreference } from '../src/engine/backend';
import { writeSampleDataset } from '../src/engine/data/sample';
import { readIndexPng } from '../src/engine/image/png';
import { createLabelModel, LABEL_METHODS } from '../src/engine/label/methods';
import { LabelService } from '../src/engine/label/service';
import { maskShape, type Shape } from '../src/engine/label/shapes';
import { Rng } from '../src/engine/prng';
import { queryStrokes } from './lib/photoEval';
import type { IndexMask } from '../src/engine/types';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '417' },
    images: { type: 'string', default: '200' },
    timed: { type: 'string', default: '60' },
    warmup: { type: 'string', default: '5' },
    configs: { type: 'string' },
    backend: { type: 'string' },
    labelme: { type: 'string' },
    'photo-truth': { type: 'string' },
    'skip-grid': { type: 'boolean', default: false },
    'skip-photos': { type: 'boolean', default: false },
    workers: { type: 'string' },
  },
});
const size = Number(values.size);
const nImages = Math.max(200, Number(values.images));
const timed = Math.max(50, Number(values.timed));
const warmup = Number(values.warmup);

interface Config { name: string; method: string; options: Record<string, unknown> }

function configs(): Config[] {
  const all = LABEL_METHODS.flatMap((m) => m.variants.map((v) => ({ name: v.name === m.id ? m.id : `${m.id}:${v.name}`, method: m.id, options: v.options })));
  if (!values.configs) return all;
  return values.configs.split(',').map((c) => {
    const hit = all.find((x) => x.name === c.trim());
    if (!hit) throw new Error(`unknown configuration ${c}; known: ${all.map((x) => x.name).join(', ')}`);
    return hit;
  });
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};

/** Two classes of the sample set's support mask: the two largest in it (others → background). */
function remapTwo(m: IndexMask): { mask: IndexMask; classes: number[] } {
  const counts = new Map<number, number>();
  for (const v of m.data) if (v !== 0 && v !== 255) counts.set(v, (counts.get(v) ?? 0) + 1);
  const classes = [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, 2).map(([c]) => c);
  return { mask: { ...m, data: m.data.map((v) => (v === 255 ? 255 : classes.indexOf(v) + 1)) }, classes };
}

/** A user's strokes: short random polylines of each label, radius 6–14 px, inside the image. */
function strokes(rng: Rng, w: number, h: number, n: number, K: number): Shape[] {
  return Array.from({ length: n }, (_, k) => {
    let x = rng.next() * w, y = rng.next() * h;
    const points: number[] = [];
    for (let p = 0; p < 6; p++) {
      points.push(x, y);
      x = Math.min(w - 1, Math.max(0, x + (rng.next() - 0.5) * w * 0.1));
      y = Math.min(h - 1, Math.max(0, y + (rng.next() - 0.5) * h * 0.1));
    }
    return { kind: 'stroke' as const, label: k % (K + 1), radius: 6 + rng.int(9), points };
  });
}

async function latency(svc: LabelService, id: string, support: boolean): Promise<number[]> {
  const s = svc.summary(id);
  const all = strokes(new Rng(7), s.width!, s.height!, warmup + timed, svc.classes.length);
  const times: number[] = [];
  for (let k = 1; k <= all.length; k++) {
    const t0 = performance.now();
    const r = await svc.setShapes(id, all.slice(0, k), support ? { support: true } : {});
    const dt = performance.now() - t0;
    if (!r) throw new Error('no prediction came back');
    if (k > warmup) times.push(dt);
  }
  await svc.setShapes(id, [], { support: false });
  return times;
}

/** Real photos with truth: labelme-examples' VOC photos and, when scripts/make-photo-truth.ts has built
 * them, the two hand-traced scikit-image photos (the same folders scripts/eval-photos.ts reads). */
function photoFolders(): string[] {
  const labelme = values.labelme ?? path.join(os.homedir(), '.cache', 'protolab-test', 'labelme', 'root');
  return [
    path.join(labelme, 'usr', 'share', 'doc', 'labelme-examples', 'examples', 'instance_segmentation', 'data_dataset_voc'),
    values['photo-truth'] ?? path.join(os.homedir(), '.cache', 'protolab-test', 'photo-truth'),
  ].filter((d) => fs.existsSync(path.join(d, 'JPEGImages')) && fs.existsSync(path.join(d, 'SegmentationClassPNG')));
}

interface TruthPhoto { id: string; file: string; truth: IndexMask; classes: number[] }

async function truthPhotos(dir: string, tag: number): Promise<TruthPhoto[]> {
  const out: TruthPhoto[] = [];
  for (const m of fs.readdirSync(path.join(dir, 'SegmentationClassPNG')).filter((f) => f.endsWith('.png')).sort()) {
    const stem = m.replace(/\.png$/, '');
    const img = ['.jpg', '.jpeg', '.png'].map((e) => path.join(dir, 'JPEGImages', stem + e)).find((f) => fs.existsSync(f));
    if (!img) continue;
    const truth = await readIndexPng(path.join(dir, 'SegmentationClassPNG', m));
    const classes = [...new Set(truth.data)].filter((v) => v !== 0 && v !== 255).sort((a, b) => a - b);
    out.push({ id: `f${tag}-${stem}${path.extname(img)}`, file: img, truth, classes });
  }
  return out;
}

/** Every ordered pair of real photos sharing a class, 1-shot: the support's full mask of the shared
 * classes through the labeling service (as a labeler's support), the query's IoU per shared class at full size. */
async function photoIoU(cfg: Config): Promise<{ miou: number; miouStrokes: number; allFg: number; pairs: string[] } | undefined> {
  const folders = photoFolders();
  if (!folders.length) {
    console.log('photo IoU: skipped (no labelme-examples: run scripts/fetch-labelme.sh; no photo truth: node out/scripts/make-photo-truth.js)');
    return undefined;
  }
  const photos = (await Promise.all(folders.map((d, i) => truthPhotos(d, i)))).flat();
  const ious: number[] = [], withStrokes: number[] = [], allFg: number[] = [], pairs: string[] = [];
  const iouOf = (pred: IndexMask, qm: IndexMask, c: number, k: number) => {
    let inter = 0, union = 0, gt = 0, n = 0;
    for (let i = 0; i < qm.data.length; i++) {
      if (qm.data[i] === 255) continue;
      n++;
      const g = qm.data[i] === c, p = pred.data[i] === k;
      if (g) gt++;
      if (g && p) inter++;
      if (g || p) union++;
    }
    return { iou: inter / union, fg: gt / n };
  };
  const model = await createLabelModel({ method: cfg.method, backbone: 'mobilenetv2', size, options: cfg.options });
  try {
    for (const s of photos) for (const q of photos) {
      if (s === q) continue;
      const shared = s.classes.filter((c) => q.classes.includes(c));
      if (!shared.length) continue;
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'protolab-benchphoto-'));
      try {
        for (const p of [s, q]) fs.copyFileSync(p.file, path.join(dir, p.id));
        const svc = await LabelService.open(dir, { classes: shared.map(String), model, featureDir: null, lock: false, stateDir: path.join(dir, '.state') });
        try {
          const sup = { ...s.truth, data: s.truth.data.map((v) => (v === 255 ? 255 : shared.indexOf(v) + 1)) };
          await svc.setShapes(s.id, [maskShape(sup)], { support: true });
          const pred = await svc.fullMask(q.id);
          const qm = q.truth;
          for (const [k, c] of shared.entries()) {
            const { iou, fg } = iouOf(pred, qm, c, k + 1);
            // then the query's own strokes, as eval-photos draws them: PANet's scribbles of its truth
            // (one foreground, every background stroke, 3 px), at full size, for this class alone
            const scribble = queryStrokes(qm, c, 7);
            for (let i = 0; i < scribble.length; i++) if (scribble[i] === 1) scribble[i] = k + 1;
            await svc.setShapes(q.id, [maskShape({ width: qm.width, height: qm.height, data: scribble })], {});
            const marked = iouOf(await svc.fullMask(q.id), qm, c, k + 1).iou;
            await svc.setShapes(q.id, [], {});
            ious.push(iou);
            withStrokes.push(marked);
            allFg.push(fg);
            pairs.push(`${s.id}→${q.id} class ${c}: IoU ${iou.toFixed(3)}, with its own scribbles ${marked.toFixed(3)} (all-foreground ${fg.toFixed(3)})`);
          }
        } finally {
          await svc.close();
        }
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
  } finally {
    model.dispose();
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return { miou: mean(ious), miouStrokes: mean(withStrokes), allFg: mean(allFg), pairs };
}

async function main(): Promise<void> {
  const be = await selectBackend({ prefer: values.backend as BackendPreference | undefined, log: (l) => console.log(l) });
  console.log(`machine: ${os.cpus()[0]?.model ?? 'cpu'} × ${os.availableParallelism()}, node ${process.version}, backend ${be.name}, load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  const cfgs = configs();
  const workers = values.workers ? Number(values.workers) : be.name === 'wasm' || be.name === 'cpu' ? Math.min(4, os.availableParallelism()) : 1;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'protolab-benchlabel-'));
  const result: Record<string, unknown> = { size, backend: be.name, machine: `${os.cpus()[0]?.model ?? 'cpu'} × ${os.availableParallelism()}`, encoder_workers: workers, load_average_at_start: os.loadavg()[0] };
  const perConfig: Record<string, unknown>[] = [];
  try {
    // a folder of ≥ 200 photos: the sample set's train + val JPEGs
    // one image more than asked: the annotated support is not predicted
    const val = Math.max(10, Math.ceil(nImages / 3));
    const sample = await writeSampleDataset({ out: path.join(work, 'sample'), seed: 1, images: { train: Math.max(10, nImages + 1 - val), val } });
    const folder = path.join(sample.vocRoot, 'JPEGImages');
    const ids = fs.readdirSync(folder).filter((f) => f.endsWith('.jpg')).sort();
    const supportId = ids[0], strokeId = ids[1];
    const { mask } = remapTwo(await readIndexPng(path.join(sample.vocRoot, 'SegmentationClass', supportId.replace(/\.jpg$/, '.png'))));
    for (const [ci, cfg] of cfgs.entries()) {
      const row: Record<string, unknown> = { name: cfg.name, method: cfg.method, options: cfg.options };
      const model = await createLabelModel({ method: cfg.method, backbone: 'mobilenetv2', size, options: cfg.options, workers: ci === 0 && !values['skip-grid'] ? workers : 1 });
      const svc = await LabelService.open(folder, { classes: ['a', 'b'], model, stateDir: path.join(work, `state-${ci}`), featureDir: path.join(work, `features-${ci}`), featureBytes: 1024 ** 3 });
      try {
        await svc.setShapes(supportId, [maskShape(mask)], { support: true });
        if (ci === 0 && !values['skip-grid']) {
          const t0 = performance.now();
          const g = await svc.requestGrid().done;
          const secs = (performance.now() - t0) / 1000;
          result.grid_images = g.predicted;
          result.grid_images_per_s = g.predicted / secs;
          console.log(`[${cfg.name}] first pass over ${g.predicted} images at ${size}² (decode + encode on ${workers} worker${workers > 1 ? 's' : ''} + predict, cold): ${secs.toFixed(1)} s, ${(g.predicted / secs).toFixed(2)} images/s`);
        }
        await svc.predict(strokeId); // its features, encoded once
        const q = await latency(svc, strokeId, false);
        const s = await latency(svc, strokeId, true);
        Object.assign(row, {
          min_ms: Math.min(...q), p50_ms: pct(q, 50), p95_ms: pct(q, 95), max_ms: Math.max(...q), timed: q.length,
          support_p50_ms: pct(s, 50), support_p95_ms: pct(s, 95), support_max_ms: Math.max(...s),
        });
        console.log(`[${cfg.name}] re-segment one ${size}² image after a stroke (${q.length} timed after ${warmup} warm-up): min ${Math.min(...q).toFixed(1)} ms, p50 ${pct(q, 50).toFixed(1)} ms, p95 ${pct(q, 95).toFixed(1)} ms, max ${Math.max(...q).toFixed(1)} ms`);
        console.log(`[${cfg.name}] the same with strokes on a support (refit every stroke): p50 ${pct(s, 50).toFixed(1)} ms, p95 ${pct(s, 95).toFixed(1)} ms, max ${Math.max(...s).toFixed(1)} ms`);
      } finally {
        await svc.close();
        model.dispose();
      }
      const photo = values['skip-photos'] ? undefined : await photoIoU(cfg);
      if (photo) {
        for (const p of photo.pairs) console.log(`[${cfg.name}] photo ${p}`);
        console.log(`[${cfg.name}] real photos, 1-shot, mean foreground IoU ${photo.miou.toFixed(3)}, with the query's own scribbles ${photo.miouStrokes.toFixed(3)} (all-foreground baseline ${photo.allFg.toFixed(3)})`);
        Object.assign(row, { photo_miou: photo.miou, photo_miou_strokes: photo.miouStrokes, photo_all_fg: photo.allFg });
      }
      perConfig.push(row);
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  const first = perConfig[0];
  result.p50_ms = first.p50_ms;
  result.p95_ms = first.p95_ms;
  result.max_ms = first.max_ms;
  result.support_p95_ms = first.support_p95_ms;
  result.photo_miou = first.photo_miou ?? null;
  result.photo_miou_strokes = first.photo_miou_strokes ?? null;
  result.photo_all_fg = first.photo_all_fg ?? null;
  result.peak_rss_mb = Math.round(process.resourceUsage().maxRSS / 1024);
  result.configs = perConfig;
  console.log(`peak RSS ${result.peak_rss_mb} MB`);
  console.log(JSON.stringify(result));
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
