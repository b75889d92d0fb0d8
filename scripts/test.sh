#!/usr/bin/env bash
# The whole suite, twice: on SQLite, then on a real PostgreSQL server started here on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
py=.venv/bin/python
export PYTHONDONTWRITEBYTECODE=1
mkdir -p test-artifacts

echo "== Lint"
.venv/bin/ruff check src tests benchmarks

echo "== Structure (docs/architecture.md)"
.venv/bin/lint-imports

echo "== Types"
.venv/bin/mypy src

echo "== Tests on SQLite"
$py -m pytest -q -p no:cacheprovider "$@"

echo "== Tests on PostgreSQL"
pgdir=$(mktemp -d /tmp/xinyong-pg.XXXXXX)
trap 'scripts/pg-test-server.sh stop "$pgdir"; rm -rf "$pgdir"' EXIT
url=$(scripts/pg-test-server.sh start "$pgdir")
XINYONG_TEST_DATABASE_URL="$url" $py -m pytest -q -p no:cacheprovider "$@"
