//! The README's walk-through: login → list → detail → cart → address → order → see it.

use crate::support::TestApp;
use reqwest::{Method, StatusCode};
use serde_json::json;

api_test!(shopper_walkthrough);

async fn shopper_walkthrough(app: TestApp) {
    let admin = app.admin().await;
    let (product, sku) = app.product(&admin, 12_900, 10).await;
    let token = app.shopper("walkthrough-code").await;

    let (s, list) = app.get("/api/v1/products", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["min_price_fen"], 12_900);
    assert_eq!(list["items"][0]["in_stock"], true);

    let (s, detail) = app.get(&format!("/api/v1/products/{product}"), None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(detail["skus"][0]["available"], 10);

    let (s, cart) = app
        .json(
            Method::PUT,
            &format!("/api/v1/cart/items/{sku}"),
            Some(&token),
            Some(json!({"quantity": 2})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{cart}");
    assert_eq!(cart["total_fen"], 25_800);

    let address = app.address(&token).await;
    let (s, order) = app
        .order(
            &token,
            "walkthrough-order-1",
            json!({"from_cart": true, "address_id": address, "remark": "请尽快发货"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{order}");
    assert_eq!(order["status"], "PENDING_PAYMENT");
    assert_eq!(order["payable_fen"], 25_800);
    assert_eq!(order["lines"][0]["quantity"], 2);
    assert_eq!(order["address"]["receiver"], "张三");

    let (_, cart) = app.get("/api/v1/cart", Some(&token)).await;
    assert_eq!(
        cart["lines"].as_array().unwrap().len(),
        0,
        "ordered lines leave the cart"
    );
    // The shelf is cached for SHOP_CATALOGUE_CACHE_MS (1 s): the held stock shows within it.
    let started = std::time::Instant::now();
    let detail = app
        .wait_for(&format!("/api/v1/products/{product}"), None, |d| {
            d["skus"][0]["available"] == 8
        })
        .await;
    assert!(
        started.elapsed() < std::time::Duration::from_millis(1500),
        "the stock is held for the order and shown within the cache time: {detail}"
    );

    let id = order["id"].as_i64().unwrap();
    let (s, mine) = app.get("/api/v1/orders", Some(&token)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(mine["total"], 1);
    assert_eq!(mine["items"][0]["id"], id);
    let (s, one) = app.get(&format!("/api/v1/orders/{id}"), Some(&token)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(one["order_no"], order["order_no"]);

    let (s, cancelled) = app
        .post(
            &format!("/api/v1/orders/{id}/cancel"),
            Some(&token),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{cancelled}");
    assert_eq!(cancelled["status"], "CANCELLED");
    // Cancelling gives the stock back (shown within the shelf cache time).
    app.wait_for(&format!("/api/v1/products/{product}"), None, |d| {
        d["skus"][0]["available"] == 10
    })
    .await;
}

/// The embedded default seeds a shelf whose pictures are real PNGs served by the API.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn embedded_default_seeds_a_demo_shelf_with_pictures() {
    let app = TestApp::sqlite_with(&[("SHOP_SEED_DEMO", "true")]).await;
    let (_, list) = app.get("/api/v1/products", None).await;
    assert_eq!(list["total"], 5);
    let cover = list["items"][0]["cover_url"].as_str().unwrap();
    assert!(cover.starts_with(&app.base), "absolute URL: {cover}");
    let png = app.client.get(cover).send().await.unwrap();
    assert_eq!(png.status(), StatusCode::OK);
    let bytes = png.bytes().await.unwrap();
    assert!(bytes.starts_with(b"\x89PNG"), "a real picture is served");
    assert!(bytes.len() > 5_000);
}
