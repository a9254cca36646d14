//! Callback delivery as a shop receives it: WeChat's retry schedule (time-scaled) until a 2xx,
//! and the faults the shop must survive, each observable at the receiver.

use crate::support::{serve, world, Receiver};
use shop_core::ports::{Clock, PaymentGateway, PrepayRequest};
use shop_core::text::{OpenId, OrderNo};
use shop_core::time::Span;
use shop_core::Fen;
use shop_memory::SystemClock;
use shop_wechat_pay::notify::Notice;
use shop_wechat_pay::sandbox::{Faults, RETRY_SCHEDULE_SECS};
use shop_wechat_pay::{Sandbox, SandboxConfig};
use std::sync::Arc;
use std::time::{Duration, Instant};

async fn pay(w: &crate::support::World, no: &str, amount: i64) -> String {
    let req = PrepayRequest {
        out_trade_no: OrderNo::parse(no).unwrap(),
        description: "五常大米 2.5kg".into(),
        amount: Fen::new(amount),
        payer: OpenId::parse("oUpF8uJ3kW9Zc1u0aTqkL2m5xYzA").unwrap(),
        time_expire: w.clock.now().plus(Span::minutes(28)),
    };
    w.client.prepay(&req).await.unwrap();
    w.sandbox.pay(no).unwrap()
}

fn amounts(notices: &[Result<Notice, String>]) -> Vec<i64> {
    notices
        .iter()
        .map(|n| match n {
            Ok(Notice::Transaction { transaction, .. }) => transaction.amount.total,
            other => panic!("{other:?}"),
        })
        .collect()
}

#[test]
fn the_schedule_is_wechats() {
    let total: u64 = RETRY_SCHEDULE_SECS.iter().sum();
    assert_eq!(RETRY_SCHEDULE_SECS.len(), 15);
    assert_eq!(
        total,
        15 + 15 + 30 + 180 + 600 + 1200 + 3 * 1800 + 3600 + 3 * 10800 + 2 * 21600
    );
    assert!(
        (86_000..=90_000).contains(&total),
        "about 24 hours: {total}"
    );
}

#[tokio::test]
async fn a_callback_is_retried_until_the_shop_answers_2xx() {
    let w = world(None).await;
    w.receiver.script.lock().unwrap().extend([500, 503]);
    let tx = pay(&w, "R2026CB0001", 700).await;
    w.receiver.wait_for(3).await;
    tokio::time::sleep(Duration::from_millis(30)).await;
    let log = w.sandbox.deliveries();
    let attempts: Vec<(u32, u16)> = log.iter().map(|d| (d.attempt, d.status)).collect();
    assert_eq!(
        attempts,
        vec![(1, 500), (2, 503), (3, 204)],
        "and nothing after the 204"
    );
    assert!(log
        .iter()
        .all(|d| d.key == "R2026CB0001" && d.event_type == "TRANSACTION.SUCCESS"));
    // Every attempt is the same notification, freshly signed, and verifies.
    let notices = w.receiver.notices();
    let ids: Vec<&str> = notices.iter().map(|n| n.as_ref().unwrap().id()).collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    assert!(
        matches!(&notices[2], Ok(Notice::Transaction { transaction, .. }) if transaction.transaction_id.as_deref() == Some(tx.as_str()))
    );
    let signatures: Vec<String> = w
        .receiver
        .seen
        .lock()
        .unwrap()
        .iter()
        .map(|(h, _)| h["wechatpay-nonce"].clone())
        .collect();
    assert_ne!(signatures[0], signatures[1]);
}

#[tokio::test]
async fn retries_follow_the_scaled_schedule() {
    let clock = Arc::new(SystemClock);
    let receiver = Receiver::new(clock.clone());
    receiver.script.lock().unwrap().extend([500, 500, 500]);
    let notify = serve(receiver.clone()).await;
    // 1/100: 150 ms, 150 ms, 300 ms.
    let cfg = SandboxConfig {
        time_scale: 0.01,
        ..SandboxConfig::default()
    };
    let sandbox = Sandbox::new(cfg, clock).unwrap();
    let base = serve(poem::Route::new().nest("/sandbox", sandbox.clone())).await;
    let env: std::collections::HashMap<&str, String> = [
        ("SHOP_WECHAT_BASE_URL", format!("{base}/sandbox")),
        ("SHOP_WECHAT_NOTIFY_URL", format!("{notify}/notify")),
    ]
    .into_iter()
    .collect();
    let cfg =
        shop_wechat_pay::WechatPayConfig::from_lookup(|k| env.get(k).cloned(), "http://unused")
            .unwrap();
    let client = shop_wechat_pay::WechatPayClient::new(cfg, Arc::new(SystemClock)).unwrap();
    client
        .prepay(&PrepayRequest {
            out_trade_no: OrderNo::parse("R2026CB0100").unwrap(),
            description: "五常大米".into(),
            amount: Fen::new(100),
            payer: OpenId::parse("oUpF8uJ3kW9Zc1u0aTqkL2m5xYzA").unwrap(),
            time_expire: SystemClock.now().plus(Span::minutes(28)),
        })
        .await
        .unwrap();
    let started = Instant::now();
    sandbox.pay("R2026CB0100").unwrap();
    receiver.wait_for(4).await;
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(590),
        "15 s + 15 s + 30 s at 1/100: {took:?}"
    );
    assert!(took < Duration::from_millis(3000), "{took:?}");

    // Shutdown stops redelivery: the shop now fails for good, and nothing more arrives.
    receiver.script.lock().unwrap().extend([500; 10]);
    client
        .prepay(&PrepayRequest {
            out_trade_no: OrderNo::parse("R2026CB0101").unwrap(),
            description: "五常大米".into(),
            amount: Fen::new(100),
            payer: OpenId::parse("oUpF8uJ3kW9Zc1u0aTqkL2m5xYzA").unwrap(),
            time_expire: SystemClock.now().plus(Span::minutes(28)),
        })
        .await
        .unwrap();
    sandbox.pay("R2026CB0101").unwrap();
    receiver.wait_for(5).await;
    sandbox.shutdown();
    assert!(sandbox.is_shut_down());
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(receiver.count(), 5, "no attempt after shutdown");
}

#[tokio::test]
async fn duplicates_and_wrong_amounts_reach_the_shop() {
    let w = world(None).await;
    w.sandbox.set_faults(Faults {
        duplicates: 2,
        wrong_amount: true,
        out_trade_no: Some("R2026CB0002".into()),
        ..Faults::default()
    });
    pay(&w, "R2026CB0002", 800).await;
    w.receiver.wait_for(3).await;
    let notices = w.receiver.notices();
    assert_eq!(
        amounts(&notices),
        vec![801, 801, 801],
        "three copies claiming a fen too many"
    );
    let ids: Vec<&str> = notices.iter().map(|n| n.as_ref().unwrap().id()).collect();
    assert!(
        ids.iter().all(|id| *id == ids[0]),
        "duplicates share the notification id"
    );
    // Faults for one order leave the others alone.
    pay(&w, "R2026CB0003", 900).await;
    w.receiver.wait_for(4).await;
    tokio::time::sleep(Duration::from_millis(30)).await;
    assert_eq!(amounts(&w.receiver.notices()[3..]), vec![900]);
}

#[tokio::test]
async fn a_bad_signature_reaches_the_shop_as_such() {
    let w = world(None).await;
    // Global faults, for one notification only. The shop rejects it (401); WeChat's retry is
    // the same notification, so it is still badly signed.
    w.receiver.script.lock().unwrap().push(401);
    w.sandbox.set_faults(Faults {
        bad_signature: true,
        count: Some(1),
        ..Faults::default()
    });
    pay(&w, "R2026CB0004", 900).await;
    w.receiver.wait_for(2).await;
    let bad = Err("bad_signature".to_string());
    assert_eq!(w.receiver.notices()[..2], [bad.clone(), bad]);
    // The next notification is clean.
    pay(&w, "R2026CB0005", 900).await;
    w.receiver.wait_for(3).await;
    tokio::time::sleep(Duration::from_millis(30)).await;
    let last = w.receiver.notices().pop().unwrap();
    assert!(
        matches!(last, Ok(Notice::Transaction { transaction, .. }) if transaction.out_trade_no == "R2026CB0005")
    );
}

#[tokio::test]
async fn out_of_order_and_delayed_delivery() {
    let w = world(None).await;
    w.sandbox.set_faults(Faults {
        out_of_order: true,
        ..Faults::default()
    });
    for no in ["R2026CB0006", "R2026CB0007", "R2026CB0008"] {
        pay(&w, no, 1000).await;
    }
    w.receiver.wait_for(3).await;
    let order: Vec<String> = w
        .receiver
        .notices()
        .into_iter()
        .map(|n| match n {
            Ok(Notice::Transaction { transaction, .. }) => transaction.out_trade_no,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        order,
        ["R2026CB0008", "R2026CB0007", "R2026CB0006"],
        "newest first"
    );

    w.sandbox.clear_faults();
    w.sandbox.set_faults(Faults {
        delay_ms: 150,
        ..Faults::default()
    });
    let started = Instant::now();
    pay(&w, "R2026CB0009", 1000).await;
    w.receiver.wait_for(4).await;
    assert!(
        started.elapsed() >= Duration::from_millis(150),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_refund_callback_with_the_wrong_amount() {
    let w = world(Some(10)).await;
    pay(&w, "R2026CB0010", 1000).await;
    w.receiver.wait_for(1).await;
    w.sandbox.set_faults(Faults {
        wrong_amount: true,
        out_trade_no: Some("R2026CB0010".into()),
        ..Faults::default()
    });
    let req = shop_core::ports::RefundRequest {
        out_trade_no: OrderNo::parse("R2026CB0010").unwrap(),
        out_refund_no: shop_core::text::RefundNo::parse("F2026CB0010").unwrap(),
        amount: Fen::new(300),
        total: Fen::new(1000),
        reason: "少了一袋".into(),
    };
    w.client.refund(&req).await.unwrap();
    w.receiver.wait_for(2).await;
    match &w.receiver.notices()[1] {
        Ok(Notice::Refund { refund, .. }) => {
            assert_eq!((refund.amount.refund, refund.amount.total), (301, 1000))
        }
        other => panic!("{other:?}"),
    }
}
