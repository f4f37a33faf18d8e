#!/usr/bin/env bash
# Make sure Redis answers on 127.0.0.1:6379 for the shared-cache and replica tests, starting a
# local redis-server if one is installed but stopped. Always exits 0 and says which case it is:
# when the server stays unreachable those tests skip (see tests/replicas/conftest.py).
set -uo pipefail

HOST=127.0.0.1
PORT=6379
WAIT_SECONDS=10

reachable() {
    if command -v redis-cli >/dev/null 2>&1; then
        [ "$(redis-cli -h "$HOST" -p "$PORT" ping 2>/dev/null)" = "PONG" ]
    else
        (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null
    fi
}

if ! reachable && command -v redis-server >/dev/null 2>&1; then
    echo "Starting redis-server on $HOST:$PORT..."
    redis-server --bind "$HOST" --port "$PORT" --daemonize yes --save '' --appendonly no || true
    for _ in $(seq "$WAIT_SECONDS"); do
        reachable && break
        sleep 1
    done
fi

if reachable; then
    echo "Redis reachable at $HOST:$PORT: the shared-cache and replica tests will run."
    exit 0
fi
echo "Redis not reachable at $HOST:$PORT: the shared-cache and replica tests will be skipped."
exit 0
