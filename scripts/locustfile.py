"""Locust scenario for owners who know that tool (the project's own load generator is
`shop-loadgen` in bench/, with the figures in docs/benchmarks.md).

    pip install locust
    locust -f scripts/locustfile.py --host http://127.0.0.1:8080 -u 200 -r 20

Shoppers browse the shelf, log in through the sandbox (any code is a shopper), add an
address once and place orders with an Idempotency-Key (retried with the same key, as the
mini-program does). Run the shop with SHOP_RATE_LIMIT_LOGIN / SHOP_RATE_LIMIT_ORDERS raised,
or most logins and orders will get 429 — which is the shop protecting itself, not a failure.
"""

import random
import uuid

from locust import HttpUser, between, task


class Shopper(HttpUser):
    wait_time = between(0.5, 2)

    def on_start(self):
        r = self.client.post("/api/v1/auth/wechat-login", json={"code": f"locust-{uuid.uuid4()}"},
                             name="/api/v1/auth/wechat-login")
        self.headers = {"Authorization": f"Bearer {r.json()['token']}"}
        r = self.client.post("/api/v1/addresses", headers=self.headers, json={
            "receiver": "压测", "phone": "13800000000", "province": "黑龙江省", "city": "哈尔滨市",
            "district": "五常市", "detail": "压测路 1 号"})
        self.address = r.json()["id"]
        shelf = self.client.get("/api/v1/products?per_page=50").json()["items"]
        self.products = [p["id"] for p in shelf]

    @task(6)
    def browse(self):
        self.client.get("/api/v1/products")
        if self.products:
            self.client.get(f"/api/v1/products/{random.choice(self.products)}", name="/api/v1/products/:id")

    @task(1)
    def order(self):
        if not self.products:
            return
        detail = self.client.get(f"/api/v1/products/{random.choice(self.products)}",
                                 name="/api/v1/products/:id").json()
        skus = [s for s in detail["skus"] if s.get("available", 0) > 0]
        if not skus:
            return
        body = {"address_id": self.address, "items": [{"sku_id": random.choice(skus)["id"], "quantity": 1}]}
        key = str(uuid.uuid4())
        for _ in range(2):  # a retry keeps its key: at most one order
            with self.client.post("/api/v1/orders", headers={**self.headers, "Idempotency-Key": key}, json=body,
                                  name="/api/v1/orders", catch_response=True) as r:
                if r.status_code in (200, 201, 409):  # 409: sold out or the first try still running
                    r.success()
                    break
