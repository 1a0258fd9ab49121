#!/usr/bin/env bash
# The release npm package: wasm-pack build --release into pkg/, merged with pkg-template/.
. "$(dirname "$0")/../lib/tier.sh"
"$ROOT/scripts/build"
