// Builds the hand-made ground truth of scripts/photo-truth/*.json into a labelme/VOC-style folder that
// the real-photo benchmark (scripts/lib/realCases.ts) and scripts/eval-photos.ts read (layout and filling
// rules: scripts/lib/photoTruth.ts):
//
//   node out/scripts/make-photo-truth.js [--truth FILE.json]… [--images DIR] [--out DIR] [--overlays]
//
// --truth: trace files (default: every scripts/photo-truth/*.json). --images: the folder of the traced
// photos, Debian's python3-skimage data (CC0 / public domain), as scripts/fetch-photos.sh extracts it
// (default: that cache, PROTOLAB_SKIMAGE_DIR). --out: default ~/.cache/protolab-test/photo-truth
// (PROTOLAB_PHOTO_TRUTH_DIR). --overlays also writes <id>.overlay.png (class tinted green, 255 yellow)
// to check a trace by eye. Nothing is committed but the polygons.
import { parseArgs } from 'util';
import { buildPhotoTruth, traceFiles } from './lib/photoTruth';
import { photoPaths } from './lib/photoSources';

const { values } = parseArgs({
  options: {
    truth: { type: 'string', multiple: true },
    images: { type: 'string' },
    out: { type: 'string' },
    overlays: { type: 'boolean', default: false },
  },
});

async function main(): Promise<void> {
  const paths = photoPaths();
  const files = values.truth?.length ? values.truth : traceFiles(paths.traces);
  const out = values.out ?? paths.truth;
  await buildPhotoTruth({ files, images: values.images ?? paths.skimageData, out, overlays: values.overlays, log: (l) => console.log(l) });
  console.log(`ground truth of ${files.length} trace file${files.length > 1 ? 's' : ''} written to ${out}`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
