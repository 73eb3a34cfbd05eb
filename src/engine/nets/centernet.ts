// CenterNet with a MobileNetV3-Large backbone (github.com/610265158/mobilenetv3_centernet), trained on
// COCO, as a frozen feature backbone: an OPT-IN the user installs. Its tfjs conversion ships in the npm
// package @vladmandic/human@3.3.6 (MIT, no dependencies), but the repository the weights were trained in
// carries no licence, so whether they may be redistributed is unclear: ProtoLab never bundles them. It
// looks them up at run time, in this order:
//   1. the folder given by the caller (CreateBackboneOptions.centernetDir), else PROTOLAB_CENTERNET_DIR;
//      that folder may hold centernet.{json,bin} itself, be the package (models/ inside), or be the folder
//      where `npm install @vladmandic/human@3.3.6` ran (node_modules/@vladmandic/human/models inside);
//   2. else the package as Node resolves it from ProtoLab's own location, then from the working folder.
// Both files are checked by sha256 (the sums of 3.3.6) before loading.
//
// Taps (measured channels): the expansion (1×1 conv + activation) of the first block that runs at the
// next stride, i.e. the widest map still at this stride, and the backbone's last map:
//   stride 4  expanded_conv_3/expand (ReLU)        72     stride 16  expanded_conv_12/expand (h-swish) 528
//   stride 8  expanded_conv_6/expand (h-swish)    192     stride 32  extern1 (h-swish)                  480
// Input: RGB 0..255 as it is (Human feeds it so). The head's three upsamplings take their [h, w] from
// constants baked for 512² (to strides 16, 8 and 4).
import * as fs from 'fs';
import * as path from 'path';
import { createRequire } from 'module';
import { UsageError } from '../errors';
import type { GraphModelDef } from './graphBackbone';
import type { ModelFileSpec } from './modelFiles';

export const CENTERNET_PACKAGE = '@vladmandic/human';
export const CENTERNET_PACKAGE_VERSION = '3.3.6';

export const CENTERNET_FILES: { json: ModelFileSpec; bin: ModelFileSpec } = {
  json: { name: 'centernet.json', sha256: 'bfb942eaacc5becf738d536663bc4580a0ae9e560722306e6d4dd7fe4a09de05' },
  bin: { name: 'centernet.bin', sha256: '1b635a15009071f506f9f2b3519b31c072c534888989f30d269ffd44734ef7ef' },
};

const B = 'tower_0/MobilenetV3/';

export const CENTERNET: GraphModelDef = {
  id: 'centernet',
  input: 'tower_0/images',
  layout: 'NHWC',
  taps: {
    4: { node: `${B}expanded_conv_3/expand/Relu`, channels: 72 },
    8: { node: `${B}expanded_conv_6/expand/hard_swish/mul_1`, channels: 192 },
    16: { node: `${B}expanded_conv_12/expand/hard_swish/mul_1`, channels: 528 },
    32: { node: 'tower_0/extern1/hard_swish/mul_1', channels: 480 },
  },
  resizeSizes: {
    'tower_0/CenternetHead/c5_upsample/up_sampling2d/mul': 16,
    'tower_0/CenternetHead/c4_upsample/up_sampling2d_1/mul': 8,
    'tower_0/CenternetHead/c3_upsample/up_sampling2d_2/mul': 4,
  },
  prepare: (x) => x,
};

export const CENTERNET_ENV = 'PROTOLAB_CENTERNET_DIR';

const WHY = `CenterNet's weights are not bundled with ProtoLab: the repository they were trained in (github.com/610265158/mobilenetv3_centernet) has no licence, so redistributing them is unclear`;

function howTo(): string {
  return `install them yourself: in a folder of your choice run \`npm install ${CENTERNET_PACKAGE}@${CENTERNET_PACKAGE_VERSION}\` (an MIT package without dependencies), then point ProtoLab at that folder with ${CENTERNET_ENV}=<folder> or, in VS Code, the setting protolab.engine.centernetPath (or use another backbone, e.g. nanodet, which is bundled)`;
}

/** The models folder inside `dir` that holds centernet.json, or undefined. */
function modelsIn(dir: string): string | undefined {
  const candidates = [dir, path.join(dir, 'models'), path.join(dir, 'node_modules', ...CENTERNET_PACKAGE.split('/'), 'models')];
  return candidates.find((d) => fs.existsSync(path.join(d, CENTERNET_FILES.json.name)));
}

/** The installed package's models folder as Node resolves the package from `from`, or undefined. */
function resolvedFrom(from: string): string | undefined {
  let entry: string;
  try {
    entry = createRequire(from).resolve(CENTERNET_PACKAGE);
  } catch {
    return undefined;
  }
  for (let d = path.dirname(entry); d !== path.dirname(d); d = path.dirname(d)) {
    const pj = path.join(d, 'package.json');
    if (!fs.existsSync(pj)) continue;
    try {
      if ((JSON.parse(fs.readFileSync(pj, 'utf8')) as { name?: string }).name === CENTERNET_PACKAGE) return modelsIn(d);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/**
 * The folder holding centernet.{json,bin}: `dir` (or PROTOLAB_CENTERNET_DIR) when given, else the
 * installed package. A UsageError saying how to install it when it is nowhere.
 */
export function findCenternetDir(dir?: string, env: NodeJS.ProcessEnv = process.env): string {
  const given = dir ?? (env[CENTERNET_ENV] || undefined);
  if (given) {
    const abs = path.resolve(given);
    const found = modelsIn(abs);
    if (!found) throw new UsageError(`the centernet backbone: no ${CENTERNET_FILES.json.name} in ${abs} (nor in its models/ or node_modules/${CENTERNET_PACKAGE}/models/). ${WHY}; ${howTo()}.`);
    return found;
  }
  const found = resolvedFrom(__filename) ?? resolvedFrom(path.join(process.cwd(), 'package.json'));
  if (!found) throw new UsageError(`the centernet backbone needs ${CENTERNET_PACKAGE}@${CENTERNET_PACKAGE_VERSION}, which is not installed. ${WHY}; ${howTo()}.`);
  return found;
}

export function centernetSource(dir: string): string {
  return `CenterNet MobileNetV3 (610265158/mobilenetv3_centernet, licence unclear; tfjs conversion from ${CENTERNET_PACKAGE}@${CENTERNET_PACKAGE_VERSION}, MIT), user-installed at ${dir}`;
}
