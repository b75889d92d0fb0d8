#!/usr/bin/env bash
# Starts a throw-away PostgreSQL server on loopback for the test suite.
#   scripts/pg-test-server.sh start DIR                  -> prints the database URL
#   scripts/pg-test-server.sh start-replica PRIMARY DIR  -> a streaming replica of the server in PRIMARY; prints its URL
#   scripts/pg-test-server.sh stop DIR
set -euo pipefail
action=$1
dir=$2
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
run() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
# Durability is irrelevant for a test server; speed is not.
fast="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
case "$action" in
  start)
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
    port=$(free_port)
    run "$bin/initdb" -D "$dir/data" -U xinyong --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    # wal_level=replica (PostgreSQL's default, stated here) lets start-replica stream from this server.
    run "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
      -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir $fast -c wal_level=replica -c max_wal_senders=4" \
      start >/dev/null
    run "$bin/createdb" -h 127.0.0.1 -p "$port" -U xinyong xinyong_test
    echo "$port" > "$dir/port"
    echo "postgresql://xinyong@127.0.0.1:$port/xinyong_test"
    ;;
  start-replica)
    primary=$dir
    dir=$3
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
    primary_port=$(cat "$primary/port")
    port=$(free_port)
    # A copy of the primary that keeps streaming its WAL (-R writes standby.signal and primary_conninfo).
    run "$bin/pg_basebackup" -h 127.0.0.1 -p "$primary_port" -U xinyong -D "$dir/data" -R -X stream -c fast >/dev/null
    # -w waits until the standby accepts read-only connections.
    run "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
      -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir $fast -c hot_standby=on -c hot_standby_feedback=on" \
      start >/dev/null
    echo "$port" > "$dir/port"
    echo "postgresql://xinyong@127.0.0.1:$port/xinyong_test"
    ;;
  stop)
    run "$bin/pg_ctl" -D "$dir/data" -m fast stop >/dev/null || true
    ;;
esac
