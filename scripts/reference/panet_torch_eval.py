#!/usr/bin/python3
"""PANet's test loop in PyTorch, the reference side of `npm run bench:compare`.

Follows the official code (kaixin96/PANet: test.py, models/fewshot.py, models/vgg.py) on CPU:
  * every episode reads and decodes its images and masks from disk (PIL), resizes the image bilinearly
    and the label with nearest neighbour to size x size, normalises with ImageNet mean/std;
  * supports and query are encoded in ONE batch per episode (no feature reuse across episodes);
  * prototypes by masked average pooling of the support features UPSAMPLED to the mask size
    (F.interpolate bilinear, align_corners=False), + 1e-5 on the mask sum, mean over shots, background
    averaged over ways (getPrototype);
  * logits = 20 * cosine(query features, prototype), upsampled bilinearly to size x size; argmax.
One deliberate choice, switchable: ProtoLab leaves 255 (VOC border) pixels out of the background mask,
the official getMask counts them as background. `--bg-mask protolab` (the bench's default) matches
ProtoLab so pixel agreement measures the two implementations, `--bg-mask official` is PANet's.

Weights: a safetensors file (torchvision layout, features.N.weight/bias) read by hand, so no Python
package beyond Debian's python3-torch (+ numpy, PIL) is needed: 8-byte little-endian header length,
a JSON header {name: {dtype, shape, data_offsets}}, then the raw little-endian buffers.

Usage:
  panet_torch_eval.py encoder --weights W.safetensors --size 224 --threads 2 [--warmup 2 --runs 5]
  panet_torch_eval.py eval --weights W --episodes EPISODES.json --threads 2 --pred-out PRED.u8
Each prints one JSON line on stdout.
"""
import argparse
import json
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]
TORCHVISION_INDEX = [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28]


def read_safetensors(path):
    with open(path, 'rb') as f:
        (n,) = struct.unpack('<Q', f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, e in header.items():
        if name == '__metadata__':
            continue
        if e['dtype'] != 'F32':
            raise SystemExit(f'{path}: tensor {name} has dtype {e["dtype"]}, expected F32')
        b, end = e['data_offsets']
        out[name] = torch.from_numpy(np.frombuffer(data[b:end], dtype='<f4').copy()).reshape(e['shape'])
    return out


def make_layer(n, cin, cout, dil=1, last_relu=True):
    layers = []
    for i in range(n):
        layers.append(nn.Conv2d(cin if i == 0 else cout, cout, 3, padding=dil, dilation=dil))
        if i < n - 1 or last_relu:
            layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class Encoder(nn.Module):
    """PANet models/vgg.py Encoder: pool4 stride 1, conv5 dilated 2, no ReLU after conv5_3."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            make_layer(2, 3, 64), nn.MaxPool2d(3, 2, 1),
            make_layer(2, 64, 128), nn.MaxPool2d(3, 2, 1),
            make_layer(3, 128, 256), nn.MaxPool2d(3, 2, 1),
            make_layer(3, 256, 512), nn.MaxPool2d(3, 1, 1),
            make_layer(3, 512, 512, dil=2, last_relu=False))

    def forward(self, x):
        return self.features(x)


def load_encoder(path):
    sd = read_safetensors(path)
    enc = Encoder().eval()
    convs = [m for m in enc.modules() if isinstance(m, nn.Conv2d)]
    with torch.no_grad():
        for conv, idx in zip(convs, TORCHVISION_INDEX):
            w, b = sd[f'features.{idx}.weight'], sd[f'features.{idx}.bias']
            if tuple(w.shape) != tuple(conv.weight.shape):
                raise SystemExit(f'{path}: features.{idx}.weight has shape {tuple(w.shape)}, expected {tuple(conv.weight.shape)}')
            conv.weight.copy_(w)
            conv.bias.copy_(b)
    return enc


def get_features(fts, mask):
    """fewshot.py getFeatures: upsample features to the mask size, masked average. fts 1xCxh'xw', mask 1xHxW."""
    fts = F.interpolate(fts, size=mask.shape[-2:], mode='bilinear', align_corners=False)
    return torch.sum(fts * mask[None, ...], dim=(2, 3)) / (mask[None, ...].sum(dim=(2, 3)) + 1e-5)


def get_prototype(fg_fts, bg_fts):
    n_ways, n_shots = len(fg_fts), len(fg_fts[0])
    fg = [sum(way) / n_shots for way in fg_fts]
    bg = sum([sum(way) / n_shots for way in bg_fts]) / n_ways
    return fg, bg


def cal_dist(fts, prototype, scaler=20):
    return F.cosine_similarity(fts, prototype[..., None, None], dim=1) * scaler


def load_image(path, size):
    img = Image.open(path).convert('RGB').resize((size, size), resample=Image.BILINEAR)
    x = torch.from_numpy(np.asarray(img, dtype=np.float32) / 255.0).permute(2, 0, 1)
    return (x - torch.tensor(MEAN)[:, None, None]) / torch.tensor(STD)[:, None, None]


def load_label(path, size):
    return torch.from_numpy(np.asarray(Image.open(path).resize((size, size), resample=Image.NEAREST), dtype=np.int64))


def masks(label, cls, classes, bg_mode):
    fg = (label == cls).float()
    bg = (label != cls)
    for c in classes:
        bg &= label != c
    if bg_mode == 'protolab':
        bg &= label != 255
    return fg, bg.float()


def forward(enc, supp_imgs, fore_mask, back_mask, qry_imgs):
    """fewshot.py FewShotSeg.forward for batch size 1: one encoder batch for supports + query."""
    n_ways, n_shots = len(supp_imgs), len(supp_imgs[0])
    img_size = supp_imgs[0][0].shape[-2:]
    imgs = torch.stack([s for way in supp_imgs for s in way] + list(qry_imgs), dim=0)
    fts = enc(imgs)
    fts_size = fts.shape[-2:]
    supp_fts = fts[:n_ways * n_shots].view(n_ways, n_shots, 1, -1, *fts_size)
    qry_fts = fts[n_ways * n_shots:].view(len(qry_imgs), 1, -1, *fts_size)
    fg_fts = [[get_features(supp_fts[w, s], fore_mask[w][s][None]) for s in range(n_shots)] for w in range(n_ways)]
    bg_fts = [[get_features(supp_fts[w, s], back_mask[w][s][None]) for s in range(n_shots)] for w in range(n_ways)]
    fg_protos, bg_proto = get_prototype(fg_fts, bg_fts)
    dist = [cal_dist(qry_fts[:, 0], p) for p in [bg_proto] + fg_protos]
    pred = torch.stack(dist, dim=1)
    return F.interpolate(pred, size=img_size, mode='bilinear', align_corners=False)


def timeit(fn, warm, runs):
    for _ in range(warm):
        fn()
    ts = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t) * 1e3)
    ts.sort()
    return dict(min_ms=ts[0], median_ms=ts[(len(ts) - 1) // 2], runs=len(ts), all_ms=[round(t, 1) for t in ts])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('mode', choices=['encoder', 'eval'])
    ap.add_argument('--weights', required=True)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--size', type=int, default=224)
    ap.add_argument('--warmup', type=int, default=2)
    ap.add_argument('--runs', type=int, default=5)
    ap.add_argument('--episodes')
    ap.add_argument('--pred-out')
    ap.add_argument('--bg-mask', choices=['protolab', 'official'], default='protolab')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    info = dict(torch=torch.__version__, threads=torch.get_num_threads(), mkldnn=torch.backends.mkldnn.is_available())
    enc = load_encoder(a.weights)
    with torch.no_grad():
        if a.mode == 'encoder':
            x = torch.randn(1, 3, a.size, a.size)
            out = enc(x)
            r = timeit(lambda: enc(x), a.warmup, a.runs)
            print(json.dumps(dict(info, what='encoder', size=a.size, out=list(out.shape), **r)), flush=True)
            return
        spec = json.load(open(a.episodes))
        size, root, eps = spec['size'], spec['root'], spec['episodes']
        img = lambda i: f'{root}/JPEGImages/{i}.jpg'
        lbl = lambda i: f'{root}/SegmentationClass/{i}.png'
        preds = np.zeros((len(eps), size, size), dtype=np.uint8)
        t0 = time.perf_counter()
        for k, ep in enumerate(eps):
            classes = ep['classes']
            supp_imgs = [[load_image(img(i), size) for i in way] for way in ep['supports']]
            fore, back = [], []
            for j, way in enumerate(ep['supports']):
                ms = [masks(load_label(lbl(i), size), classes[j], classes, a.bg_mask) for i in way]
                fore.append([m[0] for m in ms])
                back.append([m[1] for m in ms])
            qry = [load_image(img(ep['query']), size)]
            _ = load_label(lbl(ep['query']), size)  # the official loop loads the query label for its metric
            out = forward(enc, supp_imgs, fore, back, qry)
            preds[k] = out.argmax(dim=1)[0].numpy().astype(np.uint8)
        seconds = time.perf_counter() - t0
        if a.pred_out:
            preds.tofile(a.pred_out)
        print(json.dumps(dict(info, what='eval', episodes=len(eps), seconds=seconds, episodes_per_s=len(eps) / seconds,
                              bg_mask=a.bg_mask)), flush=True)


if __name__ == '__main__':
    sys.exit(main())
