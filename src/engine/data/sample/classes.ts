// The 20 classes of the built-in sample dataset. A class is a (shape family, texture family) PAIR and no
// shape or texture alone identifies it: several classes share a shape (disc, trapezoid, triangle, square,
// star) or a texture (stripes, checker, dots, noise, gradient, waves, grid, rings), and the distractors
// reuse class shapes with non-class fills and class textures on non-class shapes. So a model must bind
// shape and texture, as it must bind parts and appearance on PASCAL.
//
// Ordinals follow VOC (1..20, 0 = background); PASCAL-5i fold i holds ordinals 5i+1..5i+5. The
// look-alike pair sits where VOC has chair (9) and diningtable (11): both are trapezoids in the same
// colours, 9 has plain stripes and 11 the same stripes crossed by thin ones — different folds (1 and 2),
// so a fold-1 test on "chair" has "table" among the training classes, as on PASCAL.
import type { ShapeKind } from './geometry';
import type { TextureKind } from './texture';

export interface SampleClass {
  /** 1..20 */
  ordinal: number;
  name: string;
  shape: ShapeKind;
  texture: TextureKind;
  /** preferred hue in [0,1) of the first colour; instances jitter around it and some ignore it */
  hue: number;
  /** hue offset of the second colour */
  hue2: number;
  /** texture period in pixels for an object of radius 50 px (scaled with the object, then jittered) */
  period: number;
  /** largest rotation away from upright, radians (Math.PI = any) */
  maxAngle: number;
  supercategory: string;
}

const ANY = Math.PI;

function c(ordinal: number, shape: ShapeKind, texture: TextureKind, hue: number, hue2: number, period: number, maxAngle: number, supercategory: string): SampleClass {
  return { ordinal, name: `${texture}-${shape}`, shape, texture, hue, hue2, period, maxAngle, supercategory };
}

export const SAMPLE_CLASSES: readonly SampleClass[] = [
  // fold 0
  c(1, 'disc', 'stripes', 0.0, 0.5, 10, ANY, 'round'),
  c(2, 'square', 'checker', 0.58, 0.12, 11, ANY, 'angular'),
  c(3, 'triangle', 'dots', 0.3, 0.6, 10, ANY, 'angular'),
  c(4, 'blob', 'noise', 0.08, 0.45, 14, ANY, 'round'),
  c(5, 'hexagon', 'gradient', 0.75, 0.3, 10, ANY, 'angular'),
  // fold 1
  c(6, 'star', 'waves', 0.15, 0.55, 9, ANY, 'spiky'),
  c(7, 'diamond', 'grid', 0.45, 0.95, 11, 0.5, 'angular'),
  c(8, 'ellipse', 'rings', 0.9, 0.4, 9, ANY, 'round'),
  c(9, 'trapezoid', 'stripes', 0.05, 0.55, 9, 0.35, 'furniture'),
  c(10, 'cross', 'dots', 0.65, 0.2, 9, ANY, 'spiky'),
  // fold 2
  c(11, 'trapezoid', 'hatch', 0.05, 0.55, 9, 0.35, 'furniture'),
  c(12, 'pentagon', 'checker', 0.2, 0.7, 9, ANY, 'angular'),
  c(13, 'crescent', 'zigzag', 0.52, 0.02, 9, ANY, 'round'),
  c(14, 'arrow', 'speckle', 0.35, 0.85, 10, ANY, 'spiky'),
  c(15, 'heart', 'waves', 0.95, 0.45, 9, 0.6, 'round'),
  // fold 3
  c(16, 'lshape', 'grid', 0.12, 0.62, 10, ANY, 'spiky'),
  c(17, 'disc', 'marble', 0.6, 0.1, 12, ANY, 'round'),
  c(18, 'triangle', 'noise', 0.4, 0.9, 12, ANY, 'angular'),
  c(19, 'square', 'rings', 0.83, 0.33, 9, ANY, 'angular'),
  c(20, 'star', 'gradient', 0.25, 0.75, 10, ANY, 'spiky'),
];

/** names[c] for c = 0..20 (names[0] = 'background'), the shape of SegDataset.classNames. */
export const SAMPLE_CLASS_NAMES: readonly string[] = ['background', ...SAMPLE_CLASSES.map((k) => k.name)];

/** COCO category id of each ordinal 1..20: ascending (so sorting ids gives the ordinals back, as the
 *  COCO-20i convention does) with gaps like COCO's own 1..90, to exercise id -> ordinal mapping. */
export const SAMPLE_COCO_IDS: readonly number[] = [1, 2, 3, 4, 5, 7, 9, 10, 11, 13, 14, 16, 17, 18, 20, 21, 23, 24, 25, 27];

/** Shapes and fills used only by distractors. */
export const DISTRACTOR_SHAPES: readonly ShapeKind[] = ['bar', 'chevron', 'quad'];
export const DISTRACTOR_TEXTURES: readonly TextureKind[] = ['flat', 'mottle'];
