// Built ONNX models on disk, one file per (backbone id, weights hash, graph version): building VGG-16's
// means reading 59 MB of weights back from tfjs and serialising them (seconds on a loaded machine); a
// second evaluation with the same weights opens the file instead. The graph takes any input size
// (symbolic N, H, W), so the size is not part of the key; what else shapes the graph (a detector's
// tapped strides) is part of the id. Written atomically (temp + rename): a reader never sees a half
// file, and concurrent writers of the same key write identical bytes. VGG-16 models
// are 59 MB each, so the folder keeps the KEEP most recently used files (reuse touches a file's mtime)
// and removes older ones when it writes a new one.
import * as fs from 'fs';
import * as path from 'path';
import { writeFileAtomicAsync } from '../../fsutil';
import type { Backbone } from '../backbone';

/** What can be cached: a backbone, or any network with an id naming its graph and a builder. */
export type OnnxModelSource = Pick<Backbone, 'weightsHash' | 'onnx'> & { id: string };

/** How many model files the cache keeps (the most recently used). */
export const KEEP = 6;

export function onnxModelPath(cacheDir: string, b: Pick<OnnxModelSource, 'id' | 'weightsHash'>, graphVersion: number): string {
  return path.join(cacheDir, 'onnx', `${b.id}-${b.weightsHash}-g${graphVersion}.onnx`);
}

export interface CachedModel {
  file: string;
  /** true when this call built and wrote it (false: an earlier one had). */
  built: boolean;
}

/** The backbone's ONNX model file under cacheDir, built first if absent (or if `rebuild`). */
export async function cachedOnnxModel(cacheDir: string, backbone: OnnxModelSource, rebuild = false): Promise<CachedModel> {
  if (!backbone.onnx) throw new Error(`backbone ${backbone.id} has no ONNX form`);
  const file = onnxModelPath(cacheDir, backbone, backbone.onnx.graphVersion);
  if (!rebuild) {
    try {
      if ((await fs.promises.stat(file)).size > 0) {
        const now = new Date();
        await fs.promises.utimes(file, now, now).catch(() => undefined); // recency for pruning
        return { file, built: false };
      }
    } catch {
      /* absent: build it */
    }
  }
  await writeFileAtomicAsync(file, backbone.onnx.build());
  await prune(path.dirname(file), file);
  return { file, built: true };
}

/** Remove all but the KEEP most recently used .onnx files (never `keep`); best effort. */
async function prune(dir: string, keep: string): Promise<void> {
  try {
    const files = (await fs.promises.readdir(dir)).filter((f) => f.endsWith('.onnx')).map((f) => path.join(dir, f));
    const stamped = await Promise.all(files.map(async (f) => ({ f, t: (await fs.promises.stat(f)).mtimeMs })));
    stamped.sort((a, b) => b.t - a.t);
    for (const { f } of stamped.slice(KEEP)) if (f !== keep) await fs.promises.rm(f, { force: true });
  } catch {
    /* another process pruned or wrote at the same time: nothing to do */
  }
}
