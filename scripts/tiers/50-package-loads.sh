#!/usr/bin/env bash
# The release package (not the test build) loads and initialises in a real Chromium page.
. "$(dirname "$0")/../lib/tier.sh"
node "$ROOT/scripts/lib/package-loads.mjs" "$ROOT/pkg"
