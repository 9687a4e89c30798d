#!/usr/bin/env bash
# Builds the web app (frontend/) into frontend/dist, which `xinex run` serves at `/`.
#   - `npm ci` only when package-lock.json changed since the last install (a hash in node_modules/);
#   - `vite build` (after `tsc -b`) only when its inputs changed: package-lock.json, index.html, the
#     configs, src/ and public/ (their hash is kept beside node_modules, the build must have produced
#     dist/index.html).
# A no-op check takes a few milliseconds. XINEX_SKIP_WEB_BUILD=1 skips it (the API then answers `/`
# with how to build it).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../frontend"

if [[ "${XINEX_SKIP_WEB_BUILD:-}" == "1" ]]; then
    echo "web app: build skipped (XINEX_SKIP_WEB_BUILD=1)"
    exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
    echo "web app: npm not found; install Node.js 20+ and run 'make install' again (the API works without it)" >&2
    exit 0
fi

hash_of() { sha256sum "$@" | sha256sum | cut -c1-64; }

lock_hash=$(hash_of package-lock.json)
lock_stamp=node_modules/.xinex-lock-hash
if [[ ! -f $lock_stamp || "$(cat "$lock_stamp")" != "$lock_hash" ]]; then
    echo "web app: npm ci"
    npm ci --no-audit --no-fund --loglevel=error
    echo "$lock_hash" > "$lock_stamp"
fi

mapfile -d '' inputs < <(find src public -type f -print0 2>/dev/null | sort -z)
build_hash=$(hash_of package-lock.json package.json index.html vite.config.ts tsconfig.json "${inputs[@]}")
build_stamp=node_modules/.xinex-build-hash
if [[ -f dist/index.html && -f $build_stamp && "$(cat "$build_stamp")" == "$build_hash" ]]; then
    echo "web app: up to date (frontend/dist)"
    exit 0
fi
echo "web app: building frontend/dist"
npm run --silent build
echo "$build_hash" > "$build_stamp"
