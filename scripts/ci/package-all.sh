#!/usr/bin/env bash
# npm run package:all — one .vsix per platform: builds once, then packages each target with SKIP_BUILD=1
# (scripts/ci/package.sh: staged copy, that platform's sharp + onnxruntime binaries only, every binary's
# header checked). Writes ./protolab-<version>-<target>.vsix (git-ignored) and prints, at the end, one
# line per package: "<path>  <MiB> MiB" (stdout).
#   SKIP_BUILD=1        reuse the current build
#   VSIX_DIR=dir        where the packages go (default: the repository root)
#   VSIX_TARGETS="..."  which targets (default: linux-x64 linux-arm64 darwin-x64 darwin-arm64 win32-x64)
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/ci/lib.sh
TARGETS=${VSIX_TARGETS:-linux-x64 linux-arm64 darwin-x64 darwin-arm64 win32-x64}
DIR=${VSIX_DIR:-$PWD}
mkdir -p "$DIR" && DIR=$(cd "$DIR" && pwd)
VERSION=$(node -p "require('./package.json').version")
T0=$(_now)
if [ -z "${SKIP_BUILD:-}" ]; then t "npm run build" npm run --silent build >&2; fi
OUTS=()
for T in $TARGETS; do
  OUT=$(SKIP_BUILD=1 VSIX_OUT="$DIR/protolab-$VERSION-$T.vsix" bash scripts/ci/package.sh --target "$T" | tail -1) \
    || { echo "package:all: $T failed" >&2; exit 1; }
  OUTS+=("$OUT")
done
printf '[time] %-34s %7ss\n' "package:all (${#OUTS[@]} targets)" "$(_dt "$T0")" >&2
for OUT in "${OUTS[@]}"; do
  printf '%s  %s MiB\n' "$OUT" "$(awk -v b="$(stat -c %s "$OUT")" 'BEGIN{printf "%.1f", b/1048576}')"
done
