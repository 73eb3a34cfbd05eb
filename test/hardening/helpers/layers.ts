// The layers of src/ (DESIGN.md, "Layout"), lowest first. A file may import only from its own rank or
// below; extension/ and webview/ share a rank but import neither each other nor the engine: only shared/.
// Files at the top of src/engine/ (errors, types, prng, fsutil, lock, ...) are the ground floor; the
// engine's process entry points (cli.ts, server.ts) sit with commands/ and server/.
import * as path from 'path';

export const RANKS: ReadonlyArray<{ rank: number; name: string; dirs: string[] }> = [
  { rank: 1, name: 'ground floor', dirs: ['shared', 'engine/'] },
  { rank: 2, name: 'image', dirs: ['engine/image'] },
  { rank: 3, name: 'data', dirs: ['engine/data'] },
  { rank: 4, name: 'nets', dirs: ['engine/nets'] },
  { rank: 5, name: 'features', dirs: ['engine/features'] },
  { rank: 6, name: 'fewshot', dirs: ['engine/fewshot'] },
  { rank: 7, name: 'eval / train', dirs: ['engine/eval', 'engine/train'] },
  { rank: 8, name: 'label', dirs: ['engine/label'] },
  { rank: 9, name: 'commands / server', dirs: ['engine/commands', 'engine/cli', 'engine/server', 'engine/cli.ts', 'engine/server.ts'] },
  { rank: 10, name: 'extension / webview', dirs: ['extension', 'webview'] },
];

/** The layer of a file (path relative to src/, '/'-separated); the most specific entry wins. */
export function layerOf(rel: string): { rank: number; dir: string } {
  let best: { rank: number; dir: string } | undefined;
  for (const r of RANKS) {
    for (const d of r.dirs) {
      const hit = d.endsWith('/') ? rel.startsWith(d) && !rel.slice(d.length).includes('/')
        : d.endsWith('.ts') ? rel === d : rel === d || rel.startsWith(`${d}/`);
      if (hit && (!best || d.length > best.dir.length)) best = { rank: r.rank, dir: d };
    }
  }
  if (!best) throw new Error(`src/${rel} belongs to no layer: add its folder to RANKS in test/hardening/helpers/layers.ts`);
  return best;
}

/** Every import that goes up the layers, or between extension/ and webview/, as "from -> to". */
export function layerViolations(graph: Map<string, string[]>, srcRoot: string): string[] {
  const rel = (f: string) => path.relative(srcRoot, f).split(path.sep).join('/');
  const out: string[] = [];
  for (const [from, deps] of graph) {
    const a = layerOf(rel(from));
    for (const to of deps) {
      const b = layerOf(rel(to));
      // the two processes' UIs talk to the engine over messages: they share types through shared/ only
      const sideways = a.rank === 10 && b.dir !== a.dir && b.dir !== 'shared';
      if (b.rank > a.rank || sideways) out.push(`${rel(from)} -> ${rel(to)}`);
    }
  }
  return out.sort();
}
