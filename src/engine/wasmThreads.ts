// EXPERIMENTAL, opt-in (`wasmThreads: true`): run tfjs-backend-wasm's threaded-SIMD build in Node.
// Pinned to @tensorflow/tfjs-backend-wasm 4.22.0; measured ≈2× on a 2-core box (FACTS.md).
//
// Why a shim: tfjs 4.22 switches threads off under Node (tfjs issue #3830), and when forced on,
// Emscripten hands worker_threads blob: URLs, which Node cannot load (ERR_WORKER_PATH). We capture
// the text of the two Blobs (pthread worker script, main script) and give Emscripten temp files.
// Must run BEFORE tf.setBackend('wasm'). It patches globals (Blob, URL.createObjectURL,
// worker_threads.Worker, os.cpus) for the life of the process — hence opt-in only.
import * as fs from 'fs';
import * as path from 'path';
// `import x = require()` binds the real module objects: the patches below must reach the objects that
// Emscripten's own require('os') / require('worker_threads') return, not an import namespace copy.
import os = require('os');
import wt = require('worker_threads');
import * as tf from '@tensorflow/tfjs-core';

let installedDir: string | undefined;

export function enableWasmThreadsInNode(setThreadsCount: (n: number) => void, nThreads: number): string {
  if (installedDir) return installedDir;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'protolab-wasm-mt-'));
  let n = 0;
  const blobText = new WeakMap<object, string>();
  const OrigBlob = globalThis.Blob;
  globalThis.Blob = class extends OrigBlob {
    constructor(...args: ConstructorParameters<typeof Blob>) {
      super(...args);
      const parts = args[0];
      if (Array.isArray(parts) && parts.every((p) => typeof p === 'string')) blobText.set(this, parts.join(''));
    }
  } as typeof Blob;
  const origCreate = URL.createObjectURL.bind(URL);
  URL.createObjectURL = (b: Blob) => {
    const text = blobText.get(b);
    if (text === undefined) return origCreate(b);
    const f = path.join(dir, `blob${n++}.js`);
    fs.writeFileSync(f, text);
    return f;
  };
  let mainPath: string | undefined;
  const wtm = wt as { Worker: typeof wt.Worker };
  const OrigWorker = wt.Worker;
  wtm.Worker = class extends OrigWorker {
    constructor(...a: ConstructorParameters<typeof wt.Worker>) {
      super(...a);
      this.unref(); // Emscripten's pthread pool must not keep the process alive
    }
    override postMessage(msg: unknown, ...rest: unknown[]): void {
      const m = msg as { cmd?: string; urlOrBlob?: object } | null;
      if (m && m.cmd === 'load' && m.urlOrBlob && blobText.has(m.urlOrBlob)) {
        if (!mainPath) {
          // The serialised Emscripten factory refers to rollup's module-scope aliases of Node builtins.
          const prelude =
            "var require$$0=require('fs'),require$$1=require('path'),require$$2=require('worker_threads')," +
            "require$$3=require('perf_hooks'),require$$4=require('os');var commonjsGlobal=globalThis;var __dirname=" +
            JSON.stringify(dir) + ';\n';
          mainPath = path.join(dir, 'main.js');
          fs.writeFileSync(mainPath, prelude + blobText.get(m.urlOrBlob));
        }
        msg = { ...m, urlOrBlob: mainPath };
      }
      (OrigWorker.prototype.postMessage as (...x: unknown[]) => void).call(this, msg, ...rest);
    }
  } as typeof wt.Worker;
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  setThreadsCount(nThreads);
  // backend.cc caps threads at emscripten_num_logical_cores()/2 (it assumes SMT), i.e. os.cpus()/2
  // under Node: report twice the cores so the cap lands on nThreads.
  const realCpus = os.cpus;
  (os as { cpus: typeof os.cpus }).cpus = () => {
    const c = realCpus();
    return c.concat(c).slice(0, Math.max(c.length, 2 * nThreads));
  };
  installedDir = dir;
  return dir;
}
