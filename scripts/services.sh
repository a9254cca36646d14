#!/usr/bin/env bash
# Makes sure MariaDB (127.0.0.1:3306, root without password) and Redis (127.0.0.1:6379) are
# installed and running, the way the tests and `.ci/run` expect them. Safe to run repeatedly.
set -euo pipefail

log() { printf '[services] %s\n' "$*"; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

ensure_package() { # $1 = command that must exist, $2 = Debian package
    if ! command -v "$1" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$1" ]; then
        log "installing $2"
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
    fi
}

mysql_up() { mysqladmin --protocol=tcp -h 127.0.0.1 -P 3306 -uroot ping >/dev/null 2>&1; }
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }

# Servers that already answer (service containers in GitHub Actions, a developer's own) are
# used as they are; only missing ones are installed and started.
mysql_up || ensure_package mariadbd mariadb-server
redis_up || ensure_package redis-server redis-server

if ! mysql_up; then
    log "starting MariaDB"
    as_root mkdir -p /run/mysqld && as_root chown mysql:mysql /run/mysqld 2>/dev/null || true
    as_root start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
    for _ in $(seq 1 60); do mysql_up && break; sleep 1; done
    mysql_up || { log "MariaDB did not come up"; exit 1; }
fi

if ! redis_up; then
    log "starting Redis"
    as_root mkdir -p /var/lib/redis /var/log/redis
    as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
        --dir /var/lib/redis --logfile /var/log/redis/ci.log
    for _ in $(seq 1 30); do redis_up && break; sleep 1; done
    redis_up || { log "Redis did not come up"; exit 1; }
fi

# Tests connect as root over TCP without a password and create their own databases.
if ! mysql --protocol=tcp -h 127.0.0.1 -uroot -e 'SELECT 1' >/dev/null 2>&1; then
    log "root cannot log in over TCP without a password; see DEVELOPERS.md"
    exit 1
fi
log "MariaDB and Redis are up"
