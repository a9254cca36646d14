#!/usr/bin/env bash
# Run before `npm test`: the browser tests drive Debian's chromium with playwright-core (no
# browser is downloaded by npm). On a fresh Debian machine or CI running as root, this installs
# chromium and a small Chinese font (so screenshots show the UI's text) with apt-get. Elsewhere
# it only explains; the tests then fail with the same instructions.
set -euo pipefail

chromium_bin="${CHROMIUM_PATH:-}"
if [ -z "$chromium_bin" ]; then
    chromium_bin=$(command -v chromium || command -v chromium-browser || true)
fi

need=()
if [ -z "$chromium_bin" ] || [ ! -x "$chromium_bin" ]; then
    need+=(chromium)
fi
if command -v fc-list >/dev/null 2>&1 && [ -z "$(fc-list :lang=zh 2>/dev/null | head -n 1)" ]; then
    need+=(fonts-wqy-microhei)
fi
[ ${#need[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "[admin tests] installing ${need[*]} with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
    exit 0
fi

echo "[admin tests] missing: ${need[*]}. Install with:" >&2
echo "    sudo apt-get install -y --no-install-recommends ${need[*]}" >&2
echo "  (or point CHROMIUM_PATH at a Chromium binary)" >&2
exit 0
