// Sharded evaluation end to end, through the real CLI and through the cluster recipes in deploy/, run
// here without a cluster (no Slurm, no Kubernetes, no container engine on this machine):
//  - protolab eval --shard i/3 (three processes side by side, one shared feature cache) + protolab merge
//    print and write what the unsharded protolab eval prints and writes;
//  - deploy/slurm/eval-array.sh submitted through a stand-in `sbatch` that runs the array tasks as local
//    processes with Slurm's variables, and the merge job after them;
//  - deploy/k8s/eval-job.yaml parsed (js-yaml): an Indexed Job whose pods' command line, run locally once
//    per JOB_COMPLETION_INDEX with the volumes mapped to folders, and the merge Job (its init container
//    waiting for the shards) give the unsharded result;
//  - deploy/Containerfile read for what the CLI needs at run time.
import * as assert from 'assert';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BIN, cli, type CliResult } from './helpers/cli';

const ROOT = path.resolve(__dirname, '../../..');
// js-yaml is a devDependency (a test-only YAML reader); its types are not needed for this much.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const yaml = require('js-yaml') as { loadAll(text: string): unknown[] };

/** Run a command to completion without blocking the event loop (so several run side by side). */
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<CliResult & { ended: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr, ended: Date.now() }));
  });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** A result without what differs between one process and a merge of several (when, how long, and where
 *  the encoder's model file lived on the machine that ran it: the pods here use their own cache folder). */
function comparable(r: Json): Json {
  const { timing: _t, createdAt: _c, encoder, ...rest } = r;
  return { ...rest, encoder: { engine: encoder?.engine, detail: encoder?.detail } };
}

/** The printed table without the timing line and the "written to" lines (they name other files), and the
 *  encoder line cut before its reasons (they name the machine's model cache). */
function table(stdout: string): string {
  return stdout.split('\n').filter((l) => !/ episodes in .* s \(| written to /.test(l)).map((l) => l.replace(/^(encoder: .*?) \(.*\)$/, '$1')).join('\n').trim();
}

describe('sharded evaluation: CLI, Slurm array script and Kubernetes Indexed Job, run here', function () {
  this.timeout(600000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'protolab-deploy-'));
  const data = path.join(dir, 'sample');
  const stubs = path.join(dir, 'bin');
  const EVAL = ['--data', data, '--dataset', 'voc', '--fold', '1', '--ways', '1', '--shots', '1', '--episodes', '7', '--runs', '2',
    '--size', '64', '--backbone', 'mobilenetv2', '--workers', '0'];
  const ref = { json: path.join(dir, 'ref.json'), records: path.join(dir, 'ref.jsonl'), stdout: '' };
  const env = (extra: Record<string, string>): NodeJS.ProcessEnv => ({ ...process.env, PATH: `${stubs}${path.delimiter}${process.env.PATH}`, ...extra });
  const sameAsUnsharded = (json: string, records: string, stdout: string, what: string) => {
    assert.deepStrictEqual(comparable(JSON.parse(fs.readFileSync(json, 'utf8'))), comparable(JSON.parse(fs.readFileSync(ref.json, 'utf8'))), `${what}: JSON`);
    assert.strictEqual(fs.readFileSync(records, 'utf8'), fs.readFileSync(ref.records, 'utf8'), `${what}: records`);
    assert.strictEqual(table(stdout), table(ref.stdout), `${what}: printed table`);
  };

  before(() => {
    const s = cli(['sample', '--out', data, '--train', '10', '--val', '30']);
    assert.strictEqual(s.code, 0, s.stderr);
    // `protolab` on PATH, as the container image has it
    fs.mkdirSync(stubs);
    fs.writeFileSync(path.join(stubs, 'protolab'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`, { mode: 0o755 });
    const r = cli(['eval', ...EVAL, '--json', ref.json, '--records', ref.records]);
    assert.strictEqual(r.code, 0, r.stderr);
    ref.stdout = r.stdout;
    assert.match(ref.stdout, /mIoU per run/);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('protolab eval --shard i/3 (3 processes, one shared feature cache) + protolab merge = the unsharded eval: table, JSON field by field, records byte for byte', async () => {
    const out = path.join(dir, 'cli');
    const shards = await Promise.all([0, 1, 2].map((i) => run(process.execPath, [BIN, 'eval', ...EVAL, '--shard', `${i}/3`,
      '--json', path.join(out, `s${i}.json`), '--feature-cache', path.join(out, 'features')])));
    shards.forEach((s, i) => {
      assert.strictEqual(s.code, 0, s.stderr);
      assert.match(s.stdout, new RegExp(`shard ${i}/3: \\d of 7 episodes of each of 2 run\\(s\\)`));
    });
    const m = cli(['merge', ...[2, 0, 1].map((i) => path.join(out, `s${i}.json`)), '--json', path.join(out, 'merged.json'), '--records', path.join(out, 'merged.jsonl')]);
    assert.strictEqual(m.code, 0, m.stderr);
    sameAsUnsharded(path.join(out, 'merged.json'), path.join(out, 'merged.jsonl'), m.stdout, 'CLI merge');
    // a shard is not a result: merging two of three says which is missing
    const two = cli(['merge', path.join(out, 's0.json'), path.join(out, 's1.json')]);
    assert.strictEqual(two.code, 2);
    assert.match(two.stderr, /shard 2\/3 missing/);
  });

  it('deploy/slurm/eval-array.sh through a stand-in sbatch (array tasks = local processes with Slurm\'s variables, merge after them) gives the unsharded result', async () => {
    const state = path.join(dir, 'slurm-state');
    // What sbatch does, minus the cluster: run the script now, an array as parallel tasks with
    // SLURM_ARRAY_TASK_ID/COUNT/MIN/MAX, output to --output (%a, %A, %j), afterok honoured, the job id printed.
    fs.writeFileSync(path.join(stubs, 'sbatch'), `#!/usr/bin/env bash
set -u
state="$SBATCH_STUB_STATE"; mkdir -p "$state"
array= dep= output=
while [ $# -gt 0 ]; do
  case "$1" in
    --array=*) array="\${1#--array=}" ;;
    --dependency=*) dep="\${1#--dependency=}" ;;
    --output=*) output="\${1#--output=}" ;;
    --*) ;;
    *) break ;;
  esac
  shift
done
script="$1"; shift
id=$(( $(cat "$state/next" 2>/dev/null || echo 100) + 1 )); echo "$id" > "$state/next"
printf '%s\\n' "$script" "$@" > "$state/$id.argv"
echo "\${PROTOLAB_ROLE:-}" > "$state/$id.role"
if [ -n "$dep" ]; then
  after="\${dep#afterok:}"
  if [ "$(cat "$state/$after.rc")" != 0 ]; then echo never > "$state/$id.rc"; echo "$id"; exit 0; fi
fi
if [ -n "$array" ]; then
  lo="\${array%-*}"; hi="\${array#*-}"; pids=()
  for ((i = lo; i <= hi; i++)); do
    o="\${output//%a/$i}"; o="\${o//%A/$id}"
    SLURM_JOB_ID=$((id * 100 + i)) SLURM_ARRAY_JOB_ID=$id SLURM_ARRAY_TASK_ID=$i SLURM_ARRAY_TASK_MIN=$lo SLURM_ARRAY_TASK_MAX=$hi \\
      SLURM_ARRAY_TASK_COUNT=$((hi - lo + 1)) bash "$script" "$@" > "\${o:-/dev/null}" 2>&1 &
    pids+=($!)
  done
  rc=0; for p in "\${pids[@]}"; do wait "$p" || rc=1; done
else
  o="\${output//%j/$id}"
  SLURM_JOB_ID=$id bash "$script" "$@" > "\${o:-/dev/null}" 2>&1; rc=$?
fi
echo "$rc" > "$state/$id.rc"
echo "$id"
`, { mode: 0o755 });
    const script = path.join(ROOT, 'deploy', 'slurm', 'eval-array.sh');
    const out = path.join(dir, 'slurm-out');
    const r = await run('bash', [script, ...EVAL], env({ SHARDS: '3', OUT: out, SBATCH_STUB_STATE: state }));
    assert.strictEqual(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /submitted: array job 101 \(3 shards.*merge job 102 after all succeed/);
    assert.deepStrictEqual(['101', '102'].map((id) => fs.readFileSync(path.join(state, `${id}.rc`), 'utf8').trim()), ['0', '0']);
    assert.deepStrictEqual(['101', '102'].map((id) => fs.readFileSync(path.join(state, `${id}.role`), 'utf8').trim()), ['shard', 'merge']);
    // every task wrote its own shard, named by its array index
    for (let i = 0; i < 3; i++) assert.strictEqual(JSON.parse(fs.readFileSync(path.join(out, 'shards', `shard-${i}.json`), 'utf8')).shard.index, i);
    sameAsUnsharded(path.join(out, 'result.json'), path.join(out, 'result.records.jsonl'), fs.readFileSync(path.join(out, 'logs', 'merge.out'), 'utf8'), 'Slurm');
    // flags the script sets itself are refused, and SHARDS is required
    const dup = await run('bash', [script, ...EVAL, '--shard', '0/2'], env({ SHARDS: '3', OUT: out, SBATCH_STUB_STATE: state }));
    assert.strictEqual(dup.code, 2);
    assert.match(dup.stderr, /--shard is set by this script/);
    const none = await run('bash', [script, ...EVAL], env({ OUT: out, SBATCH_STUB_STATE: state }));
    assert.match(none.stderr, /set SHARDS/);
  });

  it('deploy/k8s/eval-job.yaml: an Indexed Job (JOB_COMPLETION_INDEX → shard) and a merge Job on one shared volume; their command lines run here give the unsharded result', async () => {
    const docs = yaml.loadAll(fs.readFileSync(path.join(ROOT, 'deploy', 'k8s', 'eval-job.yaml'), 'utf8')) as Json[];
    assert.strictEqual(docs.length, 2);
    const [job, mergeJob] = docs;
    for (const d of docs) assert.deepStrictEqual([d.apiVersion, d.kind, d.spec.template.spec.restartPolicy], ['batch/v1', 'Job', 'Never']);
    assert.strictEqual(job.spec.completionMode, 'Indexed');
    const n = job.spec.completions;
    assert.ok(Number.isInteger(n) && n > 1 && job.spec.parallelism <= n);
    const pod = job.spec.template.spec, mpod = mergeJob.spec.template.spec;
    const shardC = pod.containers[0], waitC = mpod.initContainers[0], mergeC = mpod.containers[0];
    const envOf = (c: Json): Record<string, string> => Object.fromEntries(c.env.map((e: Json) => [e.name, e.value]));
    // one n and one OUT everywhere; one image
    for (const c of [shardC, waitC, mergeC]) {
      assert.strictEqual(envOf(c).SHARDS, String(n), `${c.name}: SHARDS must equal completions`);
      assert.strictEqual(envOf(c).OUT, envOf(shardC).OUT, `${c.name}: OUT`);
      assert.strictEqual(c.image, shardC.image);
    }
    // the shard command: eval on the container's args, shard = JOB_COMPLETION_INDEX of SHARDS, results and caches under OUT
    assert.deepStrictEqual(shardC.command.slice(0, 2), ['/bin/sh', '-c']);
    const shardScript: string = shardC.command[2];
    assert.match(shardScript, /exec protolab eval "\$@" --shard "\$JOB_COMPLETION_INDEX\/\$SHARDS"/);
    assert.match(shardScript, /--json "\$OUT\/shards\/shard-\$JOB_COMPLETION_INDEX\.json"/);
    assert.match(shardScript, /--feature-cache "\$OUT\/feature-cache"/);
    assert.match(mergeC.command[2], /exec protolab merge "\$@" --json "\$OUT\/result\.json"/);
    // volumes: data read-only, work shared by both Jobs at the same path, OUT on it, --data under the data mount
    const mounts = (c: Json) => Object.fromEntries(c.volumeMounts.map((m: Json) => [m.name, m]));
    const claims = (p: Json) => Object.fromEntries(p.volumes.map((v: Json) => [v.name, v.persistentVolumeClaim.claimName]));
    assert.strictEqual(mounts(shardC).data.readOnly, true);
    for (const c of [waitC, mergeC]) assert.strictEqual(mounts(c).work.mountPath, mounts(shardC).work.mountPath);
    assert.strictEqual(claims(mpod).work, claims(pod).work);
    assert.ok(envOf(shardC).OUT.startsWith(mounts(shardC).work.mountPath + '/'));
    const dataArg = shardC.args[shardC.args.indexOf('--data') + 1];
    assert.ok(dataArg.startsWith(mounts(shardC).data.mountPath + '/'), dataArg);

    // Run it here as a user would after editing n and the eval flags: volumes = local folders (mount path
    // prefixes rewritten), one process per index, the merge pod started first (its init container waits).
    const N = 3;
    const work = path.join(dir, 'k8s-work');
    const local = (p: string) => p.replace(new RegExp(`^${mounts(shardC).work.mountPath}(?=/)`), work);
    // The eval flags replace the container's args; their --data is this machine's sample folder (the
    // "data volume" mounted where the unsharded reference read it, so the data fingerprint is the same).
    const args = EVAL;
    const podEnv = (c: Json, extra: Record<string, string> = {}) => env({ ...envOf(c), SHARDS: String(N), OUT: local(envOf(c).OUT), ...extra });
    const mergePod = (async () => {
      const w = await run(waitC.command[0], [...waitC.command.slice(1), ...(waitC.args ?? [])], podEnv(waitC, { POLL_SECONDS: '1' }));
      assert.strictEqual(w.code, 0, w.stderr);
      return { wait: w, merge: await run(mergeC.command[0], [...mergeC.command.slice(1), ...(mergeC.args ?? [])], podEnv(mergeC)) };
    })();
    await new Promise((r) => setTimeout(r, 1500)); // the merge pod is up before any shard
    const shards = await Promise.all(Array.from({ length: N }, (_, i) => run(shardC.command[0], [...shardC.command.slice(1), ...args], podEnv(shardC, { JOB_COMPLETION_INDEX: String(i) }))));
    shards.forEach((s) => assert.strictEqual(s.code, 0, s.stderr));
    const { wait, merge } = await mergePod;
    // every shard's file was in place before the wait ended (a shard process may still be exiting after
    // its file is written, so compare with the files, not the processes)
    const written = Array.from({ length: N }, (_, i) => fs.statSync(path.join(local(envOf(shardC).OUT), 'shards', `shard-${i}.json`)).mtimeMs);
    assert.ok(wait.ended >= Math.max(...written), 'the merge pod waited for every shard file');
    assert.match(wait.stdout, new RegExp(`all ${N} shards present`));
    assert.strictEqual(merge.code, 0, merge.stderr);
    const out = local(envOf(mergeC).OUT);
    sameAsUnsharded(path.join(out, 'result.json'), path.join(out, 'result.records.jsonl'), merge.stdout, 'Kubernetes');
  });

  it('deploy/Containerfile: node 20 base, production dependencies only in the image, the compiled engine and the launcher it runs', () => {
    const text = fs.readFileSync(path.join(ROOT, 'deploy', 'Containerfile'), 'utf8');
    const stages = text.split(/^FROM /m).slice(1);
    assert.strictEqual(stages.length, 2);
    for (const s of stages) assert.match(s, /^node:20[-.\w]*/);
    const runtime = stages[1];
    assert.match(runtime, /RUN npm ci --omit=dev/);
    assert.doesNotMatch(runtime, /curl|wget|npm (install|i) /, 'nothing fetched but the locked production dependencies');
    // the launcher loads out/src/engine/cli.js: the image must carry exactly that tree
    assert.match(fs.readFileSync(BIN, 'utf8'), /'out', 'src', 'engine', 'cli\.js'/);
    assert.match(runtime, /COPY --from=build \/src\/out\/src\/engine \.\/out\/src\/engine/);
    assert.match(runtime, /COPY bin \.\/bin/);
    assert.match(runtime, /ENTRYPOINT \["protolab"\]/);
  });
});
