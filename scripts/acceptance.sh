#!/usr/bin/env bash
# The owner's acceptance checklist (Sprint 0 and phase 1, docs/acceptance.md), run against a
# RUNNING shop in sandbox mode. Prints PASS/FAIL per line and exits non-zero if any line fails.
#
#   cargo run -p shop-api &                      # with SHOP_ADMIN_PASSWORD set, e.g. acceptance-pw-1
#   SHOP_ADMIN_PASSWORD=acceptance-pw-1 scripts/acceptance.sh [http://127.0.0.1:8080]
#
# Needs only python3 (standard library). Each run creates its own products and shoppers, so it
# can be repeated against the same shop. The shop's per-minute rate limits must allow ~120
# logins from this address (SHOP_RATE_LIMIT_LOGIN ≥ 150).
set -euo pipefail
BASE=${1:-${SHOP_BASE:-http://127.0.0.1:8080}}
: "${SHOP_ADMIN_PASSWORD:?set SHOP_ADMIN_PASSWORD to the shop admin password}"
cd "$(dirname "$0")/.."
exec python3 - "$BASE" "$SHOP_ADMIN_PASSWORD" <<'PY'
import concurrent.futures as cf, json, sys, time, urllib.error, urllib.request, uuid

BASE, ADMIN_PW = sys.argv[1].rstrip("/"), sys.argv[2]
API = BASE + "/api/v1"
RUN = uuid.uuid4().hex[:8]
results = []

def call(method, url, token=None, body=None, headers=None, raw=False):
    h = {"content-type": "application/json"}
    if token: h["authorization"] = "Bearer " + token
    h.update(headers or {})
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            payload = r.read()
            return r.status, (payload if raw else (json.loads(payload) if payload else None))
    except urllib.error.HTTPError as e:
        payload = e.read()
        try: return e.code, json.loads(payload)
        except Exception: return e.code, payload

def check(line, fn):
    try:
        detail = fn()
        results.append((line, True, detail or ""))
    except AssertionError as e:
        results.append((line, False, str(e)))
    except Exception as e:
        results.append((line, False, f"{type(e).__name__}: {e}"))
    ok, text = results[-1][1], results[-1][2]
    print(f"{'PASS' if ok else 'FAIL'}  {line}" + (f"  — {text}" if text else ""), flush=True)

def shopper(code):
    s, v = call("POST", API + "/auth/wechat-login", body={"code": f"acc-{RUN}-{code}"})
    assert s == 200, f"login {s} {v}"
    t = v["token"]
    s, a = call("POST", API + "/addresses", t, {"receiver": "验收", "phone": "13800000000", "province": "黑龙江省",
        "city": "哈尔滨市", "district": "五常市", "detail": "验收路 1 号"})
    assert s == 201, f"address {s} {a}"
    return t, a["id"]

def order(token, address, sku, key=None, qty=1):
    return call("POST", API + "/orders", token, {"address_id": address, "items": [{"sku_id": sku, "quantity": qty}]},
                {"Idempotency-Key": key or str(uuid.uuid4())})

def wait_paid(token, oid):
    for _ in range(100):
        s, o = call("GET", f"{API}/orders/{oid}?check_payment=true", token)
        if o.get("status") == "PAID": return o
        time.sleep(0.1)
    raise AssertionError(f"order {oid} never PAID: {o}")

s, v = call("POST", API + "/admin/auth/login", body={"username": "admin", "password": ADMIN_PW})
if s != 200:
    sys.exit(f"admin login failed ({s}): {v}")
ADMIN = v["token"]

def product(stock, price=5990):
    s, p = call("POST", API + "/admin/products", ADMIN, {"title": f"五常大米 验收 {RUN}", "description": "稻花香2号，当季新米",
        "on_sale": True, "skus": [{"spec": "5kg", "price_fen": price, "stock": stock}]})
    assert s == 201, f"create product {s} {p}"
    return p["id"], p["skus"][0]["id"]

# ---------------- Sprint 0 ----------------
def s0_openapi():
    s, served = call("GET", BASE + "/openapi.json")
    assert s == 200, f"/openapi.json {s}"
    committed = json.load(open("docs/openapi.json"))
    assert sorted(served["paths"]) == sorted(committed["paths"]), "served and committed paths differ"
    return f"{len(committed['paths'])} paths, served == docs/openapi.json"
check("S0-1 OpenAPI in the repo, generated from the code", s0_openapi)

def s0_ready():
    s, v = call("GET", BASE + "/readyz")
    assert s == 200, f"/readyz {s} {v}"
    return ", ".join(c["name"] for c in v["checks"]) + " ready (migrations applied at start)"
check("S0-2 dev environment runs: database (+Redis) ready, migrations applied", s0_ready)

def s0_demo():
    s, v = call("GET", API + "/products")
    assert s == 200 and v["total"] >= 1, f"no products: {v}"
    pid, sku = product(10)
    t, a = shopper("s0")
    s, o = order(t, a, sku)
    assert s == 201 and o["status"] == "PENDING_PAYMENT", f"{s} {o}"
    return f"{v['total']} products on the shelf; order {o['order_no']} placed"
check("S0-3 sample product and an order", s0_demo)

def s0_callback():
    _, sku = product(5)
    t, a = shopper("s0cb")
    _, o = order(t, a, sku)
    s, p = call("POST", f"{API}/orders/{o['id']}/pay", t)
    assert s == 200 and p["package"].startswith("prepay_id="), f"pay {s} {p}"
    call("POST", BASE + "/sandbox/control/faults", body={"out_trade_no": o["order_no"], "duplicates": 3})
    s, v = call("POST", BASE + "/sandbox/control/pay", body={"out_trade_no": o["order_no"]})
    assert s == 200, f"sandbox pay {s} {v} (is the shop in sandbox mode?)"
    wait_paid(t, o["id"])
    for _ in range(50):
        s, d = call("GET", BASE + "/sandbox/control/deliveries?key=" + o["order_no"])
        if sum(1 for x in d if x["status"] == 204) >= 4: break
        time.sleep(0.1)
    acked = sum(1 for x in d if x["status"] == 204)
    s, m = call("GET", f"{API}/admin/orders/{o['id']}/money", ADMIN)
    assert m["payment"]["status"] == "SUCCEEDED" and m["order"]["paid_fen"] == o["payable_fen"], m
    return f"4 identical signed callbacks, {acked} acknowledged, paid once ({m['order']['paid_fen']} fen)"
check("S0-4 payment callback simulated locally, idempotent", s0_callback)

# ---------------- Phase 1 ----------------
def p1_shelf():
    pid, sku = product(42, 12900)
    s, d = call("GET", f"{API}/products/{pid}")
    assert s == 200, d
    assert d["skus"][0]["price_fen"] == 12900 and d["skus"][0]["available"] == 42 and d["description"], d
    s, page = call("GET", API + "/products?per_page=50")
    cover = next((p.get("cover_url") for p in page["items"] if p.get("cover_url")), None)
    assert cover, "no product with a picture on the shelf"
    s, img = call("GET", cover, raw=True)
    assert s == 200 and len(img) > 100, f"picture {cover}: {s}"
    return f"price 129.00, stock 42, description; picture {len(img)} bytes"
check("P1-1 products show picture, price, stock, description", p1_shelf)

PAID = {}
def p1_pay():
    _, sku = product(5)
    t, a = shopper("p1pay")
    _, o = order(t, a, sku)
    s, p = call("POST", f"{API}/orders/{o['id']}/pay", t)
    assert s == 200 and p["paySign"], p
    call("POST", BASE + "/sandbox/control/pay", body={"out_trade_no": o["order_no"]})
    paid = wait_paid(t, o["id"])
    PAID.update(token=t, order=paid)
    return f"order {paid['order_no']} PAID after the sandbox's signed callback"
check("P1-2 order, WeChat payment, callback → PAID", p1_pay)

def p1_idem():
    _, sku = product(10)
    t, a = shopper("p1idem")
    key = str(uuid.uuid4())
    s1, o1 = order(t, a, sku, key)
    s2, o2 = order(t, a, sku, key)
    assert s1 == 201 and s2 == 200 and o1["id"] == o2["id"], f"{s1} {s2}"
    s, d = call("GET", f"{API}/admin/products", ADMIN)
    s, v = call("GET", f"{API}/orders?per_page=50", t)
    assert v["total"] == 1, f"{v['total']} orders for one key"
    time.sleep(1.1)  # the shelf cache (1 s)
    s, p = call("GET", f"{API}/products/{o1['lines'][0]['product_id']}")
    assert p["skus"][0]["available"] == 9, f"available {p['skus'][0]['available']}, expected 9"
    return "same key twice → one order, stock taken once (10 → 9); duplicate callbacks: S0-4"
check("P1-3 idempotency: repeated submit or callback makes no second order or deduction", p1_idem)

def p1_concurrency():
    pid, sku = product(30)
    buyers = [shopper(f"p1c{i}") for i in range(100)]
    with cf.ThreadPoolExecutor(100) as ex:
        answers = list(ex.map(lambda b: order(b[0], b[1], sku)[0], buyers))
    created, sold_out = answers.count(201), answers.count(409)
    time.sleep(1.1)
    s, p = call("GET", f"{API}/products/{pid}")
    avail = p["skus"][0]["available"]
    assert created == 30 and sold_out == 70 and avail == 0, f"{created} created, {sold_out} sold out, {avail} left"
    return "100 concurrent orders for 30 units: 30 created, 70 OUT_OF_STOCK, 0 left, 0 oversold"
check("P1-4 100 concurrent orders, oversell 0", p1_concurrency)

def p1_backoffice():
    import datetime
    o = PAID["order"]
    # Export days are China dates (UTC+8); the order's timestamp is UTC.
    created = datetime.datetime.fromisoformat(o["created_at"].replace("Z", "+00:00"))
    day = (created + datetime.timedelta(hours=8)).date().isoformat()
    req = urllib.request.Request(f"{API}/admin/orders/export.csv?from={day}&to={day}", headers={"authorization": "Bearer " + ADMIN})
    csv = urllib.request.urlopen(req, timeout=30).read().decode("utf-8")
    assert csv.startswith("\ufeff") and o["order_no"] in csv, "export lacks the BOM or the paid order"
    s, d = call("GET", f"{API}/admin/orders/{o['id']}", ADMIN)
    assert s == 200 and d["order_no"] == o["order_no"], d
    _, sku = product(3)
    t, a = shopper("p1cancel")
    _, pending = order(t, a, sku)
    s, c = call("POST", f"{API}/admin/orders/{pending['id']}/cancel", ADMIN, {"reason": "验收：人工取消"})
    assert s == 200 and c["status"] == "CANCELLED", c
    s, r = call("POST", f"{API}/orders/{o['id']}/refund-requests", PAID["token"], {"reason": "验收：退款"},
                {"Idempotency-Key": str(uuid.uuid4())})
    assert s == 201, r
    s, r = call("POST", f"{API}/admin/refunds/{r['id']}/approve", ADMIN)
    assert s == 200, r
    for _ in range(100):
        s, x = call("GET", f"{API}/orders/{o['id']}", PAID["token"])
        if x["status"] == "REFUNDED": break
        time.sleep(0.1)
    assert x["status"] == "REFUNDED", x
    return f"CSV {len(csv.splitlines())} lines with BOM; detail; manual cancel; refund approved → REFUNDED"
check("P1-5 back office: CSV export, order detail, manual cancel, refund", p1_backoffice)

failed = [r for r in results if not r[1]]
print(f"\n{len(results) - len(failed)} of {len(results)} acceptance lines pass")
sys.exit(1 if failed else 0)
PY
