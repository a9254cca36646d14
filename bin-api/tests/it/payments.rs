//! Paying and refunding over HTTP, against the sandbox the server hosts (which calls back like
//! WeChat) and against callbacks forged here with the test keys.

use crate::support::wechat::{self, Callback, NOTIFY, REFUND_NOTIFY};
use crate::support::TestApp;
use reqwest::StatusCode;
use serde_json::{json, Value};
use shop_contract_tests::unique_suffix as unique;
use shop_wechat_pay::config::{TEST_APPID, TEST_MCHID, TEST_PLATFORM_SERIAL};

api_test!(
    pay_and_refund_end_to_end,
    forged_callbacks_change_nothing,
    fifty_identical_callbacks_make_one_payment,
    callback_before_the_client_returns,
    late_payments_are_kept_or_refunded,
    a_lost_callback_is_found_when_the_client_asks,
    refund_requests_are_idempotent_and_add_up,
    refund_decisions_need_finance,
    the_sandbox_faults_never_pay_wrongly,
);

async fn product(app: &TestApp, price: i64, stock: i64) -> (String, i64) {
    let admin = app.admin().await;
    let (_, sku) = app.product(&admin, price, stock).await;
    (admin, sku)
}

async fn pay_params(app: &TestApp, token: &str, order_id: i64) -> Value {
    let (s, v) = app
        .post(
            &format!("/api/v1/orders/{order_id}/pay"),
            Some(token),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v
}

/// A shopper's order, paid in the sandbox (whose callback made it PAID): (token, order).
async fn paid_order(app: &TestApp, code: &str, sku: i64, qty: i64) -> (String, Value) {
    let (token, order) = app.pending_order(code, sku, qty).await;
    pay_params(app, &token, order["id"].as_i64().unwrap()).await;
    let (s, v) = app
        .post(
            "/sandbox/control/pay",
            None,
            json!({ "out_trade_no": order["order_no"] }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let order = app
        .wait_for(&order_path(&order), Some(&token), |o| o["status"] == "PAID")
        .await;
    (token, order)
}

fn order_path(o: &Value) -> String {
    format!("/api/v1/orders/{}", o["id"])
}

async fn refund_request(
    app: &TestApp,
    token: &str,
    order_id: i64,
    key: &str,
    body: Value,
) -> (StatusCode, Value) {
    app.post_keyed(
        &format!("/api/v1/orders/{order_id}/refund-requests"),
        token,
        key,
        body,
    )
    .await
}

/// An error answer with this status and stable code.
fn expect_code(status: StatusCode, body: &Value, want: StatusCode, code: &str) {
    assert_eq!(
        (status, body["code"].as_str()),
        (want, Some(code)),
        "{body}"
    );
}

/// Order → pay → the sandbox's callback → PAID → refund request → approve → the sandbox's
/// refund callback → REFUNDED, all over HTTP.
async fn pay_and_refund_end_to_end(app: TestApp) {
    let (admin, sku) = product(&app, 5990, 10).await;
    let (token, order) = app.pending_order("e2e", sku, 2).await;
    let id = order["id"].as_i64().unwrap();
    assert_eq!(order["payable_fen"], 11980);

    let p = pay_params(&app, &token, id).await;
    assert_eq!(p["appId"], TEST_APPID);
    assert_eq!(p["signType"], "RSA");
    assert!(
        p["package"].as_str().unwrap().starts_with("prepay_id="),
        "{p}"
    );
    assert!(!p["paySign"].as_str().unwrap().is_empty());
    // Asking again reuses the prepay.
    let again = pay_params(&app, &token, id).await;
    assert_eq!(again["package"], p["package"]);

    // The shopper pays in WeChat; the sandbox calls our notify URL.
    let (s, paid) = app
        .post(
            "/sandbox/control/pay",
            None,
            json!({ "out_trade_no": order["order_no"] }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{paid}");
    let o = app
        .wait_for(&order_path(&order), Some(&token), |o| o["status"] == "PAID")
        .await;
    assert_eq!(o["paid_fen"], 11980);
    // Stock was committed: 10 - 2 on hand, nothing reserved.
    let (_, detail) = app
        .get(&format!("/api/v1/admin/orders/{id}/money"), Some(&admin))
        .await;
    assert_eq!(detail["payment"]["status"], "SUCCEEDED", "{detail}");
    assert_eq!(detail["payment"]["transaction_id"], paid["transaction_id"]);

    let (s, r) = refund_request(
        &app,
        &token,
        id,
        "refund-key-e2e-1",
        json!({ "reason": "米袋破损" }),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    assert_eq!(
        (r["status"].as_str(), r["amount_fen"].as_i64()),
        (Some("REQUESTED"), Some(11980))
    );
    let refund_id = r["id"].as_i64().unwrap();

    let (s, approved) = app
        .post(
            &format!("/api/v1/admin/refunds/{refund_id}/approve"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{approved}");
    assert!(
        ["PROCESSING", "SUCCEEDED"].contains(&approved["status"].as_str().unwrap()),
        "{approved}"
    );
    // The sandbox settles the refund and calls the refund notify URL.
    let o = app
        .wait_for(&order_path(&order), Some(&token), |o| {
            o["status"] == "REFUNDED"
        })
        .await;
    assert_eq!(
        (o["refunded_fen"].as_i64(), o["refund_pending_fen"].as_i64()),
        (Some(11980), Some(0))
    );
    let (_, refunds) = app
        .get(&format!("/api/v1/orders/{id}/refunds"), Some(&token))
        .await;
    assert_eq!(refunds[0]["status"], "SUCCEEDED", "{refunds}");
    assert_eq!(
        refunds[0]["decided_by"]
            .as_str()
            .map(|a| a.starts_with("operator:")),
        Some(true)
    );

    // Every step is an event, each once; the approval is in the audit log.
    let events = app.events_of(id).await;
    for t in [
        "Order.Created",
        "Payment.Succeeded",
        "Order.Paid",
        "Order.Refunded",
    ] {
        assert_eq!(
            events.iter().filter(|e| *e == t).count(),
            1,
            "{t} in {events:?}"
        );
    }
    let refund_events: Vec<String> = app
        .state
        .outbox
        .for_aggregate(&format!("refund:{refund_id}"))
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event_type)
        .collect();
    assert_eq!(refund_events, ["Refund.Requested", "Refund.Succeeded"]);
    let (s, audit) = app
        .get(
            &format!("/api/v1/admin/audit?action=refund.approve&target_id={refund_id}"),
            Some(&admin),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{audit}");
    assert_eq!(audit["total"], 1, "{audit}");
    // Today's bill from the sandbox agrees with the shop: the payment and the refund, no difference.
    let day = today_in_china().to_string();
    let (s, recon) = app
        .post(
            &format!("/api/v1/admin/reconciliation/{day}/run"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{recon}");
    assert_eq!(recon["clean"], true, "{recon}");
    assert_eq!(
        (
            recon["bill_settled_fen"].as_i64(),
            recon["local_paid_fen"].as_i64(),
            recon["bill_refund_fen"].as_i64(),
            recon["local_refund_fen"].as_i64()
        ),
        (Some(11980), Some(11980), Some(11980), Some(11980)),
        "{recon}"
    );
    let (s, stored) = app
        .get(&format!("/api/v1/admin/reconciliation/{day}"), Some(&admin))
        .await;
    assert_eq!((s, &stored["date"]), (StatusCode::OK, &recon["date"]));
    assert!(
        app.metric("shop_payment_callback_duration_seconds_count{kind=\"payment\"}")
            .await
            >= 1.0
    );
}

/// Every forged or broken callback is refused with a FAIL body and counted; the order stays
/// unpaid. The genuine one at the end pays it, so the harness itself is known to work.
async fn forged_callbacks_change_nothing(app: TestApp) {
    let (_, sku) = product(&app, 4300, 5).await;
    let (token, order) = app.pending_order("forger", sku, 3).await;
    let id = order["id"].as_i64().unwrap();
    let no = order["order_no"].as_str().unwrap().to_string();
    pay_params(&app, &token, id).await;
    let total = order["payable_fen"].as_i64().unwrap();
    let tx = format!("42000{}", unique());
    let now = wechat::now_secs();
    let env = |resource: Value| {
        wechat::envelope(
            "TRANSACTION.SUCCESS",
            "transaction",
            &resource,
            "transaction",
        )
    };
    let genuine = env(wechat::transaction(&no, &tx, total));

    let mut cases: Vec<(&str, u16, Callback)> = Vec::new();
    // Signed over another body.
    let mut c = wechat::genuine(&genuine);
    c.body = env(wechat::transaction(&no, &tx, total)).to_string();
    cases.push(("bad_signature", 400, c));
    cases.push((
        "unknown_serial",
        400,
        wechat::signed(
            genuine.to_string(),
            "PUB_KEY_ID_0000000000000000000000000000000000",
            now,
        ),
    ));
    cases.push((
        "stale_timestamp",
        400,
        wechat::signed(genuine.to_string(), TEST_PLATFORM_SERIAL, now - 400),
    ));
    cases.push((
        "stale_timestamp",
        400,
        wechat::signed(genuine.to_string(), TEST_PLATFORM_SERIAL, now + 400),
    ));
    let mut tampered = genuine.clone();
    let ct = tampered["resource"]["ciphertext"]
        .as_str()
        .unwrap()
        .to_string();
    let first = if ct.starts_with('A') { "B" } else { "A" };
    let flipped = format!("{first}{}", ct.get(1..).unwrap());
    tampered["resource"]["ciphertext"] = json!(flipped);
    cases.push(("decrypt_failed", 400, wechat::genuine(&tampered)));
    let mut aad = genuine.clone();
    aad["resource"]["associated_data"] = json!("certificate");
    cases.push(("decrypt_failed", 400, wechat::genuine(&aad)));
    let mut other = wechat::transaction(&no, &tx, total);
    other["mchid"] = json!("1230000109");
    cases.push(("not_ours", 400, wechat::genuine(&env(other))));
    let mut other = wechat::transaction(&no, &tx, total);
    other["appid"] = json!("wx0000000000000000");
    cases.push(("not_ours", 400, wechat::genuine(&env(other))));
    let mut other = wechat::transaction(&no, &tx, total);
    other["amount"]["currency"] = json!("USD");
    cases.push(("wrong_currency", 400, wechat::genuine(&env(other))));
    cases.push((
        "amount_mismatch",
        400,
        wechat::genuine(&env(wechat::transaction(&no, &tx, total - 1))),
    ));
    cases.push((
        "unknown_order",
        400,
        wechat::genuine(&env(wechat::transaction("R20261124999999999", &tx, total))),
    ));
    cases.push((
        "malformed",
        400,
        wechat::signed("{\"id\": ".into(), TEST_PLATFORM_SERIAL, now),
    ));
    cases.push((
        "missing_header",
        400,
        Callback {
            headers: vec![],
            body: genuine.to_string(),
        },
    ));
    let mut huge = wechat::genuine(&genuine);
    huge.body = format!("{}{}", huge.body, " ".repeat(70 * 1024));
    cases.push(("too_large", 413, huge));

    for (reason, status, cb) in &cases {
        let before = app
            .metric(&format!(
                "shop_payment_callbacks_rejected_total{{reason=\"{reason}\"}}"
            ))
            .await;
        let (s, body) = app.deliver(NOTIFY, cb).await;
        assert_eq!(s.as_u16(), *status, "{reason}: {body}");
        assert_eq!(body["code"], "FAIL", "{reason}: {body}");
        let after = app
            .metric(&format!(
                "shop_payment_callbacks_rejected_total{{reason=\"{reason}\"}}"
            ))
            .await;
        assert_eq!(after, before + 1.0, "{reason} is counted");
        let (_, o) = app.get(&order_path(&order), Some(&token)).await;
        assert_eq!(o["status"], "PENDING_PAYMENT", "after {reason}");
    }
    // A forged refund callback for a refund that does not exist is refused too.
    let refund = json!({ "mchid": TEST_MCHID, "out_trade_no": no, "transaction_id": tx,
        "out_refund_no": "F20261124999999999", "refund_id": "503000", "refund_status": "SUCCESS",
        "success_time": "2026-11-24T10:06:00+08:00", "user_received_account": "支付用户零钱",
        "amount": { "total": total, "refund": total, "payer_total": total, "payer_refund": total } });
    let cb = wechat::genuine(&wechat::envelope(
        "REFUND.SUCCESS",
        "refund",
        &refund,
        "refund",
    ));
    let (s, body) = app.deliver(REFUND_NOTIFY, &cb).await;
    assert_eq!(
        (s, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("FAIL")),
        "{body}"
    );

    assert!(!app.events_of(id).await.iter().any(|e| e == "Order.Paid"));
    let (s, _) = app.deliver(NOTIFY, &wechat::genuine(&genuine)).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, o) = app.get(&order_path(&order), Some(&token)).await;
    assert_eq!(o["status"], "PAID");
}

/// WeChat may deliver the same callback many times at once: one transition, one event, and
/// every delivery acknowledged.
async fn fifty_identical_callbacks_make_one_payment(app: TestApp) {
    let (_, sku) = product(&app, 2590, 5).await;
    let (token, order) = app.pending_order("fifty", sku, 1).await;
    let id = order["id"].as_i64().unwrap();
    pay_params(&app, &token, id).await;
    let cb = wechat::paid(
        order["order_no"].as_str().unwrap(),
        &format!("42000{}", unique()),
        2590,
    );
    let app = std::sync::Arc::new(app);
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let (app, cb) = (app.clone(), cb.clone());
            tokio::spawn(async move { app.deliver(NOTIFY, &cb).await.0 })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), StatusCode::NO_CONTENT);
    }
    let events = app.events_of(id).await;
    assert_eq!(
        events.iter().filter(|e| *e == "Order.Paid").count(),
        1,
        "{events:?}"
    );
    assert_eq!(
        events.iter().filter(|e| *e == "Payment.Succeeded").count(),
        1
    );
    assert_eq!(
        app.metric("shop_payments_confirmed_total{outcome=\"paid\"}")
            .await,
        1.0
    );
    assert_eq!(
        app.metric("shop_payment_callbacks_total{kind=\"payment\",outcome=\"duplicate\"}")
            .await,
        49.0
    );
    let (_, o) = app.get(&order_path(&order), Some(&token)).await;
    assert_eq!(
        (o["status"].as_str(), o["paid_fen"].as_i64()),
        (Some("PAID"), Some(2590))
    );
}

/// The callback can beat the mini-program back to the server; and it can come again after
/// a restart. Both are acknowledged, neither pays twice.
async fn callback_before_the_client_returns(app: TestApp) {
    let (_, sku) = product(&app, 1000, 3).await;
    let (token, order) = app.pending_order("early", sku, 1).await;
    let id = order["id"].as_i64().unwrap();
    pay_params(&app, &token, id).await;
    let cb = wechat::paid(
        order["order_no"].as_str().unwrap(),
        &format!("42000{}", unique()),
        1000,
    );
    let (s, _) = app.deliver(NOTIFY, &cb).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    // The client now asks with check_payment; WeChat is not asked again for a paid order.
    let (s, o) = app
        .get(
            &format!("{}?check_payment=true", order_path(&order)),
            Some(&token),
        )
        .await;
    assert_eq!(
        (s, o["status"].as_str()),
        (StatusCode::OK, Some("PAID")),
        "{o}"
    );
    // Paying a paid order is refused with a clear code.
    let (s, e) = app
        .post(&format!("/api/v1/orders/{id}/pay"), Some(&token), json!({}))
        .await;
    expect_code(s, &e, StatusCode::CONFLICT, "ILLEGAL_STATE");

    let app = app.restart().await;
    let (s, _) = app
        .deliver(
            NOTIFY,
            &wechat::signed(cb.body.clone(), TEST_PLATFORM_SERIAL, wechat::now_secs()),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::NO_CONTENT,
        "a replay after a restart is acknowledged"
    );
    let events = app.events_of(id).await;
    assert_eq!(
        events.iter().filter(|e| *e == "Order.Paid").count(),
        1,
        "{events:?}"
    );
}

/// Money that arrives for a cancelled order is never lost: with stock it pays the order, and
/// without it becomes an automatic full refund that operators can see.
async fn late_payments_are_kept_or_refunded(app: TestApp) {
    let (admin, sku) = product(&app, 3000, 1).await;
    let (token, a) = app.pending_order("late-a", sku, 1).await;
    let a_id = a["id"].as_i64().unwrap();
    pay_params(&app, &token, a_id).await;
    let (s, c) = app
        .post(
            &format!("/api/v1/orders/{a_id}/cancel"),
            Some(&token),
            json!({}),
        )
        .await;
    assert_eq!(
        (s, c["status"].as_str()),
        (StatusCode::OK, Some("CANCELLED")),
        "{c}"
    );
    // The unit is free again; the shopper's payment crossed the close and WeChat's success
    // arrives late: A takes its unit back and is paid.
    let (s, v) = app
        .post(
            "/sandbox/control/pay",
            None,
            json!({ "out_trade_no": a["order_no"], "late": true }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let o = app
        .wait_for(&order_path(&a), Some(&token), |o| o["status"] == "PAID")
        .await;
    assert_eq!(o["late_payment"], true, "{o}");

    // Now B cancels, C buys the last unit, and B's money arrives: it is refunded in full.
    let (_, sku2) = app.product(&admin, 3000, 1).await;
    let (token_b, b) = app.pending_order("late-b", sku2, 1).await;
    let b_id = b["id"].as_i64().unwrap();
    pay_params(&app, &token_b, b_id).await;
    app.post(
        &format!("/api/v1/orders/{b_id}/cancel"),
        Some(&token_b),
        json!({}),
    )
    .await;
    let (_, _c) = app.pending_order("late-c", sku2, 1).await;
    app.post(
        "/sandbox/control/pay",
        None,
        json!({ "out_trade_no": b["order_no"], "late": true }),
    )
    .await;
    app.wait_for(
        &format!("/api/v1/admin/orders/{b_id}/money"),
        Some(&admin),
        |m| m["refunds"].as_array().is_some_and(|r| !r.is_empty()),
    )
    .await;
    let (_, money) = app
        .get(&format!("/api/v1/admin/orders/{b_id}/money"), Some(&admin))
        .await;
    assert_eq!(money["order"]["late_payment"], true, "{money}");
    assert_eq!(money["payment"]["status"], "SUCCEEDED", "{money}");
    let refund = &money["refunds"][0];
    assert_eq!(
        (
            refund["amount_fen"].as_i64(),
            refund["requested_by"].as_str()
        ),
        (Some(3000), Some("system:late-payment")),
        "{money}"
    );
    // The automatic refund goes through the sandbox like any other.
    let o = app
        .wait_for(&order_path(&b), Some(&token_b), |o| {
            o["refunded_fen"] == 3000
        })
        .await;
    // A cancelled order stays cancelled; its money went back in full.
    assert_eq!(o["status"], "CANCELLED", "{o}");
    let (_, money) = app
        .get(&format!("/api/v1/admin/orders/{b_id}/money"), Some(&admin))
        .await;
    assert_eq!(money["refunds"][0]["status"], "SUCCEEDED", "{money}");
}

/// The shopper paid but the callback is slow: asking with `check_payment=true` queries WeChat
/// and shows PAID at once; the callback, when it comes, changes nothing more.
async fn a_lost_callback_is_found_when_the_client_asks(app: TestApp) {
    let (_, sku) = product(&app, 1990, 3).await;
    let (token, order) = app.pending_order("slow", sku, 1).await;
    let id = order["id"].as_i64().unwrap();
    pay_params(&app, &token, id).await;
    let no = order["order_no"].as_str().unwrap();
    let (s, _) = app
        .post(
            "/sandbox/control/faults",
            None,
            json!({ "out_trade_no": no, "delay_ms": 1500 }),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = app
        .post("/sandbox/control/pay", None, json!({ "out_trade_no": no }))
        .await;
    assert_eq!(s, StatusCode::OK);
    let (_, plain) = app.get(&order_path(&order), Some(&token)).await;
    assert_eq!(
        plain["status"], "PENDING_PAYMENT",
        "the callback is still on its way"
    );
    let (_, checked) = app
        .get(
            &format!("{}?check_payment=true", order_path(&order)),
            Some(&token),
        )
        .await;
    assert_eq!(checked["status"], "PAID", "{checked}");
    // The delayed callback arrives and is acknowledged as a duplicate.
    for _ in 0..100 {
        let (_, d) = app
            .get(&format!("/sandbox/control/deliveries?key={no}"), None)
            .await;
        if d.as_array()
            .is_some_and(|a| a.iter().any(|x| x["status"] == 204))
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        app.metric("shop_payment_callbacks_total{kind=\"payment\",outcome=\"duplicate\"}")
            .await,
        1.0
    );
    let events = app.events_of(id).await;
    assert_eq!(
        events.iter().filter(|e| *e == "Order.Paid").count(),
        1,
        "{events:?}"
    );
}

/// Refund requests: the key makes them once; partial amounts add up and can never exceed
/// what was paid; a withdrawn request frees its amount.
async fn refund_requests_are_idempotent_and_add_up(app: TestApp) {
    let (admin, sku) = product(&app, 5000, 5).await;
    let (token, order) = paid_order(&app, "partial", sku, 2).await;
    let id = order["id"].as_i64().unwrap();

    let (s, r1) = refund_request(
        &app,
        &token,
        id,
        "partial-key-1",
        json!({ "reason": "少了一袋", "amount_fen": 4000 }),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{r1}");
    let (s, again) = refund_request(
        &app,
        &token,
        id,
        "partial-key-1",
        json!({ "reason": "少了一袋", "amount_fen": 4000 }),
    )
    .await;
    assert_eq!((s, &again["id"]), (StatusCode::OK, &r1["id"]), "{again}");
    let (s, e) = refund_request(
        &app,
        &token,
        id,
        "partial-key-1",
        json!({ "reason": "少了一袋", "amount_fen": 3000 }),
    )
    .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("IDEMPOTENCY_KEY_REUSED")
        ),
        "{e}"
    );
    let (s, e) = refund_request(&app, &token, id, "no", json!({ "reason": "x" })).await;
    expect_code(s, &e, StatusCode::BAD_REQUEST, "IDEMPOTENCY_KEY_REQUIRED");

    // 4000 held; 6000 left: 7000 is too much, 6000 is fine.
    let (s, e) = refund_request(
        &app,
        &token,
        id,
        "partial-key-2",
        json!({ "reason": "全退", "amount_fen": 7000 }),
    )
    .await;
    expect_code(s, &e, StatusCode::CONFLICT, "REFUND_EXCEEDS_PAID");
    let (s, e) = refund_request(
        &app,
        &token,
        id,
        "partial-key-3",
        json!({ "reason": "零", "amount_fen": 0 }),
    )
    .await;
    assert_eq!(
        (s, e["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("amount_fen")),
        "{e}"
    );
    let (s, r2) = refund_request(
        &app,
        &token,
        id,
        "partial-key-4",
        json!({ "reason": "剩下的也退" }),
    )
    .await;
    assert_eq!(
        (s, r2["amount_fen"].as_i64()),
        (StatusCode::CREATED, Some(6000)),
        "{r2}"
    );
    let (s, e) = refund_request(
        &app,
        &token,
        id,
        "partial-key-5",
        json!({ "reason": "再退" }),
    )
    .await;
    expect_code(s, &e, StatusCode::CONFLICT, "REFUND_EXCEEDS_PAID");

    // Withdraw the second; approve the first: the order stays PAID with 4000 refunded.
    let (s, w) = app
        .post(
            &format!("/api/v1/refunds/{}/withdraw", r2["id"]),
            Some(&token),
            json!({}),
        )
        .await;
    assert_eq!(
        (s, w["status"].as_str()),
        (StatusCode::OK, Some("WITHDRAWN")),
        "{w}"
    );
    let (s, a) = app
        .post(
            &format!("/api/v1/admin/refunds/{}/approve", r1["id"]),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{a}");
    let o = app
        .wait_for(&order_path(&order), Some(&token), |o| {
            o["refunded_fen"] == 4000
        })
        .await;
    assert_eq!(
        (o["status"].as_str(), o["refund_pending_fen"].as_i64()),
        (Some("PAID"), Some(0)),
        "{o}"
    );
    // Approving twice is an illegal move, not a second refund.
    let (s, e) = app
        .post(
            &format!("/api/v1/admin/refunds/{}/approve", r1["id"]),
            Some(&admin),
            json!({}),
        )
        .await;
    expect_code(s, &e, StatusCode::CONFLICT, "ILLEGAL_STATE");
    // The rest, in a new request, refunds the order fully.
    let (_, r3) = refund_request(
        &app,
        &token,
        id,
        "partial-key-6",
        json!({ "reason": "剩下的" }),
    )
    .await;
    assert_eq!(r3["amount_fen"], 6000, "{r3}");
    app.post(
        &format!("/api/v1/admin/refunds/{}/approve", r3["id"]),
        Some(&admin),
        json!({}),
    )
    .await;
    let o = app
        .wait_for(&order_path(&order), Some(&token), |o| {
            o["status"] == "REFUNDED"
        })
        .await;
    assert_eq!(o["refunded_fen"], 10000);
    // Someone else's order is not found; an unpaid order cannot be refunded.
    let stranger = app.shopper("stranger").await;
    let (s, _) = refund_request(
        &app,
        &stranger,
        id,
        "stranger-key-1",
        json!({ "reason": "x" }),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (token_u, unpaid) = app.pending_order("unpaid", sku, 1).await;
    let (s, e) = refund_request(
        &app,
        &token_u,
        unpaid["id"].as_i64().unwrap(),
        "unpaid-key-1",
        json!({ "reason": "x" }),
    )
    .await;
    expect_code(s, &e, StatusCode::CONFLICT, "ILLEGAL_STATE");
}

/// Only finance and admin decide refunds; a rejection carries its reason and is audited.
async fn refund_decisions_need_finance(app: TestApp) {
    let (admin, sku) = product(&app, 2000, 5).await;
    for (name, role) in [("clerk", "operator"), ("money", "finance")] {
        let (s, v) = app
            .post(
                "/api/v1/admin/operators",
                Some(&admin),
                json!({ "username": name, "password": "a-long-password-1", "role": role }),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
    let clerk = app.operator("clerk", "a-long-password-1").await;
    let finance = app.operator("money", "a-long-password-1").await;
    let (token, order) = paid_order(&app, "decide", sku, 1).await;
    let id = order["id"].as_i64().unwrap();
    let (_, r) = refund_request(
        &app,
        &token,
        id,
        "decide-key-1",
        json!({ "reason": "不想要了" }),
    )
    .await;
    let rid = r["id"].as_i64().unwrap();

    let (s, e) = app
        .post(
            &format!("/api/v1/admin/refunds/{rid}/approve"),
            Some(&clerk),
            json!({}),
        )
        .await;
    expect_code(s, &e, StatusCode::FORBIDDEN, "FORBIDDEN");
    let (s, list) = app
        .get("/api/v1/admin/refunds?status=REQUESTED", Some(&clerk))
        .await;
    assert_eq!(
        (s, list["total"].as_i64()),
        (StatusCode::OK, Some(1)),
        "{list}"
    );
    let (s, e) = app
        .post(
            &format!("/api/v1/admin/refunds/{rid}/reject"),
            Some(&finance),
            json!({ "reason": "" }),
        )
        .await;
    assert_eq!(
        (s, e["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("reason")),
        "{e}"
    );
    let (s, rej) = app
        .post(
            &format!("/api/v1/admin/refunds/{rid}/reject"),
            Some(&finance),
            json!({ "reason": "已签收超过7天" }),
        )
        .await;
    assert_eq!(
        (s, rej["status"].as_str(), rej["decision_note"].as_str()),
        (StatusCode::OK, Some("REJECTED"), Some("已签收超过7天")),
        "{rej}"
    );
    let (_, mine) = app
        .get(&format!("/api/v1/orders/{id}/refunds"), Some(&token))
        .await;
    assert_eq!(mine[0]["decision_note"], "已签收超过7天");
    let (_, o) = app.get(&order_path(&order), Some(&token)).await;
    assert_eq!(
        (o["status"].as_str(), o["refund_pending_fen"].as_i64()),
        (Some("PAID"), Some(0))
    );
    let (s, audit) = app
        .get(
            &format!("/api/v1/admin/audit?action=refund.reject&target_id={rid}"),
            Some(&admin),
        )
        .await;
    assert_eq!(
        (s, audit["total"].as_i64()),
        (StatusCode::OK, Some(1)),
        "{audit}"
    );
    let (s, _) = app.get("/api/v1/admin/audit", Some(&clerk)).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = app
        .get("/api/v1/admin/refunds/999999", Some(&finance))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

/// The sandbox's own faults: a wrong amount is refused, a bad signature is refused, and
/// duplicates are acknowledged — and the order ends up paid exactly once by the good one.
async fn the_sandbox_faults_never_pay_wrongly(app: TestApp) {
    let (_, sku) = product(&app, 1200, 5).await;
    let (token, order) = app.pending_order("faults", sku, 1).await;
    pay_params(&app, &token, order["id"].as_i64().unwrap()).await;
    let no = order["order_no"].as_str().unwrap();
    let (s, _) = app
        .post(
            "/sandbox/control/faults",
            None,
            json!({ "out_trade_no": no, "wrong_amount": true, "count": 1 }),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    app.post("/sandbox/control/pay", None, json!({ "out_trade_no": no }))
        .await;
    // The sandbox's callback carries one fen more: refused, and retried on WeChat's schedule
    // (still wrong). The order stays unpaid until the client asks and WeChat is queried.
    let mut refused = false;
    for _ in 0..200 {
        let (_, d) = app
            .get(&format!("/sandbox/control/deliveries?key={no}"), None)
            .await;
        if d.as_array()
            .is_some_and(|a| a.iter().any(|x| x["status"] == 400))
        {
            refused = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(refused, "the wrong amount was refused");
    assert!(
        app.metric("shop_payment_callbacks_rejected_total{reason=\"amount_mismatch\"}")
            .await
            >= 1.0
    );
    let (_, o) = app.get(&order_path(&order), Some(&token)).await;
    assert_eq!(o["status"], "PENDING_PAYMENT");
    let (_, o) = app
        .get(
            &format!("{}?check_payment=true", order_path(&order)),
            Some(&token),
        )
        .await;
    assert_eq!(
        (o["status"].as_str(), o["paid_fen"].as_i64()),
        (Some("PAID"), Some(1200)),
        "{o}"
    );

    // A second order: its callback is duplicated three times and badly signed once.
    let (token, order) = app.pending_order("faults-2", sku, 1).await;
    pay_params(&app, &token, order["id"].as_i64().unwrap()).await;
    let no = order["order_no"].as_str().unwrap();
    app.post(
        "/sandbox/control/faults",
        None,
        json!({ "out_trade_no": no, "duplicates": 3 }),
    )
    .await;
    app.post("/sandbox/control/pay", None, json!({ "out_trade_no": no }))
        .await;
    app.wait_for(&order_path(&order), Some(&token), |o| o["status"] == "PAID")
        .await;
    for _ in 0..200 {
        let (_, d) = app
            .get(&format!("/sandbox/control/deliveries?key={no}"), None)
            .await;
        if d.as_array()
            .is_some_and(|a| a.iter().filter(|x| x["status"] == 204).count() == 4)
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let events = app.events_of(order["id"].as_i64().unwrap()).await;
    assert_eq!(
        events.iter().filter(|e| *e == "Order.Paid").count(),
        1,
        "{events:?}"
    );
    assert_eq!(
        app.metric("shop_payment_callbacks_total{kind=\"payment\",outcome=\"duplicate\"}")
            .await,
        3.0
    );
}

/// Today in China (UTC+8), as `YYYY-MM-DD`, from the system clock the server also uses.
fn today_in_china() -> shop_core::time::BizDate {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    shop_core::time::Timestamp::from_millis(ms).cn_date()
}
