#!/usr/bin/env bash
# A private PostgreSQL server for tests: its own data dir, a free loopback port, trust auth for
# loopback, nothing shared with a system cluster.
#   scripts/pg-test-server.sh start DIR   initdb (first time) and start; prints the admin URL
#                                         and writes it to DIR/url
#   scripts/pg-test-server.sh stop DIR    fast shutdown
# As root, the server runs as the 'postgres' user (initdb refuses root).
# PG_PORT=N starts it on that port (to restart it where clients expect it).
# PG_DURABLE=1 keeps PostgreSQL's durable defaults (fsync, synchronous commit) and loads
# pg_stat_statements: for benchmarks (bench/load/cluster.sh), not for tests.
set -euo pipefail
cmd=${1:?start|stop}
dir=$(realpath -m "${2:?data dir}")
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[[ -x "$bin/pg_ctl" ]] || { echo "PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }

# As root the server runs as 'postgres', which may not reach DIR (a checkout under /root, say):
# its files then live in a directory of its own under /tmp, named in DIR/pgroot.
as_owner=()
root="$dir"
if [[ $(id -u) -eq 0 ]]; then
  as_owner=(runuser -u postgres --)
  mkdir -p "$dir"
  if [[ -s "$dir/pgroot" && -d "$(cat "$dir/pgroot")" ]]; then
    root=$(cat "$dir/pgroot")
  elif [[ "$cmd" == start ]]; then
    root=$(mktemp -d /tmp/mailtally-pg.XXXXXX)
    chown postgres: "$root"
    echo "$root" >"$dir/pgroot"
  fi
fi

case "$cmd" in
start)
  mkdir -p "$dir"
  if [[ ! -f "$root/pgdata/PG_VERSION" ]]; then
    "${as_owner[@]}" "$bin/initdb" -D "$root/pgdata" -U postgres -A trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
  fi
  port=${PG_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}
  # Tests create and drop many databases and run many short transactions: favour speed over
  # durability of the test cluster (fsync off) - the product's own settings are not affected.
  opts="-h 127.0.0.1 -p $port -k $root -c max_connections=400 -c shared_buffers=128MB"
  if [[ "${PG_DURABLE:-0}" == 1 ]]; then
    opts+=" -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all"
  else
    opts+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  fi
  "${as_owner[@]}" "$bin/pg_ctl" -D "$root/pgdata" -l "$root/server.log" -w -t 60 start \
    -o "$opts" >/dev/null
  url="postgresql://postgres@127.0.0.1:$port/postgres"
  echo "$url" >"$dir/url"
  echo "$url"
  ;;
stop)
  if [[ -f "$root/pgdata/postmaster.pid" ]]; then
    "${as_owner[@]}" "$bin/pg_ctl" -D "$root/pgdata" -m fast -w stop >/dev/null || true
  fi
  ;;
*)
  echo "usage: $0 start|stop DIR" >&2
  exit 2
  ;;
esac
