// Masks on real photos: 1-shot IoU of each labeling-predictor configuration (src/engine/label/quality/
// variants.ts) on every pair of photos that share a class, with and without strokes on the query, the
// latency of fit + predict (+ refine) from cached features, and how well each configuration's
// confidence tracks its actual IoU.
//
//   node out/scripts/eval-photos.js [--photos DIR]… [--sample DIR --sample-episodes 10] [--size 417]
//     [--variants a,b,…] [--overlays DIR [--overlay-variants panet,quality]] [--json OUT] [--backend wasm]
//
// --photos: folders in labelme's VOC export layout (JPEGImages/ + SegmentationClassPNG/); default: the
// labelme-examples photos fetched by scripts/fetch-photos.sh, and the hand-labelled scikit-image photos
// that scripts/make-photo-truth.ts writes to ~/.cache/protolab-test/photo-truth when that exists (both
// movable as lib/photoSources.ts says). Pairs
// are drawn across all folders (a person in one and a person in another). --sample: a `protolab sample` root; its
// VOC val list gives `--sample-episodes` 1-way 1-shot episodes per fold (the synthetic images flatter
// every method: report them apart). The last line printed is one JSON object (the summary).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseArgs } from 'util';
import sharp from 'sharp';
import { selectBackend, type BackendPreference } from '../src/engine/backend';
import { openDataset } from '../src/engine/data/open';
import { EpisodeSampler } from '../src/engine/data/episodes';
import { foldClasses } from '../src/engine/data/splits';
import { MobileNetLabelEncoder } from '../src/engine/label/quality/mobileNetLabelEncoder';
import { loadPhotoFolder, oneWayRaster, photoImage, photoPairs, type PhotoImage, type PhotoPair } from './lib/photoCases';
import { queryStrokes, scorePair } from './lib/photoEval';
import { photoPaths } from './lib/photoSources';
import { VARIANTS, variantByName, type Variant } from '../src/engine/label/quality/variants';
import { QualityPredictor } from '../src/engine/label/qualityPredictor';
import { expectedIoU, maskConfidence } from '../src/engine/label/quality/confidence';
import type { LabelImage } from '../src/engine/label/predictor';
import type { FeatureEntry } from '../src/engine/features/featureCache';

const PHOTO_TRUTH = photoPaths().truth;
const LABELME_VOC = path.join(photoPaths().labelmeExamples, 'instance_segmentation', 'data_dataset_voc');

const { values } = parseArgs({
  options: {
    photos: { type: 'string', multiple: true },
    sample: { type: 'string' },
    'sample-episodes': { type: 'string', default: '10' },
    size: { type: 'string', default: '417' },
    variants: { type: 'string' },
    overlays: { type: 'string' },
    'overlay-variants': { type: 'string', default: 'panet,quality' },
    json: { type: 'string' },
    backend: { type: 'string' },
    'no-strokes': { type: 'boolean', default: false },
    'timing-repeats': { type: 'string', default: '3' },
    custom: { type: 'string', multiple: true },
  },
});
const size = Number(values.size);
const variants: Variant[] = values.variants ? values.variants.split(',').map((n) => variantByName(n.trim())) : [...VARIANTS];
// --custom '{"name": "x", "base": "quality", "set": {…partial config…}}': a configuration to try beside the list
for (const c of values.custom ?? []) {
  const j = JSON.parse(c) as { name: string; base?: string; set?: Partial<Variant['config']> };
  const base = variantByName(j.base ?? 'quality').config;
  variants.push({ name: j.name, note: `custom: ${j.base ?? 'quality'} + ${JSON.stringify(j.set ?? {})}`, config: { ...base, ...j.set } });
}

interface Case extends PhotoPair { set: 'photos' | 'sample' }
interface Row { pair: string; set: string; cls: number; variant: string; iou: number | null; iouStrokes: number | null; confidence: number; coldMs: number; warmMs: number; stats: Record<string, number> }

function copyImage(li: LabelImage): LabelImage {
  // fresh arrays: nothing memoised on the originals (normalised levels, guide, CRF grid) is reused
  return { id: li.id, rgb: { ...li.rgb, data: li.rgb.data.slice() }, features: li.features.map((f) => ({ shape: f.shape, data: f.data.slice() })) };
}

async function overlay(file: string, c: Case, pred: Uint8Array): Promise<void> {
  const w = size * 2, out = Buffer.alloc(w * size * 3);
  const put = (x0: number, img: PhotoImage, mask: (i: number) => number[] | null, edge: (i: number) => boolean) => {
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
      const i = y * size + x, o = (y * w + x0 + x) * 3;
      let px = [img.rgb.data[i * 3], img.rgb.data[i * 3 + 1], img.rgb.data[i * 3 + 2]];
      const tint = mask(i);
      if (tint) px = px.map((v, k) => Math.round(0.5 * v + 0.5 * tint[k]));
      if (edge(i)) px = [255, 255, 0];
      out[o] = px[0]; out[o + 1] = px[1]; out[o + 2] = px[2];
    }
  };
  const gtEdge = (m: PhotoImage) => (i: number) => {
    const inside = m.gt.data[i] === c.cls, x = i % size, y = Math.floor(i / size);
    for (const [dx, dy] of [[1, 0], [0, 1]]) {
      const xx = x + dx, yy = y + dy;
      if (xx < size && yy < size && (m.gt.data[yy * size + xx] === c.cls) !== inside) return true;
    }
    return false;
  };
  put(0, c.support, (i) => (c.support.gt.data[i] === c.cls ? [0, 255, 0] : null), () => false);
  put(size, c.query, (i) => (pred[i] === 1 ? [255, 0, 0] : null), gtEdge(c.query));
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await sharp(out, { raw: { width: w, height: size, channels: 3 } }).png().toFile(file);
}

/** Image-level summaries of a 1-way prediction, to study which of them tracks the IoU (--json rows). */
function predictionStats(probs: Float32Array, labels: Uint8Array): Record<string, number> {
  const eIoU = expectedIoU(probs, labels, 2), inMask = maskConfidence(probs, labels, 2);
  let fg = 0, meanMax = 0, fgMass = 0, fgConf = 0;
  for (let i = 0; i < labels.length; i++) {
    const p1 = probs[2 * i + 1];
    meanMax += Math.max(p1, 1 - p1);
    fgMass += p1;
    if (labels[i] === 1) { fg++; fgConf += p1; }
  }
  const n = labels.length;
  return { fgArea: fg / n, meanMax: meanMax / n, fgMass: fgMass / n, fgMeanProb: fg ? fgConf / fg : 0, expectedIoU: eIoU, maskConfidence: inMask };
}

function pearson(a: number[], b: number[]): number {
  const n = a.length, ma = a.reduce((s, x) => s + x, 0) / n, mb = b.reduce((s, x) => s + x, 0) / n;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < n; i++) { sab += (a[i] - ma) * (b[i] - mb); saa += (a[i] - ma) ** 2; sbb += (b[i] - mb) ** 2; }
  return sab / Math.sqrt(saa * sbb);
}
const ranks = (a: number[]) => {
  const idx = a.map((v, i) => [v, i] as const).sort((x, y) => x[0] - y[0]), r = new Array<number>(a.length);
  idx.forEach(([, i], k) => { r[i] = k; });
  return r;
};
const spearman = (a: number[], b: number[]) => pearson(ranks(a), ranks(b));
const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
};
const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

async function sampleCases(root: string, perFold: number): Promise<Case[]> {
  const ds = await openDataset({ data: root, dataset: 'voc', cacheDir: fs.mkdtempSync(path.join(os.tmpdir(), 'protolab-photos-')) });
  const index = await ds.index('val');
  const cache = new Map<string, PhotoImage>();
  const load = async (id: string) => {
    let im = cache.get(id);
    if (!im) cache.set(id, (im = await photoImage(`sample/${id}`, ds.imagePath(id), await ds.loadImage(id), await ds.loadMask(id), size)));
    return im;
  };
  const out: Case[] = [];
  for (let fold = 0; fold < 4; fold++) {
    const sampler = new EpisodeSampler({ fold, classes: foldClasses('voc', 20, fold, 'panet'), ways: 1, shots: 1, queriesPerClass: 1, seed: 1234, list: 'val', minPixels: 1 }, index);
    for (let e = 0; e < perFold; e++) {
      const ep = sampler.episode(0, e);
      out.push({ set: 'sample', support: await load(ep.supports[0][0]), query: await load(ep.queries[0]), cls: ep.classes[0] });
    }
  }
  return out;
}

async function main(): Promise<void> {
  const be = await selectBackend({ prefer: values.backend as BackendPreference | undefined, log: () => undefined });
  const load = os.loadavg();
  console.log(`machine: ${os.cpus()[0]?.model ?? 'cpu'} × ${os.availableParallelism()}, load average ${load.map((x) => x.toFixed(1)).join(' ')}, node ${process.version}, backend ${be.name}, size ${size}²`);
  const folders = values.photos?.length ? values.photos : [LABELME_VOC, ...(fs.existsSync(PHOTO_TRUTH) ? [PHOTO_TRUTH] : [])];
  console.log(`photos: ${folders.join(', ')}`);
  const cases: Case[] = [];
  for (const f of folders) {
    if (!fs.existsSync(f)) throw new Error(`${f}: no such folder (the labelme photos come from scripts/fetch-labelme.sh)`);
    cases.push(...photoPairs(await loadPhotoFolder(f, size)).map((p) => ({ ...p, set: 'photos' as const })));
  }
  // pairs across folders too: a person in one folder and a person in another
  if (folders.length > 1) {
    const all = (await Promise.all(folders.map((f) => loadPhotoFolder(f, size)))).flat();
    cases.length = 0;
    cases.push(...photoPairs(all).map((p) => ({ ...p, set: 'photos' as const })));
  }
  if (values.sample) cases.push(...(await sampleCases(values.sample, Number(values['sample-episodes']))));

  const encoder = await MobileNetLabelEncoder.create(size, [...new Set(variants.flatMap((v) => v.config.levels))].sort((a, b) => a - b));
  const feats = new Map<string, FeatureEntry[]>();
  const labelImage = async (p: PhotoImage): Promise<LabelImage> => {
    let f = feats.get(p.id);
    if (!f) feats.set(p.id, (f = await encoder.encode(p.rgb)));
    return { id: p.id, rgb: p.rgb, features: f };
  };
  const repeats = Number(values['timing-repeats']);
  const overlayVariants = new Set(values['overlay-variants']!.split(','));
  const rows: Row[] = [];
  for (const c of cases) {
    const sup = await labelImage(c.support), qry = await labelImage(c.query);
    const supLabels = oneWayRaster(c.support.gt, c.cls);
    const strokes = values['no-strokes'] ? undefined : queryStrokes(c.query.gt, c.cls, 7);
    const pairName = `${c.support.id} → ${c.query.id} (class ${c.cls})`;
    for (const v of variants) {
      const pred = new QualityPredictor(v.config, v.name);
      let coldMs = Infinity, warmMs = Infinity;
      for (let r = 0; r < repeats; r++) {
        const s2 = copyImage(sup), q2 = copyImage(qry);
        let t0 = performance.now();
        pred.fit([{ image: s2, labels: supLabels }], 1).predict(q2);
        coldMs = Math.min(coldMs, performance.now() - t0);
        t0 = performance.now();
        pred.fit([{ image: s2, labels: supLabels }], 1).predict(q2);
        warmMs = Math.min(warmMs, performance.now() - t0);
      }
      const { iou, iouStrokes, prediction: p, withStrokes } = scorePair(v, c, sup, qry, strokes);
      rows.push({
        pair: pairName, set: c.set, cls: c.cls, variant: v.name, iou, iouStrokes, confidence: p.confidence, coldMs, warmMs, stats: predictionStats(p.probs, p.labels),
      });
      if (values.overlays && overlayVariants.has(v.name)) {
        const safe = (s: string) => s.replace(/[^A-Za-z0-9_.-]+/g, '_');
        await overlay(path.join(values.overlays, `${safe(c.support.id)}__${safe(c.query.id)}__${c.cls}.${safe(v.name)}.png`), c, p.labels);
        if (withStrokes) await overlay(path.join(values.overlays, `${safe(c.support.id)}__${safe(c.query.id)}__${c.cls}.${safe(v.name)}.strokes.png`), c, withStrokes.labels);
      }
    }
    process.stderr.write('.');
  }
  process.stderr.write('\n');
  encoder.dispose();

  const f3 = (x: number | null) => (x === null ? '  -  ' : x.toFixed(3));
  for (const set of ['photos', 'sample'] as const) {
    const pairs = [...new Set(rows.filter((r) => r.set === set).map((r) => r.pair))];
    if (!pairs.length) continue;
    console.log(`\n${set}: IoU per pair (1-shot; support mask → query), columns = variants`);
    console.log(['pair'.padEnd(58), ...variants.map((v) => v.name.slice(0, 12).padStart(12))].join(' '));
    for (const pr of set === 'photos' ? pairs : []) {
      console.log([pr.slice(0, 58).padEnd(58), ...variants.map((v) => f3(rows.find((r) => r.pair === pr && r.variant === v.name)!.iou).padStart(12))].join(' '));
    }
  }
  const summary: Record<string, unknown> = { size, backend: be.name, loadavg: load, variants: {} as Record<string, unknown> };
  console.log(`\nsummary (mean IoU over pairs; strokes = the query also carries scribbles; ms = fit + predict from cached features, min of ${repeats} per pair, then p50/p95 over pairs)`);
  console.log(['variant'.padEnd(20), 'photos', 'photos+strokes', 'sample', 'sample+strokes', 'cold p50', 'cold p95', 'warm p50', 'warm p95', 'conf~IoU r (ρ)'].join('  '));
  for (const v of variants) {
    const rs = rows.filter((r) => r.variant === v.name);
    const m = (set: string, k: 'iou' | 'iouStrokes') => {
      const xs = rs.filter((r) => r.set === set && r[k] !== null).map((r) => r[k] as number);
      return xs.length ? mean(xs) : null;
    };
    const valid = rs.filter((r) => r.iou !== null);
    const r = pearson(valid.map((x) => x.confidence), valid.map((x) => x.iou as number)), rho = spearman(valid.map((x) => x.confidence), valid.map((x) => x.iou as number));
    const cold = rs.map((x) => x.coldMs).filter(Number.isFinite), warm = rs.map((x) => x.warmMs).filter(Number.isFinite);
    const s = {
      photoMiou: m('photos', 'iou'), photoMiouStrokes: m('photos', 'iouStrokes'), sampleMiou: m('sample', 'iou'), sampleMiouStrokes: m('sample', 'iouStrokes'),
      coldP50: cold.length ? quantile(cold, 0.5) : NaN, coldP95: cold.length ? quantile(cold, 0.95) : NaN,
      warmP50: warm.length ? quantile(warm, 0.5) : NaN, warmP95: warm.length ? quantile(warm, 0.95) : NaN,
      confidencePearson: r, confidenceSpearman: rho, pairs: valid.length, note: v.note,
    };
    (summary.variants as Record<string, unknown>)[v.name] = s;
    console.log([v.name.padEnd(20), f3(s.photoMiou).padStart(6), f3(s.photoMiouStrokes).padStart(14), f3(s.sampleMiou).padStart(6), f3(s.sampleMiouStrokes).padStart(14),
      s.coldP50.toFixed(1).padStart(8), s.coldP95.toFixed(1).padStart(8), s.warmP50.toFixed(1).padStart(8), s.warmP95.toFixed(1).padStart(8), `${r.toFixed(2)} (${rho.toFixed(2)})`.padStart(14)].join('  '));
  }
  if (values.json) fs.writeFileSync(values.json, JSON.stringify({ summary, rows }, null, 2) + '\n');
  console.log(JSON.stringify(summary));
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack ?? e.message : String(e));
  process.exit(1);
});
