// Few-shot folds (papers.md, "Split conventions").
//  PASCAL-5i: fold i = VOC classes 5i+1 … 5i+5.
//  COCO-20i:  'panet' = contiguous blocks (fold k = ordinals 20k+1 … 20k+20, PANet's convention);
//             'fwb'   = interleaved (fold k = ordinals k+1, k+5, …; FWB / HSNet / PFENet / BAM).
// Results under the two COCO conventions are not comparable; the convention is recorded with every result.
// COCO folds are defined over category ordinals, so any COCO-format file whose category count is a
// multiple of 4 splits the same way (blocks of C/4, or every 4th ordinal).
import { UsageError } from '../errors';
import type { DatasetKind } from './dataset';

export type SplitConvention = 'panet' | 'fwb';

export const NUM_FOLDS = 4;

export function foldClasses(kind: DatasetKind, numClasses: number, fold: number, split: SplitConvention = 'panet'): number[] {
  if (!Number.isInteger(fold) || fold < 0 || fold >= NUM_FOLDS) throw new UsageError(`--fold must be 0, 1, 2 or 3 (got ${fold})`);
  if (numClasses % NUM_FOLDS !== 0 || numClasses === 0) {
    throw new UsageError(`the dataset has ${numClasses} classes; few-shot folds need a multiple of ${NUM_FOLDS}`);
  }
  const per = numClasses / NUM_FOLDS;
  // VOC's PASCAL-5i is always contiguous; only COCO has the interleaved variant.
  if (kind === 'voc' || split === 'panet') return Array.from({ length: per }, (_, i) => fold * per + i + 1);
  return Array.from({ length: per }, (_, i) => fold + 1 + NUM_FOLDS * i);
}

/** The training (base) classes of a fold: every class not in it. */
export function baseClasses(kind: DatasetKind, numClasses: number, fold: number, split: SplitConvention = 'panet'): number[] {
  const novel = new Set(foldClasses(kind, numClasses, fold, split));
  return Array.from({ length: numClasses }, (_, i) => i + 1).filter((c) => !novel.has(c));
}
