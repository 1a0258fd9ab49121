# Helpers for tier scripts (sourced). See tests/tiers/README.md for the tier contract.
#
#   ROOT       repository root (set by the caller or derived here)
#   run_counted CMD...   runs CMD, passes its output through, sums the `test result:` lines
#                        that cargo test / wasm-bindgen-test print, then prints
#                        `TIER-COUNT <passed> <failed>` and returns CMD's exit status.
set -uo pipefail
: "${ROOT:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
# shellcheck source=scripts/env.sh
. "$ROOT/scripts/env.sh"
cd "$ROOT" || exit 1

run_counted() {
    local out status passed failed
    out="$(mktemp -t convene-tier.XXXXXX)"
    "$@" 2>&1 | tee "$out"
    status=${PIPESTATUS[0]}
    passed=$(sed -n 's/.*test result: [A-Za-z]*\. \([0-9]*\) passed; \([0-9]*\) failed.*/\1/p' "$out" |
        awk '{s += $1} END {print s + 0}')
    failed=$(sed -n 's/.*test result: [A-Za-z]*\. \([0-9]*\) passed; \([0-9]*\) failed.*/\2/p' "$out" |
        awk '{s += $1} END {print s + 0}')
    if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
        failed=1 # it did not get as far as running (or reporting) the tests
    fi
    rm -f "$out"
    echo "TIER-COUNT $passed $failed"
    return "$status"
}

# The release package's file names (after scripts/build).
pkg_wasm() { ls "$ROOT"/pkg/*_bg.wasm 2>/dev/null | head -n 1; }
pkg_js() {
    local w
    w="$(pkg_wasm)"
    [ -n "$w" ] && echo "${w%_bg.wasm}.js"
}
