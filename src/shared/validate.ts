// The validator kit every protocol check is written with: the host<->engine requests and replies
// (engineProtocol.ts, engineLabelProtocol.ts) and the host<->webview messages in both directions
// (webviewProtocol.ts, webviewLabelProtocol.ts). A message is data from another process or a webview,
// so each check bounds what it accepts (an integer field has a range, a string a length, an array a
// count) and throws the protocol's own error naming the field and what is wrong.
//
// validatorKit(fail) binds the checks to one error class; `at(prefix)` gives the same checks with every
// message prefixed by where the object sits ('shapes[3].', 'options.'). No DOM, no node.

export type Obj = Record<string, unknown>;

export const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);
export const isBytes = (x: unknown): x is Uint8Array | ArrayBuffer => x instanceof Uint8Array || x instanceof ArrayBuffer;
export const isInt = (x: unknown, min = 0, max = Number.MAX_SAFE_INTEGER): boolean => Number.isInteger(x) && (x as number) >= min && (x as number) <= max;
export const finite = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

/** Paths, ids and names: far above any real one, far below what would hurt. */
export const MAX_STR = 4096;
/** The default upper bound of an integer field (ids, counts): a 32-bit signed int. */
export const MAX_INT = 2 ** 31 - 1;

export interface ValidatorKit {
  /** Throw the protocol's error with `what` (prefixed) unless `cond` holds. */
  need(cond: boolean, what: string): void;
  /** An integer in [min, max] (default [0, the kit's maxInt]). */
  int(o: Obj, k: string, min?: number, max?: number): number;
  optInt(o: Obj, k: string, min?: number, max?: number): void;
  /** A finite number (≥ min when min is given). */
  num(o: Obj, k: string, min?: number): void;
  /** Absent, or a finite number (≥ min when min is given). */
  optNum(o: Obj, k: string, min?: number): void;
  /** In [0, 1]. */
  unit(o: Obj, k: string): void;
  optUnit(o: Obj, k: string): void;
  /** A non-empty string of at most `max` characters. */
  str(o: Obj, k: string, max?: number): string;
  /** Absent, or a string of at most `max` characters. */
  optStr(o: Obj, k: string, max?: number): void;
  bool(o: Obj, k: string): void;
  optBool(o: Obj, k: string): void;
  /** An array of at most `max` items. */
  arr(o: Obj, k: string, max?: number): unknown[];
  obj(o: Obj, k: string): Obj;
  oneOf(o: Obj, k: string, xs: readonly string[]): void;
  /** Binary (Uint8Array or ArrayBuffer), never a JSON number array. */
  bytes(o: Obj, k: string): void;
  optBytes(o: Obj, k: string): void;
  /** An array of at most `max` non-empty strings of at most MAX_STR characters (image ids). */
  ids(o: Obj, k: string, max: number): string[];
  /** No field but these (a message checked whole: nothing unread rides along). */
  onlyKeys(o: Obj, allowed: readonly string[], where: string): void;
  /** The same checks, every message prefixed with `prefix`. */
  at(prefix: string): ValidatorKit;
}

export interface KitOptions {
  /** Upper bound of int() when none is given (default MAX_INT). */
  maxInt?: number;
}

/** The checks, throwing `fail(message)`. */
export function validatorKit(fail: (what: string) => Error, opts: KitOptions = {}, prefix = ''): ValidatorKit {
  const maxInt = opts.maxInt ?? MAX_INT;
  const need = (cond: boolean, what: string): void => {
    if (!cond) throw fail(prefix + what);
  };
  const shown = (n: number): string => (n === Number.MAX_SAFE_INTEGER ? '∞' : String(n));
  const int = (o: Obj, k: string, min = 0, max = maxInt): number => {
    need(isInt(o[k], min, max), `${k} must be an integer in [${min}, ${shown(max)}]`);
    return o[k] as number;
  };
  const num = (o: Obj, k: string, min = -Infinity): void =>
    need(finite(o[k]) && (o[k] as number) >= min, min === -Infinity ? `${k} must be a finite number` : `${k} must be a finite number ≥ ${min}`);
  const unit = (o: Obj, k: string): void => need(finite(o[k]) && (o[k] as number) >= 0 && (o[k] as number) <= 1, `${k} must be a number in [0, 1]`);
  const bool = (o: Obj, k: string): void => need(typeof o[k] === 'boolean', `${k} must be a boolean`);
  const arr = (o: Obj, k: string, max = Infinity): unknown[] => {
    need(Array.isArray(o[k]), `${k} must be an array`);
    need((o[k] as unknown[]).length <= max, `${k} has more than ${max} items`);
    return o[k] as unknown[];
  };
  const bytes = (o: Obj, k: string): void => need(isBytes(o[k]), `${k} must be binary (Uint8Array), not ${Array.isArray(o[k]) ? 'a JSON array' : typeof o[k]}`);
  return {
    need,
    int,
    optInt: (o, k, min, max) => {
      if (o[k] !== undefined) int(o, k, min, max);
    },
    num,
    optNum: (o, k, min) => {
      if (o[k] !== undefined) num(o, k, min);
    },
    unit,
    optUnit: (o, k) => {
      if (o[k] !== undefined) unit(o, k);
    },
    str: (o, k, max = MAX_STR) => {
      need(typeof o[k] === 'string' && (o[k] as string).length > 0 && (o[k] as string).length <= max, `${k} must be a non-empty string of at most ${max} characters`);
      return o[k] as string;
    },
    optStr: (o, k, max = MAX_STR) => need(o[k] === undefined || (typeof o[k] === 'string' && (o[k] as string).length <= max), `${k} must be a string of at most ${max} characters`),
    bool,
    optBool: (o, k) => {
      if (o[k] !== undefined) bool(o, k);
    },
    arr,
    obj: (o, k) => {
      need(isObj(o[k]), `${k} must be an object`);
      return o[k] as Obj;
    },
    oneOf: (o, k, xs) => need(xs.includes(o[k] as string), `${k} must be one of ${xs.join('|')}`),
    bytes,
    optBytes: (o, k) => {
      if (o[k] !== undefined) bytes(o, k);
    },
    ids: (o, k, max) => {
      const xs = arr(o, k, max);
      xs.forEach((x, i) => need(typeof x === 'string' && x.length > 0 && x.length <= MAX_STR, `${k}[${i}] must be a non-empty string`));
      return xs as string[];
    },
    onlyKeys: (o, allowed, where) => {
      for (const k of Object.keys(o)) need(allowed.includes(k), `${where} has an unknown field ${JSON.stringify(k.slice(0, 40))}`);
    },
    at: (p) => validatorKit(fail, opts, prefix + p),
  };
}
