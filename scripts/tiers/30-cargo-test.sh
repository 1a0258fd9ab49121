#!/usr/bin/env bash
# Host tests of every crate (unit, integration and doc tests).
. "$(dirname "$0")/../lib/tier.sh"
run_counted cargo test --workspace
