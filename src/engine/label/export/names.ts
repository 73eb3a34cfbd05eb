// Export file names: a labelled image's id is its path relative to the folder ('sub/a b.jpg'); VOC
// and COCO want one flat, plain name per image. The stem keeps the folders ('sub__a_b'), characters
// outside [A-Za-z0-9._-] become '_', and a name already taken gets its extension, then a counter
// ('x' for x.jpg, 'x_png' for x.png in the same folder). Deterministic for a sorted id list.
export function exportNames(ids: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  const taken = new Set<string>();
  for (const id of ids) {
    const ext = /\.([^./]+)$/.exec(id)?.[1] ?? '';
    const stem = id.replace(/\.[^./]+$/, '').split('/').join('__').replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_') || 'image';
    let name = stem;
    if (taken.has(name.toLowerCase())) name = `${stem}_${ext.toLowerCase()}`;
    for (let k = 2; taken.has(name.toLowerCase()); k++) name = `${stem}_${ext.toLowerCase()}_${k}`;
    taken.add(name.toLowerCase()); // case-insensitive file systems must not merge two names
    out.set(id, name);
  }
  return out;
}

/** VOC-style split: an image goes to val when the first 32 bits of sha1(name) / 2³² < valFraction.
 *  Stable under adding or removing other images; with ≥ 2 images each list gets at least one. */
export function splitNames(names: readonly string[], valFraction: number, hash: (s: string) => number): { train: string[]; val: string[] } {
  const scored = names.map((n) => ({ n, u: hash(n) })).sort((a, b) => a.u - b.u || (a.n < b.n ? -1 : 1));
  const val = new Set(scored.filter((x) => x.u < valFraction).map((x) => x.n));
  if (names.length >= 2 && valFraction > 0 && val.size === 0) val.add(scored[0].n);
  if (names.length >= 2 && val.size === names.length) val.delete(scored[scored.length - 1].n);
  const sorted = [...names].sort();
  return { train: sorted.filter((n) => !val.has(n)), val: sorted.filter((n) => val.has(n)) };
}
