#!/usr/bin/env bash
# Replays deploy/Containerfile's runtime stage without a container engine: production dependencies only
# (npm ci --omit=dev) in an empty folder, plus the compiled engine and the launcher, then runs the CLI
# there (sample → eval --shard 0/2 and 1/2 → merge). It shows that nothing the CLI loads at run time
# lives in a devDependency. Needs `npm run build` first and the npm registry (or its cache).
#   bash deploy/check-runtime-stage.sh [WORKDIR]      (default: a temp folder, removed afterwards)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
[[ -f "$repo/out/src/engine/cli.js" ]] || { echo "run npm run build first" >&2; exit 2; }
work="${1:-$(mktemp -d)}"
[[ -n "${1:-}" ]] || trap 'rm -rf "$work"' EXIT
app="$work/opt/protolab"
mkdir -p "$app/out/src"
cp "$repo/package.json" "$repo/package-lock.json" "$app/"
(cd "$app" && ONNXRUNTIME_NODE_INSTALL=skip npm ci --omit=dev --no-audit --no-fund --prefer-offline >/dev/null)
cp -r "$repo/out/src/engine" "$app/out/src/engine"
cp -r "$repo/bin" "$app/bin"
echo "runtime stage: $(du -sh "$app/node_modules" | cut -f1) of production node_modules"
p=(node "$app/bin/protolab.js")
"${p[@]}" sample --out "$work/data" --train 10 --val 20 >/dev/null
flags=(--data "$work/data" --fold 0 --ways 1 --shots 1 --episodes 6 --runs 1 --size 64 --backbone mobilenetv2)
for i in 0 1; do "${p[@]}" eval "${flags[@]}" --shard "$i/2" --json "$work/s$i.json" --feature-cache "$work/fc" >/dev/null; done
"${p[@]}" merge "$work/s0.json" "$work/s1.json" --json "$work/result.json" | tail -3
echo "runtime stage OK: eval --shard and merge ran with production dependencies only"
