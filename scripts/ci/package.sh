#!/usr/bin/env bash
# npm run package [-- --target T] [--out FILE]: build, then package the extension as ONE platform's .vsix.
# Targets: linux-x64 (default), linux-arm64, darwin-x64, darwin-arm64, win32-x64 (every one built and
# checked by `npm run package:all` and test/unit/vsix.e2e.test.ts); also linux-armhf, alpine-x64,
# alpine-arm64, win32-arm64 (same mechanism, not checked in CI).
#   SKIP_BUILD=1      reuse the current build (dist/, out/)
#   VSIX_TARGET=...   the target when no --target is given
#   VSIX_OUT=path     output file (default ./protolab-<version>-<target>.vsix; *.vsix is git-ignored)
#   PROTOLAB_TOOLS    cache folder outside the clone (default ~/.cache/protolab-tools); the other
#                     platforms' sharp tarballs are kept in its vsix-natives/
# Native parts are per platform: sharp (@img/sharp-<platform> + @img/sharp-libvips-<platform>) and
# onnxruntime-node (bin/napi-v6/<os>/<arch>). The package is staged in a temporary folder
# (scripts/lib/vsixStage.cjs: hard links, the working node_modules is never changed): the production
# dependencies without any sharp platform package and without other platforms' onnxruntime binaries,
# plus the target's sharp packages at package-lock.json's versions (from node_modules when installed
# there, else `npm pack` from the npm registry, checked against the lockfile's integrity, cached).
# vsce packages that folder; scripts/lib/vsixCheck.cjs then reads every binary's header in the .vsix
# and fails the run if one is not for the target (or sharp / the wasm backend is missing).
# Prints the .vsix path and size; the last line is the path (scripts read it with `tail -1`).
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/ci/lib.sh
ROOT=$PWD
TARGET=${VSIX_TARGET:-linux-x64}
OUT=${VSIX_OUT:-}
while [ $# -gt 0 ]; do
  case "$1" in
    --target) TARGET=${2:?--target needs a value}; shift 2 ;;
    --target=*) TARGET=${1#*=}; shift ;;
    --out) OUT=${2:?--out needs a value}; shift 2 ;;
    --out=*) OUT=${1#*=}; shift ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "package: unknown argument '$1' (use --target T, --out FILE)" >&2; exit 2 ;;
  esac
done
node -e "const t=require('./scripts/lib/binaryFormat.cjs').TARGETS; if(!t[process.argv[1]]){console.error('package: unknown target '+process.argv[1]+' (known: '+Object.keys(t).join(', ')+')');process.exitCode=2}" "$TARGET"
VERSION=$(node -p "require('./package.json').version")
OUT=${OUT:-$ROOT/protolab-$VERSION-$TARGET.vsix}
case "$OUT" in /*) ;; *) OUT=$ROOT/$OUT ;; esac

if [ -z "${SKIP_BUILD:-}" ]; then t "npm run build" npm run --silent build >&2; fi
[ -f "$(node -p "require('path').resolve(require('./package.json').main || './dist/extension.js')")" ] \
  || { echo "package: $(node -p "require('./package.json').main") is missing: did npm run build bundle the extension?" >&2; exit 1; }

# Staging folder + ignore file, removed however the script ends (INT/TERM exit through the EXIT trap).
WORK=$(mktemp -d "${TMPDIR:-/tmp}/protolab-vsix-$TARGET.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
IGNORE_FILE=$WORK/vscodeignore
STAGE=$WORK/stage
cp .vscodeignore "$IGNORE_FILE"
t "stage ($TARGET)" node scripts/lib/vsixStage.cjs --target "$TARGET" --dir "$STAGE" --ignore-file "$IGNORE_FILE"

FLAGS=(--target "$TARGET" --out "$OUT" --allow-missing-repository --no-rewrite-relative-links --ignoreFile "$IGNORE_FILE")
ls LICENSE* LICENCE* >/dev/null 2>&1 || { echo "package: WARNING no LICENSE file (package.json says $(node -p "require('./package.json').license")); packaging with --skip-license" >&2; FLAGS+=(--skip-license); }
rm -f "$OUT"
mkdir -p "$(dirname "$OUT")"
t "vsce package ($TARGET)" bash -c 'cd "$1" && shift && exec "$@"' _ "$STAGE" node "$ROOT/node_modules/@vscode/vsce/vsce" package "${FLAGS[@]}" </dev/null >&2
[ -f "$OUT" ] || { echo "package: vsce wrote no $OUT" >&2; exit 1; }
# --single-threaded: no background compile or GC threads, so node 20 cannot deadlock at exit (a compile
# job waiting for a GC while the main thread joins it: seen even with a natural exit, the check hung 20 min)
t "check binaries ($TARGET)" node --single-threaded scripts/lib/vsixCheck.cjs "$OUT" "$TARGET" \
  || { echo "package: $OUT is not a clean $TARGET package (see PROBLEM lines above)" >&2; exit 1; }
BYTES=$(stat -c %s "$OUT")
FILES=$(node --single-threaded -e "console.log(require('./scripts/lib/vsixCheck.cjs').listZip(process.argv[1]).length)" "$OUT")
printf 'vsix: %s  %s MiB (%s bytes, %s files)\n' "$OUT" "$(awk -v b="$BYTES" 'BEGIN{printf "%.1f", b/1048576}')" "$BYTES" "$FILES" >&2
if [ -n "${VSIX_TOP:-}" ] && command -v unzip >/dev/null; then
  echo "largest folders in the .vsix:" >&2
  unzip -Zl "$OUT" | awk '$NF ~ /^extension\// {split($NF,p,"/"); k=p[2]"/"p[3]"/"p[4]; s[k]+=$4} END{for(k in s) printf "%10.1f MiB  %s\n", s[k]/1048576, k}' | sort -rn | head -"$VSIX_TOP" >&2
fi
echo "$OUT"
