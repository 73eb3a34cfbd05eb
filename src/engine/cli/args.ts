// Flag parsing on node's util.parseArgs, with the checks every command needs and errors a user can act on.
import { parseArgs, ParseArgsConfig } from 'util';
import { UsageError } from '../errors';

export type Options = NonNullable<ParseArgsConfig['options']>;

export function parse(argv: string[], options: Options, command: string): Record<string, string | boolean | string[] | undefined> {
  try {
    const { values } = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false });
    return values as Record<string, string | boolean | string[] | undefined>;
  } catch (e) {
    throw new UsageError(`protolab ${command}: ${(e as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, '')}`);
  }
}

export function required(v: Record<string, unknown>, name: string, command: string): string {
  const x = v[name];
  if (typeof x !== 'string' || x === '') throw new UsageError(`protolab ${command}: --${name} is required`);
  return x;
}

export function int(v: Record<string, unknown>, name: string, dflt: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const x = v[name];
  if (x === undefined) return dflt;
  const n = Number(x);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer in [${min}, ${max}] (got ${String(x)})`);
  return n;
}

export function num(v: Record<string, unknown>, name: string, dflt: number): number {
  const x = v[name];
  if (x === undefined) return dflt;
  const n = Number(x);
  if (!Number.isFinite(n)) throw new UsageError(`--${name} must be a number (got ${String(x)})`);
  return n;
}

export function oneOf<T extends string>(v: Record<string, unknown>, name: string, choices: readonly T[], dflt: T): T {
  const x = v[name];
  if (x === undefined) return dflt;
  if (!choices.includes(x as T)) throw new UsageError(`--${name} must be one of ${choices.join('|')} (got ${String(x)})`);
  return x as T;
}
