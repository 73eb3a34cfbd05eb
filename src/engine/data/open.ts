// One entry point from "a folder the user pointed at" to a dataset reader. Accepted for VOC: a folder
// holding VOCdevkit/, the VOCdevkit folder, or the VOC2012 folder itself (also labelme's
// data_dataset_voc export, which has the same JPEGImages/ + Segmentation* shape). For COCO: a folder
// holding coco/, the coco folder (annotations/instances_*2014.json), or one .json file.
import * as fs from 'fs';
import * as path from 'path';
import { DataError, UsageError } from '../errors';
import { openCoco2014, openCocoJson, type CrowdMode } from './coco';
import type { DatasetKind, SegDataset } from './dataset';
import { VocDataset } from './voc';

export interface OpenDatasetOptions {
  data: string;
  dataset: DatasetKind;
  /** COCO only: folder the images' file_names are relative to (default: next to the annotations). */
  images?: string;
  cacheDir?: string;
  /** COCO only: crowd regions as 255 (default) or as their class. */
  crowd?: CrowdMode;
  /** COCO only: progress of the one-time index build. */
  onProgress?: (file: string, done: number, total: number) => void;
}

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function looksLikeVoc2012(dir: string): boolean {
  return isDir(path.join(dir, 'JPEGImages')) &&
    ['SegmentationClass', 'SegmentationClassAug', 'SegmentationClassPNG'].some((d) => isDir(path.join(dir, d)));
}

function looksLikeCoco(dir: string): boolean {
  return ['train', 'val'].some((l) => fs.existsSync(path.join(dir, 'annotations', `instances_${l}2014.json`)));
}

export async function openDataset(opts: OpenDatasetOptions): Promise<SegDataset> {
  const data = path.resolve(opts.data);
  if (!fs.existsSync(data)) throw new DataError(data, 'dataset path does not exist');
  if (opts.dataset === 'voc') {
    if (!isDir(data)) throw new UsageError(`--data for VOC must be a folder (VOC2012, VOCdevkit or their parent), got the file ${data}`);
    const tried = [data, path.join(data, 'VOC2012'), path.join(data, 'VOCdevkit', 'VOC2012')];
    const hit = tried.find(looksLikeVoc2012);
    if (!hit) throw new DataError(data, `no VOC2012 folder (JPEGImages/ + SegmentationClass*/) found; tried ${tried.join(', ')}`);
    return new VocDataset(hit, { cacheDir: opts.cacheDir });
  }
  if (opts.dataset === 'coco') {
    const common = { cacheDir: opts.cacheDir, crowd: opts.crowd, images: opts.images, onProgress: opts.onProgress };
    if (!isDir(data)) {
      if (!data.toLowerCase().endsWith('.json')) throw new UsageError(`--data for COCO must be a folder or a .json file, got ${data}`);
      return openCocoJson(data, common);
    }
    const tried = [data, path.join(data, 'coco')];
    const hit = tried.find(looksLikeCoco);
    if (!hit) {
      throw new DataError(data, `no COCO annotations found; tried ${tried.map((t) => path.join(t, 'annotations', 'instances_{train,val}2014.json')).join(', ')} (or pass one .json file)`);
    }
    return openCoco2014(hit, common);
  }
  throw new UsageError(`unknown dataset kind "${String(opts.dataset)}" (expected voc or coco)`);
}
