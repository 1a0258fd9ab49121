#!/usr/bin/env bash
# aiortc (Python WebRTC, from PyPI) as an independent OVSP client: it joins a room of
# convene-server --dev with a Chromium page, publishes generated audio and video, and each side
# receives the other's media through the SFU. The venv lives in .tools/media-venv (gitignored).
. "$(dirname "$0")/../../scripts/lib/tier.sh"

VENV="$ROOT/.tools/media-venv"
if ! "$VENV/bin/python" -c 'import aiortc, websockets' 2>/dev/null; then
    echo "media-aiortc: creating $VENV"
    python3 -m venv "$VENV" && "$VENV/bin/pip" install --quiet -r "$ROOT/tests/media/requirements.txt" ||
        { echo "media-aiortc: cannot install aiortc"; echo "TIER-COUNT 0 1"; exit 1; }
fi
if [ ! -d "$ROOT/node_modules/playwright-core" ]; then
    npm ci --no-audit --no-fund || { echo "TIER-COUNT 0 1"; exit 1; }
fi
echo "media-aiortc: building convene-server (release)"
if ! cargo build --release --quiet -p convene-server; then
    echo "media-aiortc: convene-server does not build"
    echo "TIER-COUNT 0 1"
    exit 1
fi
export CONVENE_SERVER="$CONVENE_TARGET_DIR/release/convene-server"
export PYTHON="$VENV/bin/python"
exec node "$ROOT/tests/media/aiortc.mjs" "$@"
