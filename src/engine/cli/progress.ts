// A one-line progress bar on stderr when it is a terminal; plain periodic lines otherwise (CI logs),
// so long jobs always show they are alive without flooding a log.

export interface Progress {
  update(done: number, total: number, note?: string): void;
  done(message?: string): void;
}

export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  const tty = !!stream.isTTY;
  const t0 = Date.now();
  let lastPlain = 0;
  let lastPct = -1;
  return {
    update(done, total, note = '') {
      const frac = total > 0 ? Math.min(1, done / total) : 0;
      const elapsed = (Date.now() - t0) / 1000;
      const eta = done > 0 ? (elapsed / done) * (total - done) : NaN;
      const tail = `${done}/${total}${Number.isFinite(eta) ? ` eta ${fmtSecs(eta)}` : ''}${note ? ` ${note}` : ''}`;
      if (tty) {
        const width = 28;
        const fill = Math.round(frac * width);
        stream.write(`\r${label} [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${(frac * 100).toFixed(0).padStart(3)}% ${tail}\x1b[K`);
      } else {
        const pct = Math.floor(frac * 10);
        if (pct !== lastPct && Date.now() - lastPlain > 2000) {
          stream.write(`${label}: ${tail}\n`);
          lastPlain = Date.now();
          lastPct = pct;
        }
      }
    },
    done(message) {
      if (tty) stream.write('\r\x1b[K');
      if (message) stream.write(`${label}: ${message}\n`);
    },
  };
}

export function fmtSecs(s: number): string {
  if (s < 60) return `${s.toFixed(0)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.round((s % 3600) / 60)).padStart(2, '0')}m`;
}
