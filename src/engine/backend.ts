// Picks the tfjs backend for the engine process, best first, and says why better ones were passed over:
//   tensorflow (tfjs-node-gpu, then tfjs-node)  >  webgpu (Dawn)  >  wasm (SIMD)  >  cpu.
//
// tfjs-node(-gpu) cannot be installed or bundled by us (its install script downloads libtensorflow;
// a .vsix never runs install scripts), so it is looked up at run time — a user-set path or the engine's
// node_modules — with a computed module name so esbuild leaves it out of the bundle. tfjs-core keeps its
// engine and kernel registry on a global, so a tfjs-node that resolves its own copy of tfjs-core still
// registers into ours; we check the versions match and refuse otherwise.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { createRequire } from 'module';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfwasm from '@tensorflow/tfjs-backend-wasm';
import { UsageError } from './errors';
import { enableWasmThreadsInNode } from './wasmThreads';

export type BackendPreference = 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';

export interface BackendChoice {
  /** tfjs backend name now active: 'tensorflow' | 'webgpu' | 'wasm' | 'cpu'. */
  name: string;
  /** One line per candidate tried: why it was chosen or passed over. */
  reason: string[];
  /** wasm: pthreads in use (only with wasmThreads). */
  threads?: number;
  /** tensorflow: whether libtensorflow actually runs on a GPU. */
  gpu?: boolean;
}

export interface SelectBackendOptions {
  /** Force one backend; an error if it cannot load. */
  prefer?: BackendPreference;
  /** Where to find tfjs-node(-gpu): its package directory, or a node_modules directory holding it. */
  tfjsNodePath?: string;
  /** Experimental: wasm pthreads through the Node shim (src/engine/wasmThreads.ts). */
  wasmThreads?: boolean;
  /** Directory holding tfjs-backend-wasm's .wasm files (next to the bundle once packaged). */
  wasmDir?: string;
  log?: (line: string) => void;
}

type Attempt = { ok: true; detail: string; gpu?: boolean; threads?: number } | { ok: false; detail: string };

/** The installed tfjs-backend-wasm's dist directory. */
export function defaultWasmDir(): string {
  return path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm'));
}

export async function selectBackend(opts: SelectBackendOptions = {}): Promise<BackendChoice> {
  const reason: string[] = [];
  const log = opts.log ?? (() => undefined);
  const order: BackendPreference[] = opts.prefer ? [opts.prefer] : ['tensorflow', 'webgpu', 'wasm', 'cpu'];
  for (const name of order) {
    let a: Attempt;
    try {
      a = await tryBackend(name, opts);
    } catch (e) {
      a = { ok: false, detail: `failed: ${(e as Error).message}` };
    }
    reason.push(`${name}: ${a.detail}`);
    if (a.ok) {
      const choice: BackendChoice = { name: tf.getBackend(), reason, threads: a.threads, gpu: a.gpu };
      log(`tfjs backend: ${choice.name}${choice.threads ? ` (${choice.threads} threads)` : ''}`);
      for (const r of reason.slice(0, -1)) log(`  passed over ${r}`);
      return choice;
    }
  }
  const msg = `tfjs backend ${opts.prefer ?? '(any)'} could not be loaded: ${reason.join('; ')}`;
  log(msg);
  throw opts.prefer ? new UsageError(msg) : new Error(msg);
}

async function activate(name: string): Promise<boolean> {
  const ok = await tf.setBackend(name);
  if (ok) await tf.ready();
  return ok && tf.getBackend() === name;
}

async function tryBackend(name: BackendPreference, opts: SelectBackendOptions): Promise<Attempt> {
  switch (name) {
    case 'tensorflow':
      return tryTensorflow(opts.tfjsNodePath);
    case 'webgpu':
      return tryWebgpu();
    case 'wasm': {
      const dir = opts.wasmDir ?? defaultWasmDir();
      if (!fs.existsSync(path.join(dir, 'tfjs-backend-wasm-simd.wasm'))) return { ok: false, detail: `no tfjs-backend-wasm-simd.wasm in ${dir}` };
      tfwasm.setWasmPaths(dir.endsWith(path.sep) ? dir : dir + path.sep);
      let threads: number | undefined;
      if (opts.wasmThreads) {
        enableWasmThreadsInNode(tfwasm.setThreadsCount, Math.max(1, os.cpus().length));
      }
      if (!(await activate('wasm'))) return { ok: false, detail: 'tf.setBackend("wasm") failed' };
      if (opts.wasmThreads) threads = tfwasm.getThreadsCount();
      const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
      return { ok: true, detail: `chosen (SIMD ${simd ? 'on' : 'off'}${threads ? `, ${threads} threads via the experimental Node shim` : ', single-threaded'})`, threads };
    }
    case 'cpu':
      if (!(await activate('cpu'))) return { ok: false, detail: 'tf.setBackend("cpu") failed' };
      return { ok: true, detail: 'chosen (plain JavaScript: slowest)' };
  }
}

/** A require() for modules that must stay outside the bundle: name computed at run time. */
function runtimeRequire(from: string): NodeJS.Require {
  return createRequire(from);
}

async function tryTensorflow(userPath?: string): Promise<Attempt> {
  const notes: string[] = [];
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    const entry = resolveTfjsNode(pkg, userPath);
    if (!entry) {
      notes.push(`${pkg} not installed${userPath ? ` (looked in ${userPath} and node_modules)` : ''}`);
      continue;
    }
    // tfjs-node must register into the same tfjs-core as ours; different versions would break kernels.
    const coreVersion = otherCoreVersion(entry);
    if (coreVersion && coreVersion !== tf.version_core) {
      notes.push(`${pkg} at ${entry} uses @tensorflow/tfjs-core ${coreVersion}, the engine ${tf.version_core}: install matching versions`);
      continue;
    }
    try {
      runtimeRequire(__filename)(entry);
    } catch (e) {
      notes.push(`${pkg} found but failed to load (${(e as Error).message.split('\n')[0]}); often libtensorflow is missing`);
      continue;
    }
    if (!tf.findBackendFactory('tensorflow')) {
      notes.push(`${pkg} loaded but did not register into the engine's @tensorflow/tfjs-core`);
      continue;
    }
    if (!(await activate('tensorflow'))) {
      notes.push(`${pkg} loaded but the tensorflow backend failed to initialise`);
      continue;
    }
    const be = tf.backend() as unknown as { isUsingGpuDevice?: boolean };
    const gpu = be.isUsingGpuDevice === true;
    if (pkg.endsWith('-gpu') && !gpu) {
      // libtensorflow 2.9.1 wants CUDA 11.2 + cuDNN 8.1; with other CUDA it silently runs on the CPU
      // (tfjs issues #8269, #8362). Keep it (still faster than wasm) but say so.
      notes.push(`${pkg} loaded but runs on the CPU: CUDA 11.2 / cuDNN 8.1 libraries not found (libtensorflow 2.9.1 needs exactly these)`);
      return { ok: true, gpu: false, detail: `chosen ${pkg} WITHOUT GPU — ${notes.join('; ')}` };
    }
    return { ok: true, gpu, detail: `chosen ${pkg}${gpu ? ' on GPU' : ' (CPU, native)'}${notes.length ? ` — ${notes.join('; ')}` : ''}` };
  }
  return { ok: false, detail: notes.join('; ') };
}

/**
 * Entry file of pkg: under the user path (the package directory itself, a node_modules directory, or
 * a project directory holding node_modules), else the engine's own node_modules.
 */
function resolveTfjsNode(pkg: string, userPath?: string): string | undefined {
  const req = runtimeRequire(__filename);
  if (userPath) {
    const abs = path.resolve(userPath);
    const pj = path.join(abs, 'package.json');
    try {
      if (fs.existsSync(pj) && JSON.parse(fs.readFileSync(pj, 'utf8')).name === pkg) return runtimeRequire(pj).resolve(abs);
    } catch {
      /* not a package dir we can use; try it as a node_modules / project dir below */
    }
    try {
      // Node's search from `abs` covers both abs/node_modules/pkg and, when abs is itself named
      // node_modules, abs/pkg.
      return req.resolve(pkg, { paths: [abs] });
    } catch {
      /* fall back to the engine's node_modules */
    }
  }
  try {
    return req.resolve(pkg);
  } catch {
    return undefined;
  }
}

/** Version of the @tensorflow/tfjs-core that a module at `entry` would load, if resolvable. */
function otherCoreVersion(entry: string): string | undefined {
  try {
    const r = runtimeRequire(entry);
    const corePkg = path.join(path.dirname(r.resolve('@tensorflow/tfjs-core')), '..', '..', 'package.json');
    return JSON.parse(fs.readFileSync(corePkg, 'utf8')).version as string;
  } catch {
    return undefined;
  }
}

async function tryWebgpu(): Promise<Attempt> {
  const req = runtimeRequire(__filename);
  const names = ['@tensorflow/tfjs-backend-webgpu', 'webgpu'];
  const missing = names.filter((n) => {
    try {
      req.resolve(n);
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length) return { ok: false, detail: `not installed (${missing.join(' and ')} absent)` };
  // Per FACTS.md: the npm package `webgpu` (Dawn) provides navigator.gpu in Node; it needs a Vulkan driver.
  const dawn = req('webgpu') as { create: (flags: string[]) => unknown; globals: Record<string, unknown> };
  const g = globalThis as unknown as { navigator?: { gpu?: unknown } };
  if (!g.navigator?.gpu) {
    Object.assign(globalThis, dawn.globals);
    Object.defineProperty(globalThis, 'navigator', { value: { ...(g.navigator ?? {}), gpu: dawn.create([]) }, configurable: true, writable: true });
  }
  req('@tensorflow/tfjs-backend-webgpu');
  if (!(await activate('webgpu'))) return { ok: false, detail: 'installed but no usable GPU adapter (Dawn needs a Vulkan driver)' };
  return { ok: true, detail: 'chosen (Dawn)' };
}
