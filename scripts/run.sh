#!/usr/bin/env bash
# Installs what is missing, builds, and runs the server on embedded storage.
#   scripts/run.sh [serve options]   (default: --listen 127.0.0.1:4580 --data-dir ./data)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh -DMAILTALLY_TESTS=OFF -DMAILTALLY_BENCH=OFF
if [[ $# -eq 0 ]]; then
  set -- --listen 127.0.0.1:4580 --data-dir ./data
fi
exec build/src/app/mailtally serve "$@"
