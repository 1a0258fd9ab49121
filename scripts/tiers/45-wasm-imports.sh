#!/usr/bin/env bash
# The release .wasm imports nothing from module `env` (an unresolved native symbol would show
# up there and fail at load time).
. "$(dirname "$0")/../lib/tier.sh"
node "$ROOT/scripts/lib/wasm-imports.mjs" "$(pkg_wasm)"
