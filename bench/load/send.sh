#!/usr/bin/env bash
# Sending benchmark (docs/benchmarks.md, "Sending"): signed, durable SES v2 SendEmail to the
# mailbox simulator under concurrent clients, for mailtally and, in the same run on the same
# machine, for aws-ses-v2-local (npm, the most used peer emulator). For mailtally it also times
# how long after the load every accepted send is delivered (they are acknowledged once durable
# and processed in the background) and gives the end-to-end rate that follows.
#
#   bench/load/send.sh > results.md
#
# Knobs (environment): MAILTALLY_BIN (default build/src/app/mailtally), WRK_ARGS (default
# "-t2 -c64 -d10s"), ROUNDS (default 3, the report gives medians), PROBES (sequential probe
# sends measuring send-to-event-log latency while the load runs, default 200), PEER=0 skips
# the peer. Needs wrk, sqlite3, node/npm, /usr/bin/python3 with python3-botocore.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PY=/usr/bin/python3
MAILTALLY_BIN=${MAILTALLY_BIN:-$ROOT/build/src/app/mailtally}
WRK_ARGS=${WRK_ARGS:--t2 -c64 -d10s}
ROUNDS=${ROUNDS:-3}
PROBES=${PROBES:-200}
PEER=${PEER:-1}
WORK=$(mktemp -d /tmp/mtsend.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
log() { echo "[send.sh $(date +%T)] $*" >&2; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
wait_port() {  # wait_port PORT
  for _ in $(seq 1 500); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.02
  done
  echo "send.sh: nothing listens on $1" >&2
  return 1
}
# run_wrk URL FILE -> the RESULT line of replay.lua
run_wrk() {
  # shellcheck disable=SC2086
  wrk $WRK_ARGS --latency -s "$HERE/replay.lua" "$1" -- "$2" static 2 | grep '^RESULT'
}
field() { sed -n "s/.* $1=\\([^ ]*\\).*/\\1/p" <<<"$2"; }

echo "## Sending: signed v2 SendEmail to success@simulator.amazonses.com"
echo
echo "wrk \`$WRK_ARGS\`, $ROUNDS rounds (medians), $(nproc) cores, $(date -u +%F)."
echo
echo "| server | round | sends/s | p50 ms | p99 ms | RSS after (MB) | all delivered (s after the load) | end to end (sends/s) |"
echo "|---|---|---|---|---|---|---|---|"

for round in $(seq 1 "$ROUNDS"); do
  # ---- mailtally: a fresh data dir per round ----
  dir="$WORK/mt$round"
  # Quotas lifted: the defaults (1000 recipients/s) would throttle the load.
  "$MAILTALLY_BIN" serve --listen 127.0.0.1:0 --data-dir "$dir" --max-send-rate 0 \
    --max-24-hour-send 0 >"$WORK/mt$round.log" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  for _ in $(seq 1 500); do grep -q "listening on" "$WORK/mt$round.log" && break; sleep 0.02; done
  url=$(grep -o 'http://[0-9.]*:[0-9]*' "$WORK/mt$round.log" | head -n1)
  eval "$(grep '^export AWS_ACCESS_KEY_ID' "$WORK/mt$round.log")"
  export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
  $PY "$HERE/mtload.py" gen-send-v2 "$url" "$WORK/send.req"
  $PY "$HERE/mtload.py" check "$url" "$WORK/send.req" >/dev/null
  log "mailtally round $round"
  r=$(run_wrk "$url" "$WORK/send.req")
  rss=$(rss_kb "$pid")
  # Accepted sends are processed after the load (indexed from the intake log, delivered by the
  # simulator, Delivery events written): time until every one of them is delivered.
  accepted=$(field requests "$r")
  t0=$(date +%s.%N)
  for _ in $(seq 1 3000); do
    delivered=$(sqlite3 "file:$dir/mailtally.db?mode=ro" \
      "SELECT count(*) FROM messages WHERE state = 1" 2>/dev/null || echo 0)
    [[ ${delivered:-0} -ge $accepted ]] && break
    sleep 0.1
  done
  drain=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
  e2e=$(awk -v n="$accepted" -v d="$(field duration_s "$r")" -v w="$drain" \
    'BEGIN {printf "%.0f", n / (d + w)}')
  echo "| mailtally | $round | $(field rps "$r") | $(field p50_ms "$r") | $(field p99_ms "$r") | $((rss / 1024)) | $drain | $e2e |"
  echo "$round $(field rps "$r") $(field p99_ms "$r") $e2e" >>"$WORK/mt.rows"
  if [[ $round == 1 && $PROBES -gt 0 ]]; then
    log "probe: send-to-event-log latency under the same load"
    # shellcheck disable=SC2086
    wrk $WRK_ARGS -s "$HERE/replay.lua" "$url" -- "$WORK/send.req" static 2 >/dev/null &
    wrk_pid=$!
    sleep 1
    $PY "$HERE/mtload.py" probe "$url" "$PROBES" >"$WORK/probe.json"
    wait "$wrk_pid" || true
  fi
  kill "$pid"
  wait "$pid" || true

  # ---- aws-ses-v2-local ----
  if [[ $PEER == 1 ]]; then
    if [[ ! -d $HERE/sesv2local/node_modules ]]; then
      (cd "$HERE/sesv2local" && npm ci --no-audit --no-fund >/dev/null 2>&1)
    fi
    port=$((20000 + RANDOM % 20000))
    node "$HERE/sesv2local/node_modules/aws-ses-v2-local/dist/cli.js" --port "$port" \
      >"$WORK/peer$round.log" 2>&1 &
    ppid=$!
    PIDS+=("$ppid")
    wait_port "$port"
    $PY "$HERE/mtload.py" gen-send-v2 "http://127.0.0.1:$port" "$WORK/peer.req"
    $PY "$HERE/mtload.py" check "http://127.0.0.1:$port" "$WORK/peer.req" >/dev/null
    log "aws-ses-v2-local round $round"
    r=$(run_wrk "http://127.0.0.1:$port" "$WORK/peer.req")
    rss=$(rss_kb "$ppid")
    echo "| aws-ses-v2-local 2.10.2 | $round | $(field rps "$r") | $(field p50_ms "$r") | $(field p99_ms "$r") | $((rss / 1024)) | — | — |"
    echo "$round $(field rps "$r") $(field p99_ms "$r")" >>"$WORK/peer.rows"
    kill "$ppid"
    wait "$ppid" 2>/dev/null || true
  fi
done

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
mt_rps=$(awk '{print $2}' "$WORK/mt.rows" | median)
mt_p99=$(awk '{print $3}' "$WORK/mt.rows" | median)
mt_e2e=$(awk '{print $4}' "$WORK/mt.rows" | median)
echo
echo "Median mailtally: $mt_rps sends/s, p99 $mt_p99 ms; end to end (every accepted send delivered) $mt_e2e sends/s."
if [[ $PEER == 1 ]]; then
  peer_rps=$(awk '{print $2}' "$WORK/peer.rows" | median)
  peer_p99=$(awk '{print $3}' "$WORK/peer.rows" | median)
  echo "Median aws-ses-v2-local: $peer_rps sends/s, p99 $peer_p99 ms."
  echo "Ratio (mailtally / aws-ses-v2-local): throughput $(awk -v a="$mt_rps" -v b="$peer_rps" 'BEGIN {printf "%.1f", a / b}')×, p99 $(awk -v a="$mt_p99" -v b="$peer_p99" 'BEGIN {printf "%.2f", a / b}')×."
fi
if [[ -s $WORK/probe.json ]]; then
  echo
  echo "Send-to-event-log latency ($PROBES sequential probe sends during round 1's load, from the"
  echo "request leaving the client to the event being readable at /_mailtally/events):"
  echo '`'"$(cat "$WORK/probe.json")"'`'
fi
