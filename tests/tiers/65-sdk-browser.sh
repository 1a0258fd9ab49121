#!/usr/bin/env bash
# SDK browser tests against the real server: starts `convene-server --dev` on a free loopback
# port, mints dev tokens, and runs tests/sdk_session.rs (wasm-bindgen-test, headless Chromium
# and Firefox with fake media) with the server URL and the tokens compiled in (SDK_TEST_SIGNAL_URL,
# SDK_TEST_TOKENS). Server log: test-results/sdk-server.log.
. "$(dirname "$0")/../../scripts/lib/tier.sh"

echo "sdk: building convene-server (release)"
if ! cargo build --release --quiet -p convene-server; then
    echo "sdk: convene-server does not build"
    echo "TIER-COUNT 0 1"
    exit 1
fi
server="$CONVENE_TARGET_DIR/release/convene-server"
mkdir -p "$ROOT/test-results"
log="$ROOT/test-results/sdk-server.log"
port="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
"$server" --dev --bind "127.0.0.1:$port" >"$log" 2>&1 &
pid=$!
cleanup() {
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
}
trap cleanup EXIT

# Wait for /healthz, then mint one token per (room, identity) the tests use.
keys="join.a media.a media.b media.c token.a token.a2 drop.a drop.b cycle.a"
tokens="$(PORT="$port" KEYS="$keys" node -e '
const base = `http://127.0.0.1:${process.env.PORT}`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
(async () => {
  for (let i = 0; ; i++) {
    try { if ((await fetch(`${base}/healthz`)).ok) break; } catch {}
    if (i > 100) { console.error("server did not start"); process.exit(1); }
    await sleep(100);
  }
  const out = [];
  for (const key of process.env.KEYS.split(" ")) {
    const [room, who] = key.split(".");
    const identity = who.replace(/[0-9]+$/, "");
    const res = await fetch(`${base}/dev/token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ room: `sdk-${room}-${process.pid}`, identity }),
    });
    if (!res.ok) { console.error(`token ${key}: HTTP ${res.status}`); process.exit(1); }
    out.push(`${key}=${(await res.json()).token}`);
  }
  console.log(out.join(","));
})();
')" || {
    echo "sdk: could not reach the server or mint tokens"
    tail -n 20 "$log"
    echo "TIER-COUNT 0 1"
    exit 1
}
export SDK_TEST_SIGNAL_URL="ws://127.0.0.1:$port/ovsp"
export SDK_TEST_TOKENS="$tokens"
# The runner gives the whole suite 20 s by default; on a loaded 2-core machine it needs more.
export WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-300}"
# Chromium, then Firefox, against the same server (the counts of both runs are summed).
both() {
    local status=0
    for browser in chrome firefox; do
        echo "sdk: $browser"
        wasm-pack test --headless "--$browser" --mode no-install -- \
            --features server-tests --test sdk_session -- --nocapture || status=1
    done
    return "$status"
}
run_counted both
