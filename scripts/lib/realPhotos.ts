// The real annotated photos the labeling benchmark runs on, every one reachable offline:
//   - Debian labelme-examples: the 3 VOC2012 photos (semantic_segmentation's VOC export), the street
//     video's 5 annotated frames (car, truck; the first frame is the one a person labels), the tutorial's
//     shelf photo (4 objects, label.png) and the primitives drawing (its rectangle, circle and polygon);
//   - photos of Debian python3-skimage traced by hand (scripts/photo-truth/*.json, built by
//     make-photo-truth): persons, the motorcycle stereo pair (each view labels the other), a cat, a cup.
// Every source must be there: a missing one is an error that names the command that fetches it
// (scripts/fetch-photos.sh), never a smaller benchmark. ensureRealPhotos fetches and builds what it can.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { buildPhotoTruth, readTruthFile, traceFiles, truthIsCurrent } from './photoTruth';
import { photoPaths, readLabelmeShapes, readLabelPng, readVocFolder, type AnnotatedPhoto, type PhotoPaths } from './photoSources';

export const FETCH_COMMAND = 'bash scripts/fetch-photos.sh';
export const TRUTH_COMMAND = 'node out/scripts/make-photo-truth.js';

/** Photos each labelme source must hold. */
const VOC_IDS = ['2011_000003', '2011_000006', '2011_000025'];
const VIDEO_IDS = ['00000100', '00000101', '00000102', '00000103', '00000104'];
const VIDEO_SUPPORT = '00000100';
/** Traced photos that are views of one scene: each labels the others. */
const TRACED_SEQUENCES: Record<string, string> = { motorcycle_left: 'motorcycle-stereo', motorcycle_right: 'motorcycle-stereo' };

const WHAT_IT_DOES: Record<string, string> = {
  [FETCH_COMMAND]: "it downloads Debian's labelme-examples and python3-skimage with apt-get download into ~/.cache/protolab-test, then builds the traced masks",
  [TRUTH_COMMAND]: 'it fills the traces of scripts/photo-truth/*.json into masks; npm run bench:label does it by itself',
};

export class MissingSourceError extends Error {
  constructor(readonly missing: string[], readonly command: string) {
    super(`real photos missing: ${missing.join('; ')}. Run \`${command}\` from the repository root (${WHAT_IT_DOES[command] ?? ''})`);
    this.name = 'MissingSourceError';
  }
}

function where(p: PhotoPaths) {
  const ex = p.labelmeExamples;
  return {
    voc: path.join(ex, 'semantic_segmentation', 'data_dataset_voc'),
    video: path.join(ex, 'video_annotation', 'data_dataset_voc'),
    tutorial: path.join(ex, 'tutorial'),
    primitives: path.join(ex, 'primitives'),
  };
}

/** What is missing from the sources (labelme-examples, the skimage photos), as "what (path)" lines. */
export function missingDownloads(p: PhotoPaths): string[] {
  const w = where(p);
  const need: Array<[string, string]> = [
    ...VOC_IDS.map((id): [string, string] => ['labelme-examples VOC photo', path.join(w.voc, 'SegmentationClassPNG', `${id}.png`)]),
    ...VIDEO_IDS.map((id): [string, string] => ['labelme-examples video frame', path.join(w.video, 'SegmentationClassPNG', `${id}.png`)]),
    ['labelme-examples tutorial label', path.join(w.tutorial, 'apc2016_obj3_json', 'label.png')],
    ['labelme-examples primitives', path.join(w.primitives, 'primitives.json')],
    ['python3-skimage data', p.skimageData],
  ];
  return need.filter(([, f]) => !fs.existsSync(f)).map(([what, f]) => `${what} (${f})`);
}

/** Trace files whose masks are not built, or built from other traces. */
function truthProblem(p: PhotoPaths): string | undefined {
  const files = traceFiles(p.traces);
  if (!truthIsCurrent(p.truth, files)) return `traced masks ${fs.existsSync(p.truth) ? 'out of date' : 'not built'} (${p.truth}, from ${p.traces})`;
  return undefined;
}

/** Fetch what is missing (scripts/fetch-photos.sh, when `fetch`) and build stale traced masks; throws
 *  MissingSourceError when a source is still missing. */
export async function ensureRealPhotos(p: PhotoPaths = photoPaths(), opts: { fetch?: boolean; log?: (l: string) => void } = {}): Promise<void> {
  let missing = missingDownloads(p);
  if (missing.length && opts.fetch) {
    opts.log?.(`real photos missing (${missing.join('; ')}): running ${FETCH_COMMAND}`);
    const root = path.resolve(__dirname, '..', '..', '..');
    const env = { ...process.env, PROTOLAB_LABELME_DIR: p.labelmeDir, PROTOLAB_SKIMAGE_DIR: p.skimageDir };
    const r = spawnSync('bash', [path.join(root, 'scripts', 'fetch-photos.sh'), '--no-truth'], { cwd: root, stdio: 'inherit', env });
    if (r.status !== 0) opts.log?.(`${FETCH_COMMAND} failed (exit ${r.status ?? r.signal})`);
    missing = missingDownloads(p);
  }
  if (missing.length) throw new MissingSourceError(missing, FETCH_COMMAND);
  if (truthProblem(p)) {
    opts.log?.(`building the traced masks into ${p.truth}`);
    await buildPhotoTruth({ files: traceFiles(p.traces), images: p.skimageData, out: p.truth, log: opts.log });
  }
}

/** Every real annotated photo (see the header), at full size. Throws MissingSourceError naming what to run. */
export async function loadRealPhotos(p: PhotoPaths = photoPaths()): Promise<AnnotatedPhoto[]> {
  const missing = missingDownloads(p);
  const stale = fs.existsSync(p.skimageData) ? truthProblem(p) : undefined;
  if (missing.length) throw new MissingSourceError([...missing, ...(stale ? [stale] : [])], FETCH_COMMAND);
  if (stale) throw new MissingSourceError([stale], TRUTH_COMMAND);
  const w = where(p);
  const voc = await readVocFolder(w.voc, 'voc');
  const video = (await readVocFolder(w.video, 'video')).map((f) => ({ ...f, sequence: { name: 'street-video', support: f.id === `video/${VIDEO_SUPPORT}` } }));
  const tutorial = await readLabelPng(path.join(w.tutorial, 'apc2016_obj3.jpg'), path.join(w.tutorial, 'apc2016_obj3_json', 'label.png'),
    path.join(w.tutorial, 'apc2016_obj3_json', 'label_names.txt'), 'tutorial', 'apc2016_obj3');
  const primitives = await readLabelmeShapes(path.join(w.primitives, 'primitives.json'), path.join(w.primitives, 'primitives.jpg'), 'primitives', 'primitives', 1);
  const traced = (await readVocFolder(p.truth, 'skimage')).map((f) => {
    const seq = TRACED_SEQUENCES[f.id.slice('skimage/'.length)];
    return seq ? { ...f, sequence: { name: seq, support: true } } : f;
  });
  // every traced image must have come out of the build
  const want = traceFiles(p.traces).flatMap((f) => readTruthFile(f).images.map((im) => `skimage/${im.id}`));
  const lost = want.filter((id) => !traced.some((t) => t.id === id));
  if (lost.length) throw new MissingSourceError([`traced masks of ${lost.join(', ')} (${p.truth})`], TRUTH_COMMAND);
  return [...voc, ...video, tutorial, primitives, ...traced];
}
