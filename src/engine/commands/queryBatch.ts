// `protolab segment`'s queries are a batch (PANet's path and the quality path alike): a query that
// cannot be read is named and skipped, the others are segmented, and the command fails only when none
// could be read.
import { DataError } from '../errors';
import { readRgb } from '../image/decode';
import type { RawImage } from '../types';

export interface SkippedQuery { file: string; problem: string }

/** The query's pixels, or undefined after recording why it was skipped (any other error propagates). */
export async function readQuery(file: string, skipped: SkippedQuery[]): Promise<RawImage | undefined> {
  try {
    return await readRgb(file);
  } catch (e) {
    if (!(e instanceof DataError)) throw e;
    skipped.push({ file: e.file, problem: e.problem });
    return undefined;
  }
}

/** The lines that say which queries were skipped and why (none when none was). */
export function skippedReport(skipped: SkippedQuery[], total: number): string | undefined {
  if (!skipped.length) return undefined;
  return `${skipped.length} of ${total} quer${total === 1 ? 'y' : 'ies'} skipped:\n${skipped.map((k) => `  ${k.file}: ${k.problem}`).join('\n')}`;
}
