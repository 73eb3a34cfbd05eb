// Older labeling-state formats → the current one (state.ts, version 2). Each step is one function
// from version n to n + 1; migrateState chains them. A state from a NEWER version is refused: this
// build cannot know what it would drop.
//
// Version 1 (the first draft of the labeling engine; no release wrote it, but states from it exist in
// test fixtures and the path from it must keep working like any later one):
//   { "version": 1,
//     "classes": ["cat", "dog"],                     names only, colours implied by the VOC palette
//     "images": [                                     an ARRAY of
//       { "file": "a.jpg", "hash": "…", "bytes": n, "mtimeMs": t,
//         "status": "todo" | "predicted" | "accepted" | "broken",
//         "error": "…",                               (broken only)
//         "annotation": [shape, …],                   the shapes; every annotated image was a support
//         "confidence": 0.7, "mask": "<file>.png" }   (the last prediction, model not recorded)
//     ] }
// Version 2 renames todo → unlabeled, error → reason, annotation → shapes; keys images by path; adds
// class colours, the support flag, the model key of a prediction (a v1 prediction gets 'v1', which no
// model has, so it shows as stale and is recomputed), accepted masks and orphans.
import { DataError } from '../errors';

export const CURRENT_VERSION = 2;

interface V1Image {
  file: string;
  hash: string;
  bytes: number;
  mtimeMs: number;
  status: 'todo' | 'predicted' | 'accepted' | 'broken';
  error?: string;
  annotation?: unknown[];
  confidence?: number;
  mask?: string;
}

/** v1 → v2 (see the header). */
export function migrateV1toV2(v1: Record<string, unknown>, file: string): Record<string, unknown> {
  if (!Array.isArray(v1.classes) || !v1.classes.every((c) => typeof c === 'string')) throw new DataError(file, 'version 1 state: classes must be a list of names');
  if (!Array.isArray(v1.images)) throw new DataError(file, 'version 1 state: images must be a list');
  // colour of class k = the VOC palette's k (state.ts defaultColor), applied by validateClasses
  const classes = (v1.classes as string[]).map((name) => ({ name }));
  const images: Record<string, unknown> = {};
  for (const [i, x] of (v1.images as V1Image[]).entries()) {
    if (typeof x?.file !== 'string') throw new DataError(file, `version 1 state: image ${i} has no file`);
    const shapes = Array.isArray(x.annotation) ? x.annotation : [];
    const status = x.status === 'todo' ? 'unlabeled' : x.status;
    const rec: Record<string, unknown> = {
      hash: x.hash, bytes: x.bytes, mtimeMs: x.mtimeMs,
      // v1 wrote 'accepted' with the prediction as the accepted mask
      status,
      shapes,
      support: shapes.length > 0,
    };
    if (x.error !== undefined) rec.reason = x.error;
    if (x.mask !== undefined && status === 'accepted') rec.accepted = { mask: x.mask, at: 'unknown (version 1 state)', confidence: x.confidence };
    else if (x.mask !== undefined) rec.prediction = { mask: x.mask, size: 0, confidence: x.confidence ?? 0, model: 'v1', at: 'unknown (version 1 state)' };
    if ((status === 'predicted' || status === 'accepted') && x.mask === undefined) rec.status = 'unlabeled';
    images[x.file] = rec;
  }
  return { version: 2, classes, images, orphans: {}, settings: {} };
}

const STEPS: Record<number, (o: Record<string, unknown>, file: string) => Record<string, unknown>> = {
  1: migrateV1toV2,
};

/** Bring a parsed state.json of any supported version to the current version. */
export function migrateState(raw: unknown, file: string): Record<string, unknown> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new DataError(file, 'labeling state must be a JSON object');
  let o = raw as Record<string, unknown>;
  const given = o.version;
  if (typeof given !== 'number' || !Number.isInteger(given) || given < 1) throw new DataError(file, `labeling state has no valid version (got ${JSON.stringify(given)})`);
  let v: number = given;
  if (v > CURRENT_VERSION) {
    throw new DataError(file, `labeling state is version ${v}, written by a newer ProtoLab; this one reads versions 1–${CURRENT_VERSION}. Update ProtoLab (the file was not modified)`);
  }
  while (v < CURRENT_VERSION) {
    o = STEPS[v](o, file);
    v = o.version as number;
  }
  return o;
}
