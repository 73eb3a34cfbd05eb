// The graph-model backbones ProtoLab knows (graphBackbone.ts), by id: where each one's files are, what
// it was trained on, and one loader that checks the files before building the network.
import { CENTERNET, CENTERNET_FILES, centernetSource, findCenternetDir } from './centernet';
import { GraphBackbone, type GraphBackboneId, type GraphModelDef } from './graphBackbone';
import { bundledModelDir, readVerified, type ModelFileSpec } from './modelFiles';
import { NANODET, NANODET_FILES, NANODET_SOURCE } from './nanodet';

export const GRAPH_BACKBONE_IDS: readonly GraphBackboneId[] = ['nanodet', 'centernet'];

export function isGraphBackboneId(id: string): id is GraphBackboneId {
  return (GRAPH_BACKBONE_IDS as readonly string[]).includes(id);
}

export interface GraphLoadOptions {
  /** Folder of nanodet.{json,bin} (default: the bundled models/nanodet). */
  nanodetDir?: string;
  /** Folder of the user-installed CenterNet (centernet.ts findCenternetDir). */
  centernetDir?: string;
}

export interface LoadedGraphBackbone {
  net: GraphBackbone;
  /** Human-readable origin of the weights, with their licence. */
  source: string;
  /** The data set the weights were trained on. */
  trainedOn: string;
}

const ENTRIES: Record<GraphBackboneId, { def: GraphModelDef; files: { json: ModelFileSpec; bin: ModelFileSpec }; dir(o: GraphLoadOptions): string; source(dir: string): string; what: string }> = {
  nanodet: { def: NANODET, files: NANODET_FILES, dir: (o) => o.nanodetDir ?? bundledModelDir('nanodet'), source: () => NANODET_SOURCE, what: 'NanoDet model file' },
  centernet: { def: CENTERNET, files: CENTERNET_FILES, dir: (o) => findCenternetDir(o.centernetDir), source: centernetSource, what: 'CenterNet model file' },
};

/** The backbone `id` outputting its taps at `strides` (in that order), after checking its files' sha256. */
export async function loadGraphBackbone(id: GraphBackboneId, strides: readonly number[], opts: GraphLoadOptions = {}): Promise<LoadedGraphBackbone> {
  const e = ENTRIES[id];
  const dir = e.dir(opts);
  const json = readVerified(dir, e.files.json, e.what);
  const bin = readVerified(dir, e.files.bin, e.what);
  const net = await GraphBackbone.load(e.def, json, bin, strides, dir);
  return { net, source: e.source(dir), trainedOn: 'COCO detection' };
}
