// The engine process SIGKILLed under a running evaluation and a running training, as the extension meets
// it: through EngineClient (src/extension/engineClient.ts) on the real compiled engine. The job fails as
// "engine restarted", the client starts a fresh engine, recovery.ts offers to go on; nothing half-written
// is left; a resumed training reproduces an uninterrupted run's losses bit for bit, and an evaluation run
// again gives the uninterrupted result.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import type { EngineEvent, EpisodeSetRef, TrainParams } from '../../src/shared/engineProtocol';
import { readMetrics } from '../../src/engine/train/log';
import { EngineClient, EngineError } from '../../src/extension/engineClient';
import { evaluationInterruption, lastCheckpointStep, trainingInterruption } from '../../src/extension/recovery';
import { SERVER } from './helpers/engine';
import { pristine, tempLeftovers, TMP } from './helpers/fixtures';
import { countFault } from './helpers/tally';

const once = <T>(c: EngineClient, ev: string) => new Promise<T>((r) => c.once(ev, r as (x: T) => void));

describe('faults: the engine process killed (SIGKILL) mid-job', function () {
  this.timeout(300000);
  let client: EngineClient;
  let set: EpisodeSetRef;
  let root: string;
  const dir = path.join(TMP, 'kill');

  before(async () => {
    const f = await pristine();
    root = f.root;
    set = { data: f.root, dataset: 'voc', split: 'panet', fold: 0, ways: 1, shots: 1, seed: 1234, list: 'val' };
    fs.mkdirSync(dir, { recursive: true });
    client = new EngineClient({ serverPath: SERVER, env: { PROTOLAB_BACKEND: 'wasm' } });
    await client.start();
  });
  after(() => client.stop());

  it('mid-evaluation: "engine restarted", a fresh engine, no partial report, and the evaluation run again equals the uninterrupted one', async () => {
    const params = { set, model: { backbone: 'mobilenetv2' as const, size: 32 }, episodes: 30, runs: 1, annotation: 'dense' as const };
    const reference = (await client.call({ type: 'evaluate', params })) as { miou: number; runs: unknown[]; episodesScored: number };
    const json = path.join(dir, 'eval.json'), records = path.join(dir, 'eval.records.jsonl');
    const events: EngineEvent[] = [];
    const pid = client.pid!;
    const h = client.request({ type: 'evaluate', params: { ...params, episodes: 5000, json, records } }, (e) => events.push(e));
    while (!events.some((e) => e.kind === 'progress' && e.done >= 3)) await new Promise((r) => setTimeout(r, 20));
    const crashed = once<string>(client, 'crashed');
    const started = once<{ pid: number }>(client, 'started');
    process.kill(pid, 'SIGKILL');
    const err = await h.result.then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof EngineError && err.kind === 'restarted' && /exited unexpectedly \(signal SIGKILL\)/.test(err.message), String(err));
    assert.match(await crashed, /SIGKILL/);
    assert.notStrictEqual((await started).pid, pid, 'a fresh engine took over');
    // nothing half-written: neither the report nor its records, under any name
    assert.ok(!fs.existsSync(json) && !fs.existsSync(records));
    assert.deepStrictEqual(tempLeftovers(dir), []);
    // what the extension offers, and what it does when taken
    const stop = evaluationInterruption(new Error('Evaluation failed', { cause: err }), 'mobilenetv2');
    assert.ok(stop && stop.action === 'Evaluate Again' && /stopped: the engine process exited unexpectedly \(signal SIGKILL\)\. Nothing partial was saved/.test(stop.message), stop?.message);
    const again = (await client.call({ type: 'evaluate', params: { ...params, json, records } })) as typeof reference;
    assert.strictEqual(again.miou, reference.miou);
    assert.deepStrictEqual(again.runs, reference.runs);
    assert.strictEqual(JSON.parse(fs.readFileSync(json, 'utf8')).miou, reference.miou);
    assert.strictEqual(fs.readFileSync(records, 'utf8').trim().split('\n').length, reference.episodesScored);
    countFault('SIGKILL');
  });

  it('mid-training: "engine restarted", Resume offered from the last checkpoint, and the resumed run has the uninterrupted losses bit for bit', async () => {
    const params: TrainParams = {
      data: { data: root, dataset: 'voc' }, fold: 0, split: 'panet', ways: 1, shots: 1, steps: 8, method: 'metasegnet', freezeBackbone: true,
      backbone: 'mobilenetv2', size: 32, checkpointEvery: 1, valEvery: 0,
    };
    const a = path.join(dir, 'run-a'), b = path.join(dir, 'run-b');
    const done = await client.call({ type: 'train', params: { ...params, out: a } });
    assert.ok(done.complete && done.step === 8);
    const pid = client.pid!;
    let killed = false;
    const h = client.request({ type: 'train', params: { ...params, out: b } }, (e) => {
      // right after checkpoint 3 is reported, while step 4 runs (and may be writing)
      if (e.kind === 'checkpoint' && e.step === 3 && !killed) {
        killed = true;
        process.kill(pid, 'SIGKILL');
      }
    });
    const started = once(client, 'started');
    const err = await h.result.then(() => undefined, (e: unknown) => e);
    assert.ok(killed && err instanceof EngineError && err.kind === 'restarted', String(err));
    await started;
    const last = lastCheckpointStep(b);
    assert.ok(last !== undefined && last >= 3 && last < 8, `last checkpoint ${last}`);
    const stop = trainingInterruption(new Error('Training failed', { cause: err }), b, 'metasegnet fold 0');
    assert.ok(stop && stop.action === 'Resume Training' && stop.resumeStep === last, JSON.stringify(stop));
    assert.match(stop.message, new RegExp(`Its last checkpoint is step ${last}; Resume Training continues from there exactly`));
    // what Resume sends: the killed process's lock is stale and taken over; its temp files are removed
    const logs: string[] = [];
    const resumed = await client.call({ type: 'train', params: { ...params, resume: b } }, (e) => e.kind === 'log' && logs.push(e.line));
    assert.ok(resumed.complete && resumed.step === 8, JSON.stringify(resumed));
    const losses = (run: string) => readMetrics(path.join(run, 'metrics.jsonl')).filter((r) => r.kind === 'train').map((r) => [r.step, r.loss]);
    assert.deepStrictEqual(losses(b), losses(a));
    assert.deepStrictEqual(losses(b).map(([s]) => s), [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.deepStrictEqual(tempLeftovers(b), []);
    assert.ok(!fs.existsSync(path.join(b, '.lock')), 'the lock is released when the run ends');
    countFault('SIGKILL');
  });
});
