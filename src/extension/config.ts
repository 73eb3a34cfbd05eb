// Typed access to the `protolab.*` settings (declared in package.json "contributes.configuration").
// Relative paths resolve against the first workspace folder, so a checked-in .vscode/settings.json
// works on every machine.
import * as path from 'path';
import * as vscode from 'vscode';
import type { BackboneId, SplitConvention, AnnotationKind } from '../shared/engineProtocol';

export type DatasetSettingKind = 'voc' | 'coco' | 'folder';

export interface DatasetSetting {
  name: string;
  path: string;
  kind: DatasetSettingKind;
  /** COCO: image folder if not next to annotations/ */
  images?: string;
}

export interface Settings {
  datasets: DatasetSetting[];
  checkpointPaths: string[];
  cacheDir?: string;
  backend: 'auto' | 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';
  inference: 'auto' | 'onnx' | 'tfjs';
  tfjsNodePath?: string;
  /** where the user installed the opt-in CenterNet backbone (PROTOLAB_CENTERNET_DIR, nets/centernet.ts) */
  centernetPath?: string;
  engineMemoryMB: number;
  /** the engine's image size limit (PROTOLAB_MAX_PIXELS, image/limits.ts) */
  maxImagePixels: number;
  size: number;
  ways: number;
  shots: number;
  seed: number;
  backbone: BackboneId;
  weights?: string;
  split: SplitConvention;
  annotation: AnnotationKind;
  episodes: number;
  runs: number;
  reportsDir: string;
}

export function workspaceRoot(): string | undefined {
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
}

/** An absolute path: `~` expanded, relative paths against the first workspace folder. */
export function resolvePath(p: string): string {
  const home = process.env.HOME ?? process.env.USERPROFILE ?? '';
  const q = p.startsWith('~/') ? path.join(home, p.slice(2)) : p;
  return path.isAbsolute(q) ? q : path.resolve(workspaceRoot() ?? process.cwd(), q);
}

const clampInt = (v: unknown, dflt: number, min: number, max: number): number =>
  Number.isInteger(v) && (v as number) >= min && (v as number) <= max ? (v as number) : dflt;

function datasetsFrom(raw: unknown): DatasetSetting[] {
  if (!Array.isArray(raw)) return [];
  // Settings are user-edited JSON: drop entries that are not usable rather than failing the tree.
  return raw.flatMap((d): DatasetSetting[] => {
    if (!d || typeof d !== 'object') return [];
    const o = d as Record<string, unknown>;
    if (typeof o.path !== 'string' || !o.path) return [];
    const kind: DatasetSettingKind = o.kind === 'coco' || o.kind === 'folder' ? o.kind : 'voc';
    const name = typeof o.name === 'string' && o.name ? o.name : path.basename(o.path);
    return [{ name, path: resolvePath(o.path), kind, images: typeof o.images === 'string' && o.images ? resolvePath(o.images) : undefined }];
  });
}

export function readSettings(): Settings {
  const c = vscode.workspace.getConfiguration('protolab');
  const str = (k: string) => {
    const v = c.get<string>(k);
    return typeof v === 'string' && v.trim() ? v.trim() : undefined;
  };
  const backend = c.get<string>('engine.backend');
  const inference = c.get<string>('engine.inference');
  const cacheDir = str('cacheDir');
  const tfjsNodePath = str('engine.tfjsNodePath');
  const centernetPath = str('engine.centernetPath');
  const weights = str('defaults.weights');
  return {
    datasets: datasetsFrom(c.get('datasets')),
    checkpointPaths: (c.get<unknown[]>('checkpointPaths') ?? []).filter((x): x is string => typeof x === 'string' && !!x).map(resolvePath),
    cacheDir: cacheDir ? resolvePath(cacheDir) : undefined,
    backend: backend === 'tensorflow' || backend === 'webgpu' || backend === 'wasm' || backend === 'cpu' ? backend : 'auto',
    inference: inference === 'onnx' || inference === 'tfjs' ? inference : 'auto',
    tfjsNodePath: tfjsNodePath ? resolvePath(tfjsNodePath) : undefined,
    centernetPath: centernetPath ? resolvePath(centernetPath) : undefined,
    engineMemoryMB: clampInt(c.get('engine.maxMemoryMB'), 4096, 512, 262144),
    maxImagePixels: clampInt(c.get('engine.maxImagePixels'), 64 * 1024 * 1024, 1, Number.MAX_SAFE_INTEGER),
    size: clampInt(c.get('defaults.size'), 224, 16, 2048),
    ways: clampInt(c.get('defaults.ways'), 1, 1, 20),
    shots: clampInt(c.get('defaults.shots'), 1, 1, 100),
    seed: clampInt(c.get('defaults.seed'), 1234, 0, 2 ** 31 - 1),
    backbone: ((b) => (b === 'vgg16' || b === 'nanodet' || b === 'centernet' ? b : 'mobilenetv2'))(c.get('defaults.backbone')),
    weights: weights ? resolvePath(weights) : undefined,
    split: c.get('defaults.split') === 'fwb' ? 'fwb' : 'panet',
    annotation: ((a) => (a === 'scribble' || a === 'box' || a === 'pseudo' ? a : 'dense'))(c.get('defaults.annotation')),
    episodes: clampInt(c.get('eval.episodes'), 100, 1, 100000),
    runs: clampInt(c.get('eval.runs'), 1, 1, 100),
    reportsDir: str('eval.reportsDir') ?? '.protolab/reports',
  };
}
