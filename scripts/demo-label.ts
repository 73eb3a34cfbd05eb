// The labeling half of `npm run demo`: what most users come for. From the sample dataset (written by
// `protolab sample`), a folder of photos showing two classes is labelled from three annotated ones with
// the real CLI (`protolab label`, embedded MobileNetV2), then scored against the sample's truth: per-class
// IoU beside the all-foreground baseline (every pixel called that class), over the images nobody
// annotated. The two classes are the two shown by most of the sample's photos (ties: lower ordinal),
// not hand-picked. Photos come from the val list, then train, up to --images.
// Flags: --sample DIR (default ./sample) --images 40 --supports 3 --size 417 --out DIR (default SAMPLE/label-demo)
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { parseArgs } from 'util';
import { pct, table } from '../src/engine/cli/table';
import { VocDataset } from '../src/engine/data/voc';
import { ConfusionMatrix } from '../src/engine/eval/metrics';
import { readIndexPng, writeIndexPng } from '../src/engine/image/png';

const { values } = parseArgs({
  options: {
    sample: { type: 'string', default: 'sample' },
    images: { type: 'string', default: '40' },
    supports: { type: 'string', default: '3' },
    size: { type: 'string', default: '417' },
    out: { type: 'string' },
  },
});

async function main(): Promise<number> {
  const sample = path.resolve(values.sample!);
  const voc = new VocDataset(path.join(sample, 'VOCdevkit', 'VOC2012'));
  const index = [...(await voc.index('val')), ...(await voc.index('train'))];
  const freq = new Map<number, number>();
  for (const e of index) for (const c of Object.keys(e.pixels)) freq.set(Number(c), (freq.get(Number(c)) ?? 0) + 1);
  const [a, b] = [...freq.entries()].sort((x, y) => y[1] - x[1] || x[0] - y[0]).slice(0, 2).map(([c]) => c).sort((x, y) => x - y);
  const names = [voc.classNames[a], voc.classNames[b]];
  const withAB = index.filter((e) => e.pixels[a] || e.pixels[b]).slice(0, Number(values.images));
  // supports: images showing both classes first, then any, until both classes are covered
  const nSup = Number(values.supports);
  const both = withAB.filter((e) => e.pixels[a] && e.pixels[b]);
  const supports = [...both, ...withAB.filter((e) => !both.includes(e))].slice(0, nSup);
  if (!supports.some((e) => e.pixels[a]) || !supports.some((e) => e.pixels[b])) throw new Error('the supports do not show both classes; raise --supports');

  const out = path.resolve(values.out ?? path.join(sample, 'label-demo'));
  fs.rmSync(out, { recursive: true, force: true });
  const dirs = { images: path.join(out, 'images'), supports: path.join(out, 'supports'), truth: path.join(out, 'truth'), export: path.join(out, 'export') };
  for (const d of [dirs.images, dirs.supports, dirs.truth]) fs.mkdirSync(d, { recursive: true });
  const remap = (v: number) => (v === 255 ? 255 : v === a ? 1 : v === b ? 2 : 0);
  for (const e of withAB) {
    fs.copyFileSync(voc.imagePath(e.id), path.join(dirs.images, `${e.id}.jpg`));
    const m = await voc.loadMask(e.id);
    const remapped = { ...m, data: m.data.map(remap) };
    writeIndexPng(path.join(dirs.truth, `${e.id}.png`), remapped);
    if (supports.includes(e)) writeIndexPng(path.join(dirs.supports, `${e.id}.png`), remapped);
  }
  console.log(`\nlabeling ${withAB.length} sample photos showing ${names[0]} (class ${a}) or ${names[1]} (class ${b}) from ${supports.length} annotated ones:`);
  const bin = path.resolve(__dirname, '..', '..', 'bin', 'protolab.js');
  const args = ['label', '--images', dirs.images, ...supports.flatMap((e) => ['--support', `${e.id}.jpg=${path.join(dirs.supports, `${e.id}.png`)}`]),
    '--classes', names.join(','), '--out', dirs.export, '--size', values.size!, '--force'];
  console.log(`$ protolab ${args.map((x) => (x.includes(' ') ? JSON.stringify(x) : x)).join(' ')}`);
  const r = spawnSync(process.execPath, [bin, ...args], { stdio: 'inherit' });
  if (r.status !== 0) return r.status ?? 1;

  // score the images nobody annotated
  const scored = withAB.filter((e) => !supports.includes(e));
  const cm = new ConfusionMatrix(3);
  const allFg = [new ConfusionMatrix(3), new ConfusionMatrix(3)];
  for (const e of scored) {
    const t = await readIndexPng(path.join(dirs.truth, `${e.id}.png`));
    const p = await readIndexPng(path.join(dirs.export, 'SegmentationClass', `${e.id}.png`));
    cm.add(t.data, p.data, e.id);
    allFg.forEach((m, k) => m.add(t.data, new Uint8Array(t.data.length).fill(k + 1), e.id));
  }
  const per = cm.classIoU();
  const rows = [1, 2].map((k) => [`${k} ${names[k - 1]}`, pct(per[k] ?? NaN), pct(allFg[k - 1].classIoU()[k] ?? NaN)]);
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  rows.push(['mean', pct(mean([per[1] ?? 0, per[2] ?? 0])), pct(mean([allFg[0].classIoU()[1] ?? 0, allFg[1].classIoU()[2] ?? 0]))]);
  console.log(`\nIoU % on the ${scored.length} photos nobody annotated (truth: the sample's masks, 255 borders ignored):`);
  console.log(table(['class', 'protolab label', 'all-foreground baseline'], rows));
  console.log(`\nexport: ${dirs.export} — a VOC folder (JPEGImages/, SegmentationClass/, ImageSets/) and COCO annotations.json;`);
  console.log(`manifest.json says which masks were drawn and which predicted, with each image's confidence.`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
