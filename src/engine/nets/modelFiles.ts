// Model files that the engine runs as they are (graph models: a JSON topology + one weight file): read
// only after their sha256 matches the sum ProtoLab was built with, so a damaged, truncated or replaced
// file is an error naming that file, never a silently different network. Also where the files that
// ship with ProtoLab itself lie: `models/<name>/` at the package root, found by walking up from this
// module, which works for the TypeScript build (out/src/engine/nets), the bundle (dist/engine) and
// the installed .vsix (extension/dist/engine) alike.
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { DataError } from '../errors';

export interface ModelFileSpec {
  /** File name inside the model's folder. */
  name: string;
  /** Full sha256, hex. */
  sha256: string;
}

/** The bytes of `dir/spec.name`, after checking its sha256; DataError naming the file otherwise. */
export function readVerified(dir: string, spec: ModelFileSpec, what: string): Buffer {
  const file = path.join(dir, spec.name);
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new DataError(file, code === 'ENOENT' ? `${what}: the file is missing` : `${what}: cannot read it (${(e as Error).message})`);
  }
  const got = crypto.createHash('sha256').update(bytes).digest('hex');
  if (got !== spec.sha256) {
    throw new DataError(file, `${what}: sha256 is ${got}, expected ${spec.sha256} (the file is damaged or is another version; restore the original)`);
  }
  return bytes;
}

/** The folder `models/<name>` of the ProtoLab package this module belongs to (throws if not found). */
export function bundledModelDir(name: string, from: string = __dirname): string {
  for (let d = from; d !== path.dirname(d); d = path.dirname(d)) {
    const candidate = path.join(d, 'models', name);
    if (fs.existsSync(candidate) && isProtolabRoot(d)) return candidate;
  }
  throw new Error(`the bundled model folder models/${name} was not found above ${from}: the ProtoLab installation is incomplete`);
}

function isProtolabRoot(dir: string): boolean {
  try {
    return (JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string }).name === 'protolab';
  } catch {
    return false;
  }
}
