//! Every bad input gets a clear 4xx with a stable code and the request id — never a 500.

use crate::support::TestApp;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

api_test!(
    bad_orders,
    bad_tokens_and_ownership,
    malformed_bodies_and_sizes
);

fn code(v: &Value) -> &str {
    v["code"].as_str().unwrap_or("<none>")
}

async fn bad_orders(app: TestApp) {
    let admin = app.admin().await;
    let (product, sku) = app.product(&admin, 5_000, 5).await;
    let token = app.shopper("bad-orders").await;
    let address = app.address(&token).await;
    let order =
        |q: Value| json!({"items": [{"sku_id": sku, "quantity": q}], "address_id": address});

    // Idempotency-Key missing or malformed.
    let (s, v) = app
        .post("/api/v1/orders", Some(&token), order(json!(1)))
        .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::BAD_REQUEST, "IDEMPOTENCY_KEY_REQUIRED")
    );
    let (s, v) = app.order(&token, "short", order(json!(1))).await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::BAD_REQUEST, "IDEMPOTENCY_KEY_REQUIRED")
    );

    // Quantities.
    for (q, field) in [
        (json!(0), "items[0].quantity"),
        (json!(-3), "items[0].quantity"),
        (json!(100), "items[0].quantity"),
    ] {
        let (s, v) = app.order(&token, "bad-quantity-1", order(q.clone())).await;
        assert_eq!(
            (s, code(&v)),
            (StatusCode::BAD_REQUEST, "VALIDATION_FAILED"),
            "{q}: {v}"
        );
        assert_eq!(v["field"], field);
    }
    let (s, v) = app
        .order(&token, "bad-quantity-2", order(json!(1e30)))
        .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::BAD_REQUEST, "BAD_REQUEST"),
        "{v}"
    );
    let (s, v) = app
        .order(&token, "bad-quantity-3", order(json!("two")))
        .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::BAD_REQUEST, "BAD_REQUEST"),
        "{v}"
    );

    // Unknown SKU, someone else's address, more than in stock, off sale.
    let (s, v) = app
        .order(
            &token,
            "unknown-sku-1",
            json!({"items": [{"sku_id": 999_999, "quantity": 1}], "address_id": address}),
        )
        .await;
    assert_eq!((s, code(&v)), (StatusCode::NOT_FOUND, "NOT_FOUND"), "{v}");
    let other = app.shopper("bad-orders-other").await;
    let others_address = app.address(&other).await;
    let (s, v) = app
        .order(
            &token,
            "others-address",
            json!({"items": [{"sku_id": sku, "quantity": 1}], "address_id": others_address}),
        )
        .await;
    assert_eq!((s, code(&v)), (StatusCode::NOT_FOUND, "NOT_FOUND"), "{v}");
    let (s, v) = app.order(&token, "too-many-units", order(json!(6))).await;
    assert_eq!((s, code(&v)), (StatusCode::CONFLICT, "OUT_OF_STOCK"), "{v}");
    let (s, _) = app
        .post(
            &format!("/api/v1/admin/products/{product}/off-sale"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, v) = app.order(&token, "off-sale-order", order(json!(1))).await;
    assert_eq!((s, code(&v)), (StatusCode::CONFLICT, "NOT_ON_SALE"), "{v}");
    let (s, v) = app
        .json(
            Method::PUT,
            &format!("/api/v1/cart/items/{sku}"),
            Some(&token),
            Some(json!({"quantity": 1})),
        )
        .await;
    assert_eq!((s, code(&v)), (StatusCode::CONFLICT, "NOT_ON_SALE"), "{v}");

    // Neither items nor cart, both, empty items, too long a remark.
    let (s, v) = app
        .order(&token, "neither-one", json!({"address_id": address}))
        .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::BAD_REQUEST, "VALIDATION_FAILED"),
        "{v}"
    );
    let (s, v) = app
        .order(
            &token,
            "both-of-them",
            json!({"items": [], "from_cart": true, "address_id": address}),
        )
        .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::BAD_REQUEST, "VALIDATION_FAILED"),
        "{v}"
    );
    let (s, v) = app
        .order(
            &token,
            "empty-items",
            json!({"items": [], "address_id": address}),
        )
        .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::BAD_REQUEST, "VALIDATION_FAILED"),
        "{v}"
    );
    let (s, v) = app.order(&token, "long-remark", json!({"items": [{"sku_id": sku, "quantity": 1}], "address_id": address, "remark": "长".repeat(201)})).await;
    assert_eq!(
        (s, code(&v), v["field"].as_str()),
        (StatusCode::BAD_REQUEST, "VALIDATION_FAILED", Some("remark")),
        "{v}"
    );
}

async fn bad_tokens_and_ownership(app: TestApp) {
    let admin = app.admin().await;
    let (_, sku) = app.product(&admin, 5_000, 5).await;
    let alice = app.shopper("alice").await;
    let bob = app.shopper("bob").await;
    let address = app.address(&alice).await;
    let (_, order) = app
        .order(
            &alice,
            "alice-order-1",
            json!({"items": [{"sku_id": sku, "quantity": 1}], "address_id": address}),
        )
        .await;
    let id = order["id"].as_i64().unwrap();

    for (token, what) in [
        (None, "no token"),
        (Some("not-a-real-token"), "unknown token"),
    ] {
        let (s, v) = app.get("/api/v1/orders", token).await;
        assert_eq!(
            (s, code(&v)),
            (StatusCode::UNAUTHORIZED, "UNAUTHENTICATED"),
            "{what}: {v}"
        );
        assert!(v["request_id"].as_str().is_some_and(|r| !r.is_empty()));
    }
    // A shopper token is not an operator token.
    let (s, v) = app.get("/api/v1/admin/orders", Some(&alice)).await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::UNAUTHORIZED, "UNAUTHENTICATED"),
        "{v}"
    );

    // Bob cannot see, cancel or touch Alice's things: they do not exist for him.
    for path in [format!("/api/v1/orders/{id}")] {
        let (s, v) = app.get(&path, Some(&bob)).await;
        assert_eq!((s, code(&v)), (StatusCode::NOT_FOUND, "NOT_FOUND"), "{v}");
    }
    let (s, v) = app
        .post(
            &format!("/api/v1/orders/{id}/cancel"),
            Some(&bob),
            json!({}),
        )
        .await;
    assert_eq!((s, code(&v)), (StatusCode::NOT_FOUND, "NOT_FOUND"), "{v}");
    let (s, v) = app
        .json(
            Method::DELETE,
            &format!("/api/v1/addresses/{address}"),
            Some(&bob),
            None,
        )
        .await;
    assert_eq!((s, code(&v)), (StatusCode::NOT_FOUND, "NOT_FOUND"), "{v}");
    let (s, v) = app
        .json(Method::PUT, &format!("/api/v1/addresses/{address}"), Some(&bob),
            Some(json!({"receiver": "李四", "phone": "13900001111", "province": "x", "city": "y", "district": "z", "detail": "w"})))
        .await;
    assert_eq!((s, code(&v)), (StatusCode::NOT_FOUND, "NOT_FOUND"), "{v}");
    let (_, bobs) = app.get("/api/v1/orders", Some(&bob)).await;
    assert_eq!(bobs["total"], 0);
    let (_, still) = app.get(&format!("/api/v1/orders/{id}"), Some(&alice)).await;
    assert_eq!(still["status"], "PENDING_PAYMENT");

    // Bad path ids and unknown routes.
    let (s, v) = app.get("/api/v1/orders/not-a-number", Some(&alice)).await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::BAD_REQUEST, "BAD_REQUEST"),
        "{v}"
    );
    let (s, v) = app.get("/api/v1/orders/-5", Some(&alice)).await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::BAD_REQUEST, "VALIDATION_FAILED"),
        "{v}"
    );
    let (s, v) = app.get("/api/v1/nothing-here", None).await;
    assert_eq!((s, code(&v)), (StatusCode::NOT_FOUND, "NOT_FOUND"), "{v}");
}

async fn malformed_bodies_and_sizes(app: TestApp) {
    let token = app.shopper("malformed").await;
    let raw = |body: String, ct: &'static str| {
        let req = app
            .client
            .post(app.url("/api/v1/addresses"))
            .bearer_auth(&token)
            .header("content-type", ct)
            .body(body);
        async move { req.send().await.unwrap() }
    };
    let r = raw("{not json".into(), "application/json").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let v: Value = r.json().await.unwrap();
    assert_eq!(code(&v), "BAD_REQUEST");

    // Unknown fields are refused, not ignored.
    let body = json!({"receiver": "张三", "phone": "13812345678", "province": "a", "city": "b", "district": "c", "detail": "d", "admin": true});
    let (s, v) = app.post("/api/v1/addresses", Some(&token), body).await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::BAD_REQUEST, "BAD_REQUEST"),
        "{v}"
    );

    // Wrong phone names the field.
    let body = json!({"receiver": "张三", "phone": "12345", "province": "a", "city": "b", "district": "c", "detail": "d"});
    let (s, v) = app.post("/api/v1/addresses", Some(&token), body).await;
    assert_eq!(
        (s, code(&v), v["field"].as_str()),
        (StatusCode::BAD_REQUEST, "VALIDATION_FAILED", Some("phone")),
        "{v}"
    );

    // More than 64 KiB of JSON.
    let big = format!("{{\"receiver\": \"{}\"}}", "x".repeat(70 * 1024));
    let r = raw(big, "application/json").await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let v: Value = r.json().await.unwrap();
    assert_eq!(code(&v), "PAYLOAD_TOO_LARGE");

    // Wrong content type.
    let r = raw("receiver=x".into(), "application/x-www-form-urlencoded").await;
    assert!(r.status().is_client_error(), "{}", r.status());
    let v: Value = r.json().await.unwrap();
    assert!(v["code"].is_string());

    // Twenty addresses at most.
    for i in 0..20 {
        let (s, v) = app
            .post("/api/v1/addresses", Some(&token), json!({"receiver": format!("收件人{i}"), "phone": "13812345678", "province": "a", "city": "b", "district": "c", "detail": "d"}))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
    let (s, v) = app
        .post("/api/v1/addresses", Some(&token), json!({"receiver": "多一个", "phone": "13812345678", "province": "a", "city": "b", "district": "c", "detail": "d"}))
        .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::CONFLICT, "LIMIT_REACHED"),
        "{v}"
    );
}

/// Rate limits per client (login) and per shopper (orders), lowered through the same
/// environment variables an operator uses; in process on SQLite, in Redis on MySQL.
async fn rate_limits(limited: TestApp) {
    for i in 0..3 {
        limited.shopper(&format!("rl-{i}")).await;
    }
    let (s, v) = limited
        .post("/api/v1/auth/wechat-login", None, json!({"code": "rl-4"}))
        .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED"),
        "{v}"
    );
}

const LOW_LIMITS: &[(&str, &str)] = &[
    ("SHOP_RATE_LIMIT_LOGIN", "3"),
    ("SHOP_RATE_LIMIT_ORDERS", "2"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_rate_limits() {
    rate_limits(TestApp::sqlite_with(LOW_LIMITS).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mysql_redis_rate_limits() {
    rate_limits(TestApp::mysql_redis_with(LOW_LIMITS).await).await;
}
