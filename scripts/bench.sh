#!/usr/bin/env bash
# Runs the load generator's scenarios against a release build of the shop, on SQLite (embedded
# default) or MySQL + Redis, each against a fresh database. Figures go to target/bench/*.json
# and the terminal; docs/benchmarks.md records them.
#
#   scripts/bench.sh mysql  [scenario ...]     # default: flash-sale spread callbacks browse
#   scripts/bench.sh sqlite [scenario ...]
#
# Extra arguments for a scenario: FLASH_ARGS, SPREAD_ARGS, CALLBACK_ARGS, BROWSE_ARGS.
# BENCH_API_BIN runs another shop-api binary (an A/B against an older build) instead of this tree's.
set -euo pipefail
cd "$(dirname "$0")/.."

backend=${1:-mysql}
shift || true
scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] || scenarios=(flash-sale spread callbacks browse)

scripts/services.sh >/dev/null
cargo build --release -p shop-api -p shop-loadgen >/dev/null

out=target/bench
mkdir -p "$out"
port=${BENCH_PORT:-18090}
password=bench-admin-password

start_api() {
    local dir=$1
    case $backend in
    mysql)
        db=shop_bench
        mysql -uroot -h127.0.0.1 -e "DROP DATABASE IF EXISTS $db; CREATE DATABASE $db CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
        export SHOP_DATABASE_URL="mysql://root@127.0.0.1:3306/$db"
        export SHOP_REDIS_URL=redis://127.0.0.1:6379
        export SHOP_REDIS_PREFIX="bench-$(date +%s%N)"
        ;;
    sqlite)
        export SHOP_DATABASE_URL="sqlite://$dir/shop.db"
        unset SHOP_REDIS_URL SHOP_REDIS_PREFIX
        ;;
    *) echo "backend: mysql or sqlite" >&2; exit 2 ;;
    esac
    SHOP_LISTEN=127.0.0.1:$port SHOP_MEDIA_DIR="$dir/media" SHOP_ADMIN_PASSWORD=$password \
        SHOP_SEED_DEMO=true SHOP_RATE_LIMIT_LOGIN=1000000 SHOP_RATE_LIMIT_ORDERS=1000000 \
        SHOP_LOG_FORMAT=json RUST_LOG=warn \
        "${BENCH_API_BIN:-target/release/shop-api}" >"$dir/api.log" 2>&1 &
    api_pid=$!
    for _ in $(seq 1 100); do
        curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "the API did not become ready; see $dir/api.log" >&2
    exit 1
}

stop_api() {
    kill "$api_pid" 2>/dev/null || true
    wait "$api_pid" 2>/dev/null || true
}
trap stop_api EXIT

for scenario in "${scenarios[@]}"; do
    dir=$(mktemp -d /tmp/shop-bench.XXXXXX)
    start_api "$dir"
    if [ "$scenario" = flash-sale-x20 ]; then
        # Twenty flash sales in a row on one server: each its own SKU, all must end exactly sold out.
        echo "== flash-sale x20 on $backend ($(git rev-parse --short HEAD), $(nproc) cores)"
        ok=0
        for i in $(seq 1 20); do
            if target/release/shop-loadgen --base "http://127.0.0.1:$port" --admin-password $password \
                --database-url "$SHOP_DATABASE_URL" flash-sale --buyers "${REPEAT_BUYERS:-2000}" --stock 100 \
                2>/dev/null | tee "$dir/run.txt" | grep -q 'HOLD.*sold 100 of 100 (oversold 0)'; then
                ok=$((ok + 1))
            fi
            grep 'requests in\|p50' "$dir/run.txt" | tr -s ' ' | tr '\n' ' '
            echo
        done
        echo "flash-sale x20: $ok of 20 runs sold exactly 100 with no oversell"
        stop_api
        rm -rf "$dir"
        continue
    fi
    case $scenario in
    flash-sale) args=${FLASH_ARGS:-} ;;
    spread) args=${SPREAD_ARGS:-} ;;
    callbacks) args=${CALLBACK_ARGS:-} ;;
    browse) args=${BROWSE_ARGS:-} ;;
    *) echo "unknown scenario $scenario" >&2; exit 2 ;;
    esac
    echo "== $scenario on $backend ($(git rev-parse --short HEAD), $(nproc) cores)"
    # shellcheck disable=SC2086
    target/release/shop-loadgen --base "http://127.0.0.1:$port" --admin-password $password \
        --database-url "$SHOP_DATABASE_URL" --json "$out/$scenario-$backend.json" \
        "$scenario" $args
    stop_api
    rm -rf "$dir"
done
