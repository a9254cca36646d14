//! The worker's jobs on both databases, with a manual clock instead of sleeping.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use shop_contract_tests::fixtures::{key, order_cmd, shopper, stocked_product};
use shop_contract_tests::Env;
use shop_core::order::{Order, OrderStatus};
use shop_core::ports::{BillRow, Clock, EventPublisher, PaymentSource, TradeState};
use shop_core::refund::RefundStatus;
use shop_core::text::OpenId;
use shop_core::time::Span;
use shop_core::usecases::{Operations, PaymentReport, CLAIM_LEASE};
use shop_core::Fen;
use shop_worker::{Job, Outcome, Worker, WorkerMetrics};
use std::sync::Arc;

macro_rules! worker_test {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name(shop_contract_tests::Env::new(shop_contract_tests::TestDb::sqlite().await, shop_contract_tests::TestGate::memory())).await
                }
            )*
        }
        mod mysql {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name(shop_contract_tests::Env::new(shop_contract_tests::TestDb::mysql().await, shop_contract_tests::TestGate::redis())).await
                }
            )*
        }
    };
}

worker_test!(
    expiry_closes_first_and_releases_once,
    paid_at_the_last_second_is_confirmed,
    two_workers_never_double_process,
    lost_callback_is_recovered_by_the_sweep,
    refunds_are_sent_and_settled_by_the_sweep,
    reconciliation_finds_planted_differences,
    outbox_relay_publishes_in_order_once,
    gate_check_repairs_only_stable_drift,
    expiry_speaks_to_the_real_sandbox,
    expiry_drains_a_backlog_in_one_run,
);

fn events_file(env: &Env) -> std::path::PathBuf {
    std::env::temp_dir().join(format!(
        "shop-worker-events-{}-{}.jsonl",
        env.db.backend,
        env.ids.as_ref() as *const _ as usize
    ))
}

fn worker(env: &Env, owner: &str) -> Worker {
    let publisher: Arc<dyn EventPublisher> =
        Arc::new(shop_memory::JsonLinesPublisher::new(events_file(env)));
    let s = env.stores();
    Worker {
        shop: env.shop.clone(),
        ops: Arc::new(Operations::new(
            env.shop.clone(),
            s.outbox.clone(),
            publisher,
            s.recon.clone(),
            s.users.clone(),
        )),
        leases: s.leases.clone(),
        outbox: s.outbox.clone(),
        clock: env.clock.clone(),
        owner: owner.into(),
        metrics: WorkerMetrics::register(&prometheus::Registry::new()).unwrap(),
    }
}

/// A pending order with a prepay at WeChat.
async fn pending(env: &Env, stock: i64, tag: &str) -> Order {
    let p = stocked_product(env, 12900, stock).await;
    let (user, address) = shopper(env).await;
    let o = env
        .shop
        .place_order(
            user,
            &order_cmd(address, &[(p.skus[0].id, 1)]),
            &key(&format!("worker-{tag}")),
        )
        .await
        .unwrap()
        .order;
    env.shop
        .start_payment(
            user,
            &OpenId::parse(&format!("openid_{user}")).unwrap(),
            o.id,
        )
        .await
        .unwrap();
    o
}

async fn stock(env: &Env, o: &Order) -> (i64, i64) {
    let s = env
        .stores()
        .catalogue
        .stock_levels(Some(vec![o.lines[0].sku_id]))
        .await
        .unwrap()[0]
        .1;
    (s.on_hand(), s.reserved())
}

async fn status(env: &Env, o: &Order) -> OrderStatus {
    env.stores().orders.get(o.id).await.unwrap().unwrap().status
}

async fn paid(env: &Env, o: &Order) {
    let TradeState::Success {
        transaction_id,
        amount,
        paid_at,
        payload,
    } = env.gateway.pay(&o.order_no, env.clock.now()).unwrap()
    else {
        panic!("not paid")
    };
    let r = PaymentReport {
        out_trade_no: o.order_no.clone(),
        transaction_id,
        amount,
        paid_at,
        source: PaymentSource::Callback,
        notification_id: None,
        payload,
    };
    env.shop.confirm_payment(&r).await.unwrap();
}

async fn expiry_closes_first_and_releases_once(env: Env) {
    let w = worker(&env, "w1");
    let o = pending(&env, 5, "expire").await;
    assert_eq!(
        w.tick(Job::ExpireUnpaid, None).await.unwrap(),
        Outcome::Done("examined 0, cancelled 0, paid instead 0, skipped 0".into())
    );
    env.clock.advance(Span::minutes(31));
    let out = w.tick(Job::ExpireUnpaid, None).await.unwrap();
    assert_eq!(
        out,
        Outcome::Done("examined 1, cancelled 1, paid instead 0, skipped 0".into())
    );
    assert_eq!(status(&env, &o).await, OrderStatus::Cancelled);
    assert_eq!(stock(&env, &o).await, (5, 0));
    let calls = env.gateway.calls();
    let close = calls
        .iter()
        .position(|c| c == &format!("close {}", o.order_no))
        .expect("closed at WeChat");
    assert!(
        calls[..close].iter().all(|c| !c.starts_with("refund")),
        "{calls:?}"
    );
    // Again, later: nothing twice.
    env.clock.advance(CLAIM_LEASE);
    w.tick(Job::ExpireUnpaid, None).await.unwrap();
    assert_eq!(stock(&env, &o).await, (5, 0));
    assert_eq!(
        env.stores()
            .outbox
            .for_aggregate(&format!("order:{}", o.id))
            .await
            .unwrap()
            .iter()
            .filter(|e| e.event_type == "Order.Cancelled")
            .count(),
        1
    );
    let status = env.stores().leases.status().await.unwrap();
    assert!(
        status
            .iter()
            .any(|s| s.job == "expire-unpaid" && s.last_ok == Some(true)),
        "{status:?}"
    );
}

async fn paid_at_the_last_second_is_confirmed(env: Env) {
    let w = worker(&env, "w1");
    let o = pending(&env, 5, "last-second").await;
    env.clock.advance(Span::seconds(29 * 60 + 59));
    env.gateway.pay(&o.order_no, env.clock.now()).unwrap();
    env.clock.advance(Span::minutes(2));
    let out = w.tick(Job::ExpireUnpaid, None).await.unwrap();
    assert_eq!(
        out,
        Outcome::Done("examined 1, cancelled 0, paid instead 1, skipped 0".into())
    );
    assert_eq!(status(&env, &o).await, OrderStatus::Paid);
    assert_eq!(stock(&env, &o).await, (4, 0));
}

async fn two_workers_never_double_process(env: Env) {
    let p = stocked_product(&env, 1000, 100).await;
    let (user, address) = shopper(&env).await;
    let mut orders = vec![];
    for i in 0..30 {
        let o = env
            .shop
            .place_order(
                user,
                &order_cmd(address, &[(p.skus[0].id, 1)]),
                &key(&format!("twin-{i:03}")),
            )
            .await
            .unwrap()
            .order;
        env.shop
            .start_payment(
                user,
                &OpenId::parse(&format!("openid_{user}")).unwrap(),
                o.id,
            )
            .await
            .unwrap();
        orders.push(o);
    }
    env.clock.advance(Span::minutes(31));
    let (a, b) = (worker(&env, "worker-a"), worker(&env, "worker-b"));
    // The lease makes them take turns…
    let (ta, tb) = tokio::join!(
        a.tick(Job::ExpireUnpaid, None),
        b.tick(Job::ExpireUnpaid, None)
    );
    let skipped = [ta.unwrap(), tb.unwrap()]
        .iter()
        .filter(|o| **o == Outcome::Skipped)
        .count();
    assert!(skipped <= 1);
    // …and even runs that overlap (a lease that lapsed mid-run) never share an order.
    let more: Vec<Order> = {
        let mut v = vec![];
        for i in 0..30 {
            let o = env
                .shop
                .place_order(
                    user,
                    &order_cmd(address, &[(p.skus[0].id, 1)]),
                    &key(&format!("twin2-{i:03}")),
                )
                .await
                .unwrap()
                .order;
            env.shop
                .start_payment(
                    user,
                    &OpenId::parse(&format!("openid_{user}")).unwrap(),
                    o.id,
                )
                .await
                .unwrap();
            v.push(o);
        }
        v
    };
    env.clock.advance(Span::minutes(31));
    let (ra, rb) = tokio::join!(
        a.run_job(Job::ExpireUnpaid, None),
        b.run_job(Job::ExpireUnpaid, None)
    );
    ra.unwrap();
    rb.unwrap();
    let calls = env.gateway.calls();
    for o in orders.iter().chain(&more) {
        let closes = calls
            .iter()
            .filter(|c| **c == format!("close {}", o.order_no))
            .count();
        assert_eq!(closes, 1, "{} closed {closes} times", o.order_no);
        assert_eq!(status(&env, o).await, OrderStatus::Cancelled);
    }
    let s = env
        .stores()
        .catalogue
        .stock_levels(Some(vec![p.skus[0].id]))
        .await
        .unwrap()[0]
        .1;
    assert_eq!(
        (s.on_hand(), s.reserved()),
        (100, 0),
        "every unit released exactly once"
    );
}

async fn lost_callback_is_recovered_by_the_sweep(env: Env) {
    let w = worker(&env, "w1");
    let o = pending(&env, 5, "lost-callback").await;
    env.gateway.pay(&o.order_no, env.clock.now()).unwrap();
    w.tick(Job::PaymentSweep, None).await.unwrap();
    assert_eq!(
        status(&env, &o).await,
        OrderStatus::PendingPayment,
        "too recent to sweep"
    );
    env.clock.advance(Span::minutes(6));
    let out = w.tick(Job::PaymentSweep, None).await.unwrap();
    assert_eq!(
        out,
        Outcome::Done("examined 1, recovered 1, unpaid 0".into())
    );
    assert_eq!(status(&env, &o).await, OrderStatus::Paid);
    assert_eq!(
        env.db
            .scalar("SELECT COUNT(*) FROM payment_notifications WHERE source = 'QUERY'")
            .await,
        1
    );
}

async fn refunds_are_sent_and_settled_by_the_sweep(env: Env) {
    let w = worker(&env, "w1");
    let o = pending(&env, 5, "refund-sweep").await;
    paid(&env, &o).await;
    let (refund, _) = env
        .shop
        .request_refund(
            o.user_id,
            &shop_core::usecases::RefundRequestCmd {
                order_id: o.id,
                amount: None,
                reason: shop_core::text::Reason::parse("不想要了").unwrap(),
            },
            &key("refund-sweep-1"),
        )
        .await
        .unwrap();
    env.gateway.set_down(true);
    let approved = env
        .shop
        .approve_refund(&shop_core::audit::Actor::system("finance"), refund.id)
        .await
        .unwrap();
    assert_eq!(
        approved.status,
        RefundStatus::Approved,
        "WeChat down: stays approved"
    );
    assert!(
        w.tick(Job::RefundSweep, None).await.is_err(),
        "a sweep that could not send reports failure"
    );
    env.gateway.set_down(false);
    env.clock.advance(CLAIM_LEASE);
    w.tick(Job::RefundSweep, None).await.unwrap();
    assert_eq!(
        env.stores()
            .refunds
            .get(refund.id)
            .await
            .unwrap()
            .unwrap()
            .status,
        RefundStatus::Processing
    );
    env.gateway.settle_refunds(env.clock.now());
    env.clock.advance(CLAIM_LEASE);
    w.tick(Job::RefundSweep, None).await.unwrap();
    assert_eq!(
        env.stores()
            .refunds
            .get(refund.id)
            .await
            .unwrap()
            .unwrap()
            .status,
        RefundStatus::Succeeded
    );
    let after = env.stores().orders.get(o.id).await.unwrap().unwrap();
    assert_eq!(
        (after.status, after.refunded),
        (OrderStatus::Refunded, o.payable)
    );
    assert_eq!(
        stock(&env, &o).await,
        (5, 0),
        "an unshipped order's rice goes back on the shelf"
    );
}

async fn reconciliation_finds_planted_differences(env: Env) {
    let w = worker(&env, "w1");
    let day = env.clock.now().cn_date();
    let mut orders = vec![];
    for i in 0..4 {
        let o = pending(&env, 5, &format!("recon-{i}")).await;
        paid(&env, &o).await;
        orders.push(o);
    }
    let out = w.tick(Job::Reconcile, Some(day)).await.unwrap();
    assert_eq!(
        out,
        Outcome::Done(format!(
            "{day}: bill 4 rows ¥516.00, local 4 payments ¥516.00, 0 differences"
        ))
    );
    assert!(env
        .stores()
        .recon
        .report(day)
        .await
        .unwrap()
        .unwrap()
        .is_clean());

    let (t0, t1) = (
        transaction_of(&env, &orders[0]).await,
        transaction_of(&env, &orders[1]).await,
    );
    env.gateway.bill_hide(&t0);
    env.gateway.bill_amount(&t1, Fen::new(1));
    env.gateway.bill_add(BillRow {
        trade_time: "x".into(),
        transaction_id: "4200009999999999".into(),
        out_trade_no: "R2026STRANGER".into(),
        trade_state: "SUCCESS".into(),
        settled_amount: Fen::new(700),
        refund_id: None,
        out_refund_no: None,
        refund_amount: Fen::ZERO,
        refund_status: None,
        fee: Fen::ZERO,
    });
    w.tick(Job::Reconcile, Some(day)).await.unwrap();
    let r = env.stores().recon.report(day).await.unwrap().unwrap();
    let kinds: Vec<&str> = r.differences.iter().map(|d| d.kind.as_str()).collect();
    assert_eq!(kinds.len(), 3, "{kinds:?}");
    for k in ["MISSING_AT_WECHAT", "AMOUNT_MISMATCH", "MISSING_LOCALLY"] {
        assert!(kinds.contains(&k), "{k} in {kinds:?}");
    }
    assert_eq!(w.metrics.recon_differences.get(), 3);
    assert_eq!(
        env.db.scalar("SELECT COUNT(*) FROM recon_reports").await,
        1,
        "a rerun replaces the day's report"
    );
}

async fn transaction_of(env: &Env, o: &Order) -> String {
    env.stores()
        .payments
        .get_by_order(o.id)
        .await
        .unwrap()
        .unwrap()
        .transaction_id
        .unwrap()
        .to_string()
}

async fn outbox_relay_publishes_in_order_once(env: Env) {
    let w = worker(&env, "w1");
    let _ = std::fs::remove_file(events_file(&env));
    for i in 0..3 {
        pending(&env, 5, &format!("relay-{i}")).await;
    }
    let out = w.tick(Job::OutboxRelay, None).await.unwrap();
    assert_eq!(out, Outcome::Done("published 3".into()));
    assert_eq!(
        w.tick(Job::OutboxRelay, None).await.unwrap(),
        Outcome::Done("published 0".into())
    );
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(events_file(&env))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    let ids: Vec<i64> = lines
        .iter()
        .map(|l| l["event_id"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "in order");
    assert!(lines.iter().all(|l| l["type"] == "Order.Created"));
    assert_eq!(env.stores().outbox.lag().await.unwrap().pending, 0);
    let _ = std::fs::remove_file(events_file(&env));
}

async fn gate_check_repairs_only_stable_drift(env: Env) {
    let w = worker(&env, "w1");
    let p = stocked_product(&env, 1000, 10).await;
    let sku = p.skus[0].id;
    env.gate.gate.load(&[(sku, 10)], true).await.unwrap();
    assert_eq!(w.ops.check_gate().await.unwrap().repaired, vec![]);
    // The gate loses 3 units (a crash between gate and database): first seen, then repaired.
    env.gate.gate.adjust(&[(sku, -3)]).await.unwrap();
    let first = w.ops.check_gate().await.unwrap();
    assert_eq!((first.drifting, first.repaired.len()), (1, 0));
    let second = w.ops.check_gate().await.unwrap();
    assert_eq!(second.repaired, vec![(sku, 7, 10)]);
    assert_eq!(
        env.gate.gate.available(&[sku]).await.unwrap()[0].1,
        Some(10)
    );
    // A passing difference (seen once, gone next time) is left alone.
    env.gate.gate.adjust(&[(sku, -1)]).await.unwrap();
    w.ops.check_gate().await.unwrap();
    env.gate.gate.adjust(&[(sku, 1)]).await.unwrap();
    assert_eq!(w.ops.check_gate().await.unwrap().repaired, vec![]);
}

/// With Redis, events go to a Redis Stream, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn relay_to_a_redis_stream() {
    let env = Env::new(
        shop_contract_tests::TestDb::mysql().await,
        shop_contract_tests::TestGate::redis(),
    );
    let conn = env.gate.redis.clone().unwrap();
    let stream = format!("shop-ct-stream-{}", shop_contract_tests::unique_suffix());
    let publisher: Arc<dyn EventPublisher> =
        Arc::new(shop_redis::RedisStreamPublisher::new(conn, &stream, 10_000));
    let s = env.stores();
    let ops = Operations::new(
        env.shop.clone(),
        s.outbox.clone(),
        publisher,
        s.recon.clone(),
        s.users.clone(),
    );
    for i in 0..4 {
        pending(&env, 5, &format!("stream-{i}")).await;
    }
    assert_eq!(ops.relay_outbox(3).await.unwrap(), 4, "several batches");
    let client = redis::Client::open(shop_contract_tests::redis_url()).unwrap();
    let mut c = client.get_connection().unwrap();
    let len: i64 = redis::cmd("XLEN").arg(&stream).query(&mut c).unwrap();
    assert_eq!(len, 4);
    let _: () = redis::cmd("DEL").arg(&stream).query(&mut c).unwrap();
}

/// The same expiry against the WeChat Pay sandbox over HTTP (signed requests, verified
/// answers) instead of the in-memory fake: an unpaid order is closed at "WeChat" and
/// cancelled; an order paid at the last second makes the close fail with ORDER_PAID and is
/// confirmed instead — the money is found, not lost.
async fn expiry_speaks_to_the_real_sandbox(env: Env) {
    use poem::listener::{Acceptor, Listener, TcpListener};
    use shop_core::ports::PaymentGateway;
    use shop_wechat_pay::{Sandbox, SandboxConfig, WechatPayClient, WechatPayConfig};

    let clock: Arc<dyn Clock> = env.clock.clone();
    let sandbox =
        Sandbox::new(SandboxConfig::from_lookup(|_| None).unwrap(), clock.clone()).unwrap();
    let acceptor = TcpListener::bind("127.0.0.1:0")
        .into_acceptor()
        .await
        .unwrap();
    let addr = *acceptor.local_addr()[0].0.as_socket_addr().unwrap();
    let server = tokio::spawn(poem::Server::new_with_acceptor(acceptor).run(sandbox.clone()));
    let base = format!("http://{addr}");
    let cfg = WechatPayConfig::from_lookup(
        |k| (k == "SHOP_WECHAT_BASE_URL").then(|| base.clone()),
        "http://127.0.0.1:9",
    )
    .unwrap();
    let client = Arc::new(WechatPayClient::new(cfg, clock).unwrap());
    let mut shop = env.shop.clone();
    shop.gateway = client.clone();
    let mut w = worker(&env, "real-sandbox");
    w.shop = shop.clone();

    let p = stocked_product(&env, 12900, 5).await;
    let mut orders = Vec::new();
    for tag in ["unpaid", "last-second"] {
        let (user, address) = shopper(&env).await;
        let o = shop
            .place_order(
                user,
                &order_cmd(address, &[(p.skus[0].id, 1)]),
                &key(&format!("sbx-{tag}")),
            )
            .await
            .unwrap()
            .order;
        shop.start_payment(
            user,
            &OpenId::parse(&format!("openid_{user}")).unwrap(),
            o.id,
        )
        .await
        .unwrap();
        orders.push(o);
    }
    // The second shopper pays just before the deadline; the callback never arrives.
    sandbox.pay(orders[1].order_no.as_str()).unwrap();
    env.clock.advance(Span::minutes(31));
    let out = w.tick(Job::ExpireUnpaid, None).await.unwrap();
    assert_eq!(
        out,
        Outcome::Done("examined 2, cancelled 1, paid instead 1, skipped 0".into())
    );
    assert_eq!(status(&env, &orders[0]).await, OrderStatus::Cancelled);
    assert_eq!(status(&env, &orders[1]).await, OrderStatus::Paid);
    assert_eq!(
        client.query(&orders[0].order_no).await.unwrap(),
        TradeState::Closed
    );
    // 5 units: one released, one sold.
    assert_eq!(stock(&env, &orders[0]).await, (4, 0));
    sandbox.shutdown();
    server.abort();
}

/// 450 unpaid orders fall due together (a flash sale's buyers who never paid): one run of the
/// job takes batch after batch (200 each) until none is left, instead of one batch per tick.
async fn expiry_drains_a_backlog_in_one_run(env: Env) {
    let sku = stocked_product(&env, 1000, 1000).await.skus[0].id;
    let (user, address) = shopper(&env).await;
    let env = Arc::new(env);
    let placed: Vec<_> = (0..450)
        .map(|i| {
            let env = env.clone();
            tokio::spawn(async move {
                env.shop
                    .place_order(
                        user,
                        &order_cmd(address, &[(sku, 1)]),
                        &key(&format!("backlog-{i:03}")),
                    )
                    .await
                    .unwrap()
            })
        })
        .collect();
    for t in placed {
        t.await.unwrap();
    }
    env.clock.advance(Span::minutes(31));
    let out = worker(&env, "w1")
        .tick(Job::ExpireUnpaid, None)
        .await
        .unwrap();
    assert_eq!(
        out,
        Outcome::Done("examined 450, cancelled 450, paid instead 0, skipped 0".into())
    );
    assert_eq!(
        env.db
            .scalar("SELECT COUNT(*) FROM orders WHERE status = 'CANCELLED'")
            .await,
        450
    );
    assert_eq!(
        env.db
            .scalar("SELECT COUNT(*) FROM inventory WHERE reserved <> 0")
            .await,
        0,
        "all stock released"
    );
}
