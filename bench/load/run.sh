#!/usr/bin/env bash
# Server load benchmarks of mailtally, in one run, on 127.0.0.1 only (docs/benchmarks.md).
#
#   bench/load/run.sh > results.md
#
# Builds nothing. Binaries and knobs (environment):
#   MAILTALLY_BIN   mailtally binary          (default build/src/app/mailtally)
#   FIXED_BIN       http_fixed_server binary  (default build-bench/bench/http_fixed_server,
#                   else build/bench/http_fixed_server)
#   SERVER_THREADS  --threads for both servers (default 2)
#   WRK_ARGS        wrk load shape, the same for every run (default "-t2 -c64 -d10s")
#   WARMUP          seconds of unreported warm-up before each read run (default 2)
#   SEED_SETS       configuration sets present during the reads (default 20)
#   WRITES          distinct pre-signed CreateConfigurationSet requests (default 9000; the
#                   account limit is 10,000 sets)
#   START_RUNS      start-to-/health samples per case (default 20)
#   ROUNDS          rounds of (ceiling, v1 read, v2 read) (default 3; the report gives medians)
#   RESULTS_DIR     keep the raw wrk outputs and server logs there (default: a temp dir, removed)
#
# Needs wrk (Debian package), /usr/bin/python3 with python3-botocore. Every run is bounded by
# `timeout`. The markdown report goes to stdout, progress to stderr.
# shellcheck disable=SC2034  # R_V1 and R_V2 are read through namerefs (row, med_ratio)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PY=/usr/bin/python3
MAILTALLY_BIN=${MAILTALLY_BIN:-$ROOT/build/src/app/mailtally}
if [[ -z "${FIXED_BIN:-}" ]]; then
  FIXED_BIN=$ROOT/build-bench/bench/http_fixed_server
  [[ -x $FIXED_BIN ]] || FIXED_BIN=$ROOT/build/bench/http_fixed_server
fi
SERVER_THREADS=${SERVER_THREADS:-2}
WRK_ARGS=${WRK_ARGS:--t2 -c64 -d10s}
WARMUP=${WARMUP:-2}
SEED_SETS=${SEED_SETS:-20}
WRITES=${WRITES:-9000}
START_RUNS=${START_RUNS:-20}
ROUNDS=${ROUNDS:-3}

for b in "$MAILTALLY_BIN" "$FIXED_BIN"; do
  [[ -x $b ]] || { echo "run.sh: not an executable: $b (build it first; see docs/benchmarks.md)" >&2; exit 2; }
done
command -v wrk >/dev/null || { echo "run.sh: wrk is not installed (apt-get install wrk)" >&2; exit 2; }
$PY -c 'import botocore' 2>/dev/null || { echo "run.sh: $PY lacks botocore (python3-botocore)" >&2; exit 2; }

WRK_THREADS=$(sed -n 's/.*-t *\([0-9]\+\).*/\1/p' <<<"$WRK_ARGS")
WRK_THREADS=${WRK_THREADS:-2}
WRK_SECONDS=$(sed -n 's/.*-d *\([0-9]\+\)s.*/\1/p' <<<"$WRK_ARGS")
WRK_SECONDS=${WRK_SECONDS:-10}
# shellcheck disable=SC2001  # a regex, not a fixed string
WARMUP_ARGS=$(sed "s/-d *[0-9]\+s/-d${WARMUP}s/" <<<"$WRK_ARGS")

WORK=$(mktemp -d /tmp/mtbench.XXXXXX)
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  if [[ -n "${RESULTS_DIR:-}" ]]; then
    if mkdir -p "$RESULTS_DIR"; then cp "$WORK"/*.log "$WORK"/*.out "$RESULTS_DIR"/ 2>/dev/null || true; fi
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "[run.sh $(date +%T)] $*" >&2; }

# wait_for FILE REGEX: prints the first match (extended regex, -o) within 10 s.
wait_for() {
  local i
  for ((i = 0; i < 1000; i++)); do
    if grep -Eqo "$2" "$1" 2>/dev/null; then grep -Eo "$2" "$1" | head -n1; return 0; fi
    sleep 0.01
  done
  echo "run.sh: timed out waiting for /$2/ in $1" >&2
  return 1
}

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }

# start_mailtally NAME DATA_DIR: sets MT_PID, MT_URL; exports the key printed on first start.
start_mailtally() {
  local out=$WORK/$1.out
  "$MT" serve --listen 127.0.0.1:0 --data-dir "$2" --threads "$SERVER_THREADS" \
    >"$out" 2>"$WORK/$1.err.log" &
  MT_PID=$!
  PIDS+=("$MT_PID")
  local addr
  addr=$(wait_for "$out" 'listening on http://[0-9.]+:[0-9]+')
  MT_URL=${addr#listening on }
  if grep -q '^export AWS_ACCESS_KEY_ID=' "$out"; then
    AWS_ACCESS_KEY_ID=$(sed -n 's/^export AWS_ACCESS_KEY_ID=\([^ ]*\).*/\1/p' "$out")
    AWS_SECRET_ACCESS_KEY=$(sed -n 's/.*AWS_SECRET_ACCESS_KEY=\([^ ]*\).*/\1/p' "$out")
    export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
  fi
}

stop_pid() {
  kill -TERM "$1" 2>/dev/null || true
  timeout 15 tail --pid="$1" -f /dev/null || kill -KILL "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  local keep=() p
  for p in "${PIDS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
  PIDS=("${keep[@]}")
}

# run_wrk NAME URL REQFILE MODE: runs wrk, prints its RESULT line (also kept in NAME.log).
run_wrk() {
  # shellcheck disable=SC2086
  timeout $((WRK_SECONDS + 60)) wrk $WRK_ARGS --latency -s "$HERE/replay.lua" "$2" -- \
    "$3" "$4" "$WRK_THREADS" >"$WORK/$1.log" 2>&1 || { cat "$WORK/$1.log" >&2; return 1; }
  grep '^RESULT ' "$WORK/$1.log"
}
warmup() {
  # shellcheck disable=SC2086
  timeout $((WARMUP + 60)) wrk $WARMUP_ARGS -s "$HERE/replay.lua" "$1" -- "$2" static \
    "$WRK_THREADS" >/dev/null 2>&1
}
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<" $1"; }

# Run private copies, so that a rebuild of the originals during the run changes nothing.
# (Retries for a minute in case a binary is being relinked right now.)
mkdir -p "$WORK/bin"
for ((i = 0; i < 60; i++)); do
  if cp "$MAILTALLY_BIN" "$WORK/bin/mailtally" 2>/dev/null &&
     cp "$FIXED_BIN" "$WORK/bin/http_fixed_server" 2>/dev/null &&
     "$WORK/bin/mailtally" --version >/dev/null 2>&1; then
    break
  fi
  sleep 1
done
MT="$WORK/bin/mailtally"
FIXED="$WORK/bin/http_fixed_server"
MT_VERSION=$("$MT" --version)

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
log "load average before: $LOAD_BEFORE"

# --- servers ------------------------------------------------------------------------------------
"$FIXED" --port 0 --threads "$SERVER_THREADS" >"$WORK/fixed.out" 2>"$WORK/fixed.err.log" &
FIXED_PID=$!
PIDS+=("$FIXED_PID")
FIXED_PORT=$(wait_for "$WORK/fixed.out" 'port=[0-9]+')
FIXED_URL=http://127.0.0.1:${FIXED_PORT#port=}

start_mailtally main "$WORK/data"
MAIN_PID=$MT_PID
URL=$MT_URL
sleep 0.2
RSS_IDLE=$(rss_kb "$MAIN_PID")
log "fixed server $FIXED_URL, mailtally $URL (idle RSS ${RSS_IDLE} kB)"

$PY "$HERE/mtload.py" seed "$URL" "$SEED_SETS" seed-
RSS_SEEDED=$(rss_kb "$MAIN_PID")

# --- a, b, c in ROUNDS rounds --------------------------------------------------------------------
# Each round measures the ceiling and then both reads, back to back, so that each read is compared
# with a ceiling taken under the same background load; the report gives medians over the rounds.
# a. the fixed-response server, sent the same bytes as the v1 read (its Host names another port,
#    which it ignores); b. signed SES v1 ListConfigurationSets (POST / form body); c. signed SES v2
#    GET /v2/email/configuration-sets. Requests are signed afresh each round.
declare -a R_FIXED R_V1 R_V2
for ((r = 1; r <= ROUNDS; r++)); do
  $PY "$HERE/mtload.py" gen-v1 "$URL" "$WORK/v1.req"
  $PY "$HERE/mtload.py" gen-v2 "$URL" "$WORK/v2.req"
  $PY "$HERE/mtload.py" check "$URL" "$WORK/v1.req" >/dev/null
  $PY "$HERE/mtload.py" check "$URL" "$WORK/v2.req" >/dev/null
  log "round $r/$ROUNDS: a. fixed-response server"
  warmup "$FIXED_URL" "$WORK/v1.req"
  R_FIXED[r]=$(run_wrk "fixed.$r" "$FIXED_URL" "$WORK/v1.req" static)
  log "round $r/$ROUNDS: b. SES v1 ListConfigurationSets"
  warmup "$URL" "$WORK/v1.req"
  R_V1[r]=$(run_wrk "v1.$r" "$URL" "$WORK/v1.req" static)
  log "round $r/$ROUNDS: c. SES v2 ListConfigurationSets"
  warmup "$URL" "$WORK/v2.req"
  R_V2[r]=$(run_wrk "v2.$r" "$URL" "$WORK/v2.req" static)
done
RSS_FIXED=$(rss_kb "$FIXED_PID")

# --- d. signed CreateConfigurationSet, each request once ----------------------------------------
log "d. SES v1 CreateConfigurationSet x $WRITES (signing...)"
$PY "$HERE/mtload.py" gen-writes "$URL" "$WRITES" bench- "$WORK/writes.req"
log "d. sending"
R_W=$(run_wrk writes "$URL" "$WORK/writes.req" once)

# --- f. memory after the load --------------------------------------------------------------------
RSS_AFTER=$(rss_kb "$MAIN_PID")
HWM_AFTER=$(hwm_kb "$MAIN_PID")
stop_pid "$MAIN_PID"
stop_pid "$FIXED_PID"
LOAD_AFTER_LOAD=$(cut -d' ' -f1-3 /proc/loadavg)

# --- e. start-to-/health -------------------------------------------------------------------------
log "e. start-to-/health, $START_RUNS x 3 cases"
start_mailtally small "$WORK/small"
$PY "$HERE/mtload.py" seed "$MT_URL" "$SEED_SETS" seed-
stop_pid "$MT_PID"
S_FRESH=$(timeout 300 $PY "$HERE/mtload.py" startup "$MT" "$START_RUNS")
S_SMALL=$(timeout 300 $PY "$HERE/mtload.py" startup "$MT" "$START_RUNS" "$WORK/small")
S_BIG=$(timeout 300 $PY "$HERE/mtload.py" startup "$MT" "$START_RUNS" "$WORK/data")
SETS_BIG=$((SEED_SETS + $(field "$R_W" ok)))
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
log "load average after: $LOAD_AFTER"

# --- report ---------------------------------------------------------------------------------------

# median of the numbers given as arguments
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# med_field KEY RESULT...: median of KEY over the RESULT lines
med_field() { local k=$1 x vals=(); shift; for x in "$@"; do vals+=("$(field "$x" "$k")"); done; median "${vals[@]}"; }
sum_field() { local k=$1 x t=0; shift; for x in "$@"; do t=$((t + $(field "$x" "$k"))); done; echo "$t"; }
# med_ratio READS...: median over the rounds of read rps / that round's ceiling rps
med_ratio() {
  local -n reads=$1
  local vals=() r
  for ((r = 1; r <= ROUNDS; r++)); do vals+=("$(ratio "$(field "${reads[r]}" rps)" "$(field "${R_FIXED[r]}" rps)")"); done
  printf '%.2f' "$(median "${vals[@]}")"
}
per_round() {  # KEY RESULTS-ARRAY-NAME: "x / y / z"
  local -n arr=$2
  local out="" r
  for ((r = 1; r <= ROUNDS; r++)); do out+="${out:+ / }$(printf '%.0f' "$(field "${arr[r]}" "$1")")"; done
  echo "$out"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
verdict() { awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN { ok = (op == ">=") ? (v >= t) : (v < t); print ok ? "met" : "**not met**" }'; }
j() { $PY -c 'import json,sys; print("%.1f" % json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }

CEIL=$(med_field rps "${R_FIXED[@]}")
RATIO_V1=$(med_ratio R_V1)
RATIO_V2=$(med_ratio R_V2)
row() {  # NAME ARRAY-NAME RATIO
  local -n a=$2
  printf '| %s | %.0f | %s | %.2f | %.2f | %.1f | %s | %s |\n' "$1" "$(med_field rps "${a[@]}")" \
    "$(per_round rps "$2")" "$(med_field p50_ms "${a[@]}")" "$(med_field p99_ms "${a[@]}")" \
    "$(med_field max_ms "${a[@]}")" "$(sum_field non2xx "${a[@]}")" "$3"
}

echo "### Run of $(date -u +'%Y-%m-%d %H:%M UTC')"
echo
echo "- Machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1), kernel $(uname -r)"
echo "- mailtally: \`$MAILTALLY_BIN\` ($MT_VERSION, built $(date -u -r "$MAILTALLY_BIN" +'%F %H:%M UTC')); ceiling: \`$FIXED_BIN\`; both with \`--threads $SERVER_THREADS\`"
echo "- wrk \`$WRK_ARGS --latency\` for every measured run (${WARMUP} s warm-up before each read run); $ROUNDS rounds of a, b, c; wrk shares the CPUs with the servers"
echo "- Load average (1/5/15 min): before $LOAD_BEFORE; after the load runs $LOAD_AFTER_LOAD; at the end $LOAD_AFTER"
echo
echo "Reads: medians over the $ROUNDS rounds (each round's requests/s listed); × ceiling is the median over the rounds of (read ÷ that round's ceiling)."
echo
echo "| Run | Requests/s (median) | per round (req/s) | p50 ms | p99 ms | max ms | non-2xx | × ceiling |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
row "a. fixed-response server (ceiling)" R_FIXED "1.00"
row "b. signed SES v1 ListConfigurationSets ($SEED_SETS sets)" R_V1 "$RATIO_V1"
row "c. signed SES v2 GET /v2/email/configuration-sets ($SEED_SETS sets)" R_V2 "$RATIO_V2"
printf '| %s | %.0f | %s | %.2f | %.2f | %.1f | %s | %s |\n' \
  "d. signed SES v1 CreateConfigurationSet (successful writes/s)" "$(field "$R_W" ok_per_s)" "(one run)" \
  "$(field "$R_W" p50_ms)" "$(field "$R_W" p99_ms)" "$(field "$R_W" max_ms)" "$(field "$R_W" non2xx)" \
  "$(ratio "$(field "$R_W" ok_per_s)" "$CEIL")"
echo
echo "Writes: $(field "$R_W" ok) of $(field "$R_W" prepared) answered 200 ($(field "$R_W" not_ok) not) in $(field "$R_W" own_s) s, from the first request to the last response."
echo
echo "| Start to /health 200 ($START_RUNS starts each) | median ms | p95 ms | max ms |"
echo "|---|---:|---:|---:|"
echo "| fresh data dir (creates the database and a key) | $(j "$S_FRESH" health_median_ms) | $(j "$S_FRESH" health_p95_ms) | $(j "$S_FRESH" health_max_ms) |"
echo "| existing data dir, $SEED_SETS sets | $(j "$S_SMALL" health_median_ms) | $(j "$S_SMALL" health_p95_ms) | $(j "$S_SMALL" health_max_ms) |"
echo "| existing data dir, $SETS_BIG sets | $(j "$S_BIG" health_median_ms) | $(j "$S_BIG" health_p95_ms) | $(j "$S_BIG" health_max_ms) |"
echo "| baseline: \`mailtally --version\` (spawn, load, exit) | $(j "$S_FRESH" version_median_ms) | | |"
echo "| baseline: \`/bin/true\` spawned the same way | $(j "$S_FRESH" true_median_ms) | | |"
echo
echo "| Memory (VmRSS) | MB |"
echo "|---|---:|"
echo "| mailtally idle after start (fresh data dir) | $(mb "$RSS_IDLE") |"
echo "| mailtally after seeding $SEED_SETS sets | $(mb "$RSS_SEEDED") |"
echo "| mailtally after the load runs (peak VmHWM $(mb "$HWM_AFTER")) | $(mb "$RSS_AFTER") |"
echo "| fixed-response server after its run | $(mb "$RSS_FIXED") |"
echo
echo "| Target (issue 2) | Measured | Verdict |"
echo "|---|---:|---|"
echo "| signed v1 read ≥ 0.5 × ceiling | $RATIO_V1 × | $(verdict "$RATIO_V1" ">=" 0.5) |"
echo "| signed v2 read ≥ 0.5 × ceiling | $RATIO_V2 × | $(verdict "$RATIO_V2" ">=" 0.5) |"
echo "| start < 20 ms (median, existing data dir) | $(j "$S_SMALL" health_median_ms) ms | $(verdict "$(j "$S_SMALL" health_median_ms)" "<" 20) |"
echo "| start < 20 ms (median, fresh data dir) | $(j "$S_FRESH" health_median_ms) ms | $(verdict "$(j "$S_FRESH" health_median_ms)" "<" 20) |"
echo "| idle RSS < 20 MB | $(mb "$RSS_IDLE") MB | $(verdict "$(mb "$RSS_IDLE")" "<" 20) |"
