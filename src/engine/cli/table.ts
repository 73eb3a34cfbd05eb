// Plain-text tables for terminal reports (no colours: output is often piped into files).

export function table(header: string[], rows: (string | number)[][], align?: ('l' | 'r')[]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const al = align ?? header.map((_, i) => (i === 0 ? 'l' : 'r'));
  const line = (r: string[]) => r.map((c, i) => (al[i] === 'l' ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

/** 0.4812 -> "48.1" (the papers report IoU in percent with one decimal). */
export const pct = (x: number): string => (Number.isFinite(x) ? (100 * x).toFixed(1) : '–');
export const pm = (mean: number, std: number): string => `${pct(mean)} ± ${pct(std)}`;
