#!/usr/bin/env bash
# The facades (RoomSession, Room, Call, connect()) of the release package in headless Chromium
# against the real server: tests/api/facades.mjs (it starts `convene-server --dev` itself).
. "$(dirname "$0")/../../scripts/lib/tier.sh"
if [ ! -f pkg/convene.js ]; then
    echo "no release package in pkg/ (run scripts/build)"
    exit 1
fi
if ! cargo build --release --quiet -p convene-server; then
    echo "convene-server does not build"
    echo "TIER-COUNT 0 1"
    exit 1
fi
export CONVENE_SERVER="$CONVENE_TARGET_DIR/release/convene-server"
node tests/api/facades.mjs
