#!/usr/bin/env bash
# Size of what a browser downloads: the release .wasm plus its JS glue (and snippets), raw and gzip -9, against
# the budget; then where the wasm's code bytes go (largest areas and function families), read
# from the release build's function names after the same wasm-opt pass.
. "$(dirname "$0")/../lib/tier.sh"
BUDGET_GZIP=120000
wasm="$(pkg_wasm)"
js="$(pkg_js)"
if [ -z "$wasm" ] || [ ! -f "$js" ]; then
    echo "no release package in pkg/ (run scripts/build)"
    exit 1
fi
raw=0
gz=0
# wasm-bindgen's JS snippets (pkg/snippets/) ship with the glue and count with it.
# (pkg/convene.js already holds the lines scripts/build appends from pkg-template/append/.)
snippets=()
if [ -d "$ROOT/pkg/snippets" ]; then
    mapfile -t snippets < <(find "$ROOT/pkg/snippets" -name '*.js' | sort)
fi
for f in "$wasm" "$js" "${snippets[@]}"; do
    r=$(wc -c <"$f")
    g=$(gzip -9 -c "$f" | wc -c)
    printf '%-40s raw %8d  gzip -9 %8d\n' "${f#"$ROOT"/}" "$r" "$g"
    raw=$((raw + r))
    gz=$((gz + g))
done
line="size: wasm+js raw $raw bytes, gzip -9 $gz bytes (budget $BUDGET_GZIP)"
echo "$line"
mkdir -p "$ROOT/test-results"
echo "$line" >"$ROOT/test-results/size.txt"

# Contributors: the cargo output still has its name section (the release profile does not
# strip); wasm-bindgen + wasm-opt -Oz -g give the same code as the package, with names.
named="$CONVENE_TARGET_DIR/wasm32-unknown-unknown/release/convene.wasm"
if [ -f "$named" ]; then
    tmp="$(mktemp -d -t convene-size.XXXXXX)"
    if wasm-bindgen --target web --out-dir "$tmp" "$named" &&
        wasm-opt -Oz --one-caller-inline-max-function-size=20 -g --strip-dwarf --enable-bulk-memory --enable-nontrapping-float-to-int \
            --enable-sign-ext --enable-mutable-globals "$tmp/convene_bg.wasm" -o "$tmp/named.wasm"; then
        node "$ROOT/scripts/lib/wasm-top.mjs" "$tmp/named.wasm" 15 | tee -a "$ROOT/test-results/size.txt"
    else
        echo "(could not build the named module for the contributor list)"
    fi
    rm -rf "$tmp"
fi
echo "TIER-NOTE $line"
if [ "$gz" -gt "$BUDGET_GZIP" ]; then
    echo "TIER-NOTE size over budget by $((gz - BUDGET_GZIP)) bytes gzip -9"
fi
