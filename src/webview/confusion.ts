// The class confusion matrix of an evaluation's wrong pixels: rows = true class (dataset ordinal,
// background included), columns = predicted class. Built from the records' `confusions`; each cell
// also knows which episodes put pixels there (the failure browser's cell filter).
import type { EvalRecord } from '../shared/webviewProtocol';

export interface ConfusionMatrix {
  rows: number[];
  cols: number[];
  /** pixels[r][c] for rows[r], cols[c] */
  pixels: number[][];
  max: number;
}

export function buildConfusion(records: readonly EvalRecord[], foldClasses: readonly number[] = []): ConfusionMatrix {
  const rowSet = new Set<number>([0, ...foldClasses]);
  const colSet = new Set<number>([0, ...foldClasses]);
  const cells = new Map<string, number>();
  for (const r of records) {
    for (const c of r.confusions) {
      rowSet.add(c.trueClass);
      colSet.add(c.predClass);
      const k = `${c.trueClass},${c.predClass}`;
      cells.set(k, (cells.get(k) ?? 0) + c.pixels);
    }
  }
  const rows = [...rowSet].sort((a, b) => a - b);
  const cols = [...colSet].sort((a, b) => a - b);
  let max = 0;
  const pixels = rows.map((t) => cols.map((p) => {
    const v = cells.get(`${t},${p}`) ?? 0;
    max = Math.max(max, v);
    return v;
  }));
  return { rows, cols, pixels, max };
}

/** Records with wrong pixels from true class t to predicted class p, most such pixels first. */
export function recordsInCell(records: readonly EvalRecord[], t: number, p: number): Array<{ record: EvalRecord; pixels: number }> {
  const out: Array<{ record: EvalRecord; pixels: number }> = [];
  for (const r of records) {
    const n = r.confusions.reduce((s, c) => s + (c.trueClass === t && c.predClass === p ? c.pixels : 0), 0);
    if (n > 0) out.push({ record: r, pixels: n });
  }
  return out.sort((a, b) => b.pixels - a.pixels);
}
