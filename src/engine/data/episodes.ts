// N-way K-shot episode sampling, as PANet's test loader does it (PANet dataloaders/customized.py):
// per episode, draw N distinct classes of the fold; for each class draw K support images and one query
// image among the images that contain that class. Every draw goes through one seeded PRNG.
//
// Each episode is generated from its own child stream `Rng(runSeed).fork(index)`, so episode i of a run
// is the same whether or not episodes 0..i-1 were generated: the UI can jump straight to episode 5000,
// and the id `r<run>e<index>` names it for good (together with the EpisodeSpec that produced it).
import { createHash } from 'crypto';
import type { EpisodeSummary } from '../../shared/engineProtocol';
import { DataError, UsageError } from '../errors';
import { Rng } from '../prng';
import type { DataProblem, ImageClasses, ListName } from './dataset';

export interface EpisodeSpec {
  fold: number;
  /** The fold's classes (ordinals); episode classes are drawn from these. */
  classes: number[];
  ways: number;
  shots: number;
  /** Query images per class (PANet: 1). */
  queriesPerClass: number;
  /** Seed of run r = seed + r (PANet: 1234 + run). */
  seed: number;
  list: ListName;
  /** An image "contains" a class if it has at least this many pixels of it (PANet: 1). */
  minPixels: number;
}

/** An episode as it travels to the extension (shared/engineProtocol.ts), plus which way each query was
 *  drawn for. */
export interface Episode extends EpisodeSummary {
  /** Query q was drawn for way queryWay[q]. */
  queryWay: number[];
}

/** For each class, the ids of images containing it (in index order, so the draw is stable). */
export function imagesByClass(index: ImageClasses[], classes: number[], minPixels: number): Map<number, string[]> {
  const by = new Map<number, string[]>(classes.map((c) => [c, []]));
  for (const img of index) {
    for (const c of classes) {
      if ((img.pixels[c] ?? 0) >= Math.max(1, minPixels)) by.get(c)!.push(img.id);
    }
  }
  return by;
}

export class EpisodeSampler {
  private readonly byClass: Map<number, string[]>;
  /** Classes with enough images to fill one way (K supports + queries). */
  readonly usableClasses: number[];
  /** Classes of the spec too rare to fill a way: no episode draws them (reported, never silent). */
  readonly leftOut: Array<{ cls: number; images: number; needed: number }>;

  /** `leftOutImages`: what the dataset reader left out or found wrong while indexing (DataProblems);
   *  named when they explain why a fold has too few images. */
  constructor(readonly spec: EpisodeSpec, index: ImageClasses[], leftOutImages: readonly DataProblem[] = []) {
    if (!(spec.ways >= 1 && spec.shots >= 1 && spec.queriesPerClass >= 1)) throw new UsageError('ways, shots and queries must be at least 1');
    if (spec.ways > spec.classes.length) {
      throw new UsageError(`--ways ${spec.ways} is more than the ${spec.classes.length} classes episodes are drawn from here (fold ${spec.fold}, ${spec.list} list): at most --ways ${spec.classes.length}`);
    }
    this.byClass = imagesByClass(index, spec.classes, spec.minPixels);
    const need = spec.shots + spec.queriesPerClass;
    this.usableClasses = spec.classes.filter((c) => this.byClass.get(c)!.length >= need);
    this.leftOut = spec.classes.filter((c) => this.byClass.get(c)!.length < need).map((cls) => ({ cls, images: this.byClass.get(cls)!.length, needed: need }));
    if (this.usableClasses.length < spec.ways) {
      const counts = spec.classes.map((c) => `${c}:${this.byClass.get(c)!.length}`).join(' ');
      const msg = `fold ${spec.fold} (${spec.list} list) has only ${this.usableClasses.length} classes with at least ${need} images ` +
        `(images per class: ${counts}); cannot draw ${spec.ways}-way ${spec.shots}-shot episodes`;
      // Bad files, not flags, may be why: then it is the data's error, naming the first of them.
      if (leftOutImages.length) {
        const first = leftOutImages[0];
        const more = leftOutImages.length > 1 ? ` (and ${leftOutImages.length - 1} more input problem(s) of the ${spec.list} list)` : '';
        throw new DataError(first.file, `${first.problem}${more}; so ${msg}`);
      }
      throw new UsageError(msg);
    }
  }

  imagesOf(cls: number): readonly string[] {
    return this.byClass.get(cls) ?? [];
  }

  episode(run: number, index: number): Episode {
    const rng = new Rng(this.spec.seed + run).fork(index);
    const { ways, shots, queriesPerClass } = this.spec;
    const classes = rng.sample(this.usableClasses, ways);
    const supports: string[][] = [];
    const queries: string[] = [];
    const queryWay: number[] = [];
    const used = new Set<string>();
    // Queries first, then supports, each excluding images already used in this episode: a support never
    // equals a query (nor another support), also across ways.
    const pool = (c: number) => this.byClass.get(c)!.filter((id) => !used.has(id));
    for (let j = 0; j < ways; j++) {
      const avail = pool(classes[j]);
      if (avail.length < queriesPerClass) throw new UsageError(`episode ${index}: not enough distinct images for class ${classes[j]}`);
      for (const q of rng.sample(avail, queriesPerClass)) {
        queries.push(q);
        queryWay.push(j);
        used.add(q);
      }
    }
    for (let j = 0; j < ways; j++) {
      const avail = pool(classes[j]);
      if (avail.length < shots) {
        throw new UsageError(`episode r${run}e${index}: class ${classes[j]} has ${avail.length} images left after the queries, ${shots} shots needed`);
      }
      const s = rng.sample(avail, shots);
      s.forEach((id) => used.add(id));
      supports.push(s);
    }
    const key = createHash('sha256').update(JSON.stringify([classes, supports, queries])).digest('hex').slice(0, 12);
    return { id: `r${run}e${index}`, run, index, classes, supports, queries, queryWay, key };
  }

  /** Parse an id made by episode(). */
  static parseId(id: string): { run: number; index: number } {
    const m = /^r(\d+)e(\d+)$/.exec(id);
    if (!m) throw new UsageError(`not an episode id: ${id} (expected r<run>e<index>)`);
    return { run: Number(m[1]), index: Number(m[2]) };
  }
}
