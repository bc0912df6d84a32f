#!/usr/bin/env bash
# System packages the test suite needs on Debian: Chromium (the e2e browser, and its SwiftShader
# Vulkan driver) and Mesa's lavapipe Vulkan driver (Mesa >= 25; on bookworm from backports),
# which runs the Node WebGPU tests about 7x faster than SwiftShader. Idempotent.
set -euo pipefail
# one install at a time: a second checkout's suite started beside this one waits here, not on apt's lock
exec 9>"${TMPDIR:-/tmp}/diffusion-studio-test-deps.lock"
flock 9
export DEBIAN_FRONTEND=noninteractive
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

. /etc/os-release
MESA_SUITE=()
if [ "${VERSION_CODENAME:-}" = "bookworm" ]; then
  if ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
    echo "deb http://deb.debian.org/debian bookworm-backports main" | $SUDO tee /etc/apt/sources.list.d/bookworm-backports.list >/dev/null
  fi
  MESA_SUITE=(-t bookworm-backports)
fi

$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends "${MESA_SUITE[@]}" mesa-vulkan-drivers libvulkan1 >/dev/null
echo "chromium: $(/usr/bin/chromium --version 2>/dev/null || echo missing)"
echo "mesa-vulkan-drivers: $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers)"
