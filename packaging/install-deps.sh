#!/usr/bin/env bash
# Installs the Debian 12 packages that building and testing dcos need, when any is missing.
# Idempotent and quiet when everything is present; never prompts.
# The browser tests' npm packages are installed by tests/e2e/setup.sh (make test runs it).
# --bench adds what the benchmarks compare against (wrk; dnsperf and dnsmasq for DNS; nginx is a test package already).
# Services that packages start when installed are not started.
set -euo pipefail

bench=false
[ "${1:-}" = "--bench" ] && bench=true

packages=(
  # build
  meson ninja-build g++ pkg-config ccache git python3
  # libraries, linked statically
  libboost-dev libboost-program-options-dev nlohmann-json3-dev libsqlite3-dev libssl-dev
  libspdlog-dev libfmt-dev doctest-dev
  # libarchive (the fetcher) and what its static library links against
  libarchive-dev libacl1-dev liblz4-dev libzstd-dev liblzma-dev libbz2-dev libxml2-dev nettle-dev zlib1g-dev
  # tests (redis, nginx, zookeeper: what the catalog's packages of those names run on the agent)
  openssl curl procps iproute2 bind9-dnsutils redis-server redis-tools nginx-light zookeeper
  # the dashboard's browser tests (tests/e2e): Chromium, driven by playwright-core under Node.js
  chromium
)
# Node.js and npm: Debian's nodejs and npm, unless the machine has them already (a Node.js from
# elsewhere that bundles npm conflicts with Debian's npm package).
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)
if $bench; then
  packages+=(wrk dnsperf dnsmasq-base)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing Debian packages: ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
  else
    echo "error: these packages are missing and installing them needs root: ${missing[*]}" >&2
    exit 1
  fi
else
  SUDO=""
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# Packages such as nginx start their service when installed; the benchmarks start their own.
policy=/usr/sbin/policy-rc.d
made_policy=false
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null && $SUDO chmod +x "$policy" && made_policy=true
fi
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
if $made_policy; then $SUDO rm -f "$policy"; fi
