//! The client against the sandbox over real HTTP: both built on the same crypto module, each
//! checking the other's signatures, so a drift in either breaks these tests.

use crate::support::{testdata, world};
use serde_json::{json, Value};
use shop_core::ports::*;
use shop_core::text::{OpenId, OrderNo, RefundNo};
use shop_core::time::Span;
use shop_core::Fen;
use shop_memory::ManualClock;
use shop_wechat_pay::crypto::PublicKey;
use shop_wechat_pay::notify::Notice;
use shop_wechat_pay::{WechatPayClient, WechatPayConfig};
use std::sync::Arc;

fn prepay(no: &str, amount: i64, now: shop_core::time::Timestamp) -> PrepayRequest {
    PrepayRequest {
        out_trade_no: OrderNo::parse(no).unwrap(),
        description: "五常大米 5kg".into(),
        amount: Fen::new(amount),
        payer: OpenId::parse("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o").unwrap(),
        time_expire: now.plus(Span::minutes(28)),
    }
}

fn no(s: &str) -> OrderNo {
    OrderNo::parse(s).unwrap()
}

#[tokio::test]
async fn prepay_is_reused_for_identical_parameters_only() {
    let w = world(None).await;
    let req = prepay("R2026112401", 12900, w.clock.now());
    let id = w.client.prepay(&req).await.unwrap();
    assert!(id.starts_with("wx"), "{id}");
    assert_eq!(
        w.client.prepay(&req).await.unwrap(),
        id,
        "identical parameters: the same prepay"
    );
    for changed in [
        PrepayRequest {
            amount: Fen::new(100),
            ..req.clone()
        },
        PrepayRequest {
            description: "五常大米 10kg".into(),
            ..req.clone()
        },
        PrepayRequest {
            time_expire: req.time_expire.plus(Span::minutes(1)),
            ..req.clone()
        },
    ] {
        let e = w.client.prepay(&changed).await.unwrap_err();
        assert!(
            matches!(e, GatewayError::Rejected { ref code, .. } if code == "INVALID_REQUEST"),
            "{e:?}"
        );
    }
    // The mini-program's parameters, signed with the merchant key.
    let p = w.client.pay_params(&id, w.clock.now()).unwrap();
    assert_eq!(
        (p.app_id.as_str(), p.sign_type.as_str()),
        ("wx8888888888888888", "RSA")
    );
    assert_eq!(p.package, format!("prepay_id={id}"));
    assert_eq!(p.time_stamp, w.clock.now().seconds().to_string());
    let msg = format!(
        "{}\n{}\n{}\n{}\n",
        p.app_id, p.time_stamp, p.nonce_str, p.package
    );
    let merchant = PublicKey::from_pem(&testdata("merchant_public_key.pem")).unwrap();
    assert!(merchant.verify(msg.as_bytes(), &p.pay_sign));
    assert_ne!(
        w.client.pay_params(&id, w.clock.now()).unwrap().nonce_str,
        p.nonce_str
    );
}

#[tokio::test]
async fn query_and_close_follow_the_trade() {
    let w = world(None).await;
    let paid = no("R2026112402");
    w.client
        .prepay(&prepay(paid.as_str(), 12900, w.clock.now()))
        .await
        .unwrap();
    assert_eq!(w.client.query(&paid).await.unwrap(), TradeState::NotPay);
    assert_eq!(
        w.client.query(&no("R2026NOBODY")).await.unwrap(),
        TradeState::NotFound
    );

    let tx = w.sandbox.pay(paid.as_str()).unwrap();
    match w.client.query(&paid).await.unwrap() {
        TradeState::Success {
            transaction_id,
            amount,
            paid_at,
            payload,
        } => {
            assert_eq!(
                (transaction_id.as_str(), amount),
                (tx.as_str(), Fen::new(12900))
            );
            assert_eq!(paid_at.seconds(), w.clock.now().seconds());
            assert!(payload.contains(&tx));
        }
        other => panic!("{other:?}"),
    }
    assert!(w.sandbox.pay(paid.as_str()).is_err(), "paid once only");
    assert_eq!(
        w.client.close(&paid).await.unwrap(),
        CloseOutcome::AlreadyPaid
    );
    assert_eq!(
        w.client.close(&no("R2026NOBODY")).await.unwrap(),
        CloseOutcome::Closed
    );

    let unpaid = no("R2026112403");
    let req = prepay(unpaid.as_str(), 500, w.clock.now());
    w.client.prepay(&req).await.unwrap();
    assert_eq!(w.client.close(&unpaid).await.unwrap(), CloseOutcome::Closed);
    assert_eq!(
        w.client.close(&unpaid).await.unwrap(),
        CloseOutcome::Closed,
        "closing twice is fine"
    );
    assert_eq!(w.client.query(&unpaid).await.unwrap(), TradeState::Closed);
    assert!(
        w.sandbox.pay(unpaid.as_str()).is_err(),
        "a closed order takes no money"
    );
    assert!(
        matches!(w.client.prepay(&req).await, Err(GatewayError::Rejected { code, .. }) if code == "ORDER_CLOSED")
    );

    let declined = no("R2026112404");
    w.client
        .prepay(&prepay(declined.as_str(), 500, w.clock.now()))
        .await
        .unwrap();
    w.sandbox.fail(declined.as_str()).unwrap();
    assert_eq!(
        w.client.query(&declined).await.unwrap(),
        TradeState::PayError
    );

    // After time_expire WeChat takes no money.
    let late = no("R2026112405");
    w.client
        .prepay(&prepay(late.as_str(), 500, w.clock.now()))
        .await
        .unwrap();
    w.clock.advance(Span::minutes(29));
    assert_eq!(
        w.sandbox.pay(late.as_str()).unwrap_err(),
        shop_wechat_pay::sandbox::ControlError::Expired
    );
}

#[tokio::test]
async fn refunds_are_idempotent_per_number_and_settle() {
    let w = world(None).await;
    let order = no("R2026112410");
    w.client
        .prepay(&prepay(order.as_str(), 12900, w.clock.now()))
        .await
        .unwrap();
    w.sandbox.pay(order.as_str()).unwrap();

    let rno = RefundNo::parse("F2026112401").unwrap();
    let req = RefundRequest {
        out_trade_no: order.clone(),
        out_refund_no: rno.clone(),
        amount: Fen::new(4300),
        total: Fen::new(12900),
        reason: "米袋破损".into(),
    };
    let r1 = w.client.refund(&req).await.unwrap();
    let r2 = w.client.refund(&req).await.unwrap();
    assert_eq!(r1, r2, "the same number is the same refund");
    assert_eq!(
        (r1.status, r1.amount, r1.out_refund_no.clone()),
        (
            ProviderRefundStatus::Processing,
            Fen::new(4300),
            rno.clone()
        )
    );
    // Only one 43.00 was taken: 86.00 more fits, 86.01 would not.
    let too_much = RefundRequest {
        out_refund_no: RefundNo::parse("F2026112402").unwrap(),
        amount: Fen::new(8601),
        ..req.clone()
    };
    assert!(
        matches!(w.client.refund(&too_much).await, Err(GatewayError::Rejected { code, .. }) if code == "INVALID_REQUEST")
    );
    let rest = RefundRequest {
        out_refund_no: RefundNo::parse("F2026112403").unwrap(),
        amount: Fen::new(8600),
        ..req.clone()
    };
    w.client.refund(&rest).await.unwrap();
    let wrong_total = RefundRequest {
        out_refund_no: RefundNo::parse("F2026112404").unwrap(),
        total: Fen::new(100),
        amount: Fen::new(1),
        ..req.clone()
    };
    assert!(matches!(
        w.client.refund(&wrong_total).await,
        Err(GatewayError::Rejected { .. })
    ));
    let unpaid = RefundRequest {
        out_trade_no: no("R2026NOBODY"),
        out_refund_no: RefundNo::parse("F2026112405").unwrap(),
        ..req.clone()
    };
    assert!(
        matches!(w.client.refund(&unpaid).await, Err(GatewayError::Rejected { code, .. }) if code == "RESOURCE_NOT_EXISTS")
    );

    assert_eq!(
        w.client.query_refund(&rno).await.unwrap().unwrap().status,
        ProviderRefundStatus::Processing
    );
    assert_eq!(
        w.client
            .query_refund(&RefundNo::parse("F2026NOBODY").unwrap())
            .await
            .unwrap(),
        None
    );
    w.sandbox.settle_refund(rno.as_str(), "SUCCESS").unwrap();
    let settled = w.client.query_refund(&rno).await.unwrap().unwrap();
    assert_eq!(
        (settled.status, settled.amount, settled.refund_id),
        (ProviderRefundStatus::Success, Fen::new(4300), r1.refund_id)
    );
    assert_eq!(
        settled.success_time.map(|t| t.seconds()),
        Some(w.clock.now().seconds())
    );
    assert!(
        w.sandbox.settle_refund(rno.as_str(), "CLOSED").is_err(),
        "settled once"
    );
    w.sandbox.settle_refund("F2026112403", "ABNORMAL").unwrap();
    assert_eq!(
        w.client
            .query_refund(&RefundNo::parse("F2026112403").unwrap())
            .await
            .unwrap()
            .unwrap()
            .status,
        ProviderRefundStatus::Abnormal
    );
    assert!(
        matches!(w.client.query(&order).await.unwrap(), TradeState::Refund { amount, .. } if amount == Fen::new(12900))
    );
    // A retry after settlement still answers the same refund, without a second one.
    assert_eq!(
        w.client.refund(&req).await.unwrap().status,
        ProviderRefundStatus::Success
    );

    // The callbacks: the payment, then the two refund outcomes, each verifiable.
    w.receiver.wait_for(3).await;
    let statuses: Vec<String> = w
        .receiver
        .notices()
        .into_iter()
        .filter_map(|n| match n.unwrap() {
            Notice::Refund { refund, .. } => {
                Some(format!("{}:{}", refund.out_refund_no, refund.refund_status))
            }
            Notice::Transaction { .. } => None,
        })
        .collect();
    assert_eq!(statuses.len(), 2);
    assert!(
        statuses.contains(&"F2026112401:SUCCESS".to_string())
            && statuses.contains(&"F2026112403:ABNORMAL".to_string()),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn refunds_settle_by_themselves_by_default() {
    let w = world(Some(20)).await;
    let order = no("R2026112420");
    w.client
        .prepay(&prepay(order.as_str(), 2000, w.clock.now()))
        .await
        .unwrap();
    w.sandbox.pay(order.as_str()).unwrap();
    let rno = RefundNo::parse("F2026112420").unwrap();
    let req = RefundRequest {
        out_trade_no: order,
        out_refund_no: rno.clone(),
        amount: Fen::new(2000),
        total: Fen::new(2000),
        reason: "不想要了".into(),
    };
    assert_eq!(
        w.client.refund(&req).await.unwrap().status,
        ProviderRefundStatus::Processing
    );
    w.receiver.wait_for(2).await;
    assert_eq!(
        w.client.query_refund(&rno).await.unwrap().unwrap().status,
        ProviderRefundStatus::Success
    );
    assert!(
        matches!(&w.receiver.notices()[1], Ok(Notice::Refund { refund, event_type, .. }) if refund.refund_status == "SUCCESS" && event_type == "REFUND.SUCCESS")
    );
    // The receiver path tells refunds from payments.
    let urls: Vec<String> = w
        .sandbox
        .deliveries()
        .iter()
        .map(|d| d.url.rsplit('/').next().unwrap().to_string())
        .collect();
    assert_eq!(urls, ["notify", "refund-notify"]);
}

#[tokio::test]
async fn the_days_bill_downloads_hashes_and_parses() {
    let w = world(None).await;
    // A fixed day, so that the bill's day is known: 2026-11-24 10:00 China time.
    w.clock
        .set(shop_core::time::Timestamp::parse_rfc3339("2026-11-24T10:00:00+08:00").unwrap());
    let date = w.clock.now().cn_date();
    for (n, amount) in [("R2026112430", 12900), ("R2026112431", 25800)] {
        w.client
            .prepay(&prepay(n, amount, w.clock.now()))
            .await
            .unwrap();
        w.sandbox.pay(n).unwrap();
        w.clock.advance(Span::minutes(5));
    }
    let req = RefundRequest {
        out_trade_no: no("R2026112430"),
        out_refund_no: RefundNo::parse("F2026112430").unwrap(),
        amount: Fen::new(4300),
        total: Fen::new(12900),
        reason: "破损".into(),
    };
    w.client.refund(&req).await.unwrap();
    w.sandbox.settle_refund("F2026112430", "SUCCESS").unwrap();

    let bill = w.client.trade_bill(date).await.unwrap();
    assert_eq!(bill.rows.len(), 3);
    assert_eq!(
        (bill.total_count, bill.total_settled, bill.total_refund),
        (3, Fen::new(38700), Fen::new(4300))
    );
    // The same fees as the fixture bill: 0.77 + 1.55 − 0.26.
    assert_eq!(bill.total_fee, Fen::new(206));
    assert_eq!(bill.rows[0].trade_time, "2026-11-24 10:00:00");
    assert_eq!(bill.rows[2].trade_state, "REFUND");
    assert_eq!(bill.rows[2].out_refund_no.as_deref(), Some("F2026112430"));
    // Other days are empty; tomorrow's bill does not exist yet.
    assert_eq!(
        w.client.trade_bill(date.prev()).await.unwrap().rows.len(),
        0
    );
    assert!(
        matches!(w.client.trade_bill(date.next()).await, Err(GatewayError::Rejected { code, .. }) if code == "NO_STATEMENT_EXIST")
    );
}

#[tokio::test]
async fn the_sandbox_refuses_requests_the_merchant_did_not_sign() {
    let w = world(None).await;
    let http = reqwest::Client::new();
    let r = http
        .post(format!("{}/v3/pay/transactions/jsapi", w.base_url))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(
        r.headers().contains_key("wechatpay-signature"),
        "even a refusal is signed"
    );
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "SIGN_ERROR");

    // Signed with another key: refused, and the client reports WeChat's code.
    let wrong_key = WechatPayConfig {
        merchant_private_key: testdata("other_private_key.pem"),
        ..w.client.config().clone()
    };
    let forger = WechatPayClient::new(wrong_key, w.clock.clone()).unwrap();
    assert!(
        matches!(forger.prepay(&prepay("R2026FORGED", 1, w.clock.now())).await, Err(GatewayError::Rejected { code, .. }) if code == "SIGN_ERROR")
    );

    // A client whose clock is 10 minutes off: WeChat refuses its signature, and the client does
    // not believe WeChat's (equally far off) answer either.
    let skewed_clock = Arc::new(ManualClock::new(w.clock.now().plus(Span::minutes(10))));
    let skewed = WechatPayClient::new(w.client.config().clone(), skewed_clock).unwrap();
    assert!(
        matches!(skewed.query(&no("R2026SKEWED")).await, Err(GatewayError::InvalidResponse(m)) if m.contains("300 s"))
    );
}

#[tokio::test]
async fn a_shared_clock_moves_both_sides() {
    let w = world(None).await;
    // A day later on the shared clock: signatures on both sides follow it.
    w.clock.advance(Span::days(1));
    let order = no("R2026112440");
    w.client
        .prepay(&prepay(order.as_str(), 700, w.clock.now()))
        .await
        .unwrap();
    w.sandbox.pay(order.as_str()).unwrap();
    w.receiver.wait_for(1).await;
    assert!(
        w.receiver.notices()[0].is_ok(),
        "the callback is stamped with the shared clock"
    );
    assert_eq!(w.sandbox.deliveries()[0].at_ms, w.clock.now().millis());
}

#[tokio::test]
async fn the_control_api_over_http() {
    let w = world(None).await;
    let http = reqwest::Client::new();
    let control = |path: &str| format!("{}/control/{path}", w.base_url);
    let order = no("R2026112450");
    w.client
        .prepay(&prepay(order.as_str(), 900, w.clock.now()))
        .await
        .unwrap();

    let faults = json!({"out_trade_no": "R2026112450", "duplicates": 1, "count": 1});
    let r = http
        .post(control("faults"))
        .json(&faults)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = http
        .post(control("faults"))
        .json(&json!({"nonsense": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        400,
        "unknown fault names are refused, not ignored"
    );

    let r = http
        .post(control("pay"))
        .json(&json!({"out_trade_no": "R2026112450"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let tx = r.json::<Value>().await.unwrap()["transaction_id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = http
        .post(control("pay"))
        .json(&json!({"out_trade_no": "R2026112450"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409, "paid already");
    let trade: Value = http
        .get(control("trades/R2026112450"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            trade["trade_state"].as_str(),
            trade["transaction_id"].as_str()
        ),
        (Some("SUCCESS"), Some(tx.as_str()))
    );

    w.receiver.wait_for(2).await;
    let log: Vec<Value> = http
        .get(control("deliveries?key=R2026112450"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(log.len(), 2, "one duplicate: {log:?}");
    assert!(log
        .iter()
        .all(|d| d["status"] == 204 && d["url"].as_str().unwrap().ends_with("/notify")));

    // Refund settlement by hand, after turning automatic settlement off.
    let r = http
        .post(control("settings"))
        .json(&json!({"auto_settle_refunds_ms": null}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let req = RefundRequest {
        out_trade_no: order,
        out_refund_no: RefundNo::parse("F2026112450").unwrap(),
        amount: Fen::new(900),
        total: Fen::new(900),
        reason: "退货".into(),
    };
    w.client.refund(&req).await.unwrap();
    let r = http
        .post(control("refunds/F2026112450"))
        .json(&json!({"status": "CLOSED"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let refund: Value = http
        .get(control("refunds/F2026112450"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(refund["status"], "CLOSED");
    let r = http
        .post(control("refunds/F2026112450"))
        .json(&json!({"status": "MAYBE"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    w.receiver.wait_for(3).await;
    assert!(
        matches!(&w.receiver.notices()[2], Ok(Notice::Refund { event_type, .. }) if event_type == "REFUND.CLOSED")
    );

    let r = http.delete(control("faults")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = http.get(control("nothing-here")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let r = http
        .post(control("pay"))
        .body(vec![b'x'; 70 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
}
