// Word-vector similarity for weighting CAM classes (the Pixel-Level Meta-Learner: w_k = cosine
// similarity of word embeddings of the CAM class name and the image label). No vectors ship offline
// (FACTS.md); the user points to a TEXT file in GloVe format (`word v1 … vD` per line) or word2vec /
// fastText .vec format (the same plus a first line `count dim`, skipped).
//
// The file is streamed once and only the vectors of the tokens of the requested names are kept (GloVe
// 840B is 5 GB). A name's vector: the whole name as one token if the file has it (with '_', '-' or
// nothing joining its words: 'dining_table', 'diningtable'), else the mean of its words' vectors
// (VOC's run-together names are split first: 'diningtable' → 'dining table'). A name with no known
// word has no vector and similarity 0 to everything (listed in `missing`).
import * as fs from 'fs';
import * as path from 'path';
import * as readline from 'readline';
import { DataError } from '../../errors';
import type { WordSimilarity } from './types';

/** VOC's names written as words (the dataset runs some together or uses British spelling). */
export const NAME_WORDS: Readonly<Record<string, string>> = {
  diningtable: 'dining table', pottedplant: 'potted plant', tvmonitor: 'tv monitor', motorbike: 'motorbike', aeroplane: 'aeroplane',
};

function variants(name: string): { whole: string[]; words: string[] } {
  const n = name.trim().toLowerCase();
  const phrase = NAME_WORDS[n] ?? n;
  const words = phrase.split(/[\s_-]+/).filter(Boolean);
  return { whole: [...new Set([n, words.join('_'), words.join('-'), words.join('')])], words };
}

export interface VectorSimilarity extends WordSimilarity {
  /** Names none of whose words are in the file. */
  missing: string[];
  dim: number;
}

export async function loadVectorSimilarity(file: string, names: readonly string[]): Promise<VectorSimilarity> {
  const abs = path.resolve(file);
  const wanted = new Set<string>();
  for (const n of names) { const v = variants(n); v.whole.forEach((t) => wanted.add(t)); v.words.forEach((t) => wanted.add(t)); }
  const vecs = new Map<string, Float64Array>();
  let dim = 0, lineNo = 0;
  const rl = readline.createInterface({ input: fs.createReadStream(abs), crlfDelay: Infinity });
  try {
    for await (const raw of rl) {
      lineNo++;
      const line = raw.trimEnd();
      if (!line) continue;
      const sp = line.indexOf(' ');
      if (lineNo === 1 && /^\d+ \d+$/.test(line)) continue; // word2vec / fastText header
      const token = line.slice(0, sp);
      if (!wanted.has(token.toLowerCase()) || vecs.has(token.toLowerCase())) continue;
      const v = Float64Array.from(line.slice(sp + 1).split(' '), Number);
      if (dim === 0) dim = v.length;
      if (v.length !== dim || v.some((x) => !Number.isFinite(x))) throw new DataError(abs, `line ${lineNo}: expected '${token}' and ${dim} numbers`);
      vecs.set(token.toLowerCase(), v);
    }
  } catch (e) {
    if (e instanceof DataError) throw e;
    throw new DataError(abs, `cannot read word vectors: ${(e as Error).message}`);
  }
  const nameVec = new Map<string, Float64Array | null>();
  const vectorOf = (name: string): Float64Array | null => {
    const key = name.trim().toLowerCase();
    if (nameVec.has(key)) return nameVec.get(key)!;
    const v = variants(name);
    let out: Float64Array | null = null;
    for (const t of v.whole) if (vecs.has(t)) { out = vecs.get(t)!; break; }
    if (!out) {
      const parts = v.words.map((t) => vecs.get(t)).filter((x): x is Float64Array => !!x);
      if (parts.length) {
        out = new Float64Array(dim);
        for (const p of parts) for (let i = 0; i < dim; i++) out[i] += p[i] / parts.length;
      }
    }
    nameVec.set(key, out);
    return out;
  };
  const missing = names.filter((n) => !vectorOf(n));
  return {
    id: `vectors:${abs}`,
    dim,
    missing,
    unknown: () => [...nameVec].filter(([, v]) => !v).map(([k]) => k),
    sim(a: string, b: string): number {
      const x = vectorOf(a), y = vectorOf(b);
      if (!x || !y) return 0;
      let d = 0, nx = 0, ny = 0;
      for (let i = 0; i < x.length; i++) { d += x[i] * y[i]; nx += x[i] * x[i]; ny += y[i] * y[i]; }
      return nx > 0 && ny > 0 ? d / Math.sqrt(nx * ny) : 0;
    },
  };
}
