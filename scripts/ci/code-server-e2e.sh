#!/usr/bin/env bash
# ProtoLab in a real VS Code host (code-server 4.139 = VS Code 1.139), the way a user meets it:
#   1. tools (node 24 + code-server, cached outside the clone)  2. build + package the .vsix
#   3. workspace = generated sample dataset + .vscode/settings.json pointing ProtoLab at it, and photos/:
#      8 real photos from Debian's labelme-examples (scripts/fetch-labelme.sh, cached) + their truth masks
#   4. code-server on 127.0.0.1:<free port>, auth none, XDG dirs in a temp folder, .vsix installed
#   5. test/e2e/drive.cjs: Playwright + Debian chromium drive the workbench: palette, episodes + overlays,
#      evaluate, a training run, right-click its checkpoint → Evaluate, light theme (screenshots in test-output/code-server/)
#   6. test/e2e/label.cjs: the labeling workbench: Explorer → label a folder → draw → grid → reload → accept →
#      export → Datasets view; a second window refused by the folder lock (screenshots L*.png)
#   7. scripts/ci/run-integration.cjs: mocha integration tests INSIDE the extension host
# Each stage prints "N passed, N failed, N skipped" and writes test-output/counts/<stage>.json.
# Exits non-zero on any failure. Always stops its own code-server (by PID, trap EXIT).
# Env: SKIP_BUILD=1 (reuse dist/ + out/), VSIX=path (skip packaging), EXT_DIR (extension for the
#      integration stage, default the repo), KEEP=1 (keep the temp folder), STAGES="drive label integration".
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/ci/lib.sh
REPO=$PWD
OUT_DIR=$REPO/test-output/code-server
COUNTS_DIR=$REPO/test-output/counts
STAGES=${STAGES:-drive label integration}
mkdir -p "$OUT_DIR" "$COUNTS_DIR"
rm -f "$OUT_DIR"/*.png "$COUNTS_DIR"/code-server-e2e.json "$COUNTS_DIR"/code-server-label.json "$COUNTS_DIR"/integration.json

# Temp state (the installed .vsix is ~200 MB in ~7000 files): on tmpfs when there is room, since
# writing and deleting it on a busy disk costs ~20 s each.
SCRATCH=${CS_SCRATCH:-$( [ -w /dev/shm ] && [ "$(df -Pk /dev/shm | awk 'NR==2{print $4}')" -gt 1048576 ] && echo /dev/shm || echo "${TMPDIR:-/tmp}")}
WORK=$(mktemp -d "$SCRATCH/protolab-cs.XXXXXX")
cleanup() { local rc=$?; cs_stop; if [ -n "${KEEP:-}" ]; then echo "kept $WORK" >&2; else t "cleanup" rm -rf "$WORK"; fi; exit $rc; }
trap cleanup EXIT
trap 'exit 130' INT TERM
# A stage that dies before writing its counts still counts as one failure.
stage_failed() { [ -f "$COUNTS_DIR/$1.json" ] || echo "{\"suite\":\"$1\",\"passed\":0,\"failed\":1,\"skipped\":0}" > "$COUNTS_DIR/$1.json"; }

T0=$(_now)
t "tools (node 24, code-server)" ensure_tools || { stage_failed code-server-e2e; exit 1; }
if [ -z "${VSIX:-}" ]; then
  VSIX=$(t "build + package .vsix" bash scripts/ci/package.sh | tail -1) || { stage_failed code-server-e2e; exit 1; }
fi
[ -f "$VSIX" ] || { echo "no .vsix at '$VSIX'" >&2; stage_failed code-server-e2e; exit 1; }

# Workspace: the sample dataset (both real formats) + settings pointing ProtoLab at it, and photos/ =
# 8 real photos to label: Debian labelme-examples' three VOC2012 photos (persons, a bus and a car, ...)
# and five frames of its street video (a truck, a small car), extracted by scripts/fetch-labelme.sh.
# Their truth masks (paletted PNGs: index = class in that folder's class_names.txt, 255 = border) go to
# photo-truth/ with photo-truth/classes.json ({ "<photo>.jpg": [class names by index] }): the label
# drive reads them to know where to draw. No fallback to the synthetic sample: a failed fetch fails here.
WS=$WORK/ws
LABELME_DIR=${PROTOLAB_LABELME_DIR:-$HOME/.cache/protolab-test/labelme}
LABELME=$LABELME_DIR/root/usr/share/doc/labelme-examples/examples
real_photos() {
  bash scripts/fetch-labelme.sh >&2 \
    || { echo "real photos: 'bash scripts/fetch-labelme.sh' failed (it extracts Debian's labelme-examples into $LABELME_DIR; PROTOLAB_LABELME_DIR moves it)" >&2; return 1; }
  mkdir -p "$WS/photos" "$WS/photo-truth" || return 1
  local set id src
  for set in semantic_segmentation:2011_000003 semantic_segmentation:2011_000006 semantic_segmentation:2011_000025 \
             video_annotation:00000100 video_annotation:00000101 video_annotation:00000102 video_annotation:00000103 video_annotation:00000104; do
    src=$LABELME/${set%%:*}/data_dataset_voc; id=${set#*:}
    for f in "$src/JPEGImages/$id.jpg" "$src/SegmentationClassPNG/$id.png" "$src/class_names.txt"; do
      [ -f "$f" ] || { echo "real photos: $f is missing (a partial extraction? remove $LABELME_DIR and run 'bash scripts/fetch-labelme.sh')" >&2; return 1; }
    done
    cp "$src/JPEGImages/$id.jpg" "$WS/photos/$id.jpg" && cp "$src/SegmentationClassPNG/$id.png" "$WS/photo-truth/$id.png" || return 1
    printf '%s\t%s\n' "$id.jpg" "$src/class_names.txt"
  done | node -e '
    const fs = require("fs"); const out = {};
    for (const line of fs.readFileSync(0, "utf8").split("\n").filter(Boolean)) {
      const [id, names] = line.split("\t");
      out[id] = fs.readFileSync(names, "utf8").split(/\r?\n/).map((s) => s.trim()).filter(Boolean);
    }
    if (Object.keys(out).length !== 8) { console.error(`real photos: ${Object.keys(out).length} of 8 photos copied`); process.exit(1); }
    fs.writeFileSync(process.argv[1], JSON.stringify(out, null, 1) + "\n");' "$WS/photo-truth/classes.json"
}
make_ws() {
  mkdir -p "$WS/.vscode" || return 1
  node bin/protolab.js sample --out "$WS/sample" --train 20 --val 40 >/dev/null || return 1
  node scripts/ci/workspace-settings.cjs "$WS" --ci > "$WS/.vscode/settings.json" || return 1
  real_photos
}
t "workspace (sample 20 train + 40 val; 8 real photos)" make_ws || { stage_failed code-server-e2e; stage_failed code-server-label; exit 1; }

PORT=$(free_port)
cs_setup "$WORK/cs" "$PORT"
install_vsix() { CS --install-extension "$VSIX" >"$WORK/install.log" 2>&1 || { cat "$WORK/install.log" >&2; return 1; }; }
t "install .vsix ($(basename "$VSIX"))" install_vsix || { stage_failed code-server-e2e; exit 1; }
# The extension host inherits this env: the in-host test entry writes its result here.
export PROTOLAB_TEST_RESULT=$WORK/integration-result.json
t "start code-server :$PORT" cs_start "$WS" --vscode-option enable-smoke-test-driver || { stage_failed code-server-e2e; exit 1; }
echo "code-server http://127.0.0.1:$PORT/?folder=$WS (log $WORK/cs/server.log)" >&2

RC=0
if [[ " $STAGES " == *" drive "* ]]; then
  t "e2e drive (palette, episode, eval, train, checkpoint, theme)" env CS_URL="http://127.0.0.1:$PORT/?folder=$WS" WS_DIR="$WS" OUT_DIR="$OUT_DIR" \
    COUNTS_FILE="$COUNTS_DIR/code-server-e2e.json" node ${DRIVE:-test/e2e/drive.cjs} || { RC=1; stage_failed code-server-e2e; }
fi
if [[ " $STAGES " == *" label "* ]]; then
  t "e2e label (explorer → draw → grid → reload → accept → export)" env CS_URL="http://127.0.0.1:$PORT/?folder=$WS" WS_DIR="$WS" OUT_DIR="$OUT_DIR" \
    COUNTS_FILE="$COUNTS_DIR/code-server-label.json" node test/e2e/label.cjs || { RC=1; stage_failed code-server-label; }
fi
if [[ " $STAGES " == *" integration "* ]]; then
  t "integration (mocha in the extension host)" env CS_HOST="127.0.0.1:$PORT" EXT_DIR="${EXT_DIR:-$REPO}" WS_DIR="$WS" OUT_DIR="$OUT_DIR" \
    COUNTS_FILE="$COUNTS_DIR/integration.json" node scripts/ci/run-integration.cjs || { RC=1; stage_failed integration; }
fi
[ $RC = 0 ] || { echo "--- code-server log (tail) ---" >&2; tail -25 "$WORK/cs/server.log" >&2; }
cs_stop
printf '[time] %-34s %7ss\n' "code-server stages total" "$(_dt "$T0")" >&2
exit $RC
