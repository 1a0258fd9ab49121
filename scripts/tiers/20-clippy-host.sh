#!/usr/bin/env bash
# Lints on the host: every crate and target of the workspace, warnings are errors.
. "$(dirname "$0")/../lib/tier.sh"
cargo clippy --workspace --all-targets --quiet -- -D warnings
