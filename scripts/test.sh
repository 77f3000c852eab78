#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: unit tests (ctest), black-box tests with
# the real AWS CLI and boto3 against the real binary (pytest; once on SQLite, once on a private
# PostgreSQL server), and a short run of every fuzzer.
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

echo "== black-box tests again, every server on PostgreSQL (a private server started here)"
pg_dir="$PWD/build/pg-blackbox"
trap 'scripts/pg-test-server.sh stop "$pg_dir"' EXIT
pg_url=$(scripts/pg-test-server.sh start "$pg_dir")
MAILTALLY_BIN="$PWD/build/src/app/mailtally" MAILTALLY_TEST_DATABASE="$pg_url" \
  /usr/bin/python3 -m pytest -q tests
