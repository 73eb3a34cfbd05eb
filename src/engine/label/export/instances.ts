// COCO annotations from an index mask, in ONE column-major pass: every region (a connected component
// of one class, 8-connected as fewshot/annotations.ts's components, or all pixels of a class) gets its
// uncompressed RLE counts (maskApi's format: column-major runs, zeros first), area and bbox. Work and
// memory are O(pixels), whatever the number of regions, so a 24 MP mask with many objects is fine.
import { connectedComponents } from '../../fewshot/annotations';
import type { IndexMask } from '../../types';

export interface Region {
  /** class 1..K */
  cls: number;
  /** maskApi counts for this region alone over the whole h×w image */
  counts: number[];
  area: number;
  /** COCO [x, y, width, height] of the pixels (pycocotools toBbox) */
  bbox: [number, number, number, number];
}

/**
 * Regions of a mask: per connected component of each class ('instance') or per class ('class').
 * Labels 1..K are classes; 0 (background) and anything above K (255 unsure) belong to no region.
 * Regions come out ordered by class, then by first pixel in row-major order.
 */
export function maskRegions(mask: IndexMask, classes: number, mode: 'instance' | 'class'): Region[] {
  const { width: w, height: h, data } = mask;
  const n = w * h;
  // region id per pixel (0 = none)
  const ids = new Int32Array(n);
  const cls: number[] = [0];
  if (mode === 'class') {
    const idOf = new Int32Array(256);
    const seen = new Set<number>();
    for (let i = 0; i < n; i++) if (data[i] >= 1 && data[i] <= classes) seen.add(data[i]);
    for (const c of [...seen].sort((a, b) => a - b)) {
      idOf[c] = cls.length;
      cls.push(c);
    }
    for (let i = 0; i < n; i++) ids[i] = data[i] >= 1 && data[i] <= classes ? idOf[data[i]] : 0;
  } else {
    const inside = new Uint8Array(n);
    for (let c = 1; c <= classes; c++) {
      let any = false;
      for (let i = 0; i < n; i++) if ((inside[i] = data[i] === c ? 1 : 0)) any = true;
      if (!any) continue;
      const { labels, count } = connectedComponents(inside, w, h);
      const base = cls.length - 1;
      for (let k = 0; k < count; k++) cls.push(c);
      for (let i = 0; i < n; i++) if (labels[i]) ids[i] = base + labels[i];
    }
  }
  const m = cls.length - 1;
  const counts: number[][] = Array.from({ length: m + 1 }, () => []);
  const end = new Float64Array(m + 1); // column-major index just past the region's last 1-run
  const runStart = new Float64Array(m + 1).fill(-1);
  const area = new Float64Array(m + 1);
  const x0 = new Int32Array(m + 1).fill(w), y0 = new Int32Array(m + 1).fill(h), x1 = new Int32Array(m + 1).fill(-1), y1 = new Int32Array(m + 1).fill(-1);
  for (let x = 0; x < w; x++) {
    for (let y = 0; y < h; y++) {
      const r = ids[y * w + x];
      if (!r) continue;
      const p = x * h + y;
      if (runStart[r] >= 0 && end[r] === p) {
        end[r] = p + 1; // the 1-run goes on
      } else {
        if (runStart[r] >= 0) counts[r].push(end[r] - runStart[r]);
        counts[r].push(p - (runStart[r] >= 0 ? end[r] : 0)); // zeros since the last run
        runStart[r] = p;
        end[r] = p + 1;
      }
      area[r]++;
      if (x < x0[r]) x0[r] = x;
      if (x > x1[r]) x1[r] = x;
      if (y < y0[r]) y0[r] = y;
      if (y > y1[r]) y1[r] = y;
    }
  }
  const out: Region[] = [];
  for (let r = 1; r <= m; r++) {
    if (!area[r]) continue;
    counts[r].push(end[r] - runStart[r]);
    if (end[r] < n) counts[r].push(n - end[r]);
    out.push({ cls: cls[r], counts: counts[r], area: area[r], bbox: [x0[r], y0[r], x1[r] - x0[r] + 1, y1[r] - y0[r] + 1] });
  }
  return out;
}
