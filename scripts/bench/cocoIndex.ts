// `npm run bench -- --only coco-index`: the first open of a COCO annotation file of realistic size
// (parse + index build + cache write) against the second open (the cached index, data/coco/index.ts),
// each in a fresh process, as a user meets them. Target: the second open ≥ 5× faster.
// The file is generated in the real on-disk format (annotations/instances_val2014.json, COCO's 80
// categories and their gapped ids, polygons, crowd regions as uncompressed and compressed RLE) into a
// temp folder that is removed afterwards.
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { COCO_CATEGORY_IDS, COCO_CLASSES } from '../../src/engine/data/classes';
import { cocoIndexStats } from '../../src/engine/data/coco/index';
import { openDataset } from '../../src/engine/data/open';
import { rleToString } from '../../src/engine/data/coco/rle';
import { Rng } from '../../src/engine/prng';

export interface CocoScale {
  images: number;
  /** at least this many annotations (each image gets 1–11, so about 6 per image on average) */
  annotations: number;
  seed: number;
}

export interface CocoWritten { bytes: number; images: number; annotations: number; polygons: number; crowdRle: number; compressedRle: number }

/** COCO's common image sizes (width × height). */
const SIZES: ReadonlyArray<[number, number]> = [[640, 480], [640, 427], [480, 640], [640, 426], [500, 375], [612, 612], [640, 360]];

/** A star-shaped polygon around (cx, cy), clipped to the image, coordinates with 2 decimals as COCO's. */
function polygon(rng: Rng, w: number, h: number, cx: number, cy: number, r: number): number[] {
  const k = 8 + rng.int(41); // COCO polygons: tens of vertices
  const pts: number[] = [];
  for (let i = 0; i < k; i++) {
    const a = (2 * Math.PI * (i + rng.uniform(-0.3, 0.3))) / k;
    const rr = r * rng.uniform(0.6, 1.0);
    pts.push(+Math.min(w - 1, Math.max(0, cx + rr * Math.cos(a))).toFixed(2), +Math.min(h - 1, Math.max(0, cy + rr * Math.sin(a))).toFixed(2));
  }
  return pts;
}

function shoelace(p: number[]): number {
  let s = 0;
  for (let i = 0; i < p.length; i += 2) {
    const j = (i + 2) % p.length;
    s += p[i] * p[j + 1] - p[j] * p[i + 1];
  }
  return Math.abs(s) / 2;
}

function bboxOf(p: number[]): [number, number, number, number] {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (let i = 0; i < p.length; i += 2) {
    x0 = Math.min(x0, p[i]); x1 = Math.max(x1, p[i]); y0 = Math.min(y0, p[i + 1]); y1 = Math.max(y1, p[i + 1]);
  }
  return [x0, y0, +(x1 - x0).toFixed(2), +(y1 - y0).toFixed(2)];
}

/** A crowd region (an ellipse) as COCO's column-major RLE counts: runs alternate 0s and 1s, starting with 0s. */
function ellipseRle(h: number, w: number, cx: number, cy: number, rx: number, ry: number): { counts: number[]; area: number; bbox: [number, number, number, number] } {
  const counts: number[] = [];
  let run = 0, cur = 0, area = 0, x0 = w, x1 = 0, y0 = h, y1 = 0;
  for (let x = 0; x < w; x++) {
    const dx = (x + 0.5 - cx) / rx;
    const half = dx * dx < 1 ? ry * Math.sqrt(1 - dx * dx) : -1;
    const lo = half < 0 ? h : Math.max(0, Math.ceil(cy - half - 0.5)), hi = half < 0 ? h : Math.min(h, Math.floor(cy + half - 0.5) + 1);
    for (const [v, n] of [[0, lo], [1, Math.max(0, hi - lo)], [0, h - Math.max(lo, hi)]] as Array<[number, number]>) {
      if (n === 0) continue;
      if (v === cur) run += n;
      else { counts.push(run); run = n; cur = v; }
    }
    if (hi > lo) { area += hi - lo; x0 = Math.min(x0, x); x1 = Math.max(x1, x + 1); y0 = Math.min(y0, lo); y1 = Math.max(y1, hi); }
  }
  counts.push(run);
  return { counts, area, bbox: [x0, y0, x1 - x0, y1 - y0] };
}

/** Write an instances JSON of the given scale to `file`, streamed (no giant string in memory). */
export async function writeCocoInstances(file: string, scale: CocoScale): Promise<CocoWritten> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const rng = new Rng(scale.seed);
  const out = fs.createWriteStream(file);
  let bytes = 0;
  const write = async (s: string) => {
    bytes += Buffer.byteLength(s);
    if (!out.write(s)) await new Promise<void>((r) => out.once('drain', () => r()));
  };
  const images = Array.from({ length: scale.images }, (_, i) => {
    const [width, height] = SIZES[rng.int(SIZES.length)];
    const id = 100000 + 7 * i + rng.int(7); // COCO's ids are sparse, not 0..N-1
    return { id, width, height };
  });
  await write(`{"info":{"description":"ProtoLab bench: synthetic COCO-format annotations at COCO scale","version":"1.0","year":2014,"contributor":"ProtoLab","date_created":"2014-01-01 00:00:00"},`);
  await write(`"images":[${images.map((im) => JSON.stringify({ license: 1 + (im.id % 8), file_name: `COCO_val2014_${String(im.id).padStart(12, '0')}.jpg`, coco_url: '', height: im.height, width: im.width, date_captured: '2013-11-14 16:28:13', flickr_url: '', id: im.id })).join(',')}],`);
  await write(`"licenses":[${Array.from({ length: 8 }, (_, i) => JSON.stringify({ url: '', id: i + 1, name: `License ${i + 1}` })).join(',')}],"annotations":[`);
  const stats = { annotations: 0, polygons: 0, crowdRle: 0, compressedRle: 0 };
  let chunk: string[] = [];
  for (let round = 0; stats.annotations < scale.annotations; round++) {
    for (const im of images) {
      const k = round === 0 ? 1 + rng.int(11) : 1; // a second pass only if the first fell short
      for (let a = 0; a < k && (round === 0 || stats.annotations < scale.annotations); a++) {
        const cat = COCO_CATEGORY_IDS[rng.int(COCO_CATEGORY_IDS.length)];
        const { width: w, height: h } = im;
        const cx = rng.uniform(0.1, 0.9) * w, cy = rng.uniform(0.1, 0.9) * h, r = rng.uniform(0.03, 0.3) * Math.min(w, h);
        const id = 900000 + stats.annotations;
        let ann: object;
        if (rng.next() < 0.01) {
          // crowd: an RLE region, mostly uncompressed counts (as instances_*2014.json), some compressed strings
          const e = ellipseRle(h, w, cx, cy, r * 1.5, r);
          const compressed = rng.next() < 0.3;
          ann = { segmentation: { counts: compressed ? rleToString(e.counts) : e.counts, size: [h, w] }, area: e.area, iscrowd: 1, image_id: im.id, bbox: e.bbox, category_id: cat, id };
          stats.crowdRle++;
          if (compressed) stats.compressedRle++;
        } else {
          // one polygon, sometimes two parts (an occluded object), as COCO's lists of polygons
          const parts = [polygon(rng, w, h, cx, cy, r)];
          if (rng.next() < 0.1) parts.push(polygon(rng, w, h, Math.min(w - 1, cx + r), cy, r / 2));
          const area = parts.reduce((s, p) => s + shoelace(p), 0);
          ann = { segmentation: parts, area: +area.toFixed(2), iscrowd: 0, image_id: im.id, bbox: bboxOf(parts[0]), category_id: cat, id };
          stats.polygons += parts.length;
        }
        chunk.push(JSON.stringify(ann));
        stats.annotations++;
        if (chunk.length === 2000) {
          await write((stats.annotations > 2000 ? ',' : '') + chunk.join(','));
          chunk = [];
        }
      }
    }
  }
  if (chunk.length) await write((stats.annotations > chunk.length ? ',' : '') + chunk.join(','));
  const cats = COCO_CATEGORY_IDS.map((id, i) => JSON.stringify({ supercategory: 'thing', id, name: COCO_CLASSES[i + 1] }));
  await write(`],"categories":[${cats.join(',')}]}`);
  await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
  return { bytes, images: images.length, ...stats };
}

interface OpenReport { ms: number; parses: number; images: number; classes: number; heapMB: number }

/** In a fresh process: open the COCO root and index its val list, timed. */
function openInChild(root: string, cacheDir: string): Promise<OpenReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [__filename, '--open', root, '--cache', cacheDir], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!)) : reject(new Error(`COCO open child exited ${code}`))));
  });
}

export async function benchCocoIndex(scale: CocoScale = { images: 20000, annotations: 120000, seed: 1 }): Promise<void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'protolab-bench-coco-'));
  try {
    const json = path.join(root, 'annotations', 'instances_val2014.json');
    const t0 = performance.now();
    const w = await writeCocoInstances(json, scale);
    console.log(`coco-index: generated ${json} in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${(w.bytes / 2 ** 20).toFixed(0)} MB, ` +
      `${w.images} images, ${w.annotations} annotations (${w.polygons} polygons, ${w.crowdRle} crowd RLE of which ${w.compressedRle} compressed), ${COCO_CATEGORY_IDS.length} categories`);
    const cache = path.join(root, 'cache');
    const first = await openInChild(root, cache);
    const second = await openInChild(root, cache);
    const ratio = first.ms / second.ms;
    console.log(`coco-index: first open (parse + index + cache write) ${first.ms.toFixed(0)} ms [${first.parses} parse, heap ${first.heapMB.toFixed(0)} MB]; ` +
      `second open (cached index) ${second.ms.toFixed(0)} ms [${second.parses} parses, heap ${second.heapMB.toFixed(0)} MB]; ` +
      `${ratio.toFixed(1)}× faster (target ≥ 5×: ${ratio >= 5 && second.parses === 0 ? 'met' : 'NOT MET'})`);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

async function childMain(): Promise<void> {
  const arg = (name: string) => process.argv[process.argv.indexOf(name) + 1];
  const t0 = performance.now();
  const ds = await openDataset({ data: arg('--open'), dataset: 'coco', cacheDir: arg('--cache') });
  const idx = await ds.index('val');
  const ms = performance.now() - t0;
  const report: OpenReport = { ms, parses: cocoIndexStats.parses, images: idx.length, classes: ds.classNames.length - 1, heapMB: process.memoryUsage().heapUsed / 2 ** 20 };
  process.stdout.write(JSON.stringify(report) + '\n');
}

if (require.main === module && process.argv.includes('--open')) {
  childMain().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
