//! The back office over HTTP: login, catalogue, images, orders, CSV export, reports, roles.

use crate::support::{TestApp, ADMIN_PASSWORD};
use reqwest::{Method, StatusCode};
use serde_json::json;

api_test!(
    operator_login_and_roles,
    catalogue_management,
    orders_shipping_export_and_reports
);

async fn operator_login_and_roles(app: TestApp) {
    let (s, v) = app
        .post(
            "/api/v1/admin/auth/login",
            None,
            json!({"username": "admin", "password": "wrong-password"}),
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("INVALID_CREDENTIALS"))
    );
    let (s, v) = app
        .post(
            "/api/v1/admin/auth/login",
            None,
            json!({"username": "nobody", "password": ADMIN_PASSWORD}),
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("INVALID_CREDENTIALS"))
    );
    let admin = app.admin().await;
    let (s, me) = app.get("/api/v1/admin/me", Some(&admin)).await;
    assert_eq!((s, me["role"].as_str()), (StatusCode::OK, Some("admin")));

    for (name, role) in [("ops.wang", "operator"), ("fin.li", "finance")] {
        let (s, v) = app
            .post(
                "/api/v1/admin/operators",
                Some(&admin),
                json!({"username": name, "password": "long-enough-pw", "role": role}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
    let (s, v) = app
        .post(
            "/api/v1/admin/operators",
            Some(&admin),
            json!({"username": "weak.pw", "password": "short", "role": "operator"}),
        )
        .await;
    assert_eq!(
        (s, v["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("password"))
    );
    let ops = app.operator("ops.wang", "long-enough-pw").await;
    let fin = app.operator("fin.li", "long-enough-pw").await;

    // Operators manage the catalogue but not reports or accounts; finance the other way round.
    let (s, _) = app
        .get(
            "/api/v1/admin/reports/daily?from=2026-11-01&to=2026-11-30",
            Some(&ops),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, v) = app
        .post(
            "/api/v1/admin/operators",
            Some(&ops),
            json!({"username": "sneaky", "password": "long-enough-pw", "role": "admin"}),
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("FORBIDDEN"))
    );
    let (s, _) = app
        .get(
            "/api/v1/admin/reports/daily?from=2026-11-01&to=2026-11-30",
            Some(&fin),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = app.post("/api/v1/admin/products", Some(&fin), json!({"title": "x", "description": "", "skus": [{"spec": "1kg", "price_fen": 100, "stock": 1}]})).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = app.post("/api/v1/admin/products", Some(&ops), json!({"title": "x", "description": "", "skus": [{"spec": "1kg", "price_fen": 100, "stock": 1}]})).await;
    assert_eq!(s, StatusCode::CREATED);

    // A disabled operator's session stops working at once.
    let (_, list) = app.get("/api/v1/admin/operators", Some(&admin)).await;
    let ops_id = list
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["username"] == "ops.wang")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let (s, _) = app
        .json(
            Method::PATCH,
            &format!("/api/v1/admin/operators/{ops_id}"),
            Some(&admin),
            Some(json!({"disabled": true})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = app.get("/api/v1/admin/me", Some(&ops)).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

async fn catalogue_management(app: TestApp) {
    let admin = app.admin().await;
    let (s, v) = app
        .post("/api/v1/admin/products", Some(&admin), json!({"title": "", "description": "", "skus": [{"spec": "5kg", "price_fen": 0, "stock": -1}]}))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let (s, v) = app
        .post(
            "/api/v1/admin/products",
            Some(&admin),
            json!({"title": "五常大米", "description": "", "skus": []}),
        )
        .await;
    assert_eq!(
        (s, v["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("skus")),
        "{v}"
    );

    let (product, sku) = app.product(&admin, 12_900, 10).await;
    // The stock gate knows a new SKU at once (no cold start for the first buyers).
    let sku_id = shop_core::ids::SkuId::new(sku).unwrap();
    assert_eq!(
        app.state.shop.gate.available(&[sku_id]).await.unwrap(),
        vec![(sku_id, Some(10))]
    );
    // A picture, uploaded like the console does, is served to shoppers.
    let png = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../runtime/assets/demo/wuchang-gift-box.png"
    ))
    .unwrap();
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(png.clone())
            .file_name("gift.png")
            .mime_str("image/png")
            .unwrap(),
    );
    let r = app
        .client
        .post(app.url(&format!("/api/v1/admin/products/{product}/images")))
        .bearer_auth(&admin)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let img: serde_json::Value = r.json().await.unwrap();
    let served = app
        .client
        .get(img["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(served.bytes().await.unwrap().to_vec(), png);
    // A file that is not what it claims is refused.
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(b"<html><script>".to_vec())
            .file_name("x.png")
            .mime_str("image/png")
            .unwrap(),
    );
    let r = app
        .client
        .post(app.url(&format!("/api/v1/admin/products/{product}/images")))
        .bearer_auth(&admin)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // Price change, stock adjustments under the rules. The shopper's (cached) view changes at
    // once: back-office writes clear the shelf cache.
    let (_, before) = app.get(&format!("/api/v1/products/{product}"), None).await;
    assert_ne!(before["skus"][0]["price_fen"], 11_900, "{before}");
    let (s, v) = app
        .json(
            Method::PATCH,
            &format!("/api/v1/admin/products/{product}/skus/{sku}"),
            Some(&admin),
            Some(json!({"price_fen": 11_900})),
        )
        .await;
    assert_eq!(
        (s, v["price_fen"].as_i64()),
        (StatusCode::OK, Some(11_900)),
        "{v}"
    );
    let (s, v) = app
        .post(
            &format!("/api/v1/admin/skus/{sku}/stock"),
            Some(&admin),
            json!({"adjust": 5, "reason": "到货"}),
        )
        .await;
    assert_eq!(
        (s, v["on_hand"].as_i64()),
        (StatusCode::OK, Some(15)),
        "{v}"
    );
    let (_, after) = app.get(&format!("/api/v1/products/{product}"), None).await;
    assert_eq!(after["skus"][0]["price_fen"], 11_900, "{after}");
    assert_eq!(after["skus"][0]["available"], 15, "{after}");
    let token = app.shopper("stock-buyer").await;
    let address = app.address(&token).await;
    let (s, _) = app
        .order(
            &token,
            "stock-order-1",
            json!({"items": [{"sku_id": sku, "quantity": 4}], "address_id": address}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, v) = app
        .post(
            &format!("/api/v1/admin/skus/{sku}/stock"),
            Some(&admin),
            json!({"set": 3, "reason": "盘点"}),
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("ILLEGAL_STATE")),
        "cannot go below the 4 reserved: {v}"
    );
    let (s, v) = app
        .post(
            &format!("/api/v1/admin/skus/{sku}/stock"),
            Some(&admin),
            json!({"set": 4, "reason": "盘点"}),
        )
        .await;
    assert_eq!(
        (s, v["available"].as_i64()),
        (StatusCode::OK, Some(0)),
        "{v}"
    );
    let (s, v) = app
        .post(
            &format!("/api/v1/admin/skus/{sku}/stock"),
            Some(&admin),
            json!({"set": 4, "adjust": 1, "reason": "x"}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");

    // Off sale hides it from the shelf, not from the back office; delete hides it everywhere.
    let (s, _) = app
        .post(
            &format!("/api/v1/admin/products/{product}/off-sale"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (_, shelf) = app.get("/api/v1/products", None).await;
    assert_eq!(shelf["total"], 0);
    let (_, back) = app
        .get("/api/v1/admin/products?status=OFF_SALE", Some(&admin))
        .await;
    assert_eq!(back["total"], 1);
    let (s, _) = app
        .json(
            Method::DELETE,
            &format!("/api/v1/admin/products/{product}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, back) = app.get("/api/v1/admin/products", Some(&admin)).await;
    assert_eq!(back["total"], 0);
    let (s, _) = app.get(&format!("/api/v1/products/{product}"), None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

async fn orders_shipping_export_and_reports(app: TestApp) {
    let admin = app.admin().await;
    let (_, sku) = app.product(&admin, 12_900, 50).await;
    let token = app.shopper("export-buyer").await;
    let address = app.address(&token).await;
    let mut ids = vec![];
    for i in 0..3 {
        let (s, o) = app
            .order(&token, &format!("export-order-{i}"), json!({"items": [{"sku_id": sku, "quantity": i + 1}], "address_id": address, "remark": "=cmd|' /C calc'!A0"}))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{o}");
        ids.push(o["id"].as_i64().unwrap());
    }
    let (s, found) = app
        .get("/api/v1/admin/orders?phone=13812345678", Some(&admin))
        .await;
    assert_eq!((s, found["total"].as_i64()), (StatusCode::OK, Some(3)));
    assert!(
        found["items"][0]["user_id"].as_i64().is_some(),
        "operators see the buyer"
    );
    let (s, v) = app
        .get("/api/v1/admin/orders?from=2026-13-01", Some(&admin))
        .await;
    assert_eq!(
        (s, v["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("from")),
        "{v}"
    );

    // Cancel with a reason; shipping an unpaid order is refused.
    let (s, v) = app
        .post(
            &format!("/api/v1/admin/orders/{}/cancel", ids[0]),
            Some(&admin),
            json!({"reason": "客户电话要求取消"}),
        )
        .await;
    assert_eq!(
        (s, v["cancel_reason"].as_str()),
        (StatusCode::OK, Some("OPERATOR")),
        "{v}"
    );
    let (s, v) = app
        .post(
            &format!("/api/v1/admin/orders/{}/ship", ids[1]),
            Some(&admin),
            json!({"carrier": "顺丰速运", "tracking_no": "SF1234567890"}),
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("ILLEGAL_STATE")),
        "{v}"
    );

    // CSV: BOM, header, one row per line, yuan, formula-safe remark.
    let today = chrono_today();
    let r = app
        .client
        .get(app.url(&format!(
            "/api/v1/admin/orders/export.csv?from={today}&to={today}"
        )))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let csv = r.text().await.unwrap();
    assert!(csv.starts_with('\u{feff}'), "BOM for Excel");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 4, "{csv}");
    assert!(lines[0].contains("订单号"));
    assert!(
        csv.contains(",129.00,1,129.00,") && csv.contains(",129.00,3,387.00,"),
        "{csv}"
    );
    assert!(
        csv.contains("'=cmd|"),
        "a remark never starts a formula: {csv}"
    );

    let (s, report) = app
        .get(
            &format!("/api/v1/admin/reports/daily?from={today}&to={today}"),
            Some(&admin),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{report}");
    assert_eq!(report["days"][0]["orders"], 3);
    assert_eq!(report["days"][0]["paid_orders"], 0);
    let (s, v) = app
        .get(
            "/api/v1/admin/reports/daily?from=2026-11-30&to=2026-11-01",
            Some(&admin),
        )
        .await;
    assert_eq!(
        (s, v["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("to"))
    );
}

/// Today in China, as the server counts days.
fn chrono_today() -> String {
    use shop_core::ports::Clock;
    shop_memory::SystemClock.now().cn_date().to_string()
}
