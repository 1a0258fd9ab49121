# Sourced by the scripts in this folder: the repository root and a PATH where the pinned tools
# win (npm's binaryen wasm-opt first, never Debian's binaryen 108; then ~/.cargo/bin).
# Expects ROOT to be set to the repository root.
export CONVENE_ROOT="$ROOT"
# `cargo install` puts tools in $CARGO_INSTALL_ROOT/bin, else $CARGO_HOME/bin.
CARGO_BIN="${CARGO_INSTALL_ROOT:-${CARGO_HOME:-$HOME/.cargo}}/bin"
case ":$PATH:" in
*":$ROOT/node_modules/.bin:$CARGO_BIN:"*) ;;
*) export PATH="$ROOT/node_modules/.bin:$CARGO_BIN:$PATH" ;;
esac
# Where cargo puts build output (CARGO_TARGET_DIR if set, else the clone's target/).
export CONVENE_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
# wasm-bindgen-test gives a whole browser suite 20 s by default; a loaded CI machine needs more.
export WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-300}"
# Incremental caches only help repeated local edits; on CI they add gigabytes per build.
if [ -n "${CI:-}" ]; then
    export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
fi
