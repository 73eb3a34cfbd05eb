// `npm run bench:label`: the labeling engine's numbers, measured on this machine.
//  1. grid: first pass over a folder of ≥ 200 generated photos (the sample set's JPEGs), one annotated
//     support, the whole grid segmented cold (decode + encode + predict every image): images/s;
//  2. latency: re-segmentation from cached features: a user adds strokes one by one to one image
//     (warm-up, then ≥ 50 timed setShapes calls, each re-segmenting that image): p50 / p95 / max ms;
//     the same with the strokes on a SUPPORT image (every stroke refits the model);
//  3. photos: every real annotated photo reachable offline (lib/realPhotos.ts: labelme-examples' VOC
//     photos, street video, tutorial and primitives; the hand-traced scikit-image photos), in the cases
//     of lib/realCases.ts: 1-shot photo → photo of another scene, video/stereo frame → frame, each
//     scored per class at full size through the label service (lib/caseRunner.ts): photo_miou, by kind
//     (photo, video, small < 5 % of the image) and by class; again with the query's own scribbles
//     (photo_miou_strokes); the data is fetched (scripts/fetch-photos.sh) and the traces built when missing;
//  4. clicks: clicks to accept, RITM's clicker (lib/clicker.ts), from each 1-shot mask and, for every
//     class no 1-shot case scores (singles), from nothing: noc85 / noc90, by kind;
//  5. peak RSS of the process.
// Every predictor configuration (by default every variant of every method in label/methods.ts on the
// default backbone, lib/labelConfigs.ts: the quality ablations plug in there) gets 2, 3 and 4; 1 runs
// for the first configuration. Per-case lines and a per-class table are printed for each.
// Last line: one JSON object (p50_ms, p95_ms, max_ms, grid_images_per_s, peak_rss_mb, photo_miou,
// photo_miou_by_kind, photo_miou_by_class, noc85, noc90, features_trained_on, …; per configuration in
// `configs`).
// Flags: --size 417 --images 200 --timed 60 --warmup 5 --configs method[:variant][@backbone],…
//        --backend wasm|… --workers N (encoder threads for the first pass; default cores, ≤ 4, as protolab label)
//        --only grid,latency,photos,clicks (parts to run; default all) --skip-grid --skip-photos (photos + clicks)
//        --clicks first|all (configurations that get the click benchmark; default the first: 2–3 min each) --max-clicks 20
//        --labelme DIR --skimage DIR (where fetch-photos.sh extracts them) --photo-truth DIR (the built traces)
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseArgs } from 'util';
import { selectBackend, type BackendPreference } from '../src/engine/backend';
import { writeSampleDataset } from '../src/engine/data/sample';
import { readIndexPng } from '../src/engine/image/png';
import { createLabelModel, LABEL_METHODS, type LabelModel } from '../src/engine/label/methods';
import { LabelService } from '../src/engine/label/service';
import { maskShape, type Shape } from '../src/engine/label/shapes';
import { Rng } from '../src/engine/prng';
import type { IndexMask } from '../src/engine/types';
import { runCase, summarize, type ClassResult } from './lib/caseRunner';
import { parseConfigs, type LabelConfig } from './lib/labelConfigs';
import { photoPaths } from './lib/photoSources';
import { buildCases, type CaseSet } from './lib/realCases';
import { ensureRealPhotos, loadRealPhotos } from './lib/realPhotos';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '417' },
    images: { type: 'string', default: '200' },
    timed: { type: 'string', default: '60' },
    warmup: { type: 'string', default: '5' },
    configs: { type: 'string' },
    backend: { type: 'string' },
    labelme: { type: 'string' },
    skimage: { type: 'string' },
    'photo-truth': { type: 'string' },
    only: { type: 'string' },
    clicks: { type: 'string', default: 'first' },
    'max-clicks': { type: 'string', default: '20' },
    'skip-grid': { type: 'boolean', default: false },
    'skip-photos': { type: 'boolean', default: false },
    workers: { type: 'string' },
  },
});
const size = Number(values.size);
const nImages = Math.max(200, Number(values.images));
const timed = Math.max(50, Number(values.timed));
const warmup = Number(values.warmup);

const PARTS = ['grid', 'latency', 'photos', 'clicks'] as const;
const parts = new Set(values.only ? values.only.split(',').map((p) => p.trim()) : PARTS);
for (const p of parts) if (!(PARTS as readonly string[]).includes(p)) throw new Error(`--only ${p}: choose from ${PARTS.join(', ')}`);
if (values['skip-grid']) parts.delete('grid');
if (values['skip-photos']) { parts.delete('photos'); parts.delete('clicks'); }
if (values.clicks !== 'all' && values.clicks !== 'first') throw new Error(`--clicks ${values.clicks}: first or all`);
const maxClicks = Number(values['max-clicks']);

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

/** The real-photo cases, fetched and built first when missing (an error names the command otherwise). */
async function realCases(): Promise<CaseSet> {
  const env = { ...process.env };
  if (values.labelme) env.PROTOLAB_LABELME_DIR = path.resolve(values.labelme);
  if (values.skimage) env.PROTOLAB_SKIMAGE_DIR = path.resolve(values.skimage);
  if (values['photo-truth']) env.PROTOLAB_PHOTO_TRUTH_DIR = path.resolve(values['photo-truth']);
  const paths = photoPaths(env);
  await ensureRealPhotos(paths, { fetch: true, log: (l) => console.log(l) });
  const set = buildCases(await loadRealPhotos(paths));
  const kinds = (k: string) => set.oneShot.filter((c) => c.kind === k).length;
  console.log(`real photos: ${kinds('photo')} photo → photo and ${kinds('video')} video/stereo 1-shot cases, ${set.singles.length} single classes (clicks only)`);
  return set;
}

const f3 = (x: number | null | undefined) => (x === null || x === undefined ? '  -  ' : x.toFixed(3));
const f1 = (x: number | null | undefined) => (x === null || x === undefined ? '  - ' : x.toFixed(1));

/** 3 and 4 of the header for one configuration; prints a line per scored class and a table per class. */
async function photoBench(cfg: LabelConfig, set: CaseSet, clicks: boolean, work: string, ci: number): Promise<ClassResult[]> {
  const featureDir = path.join(work, `photo-features-${ci}`);
  const rows: ClassResult[] = [];
  const cases = [...(parts.has('photos') || clicks ? set.oneShot : []), ...(clicks ? set.singles : [])];
  // one model per class count: the quality predictor keeps ridge fitters across fits keyed by the
  // supports alone, and one made for K classes breaks a fit for another K (a case's K is its own), so
  // cases with different K never share a predictor. Features are cached on disk by image content and
  // encoder, so each photo is still encoded once.
  const models = new Map<number, LabelModel>();
  try {
    for (const c of cases) {
      let model = models.get(c.classes.length);
      if (!model) models.set(c.classes.length, (model = await createLabelModel({ method: cfg.method, backbone: cfg.backbone, size, options: cfg.options, workers: 1 })));
      const rs = await runCase(model, c, { work, featureDir, strokes: parts.has('photos'), clicks, maxClicks });
      for (const r of rs) {
        console.log(`[${cfg.name}] ${r.kind.padEnd(6)} ${r.case} | ${r.class}${r.small ? ' (small)' : ''}: IoU ${f3(r.iou)}, with its scribbles ${f3(r.iouStrokes)}, NoC@85 ${r.noc85 ?? '-'}, NoC@90 ${r.noc90 ?? '-'}${r.clickIous.length ? ` (IoU ${r.clickIous.map((x) => x.toFixed(2)).join(' ')})` : ''}`);
      }
      rows.push(...rs);
    }
  } finally {
    for (const m of models.values()) m.dispose();
  }
  const names = [...new Set(rows.map((r) => r.class))].sort();
  console.log(`[${cfg.name}] per class: ${'class'.padEnd(34)} ${'rows'.padStart(4)} ${'IoU'.padStart(6)} ${'+scrib'.padStart(6)} ${'NoC85'.padStart(5)} ${'NoC90'.padStart(5)}`);
  for (const n of names) {
    const s = summarize(rows.filter((r) => r.class === n));
    console.log(`[${cfg.name}] per class: ${n.slice(0, 34).padEnd(34)} ${String(rows.filter((r) => r.class === n).length).padStart(4)} ${f3(s.photo_miou).padStart(6)} ${f3(s.photo_miou_strokes).padStart(6)} ${f1(s.noc85).padStart(5)} ${f1(s.noc90).padStart(5)}`);
  }
  return rows;
}

async function main(): Promise<void> {
  const be = await selectBackend({ prefer: values.backend as BackendPreference | undefined, log: (l) => console.log(l) });
  console.log(`machine: ${os.cpus()[0]?.model ?? 'cpu'} × ${os.availableParallelism()}, node ${process.version}, backend ${be.name}, load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  const cfgs = parseConfigs(values.configs, LABEL_METHODS);
  const workers = values.workers ? Number(values.workers) : be.name === 'wasm' || be.name === 'cpu' ? Math.min(4, os.availableParallelism()) : 1;
  const set = parts.has('photos') || parts.has('clicks') ? await realCases() : undefined;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'protolab-benchlabel-'));
  const result: Record<string, unknown> = { size, backend: be.name, machine: `${os.cpus()[0]?.model ?? 'cpu'} × ${os.availableParallelism()}`, encoder_workers: workers, load_average_at_start: os.loadavg()[0], parts: [...parts] };
  const perConfig: Record<string, unknown>[] = [];
  const t0 = performance.now();
  try {
    let folder = '', supportId = '', strokeId = '', mask: IndexMask | undefined;
    if (parts.has('grid') || parts.has('latency')) {
      // a folder of ≥ 200 photos: the sample set's train + val JPEGs
      // one image more than asked: the annotated support is not predicted
      const val = Math.max(10, Math.ceil(nImages / 3));
      const sample = await writeSampleDataset({ out: path.join(work, 'sample'), seed: 1, images: { train: Math.max(10, nImages + 1 - val), val } });
      folder = path.join(sample.vocRoot, 'JPEGImages');
      const ids = fs.readdirSync(folder).filter((f) => f.endsWith('.jpg')).sort();
      supportId = ids[0];
      strokeId = ids[1];
      mask = remapTwo(await readIndexPng(path.join(sample.vocRoot, 'SegmentationClass', supportId.replace(/\.jpg$/, '.png')))).mask;
    }
    for (const [ci, cfg] of cfgs.entries()) {
      const row: Record<string, unknown> = { name: cfg.name, method: cfg.method, backbone: cfg.backbone, options: cfg.options };
      const grid = ci === 0 && parts.has('grid');
      const model = await createLabelModel({ method: cfg.method, backbone: cfg.backbone, size, options: cfg.options, workers: grid ? workers : 1 });
      // what the features were trained on, as the model says it (its backbone and where its weights come from)
      row.features_trained_on = `${model.info.backbone}: ${model.info.weightsSource}`;
      // which engine encoded (onnxruntime or tfjs) and on how many threads: grid_images_per_s depends on it
      if (model.info.encoder) row.encoder = `${model.info.encoder.engine}: ${model.info.encoder.detail}`;
      try {
        if (grid || parts.has('latency')) {
          const svc = await LabelService.open(folder, { classes: ['a', 'b'], model, stateDir: path.join(work, `state-${ci}`), featureDir: path.join(work, `features-${ci}`), featureBytes: 1024 ** 3 });
          try {
            await svc.setShapes(supportId, [maskShape(mask!)], { support: true });
            if (grid) {
              const g0 = performance.now();
              const g = await svc.requestGrid().done;
              const secs = (performance.now() - g0) / 1000;
              result.grid_images = g.predicted;
              result.grid_images_per_s = g.predicted / secs;
              if (row.encoder) result.grid_encoder = row.encoder;
              console.log(`[${cfg.name}] first pass over ${g.predicted} images at ${size}² (decode + encode on ${workers} worker${workers > 1 ? 's' : ''} + predict, cold): ${secs.toFixed(1)} s, ${(g.predicted / secs).toFixed(2)} images/s`);
            }
            if (parts.has('latency')) {
              await svc.predict(strokeId); // its features, encoded once
              const q = await latency(svc, strokeId, false);
              const s = await latency(svc, strokeId, true);
              Object.assign(row, {
                min_ms: Math.min(...q), p50_ms: pct(q, 50), p95_ms: pct(q, 95), max_ms: Math.max(...q), timed: q.length,
                support_p50_ms: pct(s, 50), support_p95_ms: pct(s, 95), support_max_ms: Math.max(...s),
              });
              console.log(`[${cfg.name}] re-segment one ${size}² image after a stroke (${q.length} timed after ${warmup} warm-up): min ${Math.min(...q).toFixed(1)} ms, p50 ${pct(q, 50).toFixed(1)} ms, p95 ${pct(q, 95).toFixed(1)} ms, max ${Math.max(...q).toFixed(1)} ms`);
              console.log(`[${cfg.name}] the same with strokes on a support (refit every stroke): p50 ${pct(s, 50).toFixed(1)} ms, p95 ${pct(s, 95).toFixed(1)} ms, max ${Math.max(...s).toFixed(1)} ms`);
            }
          } finally {
            await svc.close();
          }
        }
        const clicks = parts.has('clicks') && (values.clicks === 'all' || ci === 0);
        if (set && (parts.has('photos') || clicks)) {
          const p0 = performance.now();
          const rows = await photoBench(cfg, set, clicks, work, ci);
          const s = summarize(rows);
          Object.assign(row, {
            ...s, photo_cases: set.oneShot.length, click_cases: clicks ? set.oneShot.length + set.singles.length : 0, photo_seconds: (performance.now() - p0) / 1000,
          });
          console.log(`[${cfg.name}] real photos, 1-shot over ${s.photo_rows} scored classes of ${set.oneShot.length} cases: mean IoU ${f3(s.photo_miou)} (photo ${f3(s.photo_miou_by_kind.photo)}, video ${f3(s.photo_miou_by_kind.video)}, small ${f3(s.photo_miou_by_kind.small)}), with the query's own scribbles ${f3(s.photo_miou_strokes)} (all-class baseline ${f3(s.photo_all_fg)})`);
          if (clicks) console.log(`[${cfg.name}] clicks to accept over ${s.click_rows} classes: NoC@85 ${f1(s.noc85)}, NoC@90 ${f1(s.noc90)} (by kind NoC@85 ${JSON.stringify(s.noc85_by_kind)})`);
        }
      } finally {
        model.dispose();
      }
      perConfig.push(row);
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  const first = perConfig[0];
  for (const k of ['p50_ms', 'p95_ms', 'max_ms', 'support_p95_ms', 'photo_miou', 'photo_miou_strokes', 'photo_all_fg', 'photo_miou_by_kind', 'photo_miou_by_class',
    'noc85', 'noc90', 'noc85_by_kind', 'noc90_by_kind', 'photo_cases', 'photo_rows', 'click_cases', 'click_rows', 'features_trained_on']) result[k] = first[k] ?? null;
  result.seconds = (performance.now() - t0) / 1000;
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
