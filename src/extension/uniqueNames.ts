// Fresh names under .protolab/ that two VS Code windows (or a window and a CLI) cannot both take: a
// time stamp alone collides when two evaluations or runs start in the same second, and a check-then-
// write loses one of the two reports. A name is taken by an atomic create: mkdir of the run folder, or
// an O_EXCL marker "<report>.json.reserved" that the report's writer removes once the report is there
// (a marker a crash leaves behind only keeps its name from being reused). Free of `vscode`, so the
// hardening suite races two real processes on it.
import * as fs from 'fs';
import * as path from 'path';

/** Create and return `<dir>/<base>` (or `<base>-2`, `-3`, …): a folder no other process got. */
export function createUniqueDir(dir: string, base: string): string {
  fs.mkdirSync(dir, { recursive: true });
  for (let i = 1; ; i++) {
    const p = path.join(dir, i === 1 ? base : `${base}-${i}`);
    try {
      fs.mkdirSync(p);
      return p;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
}

export interface ReservedFile {
  file: string;
  /** Drop the reservation (after the file is written, or when it will not be). */
  release(): void;
}

/** Reserve `<dir>/<base><ext>` (or `<base>-2<ext>` …): neither an existing file nor another's reservation. */
export function reserveUniqueFile(dir: string, base: string, ext: string): ReservedFile {
  fs.mkdirSync(dir, { recursive: true });
  for (let i = 1; ; i++) {
    const file = path.join(dir, `${i === 1 ? base : `${base}-${i}`}${ext}`);
    if (fs.existsSync(file)) continue;
    const marker = `${file}.reserved`;
    try {
      fs.closeSync(fs.openSync(marker, 'wx'));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw e;
    }
    if (fs.existsSync(file)) {
      // written between the check and the marker by someone who did not reserve: not ours
      fs.rmSync(marker, { force: true });
      continue;
    }
    return { file, release: () => fs.rmSync(marker, { force: true }) };
  }
}
