#!/usr/bin/env bash
# convene-core against the real reference server: starts `convene-server --dev --no-media` on a
# free loopback port, runs the ignored live tests of crates/core/tests/live_server.rs against it
# (CONVENE_TEST_SERVER), stops the server. Debug builds, so it reuses the `cargo test` tier's
# artifacts. Server log: test-results/core-live-server.log.
. "$(dirname "$0")/../../scripts/lib/tier.sh"

echo "core-live: building convene-server and the live test"
if ! cargo build --quiet -p convene-server ||
    ! cargo test --quiet -p convene-core --test live_server --no-run; then
    echo "core-live: the server or the live test does not build"
    echo "TIER-COUNT 0 1"
    exit 1
fi
server="$CONVENE_TARGET_DIR/debug/convene-server"
mkdir -p "$ROOT/test-results"
log="$ROOT/test-results/core-live-server.log"

# A free loopback port (bound, read, released), then the server on it.
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
"$server" --dev --no-media --bind "127.0.0.1:$port" >"$log" 2>&1 &
pid=$!
cleanup() {
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
}
trap cleanup EXIT

ready=0
for _ in $(seq 1 200); do
    if curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null; then
        ready=1
        break
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
        break
    fi
    sleep 0.1
done
if [ "$ready" != 1 ]; then
    echo "core-live: the server did not answer /healthz on port $port"
    tail -n 20 "$log"
    echo "TIER-COUNT 0 1"
    exit 1
fi
echo "core-live: convene-server (pid $pid) on 127.0.0.1:$port"

export CONVENE_TEST_SERVER="127.0.0.1:$port"
run_counted cargo test -p convene-core --test live_server -- --ignored --nocapture --test-threads 2
status=$?
[ "$status" -eq 0 ] || echo "core-live: server log in test-results/core-live-server.log"
exit "$status"
