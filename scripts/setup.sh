#!/usr/bin/env bash
# Installs the Debian packages swift-simclr builds against, when any is missing (root on these machines).
set -euo pipefail
pkgs=(libdnnl-dev libopenblas-dev libturbojpeg0-dev libpng-dev libarchive-dev pkg-config)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
