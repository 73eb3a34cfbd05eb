// Overlay layers as RGBA pixels, computed from decoded index masks. Each layer is drawn over the image
// with the opacity slider's alpha, in a fixed order (truth, pseudo, prediction, errors) so the error
// map, when on, is never hidden.
import type { Palette } from './colors';
import { MaskColours, paintIndexMask } from './maskPainter';
import { IGNORE, type IndexMask } from './masks';

export type LayerKind = 'gt' | 'pseudo' | 'pred' | 'error';
export const LAYER_ORDER: readonly LayerKind[] = ['gt', 'pseudo', 'pred', 'error'];

/** Truth: episode classes in their colours, other dataset classes (background for this episode) grey, ignore light. */
export function truthLayer(gt: IndexMask, classes: readonly number[], pal: Palette): ImageData {
  const inEpisode = new Set(classes);
  return paintIndexMask(gt, new MaskColours((v) => (v === 0 ? null : v === IGNORE ? pal.ignore : inEpisode.has(v) ? pal.cls(v) : pal.other)));
}

/** A mask in dataset ordinals (prediction, pseudo-mask): 0 and 255 stay clear. */
export function classLayer(mask: IndexMask, pal: Palette): ImageData {
  return paintIndexMask(mask, new MaskColours((v) => (v === 0 || v === IGNORE ? null : pal.cls(v))));
}

/** A support annotation (1 = the way's class, 0 = labelled background, 255 = unlabelled). */
export function annotationLayer(ann: IndexMask, cls: number, pal: Palette): ImageData {
  // Dense annotations label every pixel; tinting their background would wash the image out. Sparse
  // ones (scribble, box) show their labelled background too, since that is what the model was given.
  const sparse = ann.data.includes(IGNORE);
  return paintIndexMask(ann, new MaskColours((v) => (v === 1 ? pal.cls(cls) : v === 0 && sparse ? pal.other : null)));
}

export type ErrorKind = 'fp' | 'fn' | 'swap' | null;

/**
 * Error of one pixel for an episode: truth t (dataset ordinal; classes outside the episode count as
 * background) against prediction p. FP: foreground predicted on background; FN: foreground predicted as
 * background; swap: foreground predicted as another episode class.
 */
export function pixelError(t: number, p: number, inEpisode: ReadonlySet<number>): ErrorKind {
  if (t === IGNORE) return null;
  const truth = inEpisode.has(t) ? t : 0;
  if (truth === p) return null;
  if (truth === 0) return 'fp';
  return p === 0 ? 'fn' : 'swap';
}

const ERROR_CODE = { fp: 1, fn: 2, swap: 3 } as const;

export function errorLayer(gt: IndexMask, pred: IndexMask, classes: readonly number[], pal: Palette): ImageData {
  const inEpisode = new Set(classes);
  // the error of each pixel as a mask of its own (0 none, 1 fp, 2 fn, 3 swap), painted like any other
  const codes = new Uint8Array(gt.data.length);
  for (let i = 0; i < codes.length; i++) {
    const e = pixelError(gt.data[i], pred.data[i], inEpisode);
    if (e) codes[i] = ERROR_CODE[e];
  }
  const colour = [null, pal.fp, pal.fn, pal.swap];
  return paintIndexMask({ width: gt.width, height: gt.height, data: codes }, new MaskColours((v) => colour[v] ?? null));
}

/** Draw an image and its enabled layers onto a canvas (sized to the image). */
export function compose(canvas: HTMLCanvasElement, image: CanvasImageSource | null, width: number, height: number, layers: ImageData[], opacity: number): void {
  if (canvas.width !== width) canvas.width = width;
  if (canvas.height !== height) canvas.height = height;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) return;
  ctx.globalAlpha = 1;
  ctx.clearRect(0, 0, width, height);
  if (image) ctx.drawImage(image, 0, 0, width, height);
  const tmp = document.createElement('canvas');
  tmp.width = width;
  tmp.height = height;
  const tctx = tmp.getContext('2d');
  if (!tctx) return;
  ctx.globalAlpha = Math.max(0, Math.min(1, opacity));
  for (const layer of layers) {
    tctx.clearRect(0, 0, width, height);
    tctx.putImageData(layer, 0, 0);
    ctx.drawImage(tmp, 0, 0);
  }
  ctx.globalAlpha = 1;
}
