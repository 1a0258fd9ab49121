#!/usr/bin/env bash
# Size of what a browser downloads: the release .wasm plus its JS glue, raw and gzip -9.
. "$(dirname "$0")/../lib/tier.sh"
wasm="$(pkg_wasm)"
js="$(pkg_js)"
if [ -z "$wasm" ] || [ ! -f "$js" ]; then
    echo "no release package in pkg/ (run scripts/build)"
    exit 1
fi
raw=0
gz=0
for f in "$wasm" "$js"; do
    r=$(wc -c <"$f")
    g=$(gzip -9 -c "$f" | wc -c)
    printf '%-40s raw %8d  gzip -9 %8d\n' "${f#"$ROOT"/}" "$r" "$g"
    raw=$((raw + r))
    gz=$((gz + g))
done
line="size: wasm+js raw $raw bytes, gzip -9 $gz bytes"
echo "$line"
echo "$line" >"$ROOT/test-results/size.txt" 2>/dev/null || true
echo "TIER-NOTE $line"
