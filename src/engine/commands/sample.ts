// protolab sample --out DIR [--seed N] [--train N] [--val N]
import * as path from 'path';
import { int, parse, required } from '../cli/args';
import { progressBar } from '../cli/progress';
import { writeSampleDataset } from '../data/sample';

export const sampleHelp = `protolab sample --out DIR [--seed 1] [--train 200] [--val 100]
  Writes the built-in sample dataset in both real formats: DIR/VOCdevkit/VOC2012/… and
  DIR/coco/{annotations/instances_{train,val}2014.json, train2014/, val2014/}. Same seed, same bytes.`;

export async function sampleCommand(argv: string[]): Promise<number> {
  const v = parse(argv, { out: { type: 'string' }, seed: { type: 'string' }, train: { type: 'string' }, val: { type: 'string' } }, 'sample');
  if (v.help) return console.log(sampleHelp), 0;
  const out = path.resolve(required(v, 'out', 'sample'));
  const bar = progressBar('sample');
  const r = await writeSampleDataset({
    out,
    seed: int(v, 'seed', 1),
    images: { train: int(v, 'train', 200, 10), val: int(v, 'val', 100, 10) },
    onProgress: (d, t) => bar.update(d, t),
  });
  bar.done();
  console.log(`sample dataset written (${r.counts.train} train + ${r.counts.val} val images, 20 classes)`);
  console.log(`  VOC:  ${r.vocRoot}`);
  console.log(`  COCO: ${r.cocoRoot}`);
  return 0;
}
