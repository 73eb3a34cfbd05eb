// protolab masks --data DIR --dataset voc|coco --out DIR [--list val] [--images DIR]
import * as path from 'path';
import { oneOf, parse, required } from '../cli/args';
import { progressBar } from '../cli/progress';
import { writeMasks } from '../data/masks';
import { openDataset } from '../data/open';
import { applyLimitFlags, limitHelp, limitOptions } from './common';

export const masksHelp = `protolab masks --data DIR --dataset voc|coco --out DIR [--list all|train|val|trainaug] [--images DIR] [--crowd ignore|class]
  Writes the class-index mask of every image of the dataset's lists (--list all, the default: train, val
  and trainaug where present, each image once) or of one list, exactly as the engine sees it
  (OUT/<image stem>.png, VOC palette, 255 kept): to check a dataset's decoding by eye, or to convert COCO
  to VOC-style masks.
${limitHelp}`;

export async function masksCommand(argv: string[]): Promise<number> {
  const v = parse(
    argv,
    { data: { type: 'string' }, dataset: { type: 'string' }, out: { type: 'string' }, list: { type: 'string' }, images: { type: 'string' }, crowd: { type: 'string' }, 'cache-dir': { type: 'string' }, ...limitOptions },
    'masks',
  );
  if (v.help) return console.log(masksHelp), 0;
  applyLimitFlags(v);
  const ds = await openDataset({
    data: required(v, 'data', 'masks'),
    dataset: oneOf(v, 'dataset', ['voc', 'coco'] as const, 'voc'),
    images: v.images as string | undefined,
    cacheDir: v['cache-dir'] as string | undefined,
    crowd: oneOf(v, 'crowd', ['ignore', 'class'] as const, 'ignore'),
  });
  const list = oneOf(v, 'list', ['all', 'train', 'val', 'trainaug'] as const, 'all');
  const out = path.resolve(required(v, 'out', 'masks'));
  const bar = progressBar('masks');
  const lists = list === 'all' ? ds.lists() : [list];
  const r = await writeMasks(ds, lists, out, (d, t) => bar.update(d, t));
  bar.done();
  console.log(`${r.written} masks written to ${out}${r.skipped.length ? `, ${r.skipped.length} skipped:` : ''}`);
  for (const s of r.skipped) console.log(`  ${s.file}: ${s.error}`);
  // What the reader repaired on the way (COCO: dropped degenerate polygons, repeated ids).
  const notes = new Set(lists.flatMap((l) => (ds.indexProblems?.(l) ?? []).map((p) => `note: ${p.file}: ${p.problem}`)));
  for (const n of notes) console.log(n);
  return r.skipped.length && !r.written ? 1 : 0;
}
