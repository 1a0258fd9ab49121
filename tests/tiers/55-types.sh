#!/usr/bin/env bash
# TypeScript type test: tests/types/api.ts (every documented method and event, with negative
# `@ts-expect-error` checks) compiled with `tsc --noEmit`, first against the declaration source
# src/api/convene.d.ts, then against the release package's generated pkg/convene.d.ts.
. "$(dirname "$0")/../../scripts/lib/tier.sh"
passed=0
failed=0
check() {
    local label="$1"
    shift
    if "$@"; then
        echo "ok: $label"
        passed=$((passed + 1))
    else
        echo "FAILED: $label"
        failed=$((failed + 1))
    fi
}
check "types against src/api/convene.d.ts" tsc -p tests/types/tsconfig.json
if [ -f pkg/convene.d.ts ]; then
    check "types against pkg/convene.d.ts" tsc -p tests/types/tsconfig.pkg.json
    check "pkg/convene.d.ts declares the facades" \
        grep -q "export declare class RoomSession" pkg/convene.d.ts
else
    echo "FAILED: no release package in pkg/ (run scripts/build)"
    failed=$((failed + 1))
fi
echo "TIER-COUNT $passed $failed"
[ "$failed" -eq 0 ]
