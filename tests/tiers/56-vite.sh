#!/usr/bin/env bash
# The packed npm tarball in a fresh Vite app: `npm pack` pkg/, install it with vite@7 into a
# copy of tests/vite-fixture, type-check and build the app, then load the build in Chromium.
. "$(dirname "$0")/../../scripts/lib/tier.sh"
if [ ! -f pkg/package.json ]; then
    echo "no release package in pkg/ (run scripts/build)"
    exit 1
fi
work="$(mktemp -d -t convene-vite.XXXXXX)"
trap 'rm -rf "$work"' EXIT
set -e
tarball="$(cd pkg && npm pack --silent --pack-destination "$work" | tail -n 1)"
echo "packed $tarball ($(wc -c <"$work/$tarball") bytes)"
cp -r tests/vite-fixture/. "$work/app"
cd "$work/app"
npm install --no-audit --no-fund --silent "vite@7" "typescript@5.9.3" "$work/$tarball"
npx tsc --noEmit --strict --module esnext --moduleResolution bundler --target es2022 \
    --lib es2022,dom --skipLibCheck false src/main.ts
npx vite build --logLevel warn
ls -la dist dist/assets
ls dist/assets | grep -q '\.wasm$'
cd "$ROOT"
node tests/vite-fixture/check.mjs "$work/app/dist"
