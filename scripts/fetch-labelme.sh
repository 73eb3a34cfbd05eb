#!/usr/bin/env bash
# Fetches Debian's labelme-examples (3 real VOC2012 photos with labelme's VOC and COCO exports) for
# test/unit/labelme.test.ts. The data is never committed: it lands in a cache dir outside the repo.
#   PROTOLAB_LABELME_DIR   where to extract (default ~/.cache/protolab-test/labelme)
# Idempotent: does nothing when the tree is already extracted.
set -euo pipefail
DEST="${PROTOLAB_LABELME_DIR:-$HOME/.cache/protolab-test/labelme}"
MARKER="$DEST/.extracted"
if [ -f "$MARKER" ]; then
  echo "labelme-examples already extracted in $DEST"
  exit 0
fi
mkdir -p "$DEST"
cd "$DEST"
# apt-get download needs no root; the package lists may be stale on a fresh machine, so refresh them
# only when the first try fails (apt-get update needs root or sudo).
if ! ls labelme-examples_*.deb >/dev/null 2>&1; then
  if ! apt-get download labelme-examples; then
    echo "download failed; running apt-get update and retrying" >&2
    if [ "$(id -u)" = 0 ]; then apt-get update; else sudo apt-get update; fi
    apt-get download labelme-examples
  fi
fi
DEB=$(ls labelme-examples_*.deb | head -n 1)
dpkg-deb -x "$DEB" "$DEST/root"
touch "$MARKER"
echo "extracted $DEB into $DEST/root"
