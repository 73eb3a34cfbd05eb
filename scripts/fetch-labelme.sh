#!/usr/bin/env bash
# Fetches Debian's labelme-examples (3 real VOC2012 photos with labelme's VOC and COCO exports) for
# test/unit/labelme.test.ts. The data is never committed: it lands in a cache dir outside the repo.
#   PROTOLAB_LABELME_DIR   where to extract (default ~/.cache/protolab-test/labelme)
# Idempotent: does nothing when the tree is already extracted.
set -euo pipefail
# shellcheck source=lib/fetch-deb.sh
source "$(dirname "$0")/lib/fetch-deb.sh"
fetch_deb labelme-examples "${PROTOLAB_LABELME_DIR:-$HOME/.cache/protolab-test/labelme}"
