// One small sample dataset (both real formats) written once per test process; each corpus case works on
// its own copy, so a case damages nothing another case reads.
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { writeSampleDataset } from '../../../src/engine/data/sample';
import { tally } from './tally';

export const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'protolab-hardening-'));
// Deleting a few thousand case files takes seconds on a busy disk: a detached process does it after the
// suite has reported, so the suite's time is its tests'.
process.on('exit', () => {
  spawn(process.execPath, ['-e', `require('fs').rmSync(${JSON.stringify(TMP)}, { recursive: true, force: true })`], { detached: true, stdio: 'ignore' }).unref();
});

export interface Fixture {
  /** folder holding VOCdevkit/ and coco/ */
  root: string;
  voc: string;
  coco: string;
  valIds: string[];
  trainIds: string[];
  jpeg(id: string): string;
  mask(id: string): string;
  valList: string;
  cocoVal: string;
}

let base: Promise<string> | undefined;

function baseDataset(): Promise<string> {
  base ??= (async () => {
    const out = path.join(TMP, 'base');
    await writeSampleDataset({ out, seed: 11, images: { train: 16, val: 24 }, size: [40, 56] });
    return out;
  })();
  return base;
}

function fixtureAt(root: string): Fixture {
  const voc = path.join(root, 'VOCdevkit', 'VOC2012');
  const list = (l: string) => fs.readFileSync(path.join(voc, 'ImageSets', 'Segmentation', `${l}.txt`), 'utf8').split('\n').filter(Boolean);
  return {
    root,
    voc,
    coco: path.join(root, 'coco'),
    valIds: list('val'),
    trainIds: list('train'),
    jpeg: (id) => path.join(voc, 'JPEGImages', `${id}.jpg`),
    mask: (id) => path.join(voc, 'SegmentationClass', `${id}.png`),
    valList: path.join(voc, 'ImageSets', 'Segmentation', 'val.txt'),
    cocoVal: path.join(root, 'coco', 'annotations', 'instances_val2014.json'),
  };
}

let n = 0;

/** A fresh copy of the sample dataset for one case (caches left out); `only`: copy just that format. */
export async function freshCase(name: string, only?: 'voc' | 'coco'): Promise<Fixture> {
  const src = await baseDataset();
  const dst = path.join(TMP, 'cases', `${String(++n).padStart(3, '0')}-${name.replace(/[^A-Za-z0-9_-]+/g, '-')}`);
  const skip = only === 'voc' ? path.join(src, 'coco') : only === 'coco' ? path.join(src, 'VOCdevkit') : undefined;
  fs.cpSync(src, dst, { recursive: true, filter: (p) => !p.includes('.protolab-cache') && p !== skip });
  if (only === 'coco') {
    // the VOC list files the fixture reads (valIds…), nothing else of VOC
    fs.cpSync(path.join(src, 'VOCdevkit', 'VOC2012', 'ImageSets'), path.join(dst, 'VOCdevkit', 'VOC2012', 'ImageSets'), { recursive: true });
  }
  return fixtureAt(dst);
}

/** The untouched sample (read-only by convention). */
export async function pristine(): Promise<Fixture> {
  return fixtureAt(await baseDataset());
}

/** Files under `dir` that are temp leftovers of an atomic write (".name.pid….tmp"), counted into the
 *  summary (tally.leftovers) before the caller asserts there are none. */
export function tempLeftovers(dir: string): string[] {
  const found = findTemps(dir);
  tally.leftovers += found.length;
  tally.leftoverChecks++;
  return found;
}

function findTemps(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.tmp$/.test(e.name)) out.push(p);
    }
  };
  walk(dir);
  return out;
}
