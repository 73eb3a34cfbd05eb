// The CLI's own entry (cli.ts main) run inside the test process, with its output captured: the same code
// path as `protolab …` minus node's start-up and tfjs's backend load, so a corpus of dozens of cases stays
// fast. What it cannot show (exit codes of a real process, the bin wrapper) test/unit/cli.e2e covers.
import { main } from '../../../src/engine/cli';
import { DEFAULT_MAX_PIXELS, setMaxImagePixels } from '../../../src/engine/image/limits';

export interface CliRun {
  code: number;
  out: string;
  err: string;
  /** main() threw instead of returning an exit code: an error that escaped every handler */
  threw?: Error;
}

let busy = false;

export async function runCli(argv: string[]): Promise<CliRun> {
  if (busy) throw new Error('runCli is not re-entrant');
  busy = true;
  let out = '', err = '';
  const ow = process.stdout.write.bind(process.stdout);
  const ew = process.stderr.write.bind(process.stderr);
  const capture = (add: (s: string) => void) => ((chunk: unknown, ...rest: unknown[]) => {
    add(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    cb?.();
    return true;
  }) as typeof process.stdout.write;
  process.stdout.write = capture((s) => (out += s));
  process.stderr.write = capture((s) => (err += s));
  try {
    const code = await main(argv);
    return { code, out, err };
  } catch (e) {
    return { code: -1, out, err, threw: e as Error };
  } finally {
    process.stdout.write = ow;
    process.stderr.write = ew;
    // a process runs one command; in here the next test must not inherit this one's --max-pixels
    setMaxImagePixels(DEFAULT_MAX_PIXELS);
    busy = false;
  }
}

/** A one-line description of a run, for assertion messages. */
export function show(r: CliRun): string {
  return `exit ${r.code}${r.threw ? ` THREW ${r.threw.stack}` : ''}\n--- stdout\n${r.out.slice(-3000)}\n--- stderr\n${r.err.slice(-3000)}`;
}
