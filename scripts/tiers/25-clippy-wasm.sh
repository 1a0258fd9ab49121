#!/usr/bin/env bash
# Lints on wasm32 for the crates that ship in the browser package (and the convene crate's
# browser tests), warnings are errors.
. "$(dirname "$0")/../lib/tier.sh"
cargo clippy --target wasm32-unknown-unknown -p convene -p ovsp -p convene-core --quiet -- -D warnings &&
    cargo clippy --target wasm32-unknown-unknown -p convene --tests --quiet -- -D warnings
