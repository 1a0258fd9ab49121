#!/usr/bin/env bash
# Formatting: cargo fmt --check over the whole workspace.
. "$(dirname "$0")/../lib/tier.sh"
cargo fmt --all --check -- --color never
