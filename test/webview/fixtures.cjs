// Real payloads for the webview tests: RGB image PNGs and VOC-palette index-mask PNGs encoded with
// fast-png (what the engine sends), an EpisodeView-shaped episode, eval records and a report.
// Geometry of the query (W×H) the pixel tests rely on:
//   truth:  person(15) x∈[40,100) y∈[30,90); chair(9, not in the episode) x∈[110,150) y∈[70,110); 255 rows y<4
//   pred:   person x∈[60,120) y∈[30,90)  ⇒ FN x∈[40,60), FP x∈[100,120) (y∈[30,90)); dog(12) x∈[120,150) y∈[95,110) ⇒ FP
'use strict';

const W = 160, H = 120;
const CLASSES = [15, 12];
const NAMES = ['background', 'aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car', 'cat', 'chair', 'cow', 'diningtable', 'dog', 'horse', 'motorbike', 'person', 'pottedplant', 'sheep', 'sofa', 'train', 'tvmonitor'];
const PX = { fn: [50, 50], fp: [105, 50], tp: [80, 50], bg: [10, 60], chairFp: [130, 100], ignore: [20, 1] };

function vocColormap(n = 256) {
  const map = [];
  for (let i = 0; i < n; i++) {
    let r = 0, g = 0, b = 0, c = i;
    for (let j = 0; j < 8; j++) {
      r |= ((c >> 0) & 1) << (7 - j);
      g |= ((c >> 1) & 1) << (7 - j);
      b |= ((c >> 2) & 1) << (7 - j);
      c >>= 3;
    }
    map.push([r, g, b]);
  }
  return map;
}

function mask(fill) {
  const d = new Uint8Array(W * H);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) d[y * W + x] = fill(x, y);
  return d;
}
const inRect = (x, y, x0, x1, y0, y1) => x >= x0 && x < x1 && y >= y0 && y < y1;

/** A synthetic photo: a soft gradient with a lighter "person" and a darker "chair", so overlays read well. */
function image(seed) {
  const d = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const o = 3 * (y * W + x);
      let v = 60 + ((x + y + seed * 17) % 40);
      if (inRect(x, y, 40, 100, 30, 90)) v = 150 + ((x * 3 + y) % 30);
      if (inRect(x, y, 110, 150, 70, 110)) v = 35;
      d[o] = v;
      d[o + 1] = Math.min(255, v + 10);
      d[o + 2] = Math.min(255, v + 20 + seed * 5);
    }
  }
  return d;
}

async function build() {
  const { encode } = await import('fast-png');
  const palette = vocColormap();
  const png = (data) => Buffer.from(encode({ width: W, height: H, data, depth: 8, channels: 1, palette }));
  const rgb = (data) => Buffer.from(encode({ width: W, height: H, data, depth: 8, channels: 3 }));
  const b64 = (buf) => ({ $b64: buf.toString('base64') });

  const gt = mask((x, y) => (y < 4 ? 255 : inRect(x, y, 40, 100, 30, 90) ? 15 : inRect(x, y, 110, 150, 70, 110) ? 9 : 0));
  const pred = mask((x, y) => (inRect(x, y, 60, 120, 30, 90) ? 15 : inRect(x, y, 120, 150, 95, 110) ? 12 : 0));
  const pseudo = mask((x, y) => (inRect(x, y, 45, 95, 35, 85) ? 15 : y > 112 ? 255 : 0));
  const sGt0 = mask((x, y) => ((x - 80) ** 2 + (y - 60) ** 2 < 35 ** 2 ? 15 : 0));
  const sAnn0 = mask((x, y) => (sGt0[y * W + x] === 15 ? 1 : 0));
  const sGt1 = mask((x, y) => (inRect(x, y, 30, 130, 40, 100) ? 12 : 0));
  // a scribble annotation: two foreground strokes and a background stroke, the rest unlabelled
  const sAnn1 = mask((x, y) => (Math.abs(y - 70) < 3 && x > 40 && x < 120 ? 1 : Math.abs(x - 80) < 3 && y > 50 && y < 90 ? 1 : Math.abs(y - 15) < 3 && x > 10 && x < 150 ? 0 : 255));

  const payload = (id, img, g) => ({ imageId: id, file: `JPEGImages/${id}.jpg`, width: W, height: H, image: b64(rgb(img)), gt: b64(png(g)) });
  const episodeView = {
    episode: { id: 'r0e7', run: 0, index: 7, classes: CLASSES, supports: [['2008_000001'], ['2008_000002']], queries: ['2008_000003'], key: 'k7' },
    classNames: NAMES,
    supports: [
      [{ ...payload('2008_000001', image(1), sGt0), annotation: b64(png(sAnn0)) }],
      [{ ...payload('2008_000002', image(2), sGt1), annotation: b64(png(sAnn1)) }],
    ],
    queries: [{ ...payload('2008_000003', image(0), gt), pred: b64(png(pred)), pseudo: b64(png(pseudo)), classIoU: [0.5, 0], fgIoU: 0.42 }],
    model: { backbone: 'vgg16', weightsHash: 'abc123', method: 'panet' },
  };
  return { episodeView, raw: { gt, pred } };
}

const settings = { dataset: '/data/VOCdevkit/VOC2012', datasetKind: 'voc', split: 'panet', fold: 2, ways: 2, shots: 1, seed: 1234, list: 'val', size: 417, backbone: 'vgg16', annotation: 'dense', episodes: 1000, runs: 5 };
const foldClasses = [11, 12, 13, 14, 15];
const datasetInfo = {
  kind: 'voc', root: '/data/VOCdevkit/VOC2012', fingerprint: 'f00d', classNames: NAMES, lists: ['train', 'val'],
  folds: { panet: [[1, 2, 3, 4, 5], [6, 7, 8, 9, 10], [11, 12, 13, 14, 15], [16, 17, 18, 19, 20]], fwb: [[1, 5, 9, 13, 17], [2, 6, 10, 14, 18], [3, 7, 11, 15, 19], [4, 8, 12, 16, 20]] },
};

/** n records; chair(9)→diningtable(11) wrong pixels in exactly CHAIR_TABLE (ids → pixels). */
const CHAIR_TABLE = { r0e5: 120, r0e17: 900, r0e42: 40 };
function records(n = 300, shift = 0) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const a = foldClasses[i % 5], b = foldClasses[(i + 2) % 5];
    // a deterministic spread of IoUs; r0e3 is the worst on purpose
    const iouA = i === 3 ? 0.01 : Math.min(1, Math.max(0, ((i * 37) % 100) / 100 + shift));
    const iouB = i === 3 ? 0.02 : Math.min(1, Math.max(0, ((i * 53 + 11) % 100) / 100 + shift));
    const confusions = [{ trueClass: 0, predClass: a, pixels: 100 + (i % 7) * 10 }, { trueClass: a, predClass: 0, pixels: 50 + (i % 3) * 20 }];
    const id = `r0e${i}`;
    if (CHAIR_TABLE[id]) confusions.push({ trueClass: 9, predClass: 11, pixels: CHAIR_TABLE[id] });
    out.push({ id, run: 0, index: i, classes: [a, b], classIoU: [iouA, iouB], fgIoU: (iouA + iouB) / 2, confusions, pixels: 10000, queries: [`q${i}`], supports: [[`s${i}`]] });
  }
  return out;
}

function report(miou = 0.4567, fbiou = 0.6123) {
  const names = Object.fromEntries(foldClasses.map((c) => [c, NAMES[c]]));
  return {
    tool: 'protolab', kind: 'few-shot-eval', createdAt: '2025-01-01T00:00:00Z', complete: true,
    settings: { method: 'panet', dataset: 'voc', split: 'panet', fold: 2, ways: 2, shots: 1, episodes: 1000, runs: 5, seed: 1234, size: 417, list: 'val', annotation: 'dense', minPixels: 2, queriesPerClass: 1 },
    data: { root: '/data/VOCdevkit/VOC2012', fingerprint: 'f00d', foldClasses: foldClasses.map((cls) => ({ cls, name: names[cls] })) },
    backbone: { id: 'vgg16', weightsHash: 'abc123', weightsSource: 'vgg16.safetensors' },
    backend: 'tensorflow',
    miou, fbiou,
    summary: {
      mIoU: { mean: miou, std: 0.0123, n: 5 }, fbIoU: { mean: fbiou, std: 0.0046, n: 5 },
      classIoU: foldClasses.map((cls, i) => ({ cls, mean: Math.min(1, miou + (i - 2) * 0.08), std: 0.01, n: 5 })),
    },
    runs: [0, 1, 2, 3, 4].map((run) => ({ run, seed: 1234 + run, miou: miou + (run - 2) * 0.005, fbiou, classIoU: foldClasses.map((cls) => ({ cls, name: names[cls], iou: miou })) })),
    baselines: { allBackground: { miou: 0, fbiou: 0.38 }, allForeground: { miou: 0.12, fbiou: 0.1 } },
    episodesScored: 5000, skipped: [],
    timing: { seconds: 321.5, episodesPerSecond: 15.55, backboneSeconds: 200, featureCache: {} },
  };
}

/** A report of an eval whose supports were image labels only (annotation 'pseudo'): the engine's `weak` section. */
function weakReport(miou = 0.3312, fbiou = 0.5588) {
  const r = report(miou, fbiou);
  r.settings = { ...r.settings, method: 'pixelmeta', annotation: 'pseudo' };
  r.weak = {
    supervision: 'image-labels',
    parts: { cam: 'mobilenetv2-imagenet-cam', similarity: 'wordnet-wup', saliency: 'spectral-residual', threshold: 0.25, unknownLabels: ['pottedplant', 'tvmonitor'] },
    pseudoMasks: { miou: 0.2871, fbiou: 0.5234, masks: 1234, classIoU: foldClasses.map((cls, i) => ({ cls, name: NAMES[cls], iou: i === 4 ? null : 0.2 + 0.05 * i })) },
  };
  return r;
}

module.exports = { build, settings, datasetInfo, records, report, weakReport, CHAIR_TABLE, PX, W, H, NAMES, CLASSES };
