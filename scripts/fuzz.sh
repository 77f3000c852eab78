#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each for N seconds.
#   scripts/fuzz.sh [seconds per target, default 60]
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-60}"
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DMAILTALLY_FUZZ=ON -DMAILTALLY_TESTS=OFF -DMAILTALLY_BENCH=OFF >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target fuzzers
for f in build-fuzz/fuzz/fuzz_*; do
  [[ -x "$f" ]] || continue
  name=$(basename "$f")
  corpus="fuzz/corpus/${name#fuzz_}"
  mkdir -p "build-fuzz/corpus-$name"
  echo "-- $name (${secs}s)"
  log="build-fuzz/$name.log"
  if ! "$f" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=0 \
      -artifact_prefix="build-fuzz/$name-" "build-fuzz/corpus-$name" \
      $( [[ -d "$corpus" ]] && echo "$corpus" ) >"$log" 2>&1; then
    tail -n 40 "$log"
    echo "fuzz: $name failed; the input is in build-fuzz/$name-*"
    exit 1
  fi
  tail -n 1 "$log"
  # Known crashers stay fixed.
  regressions="fuzz/regressions/${name#fuzz_}"
  if [[ -d "$regressions" ]]; then
    "$f" -runs=0 "$regressions"/* >"$log.regressions" 2>&1 || {
      tail -n 40 "$log.regressions"
      exit 1
    }
  fi
done
