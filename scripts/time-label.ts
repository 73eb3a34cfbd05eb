// Re-segmentation latency of the labeling predictors: refit + predict + refine for one image from
// cached features, as after each stroke of a labeling session (target: < 50 ms p95 at 417² with
// MobileNetV2 on a 2-core machine).
//
//   node out/scripts/time-label.js [--variants quality,panet] [--size 417] [--iterations 40] [--photos DIR]…
//
// Each iteration picks a (support, query) pair of the real photos (eval-photos.ts's folders) and times
// fit(support) + predict(query) twice: with the query's strokes so far (a growing share of PANet-generator
// scribbles from its truth: the image being labelled, re-segmented after each stroke) and without (the
// other images of the folder, re-segmented from the new supports), each
// 
//  - warm: the same image objects every time, so what depends on an image alone (its normalised
//    feature levels, its CRF grid or guide) is reused, as in a session where features stay cached;
//  - cold: fresh copies of the image and its features, so nothing derived from them is reused.
// Wall time is what a user waits; CPU time (process user + system) is printed beside it because on a
// loaded machine wall time mostly measures the other processes. The machine's load average is printed.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseArgs } from 'util';
import { selectBackend, type BackendPreference } from '../src/engine/backend';
import { ANN_BG, ANN_FG, scribbleAnnotation } from '../src/engine/fewshot/annotations';
import { Rng } from '../src/engine/prng';
import { MobileNetLabelEncoder } from '../src/engine/label/quality/mobileNetLabelEncoder';
import { loadPhotoFolder, oneWayRaster, photoPairs } from './lib/photoCases';
import { variantByName } from '../src/engine/label/quality/variants';
import { QualityPredictor } from '../src/engine/label/qualityPredictor';
import { UNLABELED, type LabelImage } from '../src/engine/label/predictor';

const PHOTO_TRUTH = path.join(os.homedir(), '.cache', 'protolab-test', 'photo-truth');
const LABELME_VOC = path.join(process.env.PROTOLAB_LABELME_DIR ?? path.join(os.homedir(), '.cache', 'protolab-test', 'labelme'),
  'root', 'usr', 'share', 'doc', 'labelme-examples', 'examples', 'instance_segmentation', 'data_dataset_voc');

const { values } = parseArgs({
  options: {
    variants: { type: 'string', default: 'quality,panet' },
    size: { type: 'string', default: '417' },
    iterations: { type: 'string', default: '40' },
    photos: { type: 'string', multiple: true },
    backend: { type: 'string' },
  },
});

const cpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const q = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)]; };

async function main(): Promise<void> {
  const be = await selectBackend({ prefer: values.backend as BackendPreference | undefined, log: () => undefined });
  const size = Number(values.size), iterations = Number(values.iterations);
  const variants = values.variants!.split(',').map((n) => variantByName(n.trim()));
  const folders = values.photos?.length ? values.photos : [LABELME_VOC, PHOTO_TRUTH].filter((f) => fs.existsSync(f));
  if (!folders.length) throw new Error('no photos: run scripts/fetch-labelme.sh (and optionally out/scripts/make-photo-truth.js), or give --photos DIR');
  const pairs = photoPairs((await Promise.all(folders.map((f) => loadPhotoFolder(f, size)))).flat());
  const encoder = await MobileNetLabelEncoder.create(size, [...new Set(variants.flatMap((v) => v.config.levels))].sort((a, b) => a - b));
  const images = new Map<string, LabelImage>();
  for (const p of pairs) for (const im of [p.support, p.query]) if (!images.has(im.id)) images.set(im.id, { id: im.id, rgb: im.rgb, features: await encoder.encode(im.rgb) });
  encoder.dispose();
  // strokes on each query: PANet's scribbles from its truth, revealed a few pixels more each iteration
  const strokes = pairs.map((p, i) => {
    const ann = scribbleAnnotation({ width: size, height: size, data: oneWayRaster(p.query.gt, p.cls) }, 1, new Rng(100 + i), [1]);
    return Array.from(ann.data.entries()).filter(([, v]) => v === ANN_FG || v === ANN_BG).map(([px, v]) => [px, v === ANN_FG ? 1 : 0] as const);
  });
  const load = os.loadavg();
  console.log(`machine: ${os.cpus()[0]?.model ?? 'cpu'} × ${os.availableParallelism()}, load average ${load.map((x) => x.toFixed(1)).join(' ')} (1/5/15 min), node ${process.version}, backend ${be.name}`);
  console.log(`${pairs.length} photo pairs at ${size}², ${iterations} iterations per variant (fit on the support + predict the query; ms)\n`);
  console.log(['variant'.padEnd(30), 'warm wall p50/p95/max', 'warm cpu p50/p95', 'cold wall p50/p95/max', 'cold cpu p50/p95'].join('  '));
  const summary: Record<string, unknown> = {};
  for (const v of variants) {
    const pred = new QualityPredictor(v.config, v.name);
    for (const withStrokes of [true, false]) {
      const res = { warmWall: [] as number[], warmCpu: [] as number[], coldWall: [] as number[], coldCpu: [] as number[] };
      for (let it = -2; it < iterations; it++) { // 2 untimed warm-up iterations
        const k = ((it % pairs.length) + pairs.length) % pairs.length, p = pairs[k];
        let own: Uint8Array | undefined;
        if (withStrokes) {
          own = new Uint8Array(size * size).fill(UNLABELED);
          const st = strokes[k], take = Math.max(1, Math.floor((st.length * (it + 3)) / (iterations + 2)));
          for (const [px, l] of st.slice(0, take)) own[px] = l;
        }
        const sup = images.get(p.support.id)!, qry = images.get(p.query.id)!, labels = oneWayRaster(p.support.gt, p.cls);
        const copy = (li: LabelImage): LabelImage => ({ id: li.id, rgb: { ...li.rgb, data: li.rgb.data.slice() }, features: li.features.map((f) => ({ shape: f.shape, data: f.data.slice() })) });
        const s2 = copy(sup), q2 = copy(qry);
        for (const [mode, s, qq] of [['warm', sup, qry], ['cold', s2, q2]] as const) {
          const w0 = performance.now(), c0 = cpuMs();
          const model = pred.fit([{ image: s, labels }], 1);
          model.predict(qq, own);
          model.dispose();
          if (it >= 0) {
            res[mode === 'warm' ? 'warmWall' : 'coldWall'].push(performance.now() - w0);
            res[mode === 'warm' ? 'warmCpu' : 'coldCpu'].push(cpuMs() - c0);
          }
        }
      }
      const f = (xs: number[], ps: number[]) => ps.map((p) => (p === 1 ? Math.max(...xs) : q(xs, p)).toFixed(1)).join('/');
      const name = `${v.name} ${withStrokes ? '(strokes)' : '(no strokes)'}`;
      console.log([name.padEnd(30), f(res.warmWall, [0.5, 0.95, 1]).padStart(21), f(res.warmCpu, [0.5, 0.95]).padStart(16), f(res.coldWall, [0.5, 0.95, 1]).padStart(21), f(res.coldCpu, [0.5, 0.95]).padStart(16)].join('  '));
      summary[name] = { warm: { p50: q(res.warmWall, 0.5), p95: q(res.warmWall, 0.95), max: Math.max(...res.warmWall), cpuP50: q(res.warmCpu, 0.5), cpuP95: q(res.warmCpu, 0.95) },
        cold: { p50: q(res.coldWall, 0.5), p95: q(res.coldWall, 0.95), max: Math.max(...res.coldWall), cpuP50: q(res.coldCpu, 0.5), cpuP95: q(res.coldCpu, 0.95) } };
    }
  }
  console.log(JSON.stringify({ size, backend: be.name, loadavg: load, cpus: os.availableParallelism(), variants: summary }));
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack ?? e.message : String(e));
  process.exit(1);
});
