#!/usr/bin/env bash
# End-to-end journeys: the demo (www/) on the release package (pkg/) against convene-server in
# dev mode, driven in headless Chromium with fake media. See tests/e2e/run.mjs.
. "$(dirname "$0")/../../scripts/lib/tier.sh"

if [ ! -f "$ROOT/pkg/convene.js" ]; then
    echo "e2e: pkg/ is missing; building the release package"
    "$ROOT/scripts/build" || { echo "e2e: the package does not build"; echo "TIER-COUNT 0 1"; exit 1; }
fi
echo "e2e: building convene-server (release)"
if ! cargo build --release --quiet -p convene-server; then
    echo "e2e: convene-server does not build"
    echo "TIER-COUNT 0 1"
    exit 1
fi
export CONVENE_SERVER="$CONVENE_TARGET_DIR/release/convene-server"
exec node "$ROOT/tests/e2e/run.mjs" "$@"
