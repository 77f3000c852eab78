#!/usr/bin/env bash
# Scale-out benchmark (docs/scale-out.md): signed, durable SES v2 SendEmail to the mailbox
# simulator against 1, 2 and 3 mailtally nodes sharing ONE PostgreSQL database on this machine
# (a private server with PostgreSQL's durable defaults and pg_stat_statements), the same total
# client load spread evenly over the nodes. Reports sends/s per node count and its ratio to one
# node, and the database's load per 1,000 accepted sends: statements, rows, transactions, WAL.
#
#   bench/load/cluster.sh > results.md
#
# Knobs: MAILTALLY_BIN, CONNECTIONS (total, default 64), DURATION (default 10s), NODES
# (default "1 2 3"). Needs wrk, psql, /usr/bin/python3 with python3-botocore.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PY=/usr/bin/python3
MAILTALLY_BIN=${MAILTALLY_BIN:-$ROOT/build/src/app/mailtally}
CONNECTIONS=${CONNECTIONS:-64}
DURATION=${DURATION:-10s}
NODES=${NODES:-1 2 3}
WORK=$(mktemp -d /tmp/mtcluster.XXXXXX)
chmod 755 "$WORK"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  "$ROOT/scripts/pg-test-server.sh" stop "$WORK/pg" || true
  rm -rf "$WORK"
}
trap cleanup EXIT
log() { echo "[cluster.sh $(date +%T)] $*" >&2; }
field() { sed -n "s/.* $1=\\([^ ]*\\).*/\\1/p" <<<"$2"; }

admin=$(PG_DURABLE=1 "$ROOT/scripts/pg-test-server.sh" start "$WORK/pg")
psql_admin() { psql -X -q -t -A "$admin" -c "$1"; }
psql_admin "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null

echo "## Scale-out: nodes on one PostgreSQL 15 primary (durable: fsync, synchronous_commit on)"
echo
echo "wrk, $CONNECTIONS connections in all spread evenly over the nodes, $DURATION, $(nproc) cores"
echo "shared by the nodes, PostgreSQL and wrk, $(date -u +%F). Per 1,000 accepted sends: statements"
echo "and rows from pg_stat_statements, commits from pg_stat_database, WAL from pg_current_wal_lsn."
echo
echo "| nodes | sends/s | ratio to 1 node | p99 ms (worst node) | statements | rows | transactions | WAL KB |"
echo "|---|---|---|---|---|---|---|---|"

base_rps=""
for n in $NODES; do
  db="bench_$n"
  psql_admin "CREATE DATABASE $db" >/dev/null
  url="${admin%/*}/$db"
  urls=()
  for i in $(seq 1 "$n"); do
    "$MAILTALLY_BIN" serve --listen 127.0.0.1:0 --data-dir "$WORK/n$n-$i" --database "$url" \
      --node-id "n$i" --max-send-rate 0 --max-24-hour-send 0 >"$WORK/n$n-$i.log" 2>&1 &
    PIDS+=("$!")
    for _ in $(seq 1 500); do grep -q "listening on" "$WORK/n$n-$i.log" && break; sleep 0.02; done
    urls+=("$(grep -o 'http://[0-9.]*:[0-9]*' "$WORK/n$n-$i.log" | head -n1)")
  done
  eval "$(grep -h '^export AWS_ACCESS_KEY_ID' "$WORK"/n$n-*.log | head -n1)"
  export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
  for i in $(seq 1 "$n"); do
    $PY "$HERE/mtload.py" gen-send-v2 "${urls[$((i - 1))]}" "$WORK/send$i.req"
    $PY "$HERE/mtload.py" check "${urls[$((i - 1))]}" "$WORK/send$i.req" >/dev/null
  done
  sleep 1
  psql_admin "SELECT pg_stat_statements_reset()" >/dev/null
  dbid=$(psql_admin "SELECT oid FROM pg_database WHERE datname = '$db'")
  sends0=$(psql -X -q -t -A "$url" -c "SELECT count(*) FROM events WHERE event_type = 'Send'")
  commits0=$(psql_admin "SELECT xact_commit FROM pg_stat_database WHERE datname = '$db'")
  lsn0=$(psql_admin "SELECT pg_current_wal_lsn()")
  log "$n node(s)"
  wpids=()
  per=$((CONNECTIONS / n))
  for i in $(seq 1 "$n"); do
    wrk -t1 -c"$per" -d"$DURATION" --latency -s "$HERE/replay.lua" "${urls[$((i - 1))]}" -- \
      "$WORK/send$i.req" static 2 | grep '^RESULT' >"$WORK/wrk$i.out" &
    wpids+=("$!")
  done
  for p in "${wpids[@]}"; do wait "$p"; done
  sleep 2  # let pg_stat_database catch up
  lsn1=$(psql_admin "SELECT pg_current_wal_lsn()")
  commits1=$(psql_admin "SELECT xact_commit FROM pg_stat_database WHERE datname = '$db'")
  sends1=$(psql -X -q -t -A "$url" -c "SELECT count(*) FROM events WHERE event_type = 'Send'")
  stmts=$(psql_admin "SELECT coalesce(sum(calls), 0) || ' ' || coalesce(sum(rows), 0) FROM pg_stat_statements WHERE dbid = $dbid")
  wal=$(psql_admin "SELECT pg_wal_lsn_diff('$lsn1', '$lsn0')")
  rps=0
  p99=0
  for i in $(seq 1 "$n"); do
    r=$(cat "$WORK/wrk$i.out")
    rps=$(awk -v a="$rps" -v b="$(field rps "$r")" 'BEGIN {print a + b}')
    p99=$(awk -v a="$p99" -v b="$(field p99_ms "$r")" 'BEGIN {print (b > a ? b : a)}')
  done
  sends=$((sends1 - sends0))
  [[ -z $base_rps ]] && base_rps=$rps
  per1k() { awk -v v="$1" -v s="$sends" 'BEGIN {printf "%.0f", s ? v * 1000 / s : 0}'; }
  echo "| $n | $(printf '%.0f' "$rps") | $(awk -v a="$rps" -v b="$base_rps" 'BEGIN {printf "%.2f", a / b}') | $p99 | $(per1k "${stmts% *}") | $(per1k "${stmts#* }") | $(per1k $((commits1 - commits0))) | $(awk -v w="$wal" -v s="$sends" 'BEGIN {printf "%.0f", s ? w / s : 0}') |"
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  PIDS=()
done
