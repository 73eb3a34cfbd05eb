// Overlay layers as RGBA pixels, computed from decoded index masks. Each layer is drawn over the image
// with the opacity slider's alpha, in a fixed order (truth, pseudo, prediction, errors) so the error
// map, when on, is never hidden.
import type { Palette, Rgba } from './colors';
import { IGNORE, type IndexMask } from './masks';

export type LayerKind = 'gt' | 'pseudo' | 'pred' | 'error';
export const LAYER_ORDER: readonly LayerKind[] = ['gt', 'pseudo', 'pred', 'error'];

function paint(mask: IndexMask, colorOf: (v: number, i: number) => Rgba | null): ImageData {
  const img = new ImageData(mask.width, mask.height);
  const d = img.data;
  for (let i = 0; i < mask.data.length; i++) {
    const c = colorOf(mask.data[i], i);
    if (!c) continue;
    d[4 * i] = c[0];
    d[4 * i + 1] = c[1];
    d[4 * i + 2] = c[2];
    d[4 * i + 3] = 255;
  }
  return img;
}

/** Truth: episode classes in their colours, other dataset classes (background for this episode) grey, ignore light. */
export function truthLayer(gt: IndexMask, classes: readonly number[], pal: Palette): ImageData {
  const inEpisode = new Set(classes);
  return paint(gt, (v) => (v === 0 ? null : v === IGNORE ? pal.ignore : inEpisode.has(v) ? pal.cls(v) : pal.other));
}

/** A mask in dataset ordinals (prediction, pseudo-mask): 0 and 255 stay clear. */
export function classLayer(mask: IndexMask, pal: Palette): ImageData {
  return paint(mask, (v) => (v === 0 || v === IGNORE ? null : pal.cls(v)));
}

/** A support annotation (1 = the way's class, 0 = labelled background, 255 = unlabelled). */
export function annotationLayer(ann: IndexMask, cls: number, pal: Palette): ImageData {
  // Dense annotations label every pixel; tinting their background would wash the image out. Sparse
  // ones (scribble, box) show their labelled background too, since that is what the model was given.
  const sparse = ann.data.includes(IGNORE);
  return paint(ann, (v) => (v === 1 ? pal.cls(cls) : v === 0 && sparse ? pal.other : null));
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

export function errorLayer(gt: IndexMask, pred: IndexMask, classes: readonly number[], pal: Palette): ImageData {
  const inEpisode = new Set(classes);
  return paint(gt, (t, i) => {
    const e = pixelError(t, pred.data[i], inEpisode);
    return e === 'fp' ? pal.fp : e === 'fn' ? pal.fn : e === 'swap' ? pal.swap : null;
  });
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
