// The cases of the real-photo benchmark, built from annotated photos (photoSources.ts):
//   photo   1-shot, one photo labelled → another photo of another scene sharing a class: every ordered
//           pair of such photos (a sequence takes part through its hand-labelled frames only); the
//           support is the support's truth of the shared classes (K-way, one support), every shared
//           class scored on the query;
//   video   1-shot within one scene: each labelled frame of a sequence (a video's first frame, either
//           view of a stereo pair) → every other frame of it, all classes they share, one support;
//   single  every (photo, class) that no 1-shot case scores on that photo: labelled from nothing by
//           clicks alone, 1-way.
// A scored class is `small` when it covers < 5 % of the query's pixels. Each case carries its own label
// space (1..K = `classes`); caseMask puts a photo's truth into it (other classes → background).
import { IGNORE, type IndexMask } from '../../src/engine/types';
import type { AnnotatedPhoto } from './photoSources';

export type CaseKind = 'photo' | 'video' | 'single';

/** Below this share of the query's pixels a class is `small`. */
export const SMALL_FRACTION = 0.05;

export interface CaseClass {
  name: string;
  /** the label of this class in the case (1..K) */
  label: number;
  /** the share of the query's pixels (all of them, ignored ones included) that are this class */
  coverage: number;
  small: boolean;
}

export interface LabelCase {
  /** `support → query`, or the query's id for a single */
  id: string;
  kind: CaseKind;
  support?: AnnotatedPhoto;
  query: AnnotatedPhoto;
  classes: CaseClass[];
}

export interface CaseSet {
  /** 1-shot cases (photo, video): scored for IoU, then clicked from their prediction */
  oneShot: LabelCase[];
  /** singles: clicked from nothing */
  singles: LabelCase[];
}

/** Share of a photo's pixels whose truth is `name`. */
export function coverage(p: AnnotatedPhoto, name: string): number {
  const v = p.classes.indexOf(name) + 1;
  if (!v) return 0;
  let n = 0;
  for (const x of p.truth.data) if (x === v) n++;
  return n / p.truth.data.length;
}

function caseOf(kind: CaseKind, query: AnnotatedPhoto, names: string[], support?: AnnotatedPhoto): LabelCase {
  const classes = names.map((name, i) => {
    const c = coverage(query, name);
    return { name, label: i + 1, coverage: c, small: c < SMALL_FRACTION };
  });
  return { id: support ? `${support.id} → ${query.id}` : query.id, kind, support, query, classes };
}

const shared = (a: AnnotatedPhoto, b: AnnotatedPhoto) => a.classes.filter((c) => b.classes.includes(c));

/** The cases of the header from these photos (ids must be unique). */
export function buildCases(photos: AnnotatedPhoto[]): CaseSet {
  const ids = new Set<string>();
  for (const p of photos) {
    if (ids.has(p.id)) throw new Error(`photo ${p.id} is listed twice`);
    ids.add(p.id);
  }
  const oneShot: LabelCase[] = [];
  // within a scene
  for (const s of photos) {
    if (!s.sequence?.support) continue;
    for (const q of photos) {
      if (q === s || q.sequence?.name !== s.sequence.name) continue;
      const names = shared(s, q);
      if (names.length) oneShot.push(caseOf('video', q, names, s));
    }
  }
  // across scenes: a sequence is represented by its labelled frames
  const reps = photos.filter((p) => !p.sequence || p.sequence.support);
  for (const s of reps) for (const q of reps) {
    if (q === s || (s.sequence && s.sequence.name === q.sequence?.name)) continue;
    const names = shared(s, q);
    if (names.length) oneShot.push(caseOf('photo', q, names, s));
  }
  const scored = new Set(oneShot.flatMap((c) => c.classes.map((k) => `${c.query.id}\n${k.name}`)));
  const singles = photos.flatMap((p) => p.classes.filter((n) => !scored.has(`${p.id}\n${n}`)).map((n) => caseOf('single', p, [n])));
  return { oneShot, singles };
}

/** A photo's truth in a case's label space: its class i → label i, 255 kept, anything else → 0. */
export function caseMask(p: AnnotatedPhoto, c: LabelCase): IndexMask {
  const map = new Uint8Array(256);
  map[IGNORE] = IGNORE;
  for (const k of c.classes) {
    const v = p.classes.indexOf(k.name) + 1;
    if (v) map[v] = k.label;
  }
  return { width: p.truth.width, height: p.truth.height, data: p.truth.data.map((v) => map[v]) };
}

/** One class of a case as a binary truth: 1 = the class, 0 = anything else, 255 ignored. */
export function binaryTruth(m: IndexMask, label: number): Uint8Array {
  return m.data.map((v) => (v === IGNORE ? IGNORE : v === label ? 1 : 0));
}
