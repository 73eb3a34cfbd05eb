// Polygon -> mask exactly as COCO's maskApi rasterises it (rleFrPoly), so masks and areas match what
// pycocotools-based loaders (PANet, PFENet, ...) see. Implemented from the algorithm:
//   1. scale vertices by 5 and round, walk every edge with a DDA so consecutive boundary points differ
//      by at most one unit in the scaled grid;
//   2. wherever the boundary crosses a scaled column that is the centre of a pixel column
//      (scaled u = 5x+2 <-> 5x+3, i.e. original x+0.5), record the row where the inside starts/ends
//      (ceil of the crossing row mapped back to the original grid);
//   3. these column-major positions, sorted, are the run boundaries of the RLE (zeros first).
// Net effect: a pixel is inside iff its centre (x+0.5, y+0.5) is inside the polygon (ties follow
// maskApi's rounding). Self-overlapping parts toggle (even-odd), as in maskApi.

/** Column-major RLE counts (zeros first) of one polygon [x1,y1,x2,y2,...] on an h×w grid. */
export function polygonToRle(xy: readonly number[], h: number, w: number): number[] {
  const k = Math.floor(xy.length / 2);
  if (k === 0 || h <= 0 || w <= 0) return [h * w];
  const scale = 5;
  const x = new Array<number>(k + 1);
  const y = new Array<number>(k + 1);
  // C's (int) cast truncates toward zero; Math.trunc keeps that for negative coordinates.
  for (let j = 0; j < k; j++) x[j] = Math.trunc(scale * xy[2 * j] + 0.5);
  for (let j = 0; j < k; j++) y[j] = Math.trunc(scale * xy[2 * j + 1] + 0.5);
  x[k] = x[0];
  y[k] = y[0];

  // 1. dense boundary points (u, v) in the scaled grid
  const u: number[] = [];
  const v: number[] = [];
  for (let j = 0; j < k; j++) {
    let xs = x[j], xe = x[j + 1], ys = y[j], ye = y[j + 1];
    const dx = Math.abs(xe - xs), dy = Math.abs(ys - ye);
    const flip = (dx >= dy && xs > xe) || (dx < dy && ys > ye);
    if (flip) {
      [xs, xe] = [xe, xs];
      [ys, ye] = [ye, ys];
    }
    if (dx >= dy) {
      // dx = dy = 0 (repeated vertex): one point; C would compute 0/0 here, the point is the same.
      const s = dx === 0 ? 0 : (ye - ys) / dx;
      for (let d = 0; d <= dx; d++) {
        const t = flip ? dx - d : d;
        u.push(t + xs);
        v.push(Math.trunc(ys + s * t + 0.5));
      }
    } else {
      const s = (xe - xs) / dy;
      for (let d = 0; d <= dy; d++) {
        const t = flip ? dy - d : d;
        v.push(t + ys);
        u.push(Math.trunc(xs + s * t + 0.5));
      }
    }
  }

  // 2. crossings of pixel-centre columns, mapped back to the original grid
  const a: number[] = [];
  for (let j = 1; j < u.length; j++) {
    if (u[j] === u[j - 1]) continue;
    let xd = u[j] < u[j - 1] ? u[j] : u[j] - 1;
    xd = (xd + 0.5) / scale - 0.5;
    if (Math.floor(xd) !== xd || xd < 0 || xd > w - 1) continue;
    let yd = v[j] < v[j - 1] ? v[j] : v[j - 1];
    yd = (yd + 0.5) / scale - 0.5;
    if (yd < 0) yd = 0;
    else if (yd > h) yd = h;
    yd = Math.ceil(yd);
    a.push(xd * h + yd);
  }

  // 3. sorted boundaries -> run lengths; equal boundaries cancel (a zero-length run merges its neighbours)
  a.push(h * w);
  a.sort((p, q) => p - q);
  let prev = 0;
  for (let j = 0; j < a.length; j++) {
    const t = a[j];
    a[j] -= prev;
    prev = t;
  }
  const b: number[] = [a[0]];
  let j = 1;
  while (j < a.length) {
    if (a[j] > 0) b.push(a[j++]);
    else {
      j++;
      if (j < a.length) b[b.length - 1] += a[j++];
    }
  }
  return b;
}

/** Set out[y*w+x] = value for every 1-pixel of column-major `counts` (h×w). Returns pixels painted. */
export function paintRuns(counts: readonly number[], h: number, w: number, out: Uint8Array, value: number): number {
  const n = h * w;
  let pos = 0;
  let painted = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i];
    const end = Math.min(n, pos + c);
    if (i % 2 === 1) {
      for (let p = pos; p < end; p++) {
        const col = Math.floor(p / h);
        out[(p - col * h) * w + col] = value;
      }
      painted += end - pos;
    }
    pos = end;
  }
  return painted;
}

/** Row-major 0/1 mask of the union of polygons (pycocotools merges an annotation's parts by union). */
export function polygonsToMask(polys: readonly (readonly number[])[], h: number, w: number): Uint8Array {
  const out = new Uint8Array(h * w);
  for (const p of polys) paintRuns(polygonToRle(p, h, w), h, w, out, 1);
  return out;
}
