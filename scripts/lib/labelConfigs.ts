// The predictor configurations `npm run bench:label` measures, named `method[:variant][@backbone]`:
// `quality`, `quality:quality-levels`, `baseline`, `quality@mobilenetv2`, … Without `@backbone` a
// configuration runs on DEFAULT_BACKBONE; the list by default is every variant of every method
// (label/methods.ts) on that backbone.
import type { LabelModelSpec } from '../../src/engine/label/methods';
import { DEFAULT_LABEL_BACKBONE } from '../../src/shared/labelVocabulary';

/** The backbone a configuration without `@backbone` runs on: the labeling engine's default. */
export const DEFAULT_BACKBONE = DEFAULT_LABEL_BACKBONE;

export interface LabelConfig {
  /** as given (`quality@nanodet`), or the variant's name with the default backbone */
  name: string;
  method: string;
  options: Record<string, unknown>;
  backbone: LabelModelSpec['backbone'];
}

interface MethodLike { id: string; variants: Array<{ name: string; options: Record<string, unknown> }> }

/** Every variant of every method, `method` alone for a method's own variant, `method:variant` for the others. */
export function allConfigs(methods: MethodLike[]): LabelConfig[] {
  return methods.flatMap((m) => m.variants.map((v) => ({
    name: v.name === m.id ? m.id : `${m.id}:${v.name}`, method: m.id, options: v.options, backbone: DEFAULT_BACKBONE as LabelModelSpec['backbone'],
  })));
}

/** Parse `--configs a,b@x,…` (undefined: every configuration). An unknown method or variant is an
 *  error listing the known ones; the backbone is checked when the model is built. */
export function parseConfigs(spec: string | undefined, methods: MethodLike[]): LabelConfig[] {
  const all = allConfigs(methods);
  if (!spec) return all;
  return spec.split(',').map((raw) => raw.trim()).filter(Boolean).map((c) => {
    const at = c.lastIndexOf('@');
    const base = at < 0 ? c : c.slice(0, at), backbone = at < 0 ? DEFAULT_BACKBONE : c.slice(at + 1);
    if (!backbone) throw new Error(`configuration ${c}: no backbone after @`);
    const hit = all.find((x) => x.name === base);
    if (!hit) throw new Error(`unknown configuration ${base}; known: ${all.map((x) => x.name).join(', ')} (each may end in @backbone)`);
    return { ...hit, name: at < 0 ? base : c, backbone: backbone as LabelModelSpec['backbone'] };
  });
}
