#!/usr/bin/env bash
# Installs what mailtally needs on Debian 12 (bookworm). Idempotent; run as root (or with sudo).
#   scripts/install-deps.sh          build and run dependencies
#   scripts/install-deps.sh --test   plus what the tests, fuzzers and benchmarks use
set -euo pipefail

build_pkgs=(
  g++ cmake ninja-build pkg-config python3 python3-botocore
  libboost1.81-dev libboost-url1.81-dev libboost-json1.81-dev
  libsqlite3-dev libsqlitecpp-dev libpq-dev libssl-dev zlib1g-dev libgmime-3.0-dev
  libcli11-dev libtomlplusplus-dev libgumbo-dev libcurl4-openssl-dev libjemalloc-dev
)
test_pkgs=(
  libgtest-dev libgmock-dev libbenchmark-dev clang clang-format libclang-rt-14-dev
  awscli python3-boto3 python3-pytest python3-cryptography wrk curl prometheus
  swaks libnet-ssleay-perl libio-socket-ssl-perl libauthen-sasl-perl openssl python3-aiosmtpd
  chromium postgresql
)

# The web console's libraries come from npm at build time (src/console/CMakeLists.txt), and the
# JS tests use npm packages. Any node >= 18 with npm will do: keep one that is already there
# (e.g. from another repository), else take Debian's.
if ! command -v npm >/dev/null 2>&1; then
  build_pkgs+=(nodejs npm)
fi

pkgs=("${build_pkgs[@]}")
if [[ "${1:-}" == "--test" ]]; then
  pkgs+=("${test_pkgs[@]}")
fi

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi
