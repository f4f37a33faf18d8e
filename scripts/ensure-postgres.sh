#!/usr/bin/env bash
# Make sure PostgreSQL answers on 127.0.0.1:5432 for the contract tests, starting a local
# cluster if one is installed but stopped. Always exits 0 and says which case it is: when the
# server stays unreachable the PostgreSQL contract tests skip (see tests/conftest.py).
set -uo pipefail

HOST=127.0.0.1
PORT=5432
WAIT_SECONDS=20

reachable() {
    if command -v pg_isready >/dev/null 2>&1; then
        pg_isready -q -h "$HOST" -p "$PORT"
    else
        (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null
    fi
}

if ! reachable && [ -d /etc/postgresql ] && command -v pg_ctlcluster >/dev/null 2>&1; then
    for version in $(ls /etc/postgresql); do
        echo "Starting PostgreSQL $version cluster 'main'..."
        pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    done
    for _ in $(seq "$WAIT_SECONDS"); do
        reachable && break
        sleep 1
    done
fi

if reachable; then
    echo "PostgreSQL reachable at $HOST:$PORT: the PostgreSQL contract tests will run."
    exit 0
fi
echo "PostgreSQL not reachable at $HOST:$PORT: the PostgreSQL contract tests will be skipped."
exit 0
