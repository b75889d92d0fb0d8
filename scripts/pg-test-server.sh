#!/usr/bin/env bash
# Starts a throw-away PostgreSQL server on loopback for the test suite.
#   scripts/pg-test-server.sh start DIR   -> prints the database URL
#   scripts/pg-test-server.sh stop DIR
set -euo pipefail
action=$1
dir=$2
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
run() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case "$action" in
  start)
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
    run "$bin/initdb" -D "$dir/data" -U xinyong --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    # Durability is irrelevant for a test server; speed is not.
    run "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
      -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
      start >/dev/null
    run "$bin/createdb" -h 127.0.0.1 -p "$port" -U xinyong xinyong_test
    echo "postgresql://xinyong@127.0.0.1:$port/xinyong_test"
    ;;
  stop)
    run "$bin/pg_ctl" -D "$dir/data" -m fast stop >/dev/null || true
    ;;
esac
