#!/usr/bin/env bash
# Media through the SFU in real Chromium: two pages join one room of convene-server --dev over
# OVSP with plain browser WebRTC (tests/media/ovsp-client.js) and receive each other's audio and
# video; a moderator block and a leave take effect at the other page within 1 s.
. "$(dirname "$0")/../../scripts/lib/tier.sh"

if [ ! -d "$ROOT/node_modules/playwright-core" ]; then
    echo "media-browser: installing node dev dependencies"
    npm ci --no-audit --no-fund || { echo "TIER-COUNT 0 1"; exit 1; }
fi
echo "media-browser: building convene-server (release)"
if ! cargo build --release --quiet -p convene-server; then
    echo "media-browser: convene-server does not build"
    echo "TIER-COUNT 0 1"
    exit 1
fi
export CONVENE_SERVER="$CONVENE_TARGET_DIR/release/convene-server"
exec node "$ROOT/tests/media/run.mjs" "$@"
