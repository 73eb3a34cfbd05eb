// Builds the hand-made ground truth of scripts/photo-truth/*.json into a labelme/VOC-style folder that
// scripts/eval-photos.ts reads (JPEGImages/<id>.png + SegmentationClassPNG/<id>.png, VOC palette):
//
//   node out/scripts/make-photo-truth.js [--truth scripts/photo-truth/skimage-person.json]
//     [--images /usr/lib/python3/dist-packages/skimage/data] [--out ~/.cache/protolab-test/photo-truth]
//     [--overlays]
//
// The photos come from Debian's python3-skimage (CC0 / public domain; `apt-get install python3-skimage`,
// or `apt-get download python3-skimage && dpkg-deb -x …`); nothing is committed but the polygons.
// Filling: polygons in order, even-odd rule at pixel centres, a later polygon over an earlier one; then
// every pixel within `band` pixels (Euclidean) of a pixel of another label becomes 255 (unsure), like
// VOC's borders, so the traces need only be right to within the band. --overlays also writes
// <id>.overlay.png (class tinted green, 255 yellow) to look at.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseArgs } from 'util';
import sharp from 'sharp';
import { encodeIndexPng } from '../src/engine/image/png';
import { writeFileAtomic } from '../src/engine/fsutil';

interface TruthFile { band: number; images: Array<{ id: string; file: string; polygons: Array<{ label: number; points: number[] }> }> }

const { values } = parseArgs({
  options: {
    truth: { type: 'string', default: path.join(__dirname, '..', '..', 'scripts', 'photo-truth', 'skimage-person.json') },
    images: { type: 'string', default: '/usr/lib/python3/dist-packages/skimage/data' },
    out: { type: 'string', default: path.join(os.homedir(), '.cache', 'protolab-test', 'photo-truth') },
    overlays: { type: 'boolean', default: false },
  },
});

/** Even-odd fill of a polygon at pixel centres. */
export function fillPolygon(mask: Uint8Array, w: number, h: number, pts: number[], value: number): void {
  const n = pts.length / 2;
  for (let y = 0; y < h; y++) {
    const yc = y + 0.5, xs: number[] = [];
    for (let i = 0; i < n; i++) {
      const x0 = pts[2 * i], y0 = pts[2 * i + 1], x1 = pts[2 * ((i + 1) % n)], y1 = pts[2 * ((i + 1) % n) + 1];
      if ((y0 <= yc) !== (y1 <= yc)) xs.push(x0 + ((yc - y0) * (x1 - x0)) / (y1 - y0));
    }
    xs.sort((a, b) => a - b);
    for (let k = 0; k + 1 < xs.length; k += 2) {
      for (let x = Math.max(0, Math.ceil(xs[k] - 0.5)); x < Math.min(w, Math.ceil(xs[k + 1] - 0.5)); x++) mask[y * w + x] = value;
    }
  }
}

/** Pixels within `band` of a pixel of another label → 255. */
export function unsureBand(mask: Uint8Array, w: number, h: number, band: number): Uint8Array {
  const out = mask.slice();
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const v = mask[y * w + x];
    search: for (let dy = -band; dy <= band; dy++) for (let dx = -band; dx <= band; dx++) {
      const yy = y + dy, xx = x + dx;
      if (yy < 0 || xx < 0 || yy >= h || xx >= w || dx * dx + dy * dy > band * band) continue;
      if (mask[yy * w + xx] !== v) { out[y * w + x] = 255; break search; }
    }
  }
  return out;
}

async function main(): Promise<void> {
  const truth = JSON.parse(fs.readFileSync(values.truth!, 'utf8')) as TruthFile;
  const out = values.out!;
  fs.mkdirSync(path.join(out, 'JPEGImages'), { recursive: true });
  fs.mkdirSync(path.join(out, 'SegmentationClassPNG'), { recursive: true });
  for (const im of truth.images) {
    const src = path.join(values.images!, im.file);
    if (!fs.existsSync(src)) throw new Error(`${src}: not found (install Debian's python3-skimage, or give --images DIR)`);
    const { data, info } = await sharp(src).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    const { width: w, height: h } = info;
    const mask = new Uint8Array(w * h);
    for (const p of im.polygons) fillPolygon(mask, w, h, p.points, p.label);
    const gt = unsureBand(mask, w, h, truth.band);
    writeFileAtomic(path.join(out, 'SegmentationClassPNG', `${im.id}.png`), encodeIndexPng({ width: w, height: h, data: gt }));
    writeFileAtomic(path.join(out, 'JPEGImages', `${im.id}.png`), await sharp(data, { raw: { width: w, height: h, channels: 3 } }).png().toBuffer());
    if (values.overlays) {
      const ov = Buffer.from(data);
      for (let i = 0; i < w * h; i++) {
        if (gt[i] === 255) ov.set([255, 255, 0], 3 * i);
        else if (gt[i]) ov.set([Math.round(ov[3 * i] * 0.6), Math.round(ov[3 * i + 1] * 0.6 + 102), Math.round(ov[3 * i + 2] * 0.6)], 3 * i);
      }
      await sharp(ov, { raw: { width: w, height: h, channels: 3 } }).png().toFile(path.join(out, `${im.id}.overlay.png`));
    }
    const counts: Record<number, number> = {};
    for (const v of gt) counts[v] = (counts[v] ?? 0) + 1;
    console.log(`${im.id}: ${w}×${h}, pixels per label ${JSON.stringify(counts)}`);
  }
  console.log(`ground truth written to ${out}`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
