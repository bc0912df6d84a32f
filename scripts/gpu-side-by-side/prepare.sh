#!/usr/bin/env bash
# Prepares the GPU side-by-side run (README "Performance"): everything the device needs goes into
# .side-by-side/ (ignored), so the run needs nothing from node_modules there:
#   bench.mjs                 the studio's half, bundled (tfjs, our kernels, npm webgpu's loader)
#   dawn.node.xz              Dawn (npm webgpu), unpacked beside bench.mjs by run.sh
#   node.xz                   this machine's Node binary (x86-64)
#   gl/*.deb                  the Vulkan loader (libvulkan1), for a device without one
#   tokenizer/, scheduler/    CLIP tokenizer and scheduler files (tiny-sd fixture: SD1.5's own)
#   configs/                  SD1.5 unet/text_encoder/vae configs (src/model/sd15-configs.ts)
#   python.tar.xz             diffusers' source (and huggingface_hub's, if asked for)
#   diffusers_steps.py        the diffusers half
#
# Sources for the Python packages (folders holding the package, e.g. a site-packages' `diffusers`):
#   DIFFUSERS_SRC=/path/to/site-packages/diffusers   default: `git archive` of the mirror in
#                                                    DIFFUSERS_GIT (a diffusers clone's git dir)
#   HF_HUB_SRC=/path/to/huggingface_hub              optional: the device has huggingface_hub 1.33,
#                                                    which diffusers main accepts (>=1.23,<2)
#
#   bash scripts/gpu-side-by-side/prepare.sh           build .side-by-side/, print the travelling size
#   bash scripts/gpu-side-by-side/prepare.sh --slim    also move public/models and src/test/fixtures
#                                                      to $SLIM_STASH (outside the repo): the tree is
#                                                      then under the device's 64 MiB
#   bash scripts/gpu-side-by-side/prepare.sh --restore put them back
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
SBS=.side-by-side
STASH=${SLIM_STASH:-$ROOT/../$(basename "$ROOT")-slim-stash}
SLIMMED=(public/models src/test/fixtures)

travelling_size() {
  # tracked and untracked-not-ignored files that exist, plus the carried folder
  local tree carry
  tree=$(git ls-files -co --exclude-standard -z | xargs -0 stat -c %s 2>/dev/null | awk '{s+=$1} END {print s+0}' || true) # stat fails on slimmed-away files
  carry=$(du -sb "$SBS" 2>/dev/null | cut -f1)
  echo "travelling: tree $((tree / 1048576)) MiB + $SBS $((${carry:-0} / 1048576)) MiB = $(((tree + ${carry:-0}) / 1048576)) MiB (limit 64 MiB)"
}

if [[ ${1:-} == --restore ]]; then
  for p in "${SLIMMED[@]}"; do [[ -e $STASH/$p && ! -e $p ]] && mkdir -p "$(dirname "$p")" && mv "$STASH/$p" "$p" && echo "restored $p"; done
  travelling_size
  exit 0
fi

# the fixture's tokenizer/scheduler, from the tree or from the stash after --slim
FIXTURE=src/test/fixtures/tiny-sd
[[ -d $FIXTURE ]] || FIXTURE=$STASH/src/test/fixtures/tiny-sd
mkdir -p "$SBS/tokenizer" "$SBS/scheduler" "$SBS/gl"
cp "$FIXTURE"/tokenizer/{vocab.json,merges.txt,tokenizer_config.json,special_tokens_map.json} "$SBS/tokenizer/"
cp "$FIXTURE"/scheduler/scheduler_config.json "$SBS/scheduler/"

echo "bundling the studio's half…"
node scripts/gpu-side-by-side/bundle.mjs "$ROOT/$SBS"
node "$SBS/bench.mjs" configs "$SBS/configs"
cp scripts/gpu-side-by-side/diffusers_steps.py "$SBS/"

DAWN=node_modules/webgpu/dist/linux-x64/dawn.node
if [[ ! -f $SBS/dawn.node.xz || $DAWN -nt $SBS/dawn.node.xz ]]; then echo "compressing dawn.node…"; xz -9 -T2 -c "$DAWN" >"$SBS/dawn.node.xz"; fi
NODE=$(command -v node)
if [[ ! -f $SBS/node.xz || $NODE -nt $SBS/node.xz ]]; then echo "compressing $NODE ($(node --version))…"; xz -9 -T2 -c "$NODE" >"$SBS/node.xz"; fi

if ! ls "$SBS"/gl/libvulkan1_*.deb >/dev/null 2>&1; then
  echo "downloading the Vulkan loader (amd64)…"
  o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
  mkdir -p /tmp/amd64/partial
  # shellcheck disable=SC2086
  apt-get $o update -qq && (cd "$SBS/gl" && apt-get $o download libvulkan1)
fi

echo "packing the Python sources…"
PY=$(mktemp -d)
if [[ -n ${DIFFUSERS_SRC:-} ]]; then
  cp -r "$DIFFUSERS_SRC" "$PY/diffusers"
else
  GIT=${DIFFUSERS_GIT:-/work/.mirror/huggingface+diffusers/repo}
  git --git-dir="$GIT" archive HEAD src/diffusers | tar -x -C "$PY" --strip-components=1
  echo "diffusers $(git --git-dir="$GIT" log -1 --format='%h %cs') from $GIT"
fi
[[ -n ${HF_HUB_SRC:-} ]] && cp -r "$HF_HUB_SRC" "$PY/huggingface_hub"
find "$PY" -name __pycache__ -prune -exec rm -rf {} +
tar -C "$PY" -cf - . | xz -9 -T2 >"$SBS/python.tar.xz"
rm -rf "$PY"

if [[ ${1:-} == --slim ]]; then
  for p in "${SLIMMED[@]}"; do [[ -e $p ]] && mkdir -p "$STASH/$(dirname "$p")" && mv "$p" "$STASH/$p" && echo "moved $p to $STASH/$p"; done
  echo "(bash scripts/gpu-side-by-side/prepare.sh --restore puts them back)"
fi
du -sh "$SBS"/* | sort -h
travelling_size
