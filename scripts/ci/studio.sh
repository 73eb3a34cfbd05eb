#!/usr/bin/env bash
# npm run studio — try ProtoLab without VS Code installed: builds the .vsix, installs it into a local
# code-server (installed on first use from npm, offline, cached in ${PROTOLAB_TOOLS:-~/.cache/protolab-tools}),
# generates the sample dataset into ./sample if missing, opens it and prints the URL (127.0.0.1 only).
# Runs in the foreground until Ctrl-C, then stops its code-server.
# Env: PORT (default: 8090, or a free port if taken), SKIP_BUILD=1, VSIX=path, STUDIO_STATE (user data;
#      default $PROTOLAB_TOOLS/studio, kept between runs so layout and panels persist).
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/ci/lib.sh
REPO=$PWD

t "tools (node 24, code-server)" ensure_tools
if [ -z "${VSIX:-}" ]; then VSIX=$(t "build + package .vsix" bash scripts/ci/package.sh | tail -1); fi

WS=$REPO/sample
if [ ! -d "$WS/VOCdevkit" ] || [ ! -d "$WS/coco" ]; then
  t "sample dataset -> ./sample" node bin/protolab.js sample --out "$WS" >/dev/null
fi
mkdir -p "$WS/.vscode"
[ -f "$WS/.vscode/settings.json" ] || node scripts/ci/workspace-settings.cjs "$WS" > "$WS/.vscode/settings.json"

PORT=${PORT:-8090}
if curl -s -o /dev/null "http://127.0.0.1:$PORT/" 2>/dev/null; then PORT=$(free_port); fi
STATE=${STUDIO_STATE:-$TOOLS/studio}
cs_setup "$STATE" "$PORT"
t "install .vsix ($(basename "$VSIX"))" CS --install-extension "$VSIX" --force >/dev/null

trap 'cs_stop' EXIT
trap 'echo; echo "stopping code-server"; exit 0' INT TERM
t "start code-server" cs_start "$WS"
URL="http://127.0.0.1:$PORT/?folder=$WS"
cat <<EOF

  ProtoLab studio is running (code-server $(node -p "require('$CS_DIR/node_modules/code-server/package.json').version"), VS Code 1.139):

      $URL

  Open it in a browser, then run "ProtoLab: Open" from the command palette (Ctrl+Shift+P).
  Listening on 127.0.0.1 only. Remote machine? ssh -L $PORT:127.0.0.1:$PORT <host>, then open the URL locally.
  Logs: $STATE/server.log.  Ctrl-C to stop.

EOF
while kill -0 "$CS_PID" 2>/dev/null; do sleep 1; done
echo "code-server exited; last log lines:" >&2; tail -20 "$STATE/server.log" >&2
exit 1
