#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: unit tests (ctest), black-box tests with
# the real AWS CLI and boto3 against the real binary (pytest), and a short run of every fuzzer.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
scripts/build.sh -DMAILTALLY_TESTS=ON -DMAILTALLY_BENCH=ON

echo "== formatting"
scripts/check-format.sh

echo "== unit tests (ctest)"
ctest --test-dir build --output-on-failure -j"$(nproc)"

echo "== fuzz smoke runs"
scripts/fuzz.sh 20

echo "== black-box tests (pytest: real AWS CLI, boto3 and JS SDK against the real binary)"
MAILTALLY_BIN="$PWD/build/src/app/mailtally" /usr/bin/python3 -m pytest -q tests
