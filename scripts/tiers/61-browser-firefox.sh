#!/usr/bin/env bash
# wasm-bindgen tests of the convene crate in headless Firefox (capabilities: webdriver.json).
. "$(dirname "$0")/../lib/tier.sh"
out="$(mktemp -t convene-firefox.XXXXXX)"
run_counted wasm-pack test --headless --firefox --mode no-install -- -- --nocapture | tee "$out"
status=${PIPESTATUS[0]}
grep -o 'harness browser: .*' "$out" | head -n 1 | sed 's/^/TIER-NOTE /'
rm -f "$out"
exit "$status"
