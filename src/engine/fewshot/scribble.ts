// A scribble "robot": strokes a person might draw inside a region, after the DAVIS-2018 robot that
// PANet's official code ships (util/scribbles.py, ScribblesRobot) and used to make its
// ScribbleAugAuto scribbles. Steps per region:
//   1. opening with a disk of radius r = min(0.15·√area / 2, 16), r ×= 0.9 while the opening is empty
//      (removes thin parts so the skeleton has few spurs); r ≤ 1 ⇒ no opening;
//   2. skeleton. Deviation: Zhang-Suen thinning instead of skimage's medial_axis (both give a
//      one-pixel centre line; medial_axis is not worth a port here);
//   3. per 8-connected skeleton component with ≥ 4 pixels, its longest path. The robot removes cycles
//      (heaviest edge first) then takes the tree's diameter by two sweeps; here two BFS sweeps on the
//      component give a longest shortest path, the same on trees and close on loops;
//   4. Bezier curve with the path pixels as control points (1000 samples; skipped when the path is
//      longer), rasterised with Bresenham.
//   Deviation: stroke pixels outside their region are dropped (a smoothed stroke can cut a corner;
//   with dense masks at hand there is no reason to label a pixel wrongly).
// Deterministic: the randomness (which fg stroke is kept) lives in annotations.ts.

/** Squared Euclidean distance from each pixel to the nearest pixel with src = 1 (Felzenszwalb-Huttenlocher). */
export function squaredDistance(src: Uint8Array, width: number, height: number): Float64Array {
  const INF = 1e20, d = new Float64Array(width * height);
  for (let i = 0; i < d.length; i++) d[i] = src[i] ? 0 : INF;
  const n = Math.max(width, height);
  const f = new Float64Array(n), out = new Float64Array(n), z = new Float64Array(n + 1), v = new Int32Array(n);
  const pass1d = (len: number): void => {
    let k = 0;
    v[0] = 0; z[0] = -Infinity; z[1] = Infinity;
    for (let q = 1; q < len; q++) {
      let s = ((f[q] + q * q) - (f[v[k]] + v[k] * v[k])) / (2 * q - 2 * v[k]);
      while (s <= z[k]) { k--; s = ((f[q] + q * q) - (f[v[k]] + v[k] * v[k])) / (2 * q - 2 * v[k]); }
      k++; v[k] = q; z[k] = s; z[k + 1] = Infinity;
    }
    k = 0;
    for (let q = 0; q < len; q++) {
      while (z[k + 1] < q) k++;
      out[q] = (q - v[k]) * (q - v[k]) + f[v[k]];
    }
  };
  for (let x = 0; x < width; x++) {
    for (let y = 0; y < height; y++) f[y] = d[y * width + x];
    pass1d(height);
    for (let y = 0; y < height; y++) d[y * width + x] = out[y];
  }
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) f[x] = d[y * width + x];
    pass1d(width);
    for (let x = 0; x < width; x++) d[y * width + x] = out[x];
  }
  return d;
}

/**
 * Opening of `region` by the disk {dx² + dy² ≤ r²}. Erosion keeps pixels farther than r from every
 * non-region pixel (outside the image counts as non-region); dilation adds pixels within r of the eroded set.
 */
export function openDisk(region: Uint8Array, width: number, height: number, r: number): Uint8Array {
  const W = width + 2, H = height + 2, outside = new Uint8Array(W * H).fill(1);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) outside[(y + 1) * W + x + 1] = region[y * width + x] ? 0 : 1;
  const dOut = squaredDistance(outside, W, H), r2 = r * r;
  const eroded = new Uint8Array(width * height);
  let any = false;
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
    if (dOut[(y + 1) * W + x + 1] > r2) { eroded[y * width + x] = 1; any = true; }
  }
  if (!any) return eroded;
  const dIn = squaredDistance(eroded, width, height), opened = new Uint8Array(width * height);
  for (let i = 0; i < opened.length; i++) opened[i] = dIn[i] <= r2 ? 1 : 0;
  return opened;
}

/** Zhang-Suen thinning (1984) to a one-pixel-wide skeleton; pixels outside the image count as 0. */
export function thin(region: Uint8Array, width: number, height: number): Uint8Array {
  const img = Uint8Array.from(region);
  const at = (x: number, y: number): number => (x < 0 || y < 0 || x >= width || y >= height ? 0 : img[y * width + x]);
  let changed = true;
  const del: number[] = [];
  while (changed) {
    changed = false;
    for (let step = 0; step < 2; step++) {
      del.length = 0;
      for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
        if (!img[y * width + x]) continue;
        // neighbours P2..P9 clockwise from north
        const p = [at(x, y - 1), at(x + 1, y - 1), at(x + 1, y), at(x + 1, y + 1), at(x, y + 1), at(x - 1, y + 1), at(x - 1, y), at(x - 1, y - 1)];
        const b = p.reduce((s, t) => s + t, 0);
        if (b < 2 || b > 6) continue;
        let a = 0;
        for (let i = 0; i < 8; i++) if (!p[i] && p[(i + 1) % 8]) a++;
        if (a !== 1) continue;
        if (step === 0 ? p[0] * p[2] * p[4] || p[2] * p[4] * p[6] : p[0] * p[2] * p[6] || p[0] * p[4] * p[6]) continue;
        del.push(y * width + x);
      }
      for (const i of del) img[i] = 0;
      if (del.length) changed = true;
    }
  }
  return img;
}

/** The longest path (as pixel indices) in each 8-connected component of `skel` with ≥ minNodes pixels. */
export function longestPaths(skel: Uint8Array, width: number, height: number, minNodes = 4): number[][] {
  const seen = new Uint8Array(skel.length), paths: number[][] = [];
  const neighbours = (p: number): number[] => {
    const x = p % width, y = (p - x) / width, out: number[] = [];
    for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
      const nx = x + dx, ny = y + dy;
      if ((dx || dy) && nx >= 0 && ny >= 0 && nx < width && ny < height && skel[ny * width + nx]) out.push(ny * width + nx);
    }
    return out;
  };
  const bfs = (start: number): { far: number; parent: Map<number, number>; nodes: number[] } => {
    const parent = new Map<number, number>([[start, -1]]), queue = [start];
    for (let h = 0; h < queue.length; h++) for (const q of neighbours(queue[h])) if (!parent.has(q)) { parent.set(q, queue[h]); queue.push(q); }
    return { far: queue[queue.length - 1], parent, nodes: queue };
  };
  for (let s = 0; s < skel.length; s++) {
    if (!skel[s] || seen[s]) continue;
    const first = bfs(s);
    for (const p of first.nodes) seen[p] = 1;
    if (first.nodes.length < minNodes) continue;
    const second = bfs(first.far), path: number[] = [];
    for (let p = second.far; p !== -1; p = second.parent.get(p)!) path.push(p);
    paths.push(path);
  }
  return paths;
}

/** Bezier curve of the given control points, `samples` points (Bernstein basis in log space: no overflow). */
export function bezier(points: Array<[number, number]>, samples = 1000): Array<[number, number]> {
  const n = points.length - 1;
  if (n < 1 || points.length > samples) return points.slice();
  const logFact = new Float64Array(n + 1);
  for (let i = 1; i <= n; i++) logFact[i] = logFact[i - 1] + Math.log(i);
  const out: Array<[number, number]> = [];
  for (let s = 0; s < samples; s++) {
    const t = s / (samples - 1);
    let x = 0, y = 0;
    for (let i = 0; i <= n; i++) {
      // B_i(t) = C(n, i) t^i (1 − t)^(n − i)
      let w: number;
      if (t === 0) w = i === 0 ? 1 : 0;
      else if (t === 1) w = i === n ? 1 : 0;
      else w = Math.exp(logFact[n] - logFact[i] - logFact[n - i] + i * Math.log(t) + (n - i) * Math.log(1 - t));
      x += w * points[i][0]; y += w * points[i][1];
    }
    out.push([x, y]);
  }
  return out;
}

/** Pixels on the Bresenham segments joining consecutive (rounded) points. */
export function rasterise(points: Array<[number, number]>): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  const pts = points.map(([x, y]) => [Math.round(x), Math.round(y)] as [number, number]);
  if (pts.length === 1) return pts;
  for (let i = 0; i + 1 < pts.length; i++) {
    let [x0, y0] = pts[i];
    const [x1, y1] = pts[i + 1];
    const dx = Math.abs(x1 - x0), dy = -Math.abs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
    let err = dx + dy;
    for (;;) {
      out.push([x0, y0]);
      if (x0 === x1 && y0 === y1) break;
      const e2 = 2 * err;
      if (e2 >= dy) { err += dy; x0 += sx; }
      if (e2 <= dx) { err += dx; y0 += sy; }
    }
  }
  return out;
}

/** Scribble strokes inside `region` (1 = inside), each as a list of distinct pixel indices inside the region. */
export function scribbleStrokes(region: Uint8Array, width: number, height: number, smooth = true): number[][] {
  let area = 0;
  for (const v of region) area += v;
  if (!area) return [];
  let r = Math.min(0.15 * Math.sqrt(area) * 0.5, 16), opened = region;
  while (r > 1) {
    const o = openDisk(region, width, height, r);
    if (o.some((v) => v)) { opened = o; break; }
    r *= 0.9;
  }
  const strokes: number[][] = [];
  for (const path of longestPaths(thin(opened, width, height), width, height)) {
    const pts = path.map((p) => [p % width, Math.floor(p / width)] as [number, number]);
    const line = rasterise(smooth ? bezier(pts) : pts);
    const pixels = new Set<number>();
    for (const [x, y] of line) {
      if (x < 0 || y < 0 || x >= width || y >= height) continue;
      const p = y * width + x;
      if (region[p]) pixels.add(p);
    }
    if (pixels.size) strokes.push([...pixels]);
  }
  return strokes;
}
