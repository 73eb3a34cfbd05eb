#!/usr/bin/env bash
# Fetches every real annotated photo the labeling benchmark (`npm run bench:label`, scripts/lib/
# realPhotos.ts) runs on, into caches outside the repository (never committed):
#   - Debian labelme-examples (scripts/fetch-labelme.sh): VOC photos, a street video, tutorial, primitives
#     → PROTOLAB_LABELME_DIR (default ~/.cache/protolab-test/labelme)
#   - Debian python3-skimage, whose CC0 photos scripts/photo-truth/*.json trace by hand
#     → PROTOLAB_SKIMAGE_DIR (default ~/.cache/protolab-test/skimage)
#   - then the traced masks (node out/scripts/make-photo-truth.js, once the TypeScript is built)
#     → PROTOLAB_PHOTO_TRUTH_DIR (default ~/.cache/protolab-test/photo-truth)
# `apt-get download` + `dpkg-deb -x`: no root, except for an `apt-get update` when the package lists are
# stale. Idempotent: what is extracted stays; the masks are rebuilt only when the traces changed.
#   --no-truth   fetch the packages only (the benchmark builds the masks itself)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
bash "$ROOT/scripts/fetch-labelme.sh"

DEST="${PROTOLAB_SKIMAGE_DIR:-$HOME/.cache/protolab-test/skimage}"
# shellcheck source=lib/fetch-deb.sh
source "$ROOT/scripts/lib/fetch-deb.sh"
fetch_deb python3-skimage "$DEST"

if [ "${1:-}" = "--no-truth" ]; then exit 0; fi
if [ ! -f "$ROOT/out/scripts/make-photo-truth.js" ]; then
  echo "traced masks not built yet: the TypeScript is not compiled (npm run build); npm run bench:label builds them itself"
  exit 0
fi
TRUTH="${PROTOLAB_PHOTO_TRUTH_DIR:-$HOME/.cache/protolab-test/photo-truth}"
STAMP=$(cd "$ROOT" && node -e "const t=require('./out/scripts/lib/photoTruth.js'); const f=t.traceFiles('scripts/photo-truth'); process.stdout.write(t.truthIsCurrent(process.argv[1], f) ? 'current' : 'stale')" "$TRUTH")
if [ "$STAMP" = current ]; then
  echo "traced masks up to date in $TRUTH"
else
  (cd "$ROOT" && node out/scripts/make-photo-truth.js --images "$DEST/root/usr/lib/python3/dist-packages/skimage/data" --out "$TRUTH")
fi
