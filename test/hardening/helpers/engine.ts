// One real engine process (the compiled server.js, forked by the extension's own EngineClient) that the
// whole corpus is fed to. autoRestart is off: if any input kills it, the next request fails and
// `engineCrashes` counts it, so "nothing crashes the engine process" is checked, not assumed.
import * as path from 'path';
import { EngineClient, EngineError, type RequestOf } from '../../../src/extension/engineClient';
import type { RequestType, ResultOf } from '../../../src/shared/engineProtocol';
import { tally } from './tally';

export const SERVER = path.resolve(__dirname, '../../../src/engine/server.js');

let client: EngineClient | undefined;
let firstPid: number | undefined;
export const engineLog: string[] = [];

export async function engine(): Promise<EngineClient> {
  if (!client) {
    client = new EngineClient({ serverPath: SERVER, env: { PROTOLAB_BACKEND: 'wasm' }, autoRestart: false, log: (l) => engineLog.push(l) });
    client.on('crashed', () => tally.engineCrashes++);
    const hello = await client.start();
    firstPid = hello.pid;
    process.on('exit', () => client?.killNow());
  }
  return client;
}

/** The engine that served the first request still serves (same pid, answers hello). */
export async function engineStillAlive(): Promise<boolean> {
  const c = await engine();
  if (!c.running || c.pid !== firstPid) return false;
  const h = await c.call({ type: 'hello', protocol: 1 });
  return h.pid === firstPid;
}

/** Send a request that must fail; returns the EngineError (a result is a test failure). */
export async function engineRefuses<T extends RequestType>(req: RequestOf<T>): Promise<EngineError> {
  const c = await engine();
  try {
    const v = await c.call(req);
    throw new Error(`the engine accepted ${req.type}: ${JSON.stringify(v).slice(0, 300)}`);
  } catch (e) {
    if (e instanceof EngineError) return e;
    throw e;
  }
}

export async function engineCall<T extends RequestType>(req: RequestOf<T>): Promise<ResultOf[T]> {
  return (await engine()).call(req);
}
