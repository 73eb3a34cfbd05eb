// onnxruntime-node, loaded on demand. It is a native addon with one binary per platform (the .vsix
// carries only its target's), so loading can fail: another OS/CPU, a musl libc, a stripped install.
// Callers get the module or the reason it did not load, and fall back to tfjs (frozenEncoder.ts).
import * as os from 'os';
import { createRequire } from 'module';

/** The slice of onnxruntime-node's API used here (its own typings come with the package). */
export type Ort = typeof import('onnxruntime-node');

export type OrtLoad = { ok: true; ort: Ort; version: string } | { ok: false; reason: string };

let cached: OrtLoad | undefined;

/** Load onnxruntime-node once per thread; never throws. */
export function loadOrt(): OrtLoad {
  if (cached) return cached;
  if (os.endianness() !== 'LE') return (cached = { ok: false, reason: 'big-endian host: ONNX raw tensor data is little-endian' });
  try {
    // A computed require keeps bundlers from trying to inline the native addon (it stays external).
    const req = createRequire(__filename);
    const name = ['onnxruntime', 'node'].join('-');
    const ort = req(name) as Ort;
    const version = ort.env?.versions?.node ?? 'unknown';
    cached = { ok: true, ort, version };
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0];
    cached = {
      ok: false,
      reason: /Cannot find module/.test(msg)
        ? `onnxruntime-node is not installed for ${process.platform}-${process.arch} (${msg})`
        : `onnxruntime-node failed to load on ${process.platform}-${process.arch}: ${msg}`,
    };
  }
  return cached;
}
