#!/usr/bin/env bash
# A ProtoLab evaluation on a Slurm cluster: one job array with one shard of the evaluation per task
# (protolab eval --shard i/n), and the merge (protolab merge) as a second job that starts only when every
# task has succeeded (--dependency=afterok). The merged result is exactly what one process would give.
#
# Submit from a login node; the data, OUT and the CLI must be reachable at the same paths on every node
# (a shared filesystem): the data fingerprint in each shard includes the dataset's path.
#
#   SHARDS=16 OUT=/shared/protolab/voc-fold0 deploy/slurm/eval-array.sh \
#       --data /shared/VOCdevkit --dataset voc --fold 0 --ways 1 --shots 1 --checkpoint /shared/runs/fold0
#
# Environment:
#   SHARDS     number of shards = array tasks (required)
#   OUT        a fresh shared folder (required): shards/shard-<i>.json, logs/, feature-cache/, index-cache/,
#              and the merged result.json + result.records.jsonl (the names ProtoLab: Open Report looks for)
#   PROTOLAB   how the compute nodes run the CLI (default: protolab on PATH); may be several words, e.g.
#              "node /shared/protolab/bin/protolab.js" or "apptainer exec /shared/protolab.sif protolab"
#   SBATCH_*   sbatch's own input variables (SBATCH_PARTITION, SBATCH_ACCOUNT, SBATCH_TIMELIMIT, …)
#              apply to both jobs; the #SBATCH lines below are defaults for the array tasks.
# Everything after the script name is passed to `protolab eval` unchanged; --shard, --json,
# --feature-cache and --cache-dir are set here.
#
# The same file is the submitter and the job script: sbatch runs it again with PROTOLAB_ROLE=shard
# (array tasks: SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT give i/n) or PROTOLAB_ROLE=merge.
#SBATCH --job-name=protolab-eval
#SBATCH --cpus-per-task=4
#SBATCH --mem=6G
set -euo pipefail

die() { echo "eval-array.sh: $*" >&2; exit 2; }
read -r -a protolab <<<"${PROTOLAB:-protolab}"

shard_file() { echo "$OUT/shards/shard-$1.json"; }

case "${PROTOLAB_ROLE:-submit}" in
  submit)
    [[ "${SHARDS:-}" =~ ^[1-9][0-9]*$ ]] || die "set SHARDS to the number of shards (got '${SHARDS:-}')"
    [[ -n "${OUT:-}" ]] || die "set OUT to a shared folder for the shard results and the merged result"
    for a in "$@"; do
      case "$a" in --shard|--shard=*|--json|--json=*|--feature-cache|--feature-cache=*|--cache-dir|--cache-dir=*)
        die "$a is set by this script (one shard per array task, results under OUT)";; esac
    done
    OUT="$(mkdir -p "$OUT" && cd "$OUT" && pwd)"
    mkdir -p "$OUT/shards" "$OUT/logs" "$OUT/feature-cache" "$OUT/index-cache"
    export SHARDS OUT
    # --parsable prints "jobid" or "jobid;cluster"
    array="$(PROTOLAB_ROLE=shard sbatch --parsable --export=ALL --array="0-$((SHARDS - 1))" \
      --output="$OUT/logs/shard-%a.out" "$0" "$@")"
    array="${array%%;*}"
    merge="$(PROTOLAB_ROLE=merge sbatch --parsable --export=ALL --job-name=protolab-merge \
      --cpus-per-task=1 --mem=2G --dependency="afterok:$array" --kill-on-invalid-dep=yes \
      --output="$OUT/logs/merge.out" "$0")"
    merge="${merge%%;*}"
    echo "submitted: array job $array ($SHARDS shards, logs in $OUT/logs), merge job $merge after all succeed"
    echo "result: $OUT/result.json (+ result.records.jsonl), the table in $OUT/logs/merge.out"
    ;;
  shard)
    [[ -n "${SLURM_ARRAY_TASK_ID:-}" && -n "${SLURM_ARRAY_TASK_COUNT:-}" ]] || die "PROTOLAB_ROLE=shard outside a Slurm job array"
    index=$((SLURM_ARRAY_TASK_ID - ${SLURM_ARRAY_TASK_MIN:-0}))
    [[ "$SLURM_ARRAY_TASK_COUNT" == "$SHARDS" ]] || die "the array has $SLURM_ARRAY_TASK_COUNT tasks but SHARDS=$SHARDS"
    exec "${protolab[@]}" eval "$@" --shard "$index/$SHARDS" --json "$(shard_file "$index")" \
      --feature-cache "$OUT/feature-cache" --cache-dir "$OUT/index-cache"
    ;;
  merge)
    files=()
    for ((i = 0; i < SHARDS; i++)); do files+=("$(shard_file "$i")"); done
    exec "${protolab[@]}" merge "${files[@]}" --json "$OUT/result.json" --records "$OUT/result.records.jsonl"
    ;;
  *) die "unknown PROTOLAB_ROLE '${PROTOLAB_ROLE}'" ;;
esac
