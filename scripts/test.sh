#!/usr/bin/env bash
# The one command that runs every test: Rust (unit, property, contract, API) against real
# MariaDB and Redis, then the front-end suites. Used by the README and by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/services.sh

if ! cargo nextest --version >/dev/null 2>&1; then
    echo "[test] installing cargo-nextest"
    cargo install cargo-nextest --locked
fi

echo "[test] cargo nextest run --workspace"
cargo nextest run --workspace --no-fail-fast

for suite in frontend/*/package.json; do
    [ -e "$suite" ] || continue
    dir=$(dirname "$suite")
    echo "[test] npm test in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error && npm test)
done
