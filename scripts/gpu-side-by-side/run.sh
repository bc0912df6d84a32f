#!/usr/bin/env bash
# The GPU side-by-side run, on the device (or here), from the repo root, after prepare.sh:
#   bash scripts/gpu-side-by-side/run.sh [PIXELS=512] [studio half's options, e.g. --timed 1 --gen-steps 2]
# 1. the diffusers half on CUDA (skipped with "CUDA half skipped: …" where there is none),
# 2. the studio's half through Dawn on Vulkan (needs nothing from node_modules),
# 3. the table ours / diffusers. Logs (JSON lines) go to $OUT (else /tmp/side-by-side-out).
# Time limits (s): DIFFUSERS_TIMEOUT=150, OURS_TIMEOUT=270, OURS_BUDGET=200 (no new measurement after it).
set -uo pipefail
PX=${1:-512}
[[ $# -gt 0 ]] && shift
SBS=$PWD/.side-by-side
RUN=${SIDE_BY_SIDE_RUN:-/tmp/side-by-side-run}
LOG=${OUT:-/tmp/side-by-side-out}
mkdir -p "$RUN/dist/linux-x64" "$LOG"
[[ -f $SBS/bench.mjs ]] || { echo "no $SBS/bench.mjs: run scripts/gpu-side-by-side/prepare.sh first (and carry .side-by-side)"; exit 1; }
t0=$SECONDS
stamp() { echo "# [$((SECONDS - t0)) s] $*"; }
unxz_to() { # xz -dc, or Python's lzma where xz is missing
  if command -v xz >/dev/null; then xz -dc "$1" >"$2"; else python3 -c 'import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$1" "$2"; fi
}

# Vulkan loader and driver
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1 '; then
  for f in "$SBS"/gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
  stamp "Vulkan loader unpacked from $SBS/gl"
fi
if [[ -z ${VK_ICD_FILENAMES:-} ]]; then
  for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do
    [[ -f $icd ]] && export VK_ICD_FILENAMES=$icd && break
  done
fi
echo "# Vulkan driver: ${VK_ICD_FILENAMES:-(none named: the studio picks lavapipe or SwiftShader)}"

# Node, Dawn and the bundle into $RUN (the bundle loads dawn.node from dist/linux-x64 beside it)
if command -v node >/dev/null && [[ -z ${SIDE_BY_SIDE_CARRIED_NODE:-} ]]; then NODE=$(command -v node); else
  [[ -x $RUN/node ]] || { unxz_to "$SBS/node.xz" "$RUN/node" && chmod +x "$RUN/node"; }
  NODE=$RUN/node
fi
[[ -f $RUN/dist/linux-x64/dawn.node ]] || unxz_to "$SBS/dawn.node.xz" "$RUN/dist/linux-x64/dawn.node"
cp "$SBS/bench.mjs" "$RUN/"
stamp "node $("$NODE" --version) at $NODE"

# 1. diffusers on CUDA
reason=$(python3 -c 'import torch; print("" if torch.cuda.is_available() else f"torch {torch.__version__} sees no CUDA device")' 2>&1 | tail -1)
if [[ -z $reason ]]; then
  mkdir -p "$RUN/py" && tar -xJf "$SBS/python.tar.xz" -C "$RUN/py"
  stamp "diffusers half (pixels $PX)"
  PYTHONPATH=$RUN/py${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1 timeout "${DIFFUSERS_TIMEOUT:-150}" \
    python3 "$SBS/diffusers_steps.py" --pixels "$PX" --configs "$SBS/configs" --scheduler "$SBS/scheduler" 2>&1 | tee "$LOG/diffusers.jsonl"
  stamp "diffusers half done (exit ${PIPESTATUS[0]})"
else
  echo "CUDA half skipped: $reason" | tee "$LOG/diffusers.jsonl"
fi

# 2. the studio through Dawn
stamp "studio half (pixels $PX)"
SIDE_BY_SIDE_DIR=$SBS timeout "${OURS_TIMEOUT:-270}" "$NODE" "$RUN/bench.mjs" "$PX" --budget-s "${OURS_BUDGET:-200}" "$@" 2>&1 | grep --line-buffered -v 'artificially reduced' | tee "$LOG/ours.jsonl"
stamp "studio half done (exit ${PIPESTATUS[0]})"

# 3. ours / diffusers
"$NODE" "$RUN/bench.mjs" ratios "$LOG/ours.jsonl" "$LOG/diffusers.jsonl" | tee "$LOG/ratios.txt"
stamp "done"
