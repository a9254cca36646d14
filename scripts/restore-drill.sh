#!/usr/bin/env bash
# Backup and restore drill on MySQL/MariaDB: a shop database with real rows (migrated, seeded,
# orders placed through the API), dumped with mysqldump --single-transaction, restored into
# another database, then checked: same row counts per table and an intact audit chain.
# Scratch databases are dropped at the end. Prints each step with its time.
#
#   scripts/restore-drill.sh            (local MariaDB, root without password, as in the tests)
#   MYSQL="mysql -h db -uroot -psecret" MYSQLDUMP="mysqldump -h db -uroot -psecret" scripts/restore-drill.sh
set -euo pipefail
cd "$(dirname "$0")/.."

MYSQL=${MYSQL:-"mysql -h127.0.0.1 -uroot"}
MYSQLDUMP=${MYSQLDUMP:-"mysqldump -h127.0.0.1 -uroot"}
URL_BASE=${URL_BASE:-"mysql://root@127.0.0.1:3306"}
src=shop_drill_src_$$
dst=shop_drill_restored_$$
work=$(mktemp -d /tmp/shop-restore.XXXXXX)
api_pid=
cleanup() {
    [ -n "$api_pid" ] && kill "$api_pid" 2>/dev/null
    $MYSQL -e "DROP DATABASE IF EXISTS $src; DROP DATABASE IF EXISTS $dst" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
step() { printf '%-58s' "$1"; t0=$(date +%s.%N); }
done_() { printf '%6.2f s  %s\n' "$(echo "$(date +%s.%N) - $t0" | bc)" "${1:-}"; }

cargo build -q -p shop-admin -p shop-api -p shop-loadgen --release

step "1. a shop database: migrate + demo catalogue"
$MYSQL -e "CREATE DATABASE $src CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
SHOP_DATABASE_URL=$URL_BASE/$src SHOP_MEDIA_DIR=$work/media target/release/shop-admin migrate >/dev/null
SHOP_DATABASE_URL=$URL_BASE/$src SHOP_MEDIA_DIR=$work/media SHOP_OPERATOR=drill \
    target/release/shop-admin --yes seed-demo >/dev/null
done_

step "2. orders through the API (200 shoppers, flash sale of 100)"
SHOP_DATABASE_URL=$URL_BASE/$src SHOP_LISTEN=127.0.0.1:18099 SHOP_MEDIA_DIR=$work/media \
    SHOP_ADMIN_PASSWORD=restore-drill-pw SHOP_RATE_LIMIT_LOGIN=1000000 SHOP_RATE_LIMIT_ORDERS=1000000 \
    RUST_LOG=error target/release/shop-api >"$work/api.log" 2>&1 &
api_pid=$!
for _ in $(seq 1 100); do curl -fs http://127.0.0.1:18099/readyz >/dev/null 2>&1 && break; sleep 0.1; done
target/release/shop-loadgen --base http://127.0.0.1:18099 --admin-password restore-drill-pw \
    flash-sale --buyers 200 --stock 100 --concurrency 16 >/dev/null 2>&1
kill "$api_pid"; wait "$api_pid" 2>/dev/null || true; api_pid=
done_

step "3. mysqldump --single-transaction --routines"
$MYSQLDUMP --single-transaction --routines --triggers --set-gtid-purged=OFF "$src" 2>/dev/null >"$work/dump.sql" ||
    $MYSQLDUMP --single-transaction --routines --triggers "$src" >"$work/dump.sql"
gzip -k "$work/dump.sql"
done_ "$(du -h "$work/dump.sql.gz" | cut -f1) compressed"

step "4. restore into a new database"
$MYSQL -e "CREATE DATABASE $dst CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
gunzip -c "$work/dump.sql.gz" | $MYSQL "$dst"
done_

step "5. row counts, table by table"
tables=$($MYSQL -N -e "SELECT table_name FROM information_schema.tables WHERE table_schema='$src' ORDER BY table_name")
diffs=0
summary=""
for t in $tables; do
    a=$($MYSQL -N -e "SELECT COUNT(*) FROM $src.\`$t\`")
    b=$($MYSQL -N -e "SELECT COUNT(*) FROM $dst.\`$t\`")
    [ "$a" = "$b" ] || diffs=$((diffs + 1))
    case $t in orders | order_items | users | audit_log | outbox_events) summary="$summary $t=$b" ;; esac
done
done_ "$(echo "$tables" | wc -w) tables, $diffs differ;$summary"

step "6. audit chain of the restored database"
verify=$(SHOP_DATABASE_URL=$URL_BASE/$dst SHOP_MEDIA_DIR=$work/media target/release/shop-admin --json audit verify)
done_ "$verify"

step "7. the restored shop serves"
SHOP_DATABASE_URL=$URL_BASE/$dst SHOP_LISTEN=127.0.0.1:18099 SHOP_MEDIA_DIR=$work/media RUST_LOG=error \
    target/release/shop-api >"$work/api2.log" 2>&1 &
api_pid=$!
for _ in $(seq 1 100); do curl -fs http://127.0.0.1:18099/readyz >/dev/null 2>&1 && break; sleep 0.1; done
products=$(curl -fs http://127.0.0.1:18099/api/v1/products | python3 -c 'import sys,json;print(json.load(sys.stdin)["total"])')
done_ "/readyz 200, $products products on the shelf"

[ "$diffs" = 0 ] && echo "$verify" | grep -q intact && echo "RESTORE DRILL PASSED" || { echo "RESTORE DRILL FAILED"; exit 1; }
