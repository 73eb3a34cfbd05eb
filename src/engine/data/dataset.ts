// What every dataset reader (VOC, COCO, a workspace folder) offers the rest of the engine.
// Readers are lazy: opening one reads lists / the annotation index, never pixels.
import type { IndexMask, RawImage } from '../types';

export type DatasetKind = 'voc' | 'coco';

/** Which image list an episode set is drawn from. VOC: ImageSets/Segmentation/<name>.txt (trainaug =
 *  SBD-augmented train). COCO: train = instances_train2014, val = instances_val2014. */
export type ListName = 'train' | 'val' | 'trainaug';

/** Per-image class presence, the basis of episode sampling. `pixels[c]` = pixel count of class c. */
export interface ImageClasses {
  id: string;
  /** class ordinal (1..C) -> pixel count (> 0) at the mask's native resolution */
  pixels: Record<number, number>;
}

/** An input the reader left out (with the file and what is wrong with it), so a batch can go on and say so. */
export interface DataProblem {
  file: string;
  problem: string;
}

export interface SegDataset {
  readonly kind: DatasetKind;
  /** Folder the dataset lives in (VOC2012 folder; COCO root or the JSON's folder). */
  readonly root: string;
  /** names[c] for c = 0..C; names[0] = 'background'. */
  readonly classNames: readonly string[];
  /** A short fingerprint of what was read (list files / annotation file sizes + mtimes), for results. */
  readonly fingerprint: string;

  /** Which lists exist here (e.g. no trainaug without SegmentationClassAug). */
  lists(): ListName[];
  /** Image ids of a list, in file order. Throws DataError naming the list file if it is missing. */
  imageIds(list: ListName): Promise<string[]>;
  /** Class presence for every image of a list (cached on disk where the reader supports it). */
  index(list: ListName, onProgress?: (done: number, total: number) => void): Promise<ImageClasses[]>;
  /** What index(list) left out or repaired (unreadable masks, dropped polygons …); call after index(). */
  indexProblems?(list: ListName): readonly DataProblem[];

  /** Path of the image file (for the UI and for cache keys). */
  imagePath(id: string): string;
  loadImage(id: string): Promise<RawImage>;
  /** 0 background, 1..C classes, 255 ignore; same size as the image. */
  loadMask(id: string): Promise<IndexMask>;
  /** Instance map (0 none, k = k-th instance, 255 ignore) for the bounding-box annotation of PANet;
   *  null if the dataset has no instance information for this image. */
  loadInstances(id: string): Promise<IndexMask | null>;
}
