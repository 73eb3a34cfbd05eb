// The PASCAL VOC colormap (VOCdevkit's labelcolormap / bitget construction): index i's colour spreads
// i's bits over R, G, B from the most significant bit down. 255 (ignore) is (224, 224, 192). Shared:
// the engine writes and reads VOC masks with it (image/png.ts), the webview reads RGB exports of the
// same masks back to indices (webview/masks.ts).

export type Rgb = [number, number, number];

export function vocColormap(n = 256): Rgb[] {
  const map: Rgb[] = [];
  for (let i = 0; i < n; i++) {
    let r = 0, g = 0, b = 0, c = i;
    for (let j = 0; j < 8; j++) {
      r |= ((c >> 0) & 1) << (7 - j);
      g |= ((c >> 1) & 1) << (7 - j);
      b |= ((c >> 2) & 1) << (7 - j);
      c >>= 3;
    }
    map.push([r, g, b]);
  }
  return map;
}

export const VOC_COLORMAP: readonly Rgb[] = vocColormap();

const INVERSE = new Map<number, number>(VOC_COLORMAP.map(([r, g, b], i) => [(r << 16) | (g << 8) | b, i]));

/** Index of an RGB colour in the VOC colormap, or -1 if the colour is not in it. */
export function vocIndexOf(r: number, g: number, b: number): number {
  const i = INVERSE.get((r << 16) | (g << 8) | b);
  return i === undefined ? -1 : i;
}
