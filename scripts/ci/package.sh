#!/usr/bin/env bash
# npm run package: build, then package the extension as ONE platform .vsix (sharp is native: linux-x64).
# Offline: vsce reads the installed production node_modules (no registry access).
#   SKIP_BUILD=1      reuse the current build (dist/, out/)
#   VSIX_TARGET=...   vsce target (default linux-x64)
#   VSIX_OUT=path     output file (default ./protolab-<version>-<target>.vsix; *.vsix is git-ignored)
# Prints the .vsix path and size; the last line is the path (scripts read it with `tail -1`).
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/ci/lib.sh
TARGET=${VSIX_TARGET:-linux-x64}
VERSION=$(node -p "require('./package.json').version")
OUT=${VSIX_OUT:-$PWD/protolab-$VERSION-$TARGET.vsix}

if [ -z "${SKIP_BUILD:-}" ]; then t "npm run build" npm run --silent build >&2; fi
[ -f "$(node -p "require('path').resolve(require('./package.json').main || './dist/extension.js')")" ] \
  || { echo "package: $(node -p "require('./package.json').main") is missing: did npm run build bundle the extension?" >&2; exit 1; }

FLAGS=(--target "$TARGET" --out "$OUT" --allow-missing-repository --no-rewrite-relative-links)
ls LICENSE* LICENCE* >/dev/null 2>&1 || { echo "package: WARNING no LICENSE file (package.json says $(node -p "require('./package.json').license")); packaging with --skip-license" >&2; FLAGS+=(--skip-license); }
rm -f "$OUT"
t "vsce package ($TARGET)" npx --no-install vsce package "${FLAGS[@]}" </dev/null >&2
[ -f "$OUT" ] || { echo "package: vsce wrote no $OUT" >&2; exit 1; }
BYTES=$(stat -c %s "$OUT")
FILES=$(unzip -Z1 "$OUT" 2>/dev/null | wc -l || echo '?')
printf 'vsix: %s  %s MiB (%s bytes, %s files)\n' "$OUT" "$(awk -v b="$BYTES" 'BEGIN{printf "%.1f", b/1048576}')" "$BYTES" "$FILES" >&2
if [ -n "${VSIX_TOP:-}" ] && command -v unzip >/dev/null; then
  echo "largest folders in the .vsix:" >&2
  unzip -Zl "$OUT" | awk '$NF ~ /^extension\// {split($NF,p,"/"); k=p[2]"/"p[3]"/"p[4]; s[k]+=$4} END{for(k in s) printf "%10.1f MiB  %s\n", s[k]/1048576, k}' | sort -rn | head -"$VSIX_TOP" >&2
fi
echo "$OUT"
