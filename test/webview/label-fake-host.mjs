// A stand-in for the labeling host (the extension side + engine), for the webview tests. Bundled by
// harness.cjs with esbuild and loaded after fake-host.js: it takes over the label* messages the webview
// posts, checks EVERY one against the protocol's validator (failures are collected in
// __labelHost.invalid; tests assert it stays empty), keeps the state a real host would (shapes, redo,
// generation, statuses per image), and answers with generated PNGs. Its prediction is made here, not by
// webview code: for each class, the bounding box of the shapes that paint it (strokes grown by their
// radius), at half the image resolution — so the tests know which pixels must turn which colour.
// Every host message it sends is checked with validateHostMessage too.
import { encode } from 'fast-png';
import { validateHostMessage, validateWebviewMessage } from '../../src/shared/webviewProtocol';

const host = window.__host;
const L = {
  active: false,
  invalid: [],
  sentInvalid: [],
  /** host messages sent (types) */
  sent: [],
  images: [],
  classes: [],
  state: new Map(),
  /** hold: queue prediction replies instead of sending (tests release them in any order) */
  hold: false,
  held: [],
  cfg: null,
  exports: [],
  metrics: [],
  webviewMs: [],
  accepted: [],
  thumbAsks: [],
};
window.__labelHost = L;

const DEFAULTS = {
  count: 40, width: 640, height: 480, display: 0.5, maskScale: 0.5, broken: [3], predicted: 0.6,
  classes: [{ id: 1, name: 'cat' }, { id: 2, name: 'dog' }],
  options: {
    methods: [{ id: 'panet', label: 'PANet' }, { id: 'metasegnet', label: 'MetaSegNet' }],
    backbones: [{ id: 'mobilenetv2', label: 'MobileNetV2' }, { id: 'vgg16', label: 'VGG-16' }],
    checkpoints: [{ id: 'runs/a/ckpt.safetensors', label: 'runs/a/ckpt' }],
    method: 'panet', backbone: 'mobilenetv2', checkpoint: '',
  },
  mode: 'draw', folderTags: false,
};

const pad = (n) => String(n).padStart(5, '0');

function makeImages(n, broken, predicted) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const id = `img${pad(i)}`;
    if (broken.includes(i)) out.push({ id, name: `photo_${pad(i)}.jpg`, status: 'broken', reason: 'not a JPEG: unexpected end of file', rev: 0 });
    else if (i / n < predicted) out.push({ id, name: `photo_${pad(i)}.jpg`, status: 'predicted', confidence: ((i * 37) % 100) / 100, rev: 1 });
    else out.push({ id, name: `photo_${pad(i)}.jpg`, status: 'unlabeled', rev: 0 });
  }
  return out;
}

L.configure = (cfg) => {
  L.cfg = { ...DEFAULTS, ...cfg };
  L.images = makeImages(L.cfg.count, L.cfg.broken, L.cfg.predicted);
  L.classes = L.cfg.classes.map((c) => ({ ...c }));
  L.state = new Map();
  L.active = true;
  if (cfg.preset) for (const [id, st] of Object.entries(cfg.preset)) L.state.set(id, { shapes: [], redo: [], generation: 0, ...st });
};

const st = (id) => {
  if (!L.state.has(id)) L.state.set(id, { shapes: [], redo: [], generation: 0 });
  return L.state.get(id);
};

function send(m) {
  try {
    validateHostMessage(m);
  } catch (e) {
    L.sentInvalid.push(`${m.type}: ${e.message}`);
  }
  L.sent.push(m.type);
  window.postMessage(m, '*');
}
L.send = send;

// ---- generated pixels --------------------------------------------------------------------------------

function rgbPng(w, h, seed) {
  const d = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const o = 3 * (y * w + x);
      // a dim gradient with a lighter disc in the middle: something to label
      const dx = x / w - 0.5, dy = y / h - 0.5;
      const disc = dx * dx + dy * dy < 0.06;
      const v = disc ? 170 : 50 + ((x + y + seed * 13) % 50);
      d[o] = v;
      d[o + 1] = Math.min(255, v + ((seed * 29) % 40));
      d[o + 2] = Math.min(255, v + 25);
    }
  }
  return encode({ width: w, height: h, data: d, depth: 8, channels: 3 });
}

function maskPng(w, h, fill) {
  const d = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) d[y * w + x] = fill(x, y);
  return encode({ width: w, height: h, data: d, depth: 8, channels: 1 });
}

// thumbnails come from a few cached variants: the fake host runs in the page, and its own PNG encoding
// must not be what a scrolling test measures
const thumbCache = new Map();
const cached = (key, make) => {
  if (!thumbCache.has(key)) thumbCache.set(key, make());
  return thumbCache.get(key);
};

/** Bounding box in image px of what each class label paints: { label: [x0, y0, x1, y1] }, in shape order. */
function classBoxes(shapes) {
  const boxes = [];
  for (const s of shapes) {
    if (s.kind === 'stroke' && s.label >= 1 && s.label <= 253) {
      let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
      for (let i = 0; i < s.points.length; i += 2) {
        x0 = Math.min(x0, s.points[i] - s.radius); x1 = Math.max(x1, s.points[i] + s.radius);
        y0 = Math.min(y0, s.points[i + 1] - s.radius); y1 = Math.max(y1, s.points[i + 1] + s.radius);
      }
      boxes.push([s.label, x0, y0, x1, y1]);
    } else if (s.kind === 'box' && s.label >= 1 && s.label <= 253) {
      boxes.push([s.label, Math.min(s.x0, s.x1), Math.min(s.y0, s.y1), Math.max(s.x0, s.x1), Math.max(s.y0, s.y1)]);
    } else if (s.kind === 'polygon' && s.label >= 1 && s.label <= 253) {
      const xs = s.points.filter((_, i) => i % 2 === 0), ys = s.points.filter((_, i) => i % 2 === 1);
      boxes.push([s.label, Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)]);
    }
  }
  return boxes;
}
L.classBoxes = classBoxes;

/** The fake prediction of an image's shapes (undefined: no class painted, no prediction). */
function predict(id, shapes) {
  const { width, height, maskScale } = L.cfg;
  const boxes = classBoxes(shapes);
  if (!boxes.length) return undefined;
  const mw = Math.round(width * maskScale), mh = Math.round(height * maskScale);
  const d = new Uint8Array(mw * mh);
  // mask pixel (mx, my) takes the label of the last box holding its centre ((mx + 0.5) / maskScale, …)
  const lo = (v) => Math.max(0, Math.ceil(v * maskScale - 0.5)), hi = (v, n) => Math.min(n, Math.ceil(v * maskScale - 0.5));
  for (const [label, x0, y0, x1, y1] of boxes) {
    for (let my = lo(y0); my < hi(y1, mh); my++) d.fill(label, my * mw + lo(x0), my * mw + Math.max(lo(x0), hi(x1, mw)));
  }
  return encode({ width: mw, height: mh, data: d, depth: 8, channels: 1 });
}

function predictionFor(id) {
  const s = st(id);
  const mask = predict(id, s.shapes);
  if (mask) return { mask, confidence: 0.5 + 0.4 * Math.min(1, s.shapes.length / 5) };
  // discs: a predicted image without shapes of its own comes with a disc of its class (screenshots)
  const i = L.images.findIndex((x) => x.id === id);
  if (L.cfg.discs && L.images[i]?.status === 'predicted') {
    const { width, height, maskScale } = L.cfg, mw = Math.round(width * maskScale), mh = Math.round(height * maskScale);
    return { mask: maskPng(mw, mh, (x, y) => ((x / mw - 0.5) ** 2 + (y / mh - 0.5) ** 2 < 0.05 ? 1 + (i % 2) : 0)), confidence: L.images[i].confidence };
  }
  return {};
}

function thumb(id) {
  const i = L.images.findIndex((x) => x.id === id);
  const im = L.images[i];
  const t = { imageId: id, rev: im?.rev ?? 0, image: cached(`img${i % 8}`, () => rgbPng(64, 48, i % 8)) };
  if (im && (im.status === 'predicted' || im.status === 'accepted' || im.status === 'drawn')) {
    const k = 1 + (i % 2);
    t.mask = cached(`mask${k}`, () => maskPng(32, 24, (x, y) => ((x - 16) ** 2 + (y - 12) ** 2 < 60 ? k : 0)));
  }
  return t;
}

function patch(id, change) {
  const i = L.images.findIndex((x) => x.id === id);
  if (i < 0) return;
  L.images[i] = { ...L.images[i], ...change, rev: (L.images[i].rev ?? 0) + 1 };
  send({ type: 'labelImages', images: [L.images[i]] });
}

// ---- answers ------------------------------------------------------------------------------------------

function handle(m) {
  const c = L.cfg;
  const reply = (r) => setTimeout(() => send({ ...r, inReplyTo: m.id }), 0);
  switch (m.type) {
    case 'labelSync':
      reply({ type: 'labelState', classes: L.classes, images: L.images, options: c.options, mode: c.mode, folderTags: c.folderTags, ...(c.open ? { open: c.open } : {}), ...(c.progress ? { progress: c.progress } : {}) });
      break;
    case 'labelOpenImage': {
      const im = L.images.find((x) => x.id === m.imageId);
      if (!im) return reply({ type: 'error', message: `no image ${m.imageId}` });
      if (im.status === 'broken') return reply({ type: 'error', message: `${im.name}: ${im.reason}` });
      const s = st(m.imageId);
      const dw = Math.round(c.width * c.display), dh = Math.round(c.height * c.display);
      reply({ type: 'labelImage', imageId: m.imageId, width: c.width, height: c.height, image: rgbPng(dw, dh, L.images.indexOf(im)), shapes: s.shapes, redo: s.redo, generation: s.generation, ...predictionFor(m.imageId) });
      break;
    }
    case 'labelSetShapes': {
      const s = st(m.imageId);
      s.shapes = m.shapes;
      s.redo = m.redo;
      s.generation = m.generation;
      const out = { type: 'labelPrediction', inReplyTo: m.id, imageId: m.imageId, generation: m.generation, ...predictionFor(m.imageId) };
      if (L.hold) L.held.push(out);
      else setTimeout(() => send(out), 0);
      const im = L.images.find((x) => x.id === m.imageId);
      if (im && im.status !== 'drawn' && m.shapes.length) patch(m.imageId, { status: 'drawn' });
      break;
    }
    case 'labelThumbs':
      L.thumbAsks.push(m.imageIds);
      reply({ type: 'labelThumbs', thumbs: m.imageIds.map((id) => thumb(id)) });
      break;
    case 'labelSetClasses':
      L.classes = m.classes;
      reply({ type: 'labelClasses', classes: L.classes });
      break;
    case 'labelSuggest': {
      const cands = L.images.filter((x) => x.status === 'predicted').sort((a, b) => a.confidence - b.confidence);
      reply(cands.length ? { type: 'labelSuggestion', imageId: cands[0].id, reason: `least confident (${cands[0].confidence.toFixed(2)}) and unlike the supports` } : { type: 'labelSuggestion', reason: 'every image is labelled' });
      break;
    }
    case 'labelUseAsSupport':
      reply({ type: 'ack' });
      patch(m.imageId, { support: m.support });
      break;
    case 'labelAccept':
      L.accepted.push(...m.imageIds);
      reply({ type: 'ack' });
      for (const id of m.imageIds) patch(id, { status: 'accepted' });
      break;
    case 'labelCountAbove':
    case 'labelAcceptAbove': {
      const hits = L.images.filter((x) => x.status === 'predicted' && x.confidence >= m.threshold);
      if (m.type === 'labelAcceptAbove') {
        L.accepted.push(...hits.map((x) => x.id));
        for (const x of hits) patch(x.id, { status: 'accepted' });
      }
      reply({ type: 'labelCount', threshold: m.threshold, count: hits.length, accepted: m.type === 'labelAcceptAbove' });
      break;
    }
    case 'labelExport':
      L.exports.push(m.formats);
      reply({ type: 'labelExported', folder: '/home/user/exports/photos-voc', images: L.images.filter((x) => x.status === 'accepted').length, formats: m.formats });
      break;
    case 'labelSetOptions':
      Object.assign(c.options, Object.fromEntries(Object.entries({ method: m.method, backbone: m.backbone, checkpoint: m.checkpoint }).filter(([, v]) => v !== undefined)));
      reply({ type: 'labelOptions', options: c.options });
      break;
    case 'labelSetMode':
      c.mode = m.mode;
      c.folderTags = m.folderTags;
      reply({ type: 'ack' });
      break;
    case 'labelSetTags': {
      reply({ type: 'ack' });
      patch(m.imageId, { tags: m.tags, status: 'predicted', pseudo: true, confidence: 0.42 });
      break;
    }
    case 'labelCancelGrid':
      reply({ type: 'ack' });
      send({ type: 'labelGridProgress', pass: m.pass, done: 10, total: 40, cancelled: true });
      break;
    case 'labelMetrics':
      L.metrics.push(...m.strokeToPaintMs);
      L.webviewMs.push(...(m.webviewMs ?? []));
      reply({ type: 'ack' });
      break;
    default:
      break;
  }
}

/** Release held prediction replies: indices into L.held in the order given (default: all, in order). */
L.release = (order) => {
  const items = order ? order.map((i) => L.held[i]) : L.held.slice();
  L.held = order ? L.held.filter((_, i) => !order.includes(i)) : [];
  for (const r of items) send(r);
};

const original = host.respond.bind(host);
host.respond = (sent) => {
  if (!L.active || typeof sent.type !== 'string' || !sent.type.startsWith('label')) return original(sent);
  // VS Code hands the host a structured clone (nothing the host keeps may alias the webview's objects),
  // and later: the host runs in another process, so its work is not part of the webview's postMessage
  const m = structuredClone(sent);
  setTimeout(() => {
    try {
      validateWebviewMessage(m);
    } catch (e) {
      L.invalid.push(`${m.type}: ${e.message}`);
      return;
    }
    handle(m);
  }, 0);
};
