#!/usr/bin/env bash
# Validates what can be validated without a Docker engine: nginx.conf with a real `nginx -t`
# (upstream pointed at localhost, a throw-away self-signed certificate), the Prometheus rules
# (promtool check, and the alert unit tests in prometheus/alerts.test.yml; promtool comes from
# Debian's prometheus package, installed here as root when missing, else a YAML structure
# check), the Grafana dashboard JSON, and the compose file (docker compose config, only where
# docker exists).
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if ! command -v nginx >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get install -y --no-install-recommends nginx >/dev/null
    else
        echo "nginx not installed: skipping nginx -t" >&2
    fi
fi
if command -v nginx >/dev/null; then
    mkdir -p "$tmp/certs"
    openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
        -keyout "$tmp/certs/privkey.pem" -out "$tmp/certs/fullchain.pem" 2>/dev/null
    sed -e "s#server api:8080#server 127.0.0.1:8080#" \
        -e "s#/etc/nginx/certs#$tmp/certs#g" \
        -e "s#/var/log/nginx/access.log#$tmp/access.log#" nginx.conf >"$tmp/nginx.conf"
    nginx -t -q -c "$tmp/nginx.conf" -g "pid $tmp/nginx.pid; error_log $tmp/error.log;"
    echo "nginx.conf: ok (nginx -t)"
fi

if ! command -v promtool >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    # The package starts a Prometheus server; only its promtool is wanted here.
    apt-get install -y --no-install-recommends prometheus >/dev/null
    pkill -x prometheus 2>/dev/null || true
fi
if command -v promtool >/dev/null; then
    promtool check rules prometheus/alerts.yml
    promtool check config prometheus/prometheus.yml
    promtool test rules prometheus/alerts.test.yml
else
    python3 - prometheus/alerts.yml <<'PY'
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
rules = [r for g in doc["groups"] for r in g["rules"]]
for r in rules:
    assert {"alert", "expr", "labels", "annotations"} <= r.keys(), r
    assert r["labels"].get("severity") in {"page", "ticket"}, r
print(f"prometheus/alerts.yml: {len(rules)} rules well-formed (promtool not installed)")
PY
fi

python3 -c 'import json; d = json.load(open("grafana/dashboard.json")); print("grafana/dashboard.json:", len(d["panels"]), "panels, valid JSON")'

if command -v docker >/dev/null && docker compose version >/dev/null 2>&1; then
    docker compose -f docker-compose.yml --env-file .env.example config -q && echo "docker-compose.yml: ok"
else
    python3 -c 'import yaml; d=yaml.safe_load(open("docker-compose.yml")); print("docker-compose.yml: parses; services:", ", ".join(d["services"]))'
fi
