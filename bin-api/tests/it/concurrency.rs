//! Many shoppers at once over HTTP: exact stock, one order per idempotency key.

use crate::support::TestApp;
use reqwest::StatusCode;
use serde_json::json;
use std::sync::Arc;

api_test!(hundred_buyers_thirty_units, fifty_retries_one_order);

async fn hundred_buyers_thirty_units(app: TestApp) {
    let admin = app.admin().await;
    let (product, sku) = app.product(&admin, 5_000, 30).await;
    let mut buyers = Vec::new();
    for i in 0..100 {
        let token = app.shopper(&format!("buyer-{i:03}")).await;
        let address = app.address(&token).await;
        buyers.push((token, address));
    }
    let app = Arc::new(app);
    let tasks: Vec<_> = buyers
        .into_iter()
        .enumerate()
        .map(|(i, (token, address))| {
            let app = app.clone();
            tokio::spawn(async move {
                app.order(
                    &token,
                    &format!("flash-{i:04}"),
                    json!({"items": [{"sku_id": sku, "quantity": 1}], "address_id": address}),
                )
                .await
            })
        })
        .collect();
    let (mut created, mut sold_out) = (0, 0);
    for t in tasks {
        let (status, body) = t.await.unwrap();
        match status {
            StatusCode::CREATED => created += 1,
            StatusCode::CONFLICT => {
                assert_eq!(body["code"], "OUT_OF_STOCK", "{body}");
                sold_out += 1;
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!((created, sold_out), (30, 70));
    let (_, detail) = app.get(&format!("/api/v1/products/{product}"), None).await;
    assert_eq!(detail["skus"][0]["available"], 0);
    let (_, found) = app
        .get("/api/v1/admin/orders?per_page=100", Some(&admin))
        .await;
    assert_eq!(found["total"], 30);
}

async fn fifty_retries_one_order(app: TestApp) {
    let admin = app.admin().await;
    let (product, sku) = app.product(&admin, 5_000, 100).await;
    let token = app.shopper("retrying-shopper").await;
    let address = app.address(&token).await;
    let body = json!({"items": [{"sku_id": sku, "quantity": 2}], "address_id": address});
    let app = Arc::new(app);
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let (app, token, body) = (app.clone(), token.clone(), body.clone());
            tokio::spawn(async move { app.order(&token, "one-checkout-attempt", body).await })
        })
        .collect();
    let mut ids = std::collections::HashSet::new();
    for t in tasks {
        let (status, v) = t.await.unwrap();
        match status {
            StatusCode::CREATED | StatusCode::OK => {
                ids.insert(v["id"].as_i64().unwrap());
            }
            StatusCode::CONFLICT => assert_eq!(v["code"], "REQUEST_IN_PROGRESS", "{v}"),
            other => panic!("unexpected {other}: {v}"),
        }
    }
    assert_eq!(ids.len(), 1, "one order");
    let (s, replay) = app
        .order(&token, "one-checkout-attempt", body.clone())
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(ids.contains(&replay["id"].as_i64().unwrap()));
    let (_, detail) = app.get(&format!("/api/v1/products/{product}"), None).await;
    assert_eq!(detail["skus"][0]["available"], 98, "reserved once");
    let (s, v) = app
        .order(
            &token,
            "one-checkout-attempt",
            json!({"items": [{"sku_id": sku, "quantity": 3}], "address_id": address}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["code"], "IDEMPOTENCY_KEY_REUSED");
}
