#!/usr/bin/env bash
# Architecture guards that need no build:
#  - no leaked JS callbacks under src/ (Closure::forget, into_js_value, .forget());
#  - the core reads no clock and no randomness and never sleeps or spawns;
#  - the core's dependency tree has no browser binding and no async runtime;
#  - the server does not depend on the SDK crates.
. "$(dirname "$0")/../lib/tier.sh"
passed=0
failed=0
check() {
    local name="$1" found="$2"
    if [ -z "$found" ]; then
        echo "ok    $name"
        passed=$((passed + 1))
    else
        echo "FAIL  $name"
        sed 's/^/      /' <<<"$found"
        failed=$((failed + 1))
    fi
}

# Code lines (comments stripped) of the .rs files under $1 matching the extended regex $2.
code_grep() {
    local dir="$1" re="$2" f
    [ -d "$dir" ] || return 0
    while IFS= read -r -d '' f; do
        sed 's#//.*$##' "$f" | grep -nE "$re" | sed "s#^#${f#"$ROOT"/}:#"
    done < <(find "$dir" -name '*.rs' -print0 | sort -z)
}

check "no Closure::forget / into_js_value / .forget() under src/" \
    "$(code_grep "$ROOT/src" 'Closure::forget|into_js_value|\.forget\(\)')"

check "no clock, randomness, sleep or spawn in crates/core/src" \
    "$(code_grep "$ROOT/crates/core/src" 'Instant::now|SystemTime::now|Date::now|performance\(\)|thread_rng|Math::random|rand::random|OsRng|getrandom|thread::sleep|thread::spawn')"

core_tree="$(cargo tree -q -p convene-core --target all --prefix none 2>&1)" || {
    check "cargo tree -p convene-core" "$core_tree"
    core_tree=""
}
check "convene-core depends on no wasm-bindgen, web-sys, js-sys or async runtime" \
    "$(grep -E '^(wasm-bindgen|web-sys|js-sys|gloo|tokio|async-std|smol|mio) ' <<<"$core_tree" | sort -u)"

server_tree="$(cargo tree -q -p convene-server --target all --prefix none 2>&1)" || {
    check "cargo tree -p convene-server" "$server_tree"
    server_tree=""
}
check "convene-server does not depend on the SDK crates" \
    "$(grep -E '^(convene|convene-core) ' <<<"$server_tree" | sort -u)"

echo "TIER-COUNT $passed $failed"
[ "$failed" -eq 0 ]
