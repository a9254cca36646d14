//! Payments: exactly-once confirmation, late payments, expiry that closes at WeChat first.

use shop_contract_tests::fixtures::{key, order_cmd, shopper, stocked_product};
use shop_contract_tests::Env;
use shop_core::order::{Order, OrderStatus};
use shop_core::payment::PaymentStatus;
use shop_core::ports::{Clock, PaymentSource, TradeState};
use shop_core::refund::RefundStatus;
use shop_core::text::OpenId;
use shop_core::time::Span;
use shop_core::usecases::{Confirmed, PaymentReport};
use shop_core::ShopError;
use std::sync::Arc;

db_contract!(
    fifty_duplicate_reports_apply_once,
    late_payment_takes_stock_when_there,
    late_payment_without_stock_is_refunded,
    mismatched_amount_changes_nothing,
    expiry_closes_at_wechat_then_releases,
    paid_at_the_last_second_is_confirmed_not_cancelled,
    two_workers_expire_each_order_once,
    expiry_keeps_stock_when_wechat_is_down,
    payments_confirmed_together_apply_once_each,
);

async fn pending_order(env: &Env, stock: i64, tag: &str) -> (Order, OpenId) {
    let p = stocked_product(env, 12900, stock).await;
    let (user, address) = shopper(env).await;
    let placed = env
        .shop
        .place_order(
            user,
            &order_cmd(address, &[(p.skus[0].id, 1)]),
            &key(&format!("payment-{tag}")),
        )
        .await
        .unwrap();
    let openid = OpenId::parse(&format!("openid_{user}")).unwrap();
    env.shop
        .start_payment(user, &openid, placed.order.id)
        .await
        .unwrap();
    (placed.order, openid)
}

fn report(env: &Env, order: &Order) -> PaymentReport {
    match env.gateway.pay(&order.order_no, env.clock.now()).unwrap() {
        TradeState::Success {
            transaction_id,
            amount,
            paid_at,
            payload,
        } => PaymentReport {
            out_trade_no: order.order_no.clone(),
            transaction_id,
            amount,
            paid_at,
            source: PaymentSource::Callback,
            notification_id: Some("EV-test".into()),
            payload,
        },
        other => panic!("not paid: {other:?}"),
    }
}

async fn stock_of(env: &Env, order: &Order) -> (i64, i64) {
    let s = env
        .stores()
        .catalogue
        .stock_levels(Some(vec![order.lines[0].sku_id]))
        .await
        .unwrap()[0]
        .1;
    (s.on_hand(), s.reserved())
}

async fn events(env: &Env, order: &Order, ty: &str) -> usize {
    let all = env
        .stores()
        .outbox
        .for_aggregate(&format!("order:{}", order.id))
        .await
        .unwrap();
    all.iter().filter(|e| e.event_type == ty).count()
}

async fn fifty_duplicate_reports_apply_once(env: Env) {
    let (order, _) = pending_order(&env, 10, "dup").await;
    let r = report(&env, &order);
    let env = Arc::new(env);
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let (env, r) = (env.clone(), r.clone());
            tokio::spawn(async move { env.shop.confirm_payment(&r).await })
        })
        .collect();
    let (mut paid, mut duplicates) = (0, 0);
    for t in tasks {
        match t.await.unwrap().unwrap() {
            Confirmed::Paid(_) => paid += 1,
            Confirmed::Duplicate => duplicates += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((paid, duplicates), (1, 49));
    let stored = env.stores().orders.get(order.id).await.unwrap().unwrap();
    assert_eq!(stored.status, OrderStatus::Paid);
    assert_eq!(stored.paid, order.payable);
    assert_eq!(stock_of(&env, &order).await, (9, 0), "stock committed once");
    assert_eq!(events(&env, &order, "Order.Paid").await, 1);
    assert_eq!(events(&env, &order, "Payment.Succeeded").await, 1);
    assert_eq!(
        env.db
            .scalar("SELECT COUNT(*) FROM payment_notifications")
            .await,
        1
    );
    let payment = env
        .stores()
        .payments
        .get_by_order(order.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(payment.status, PaymentStatus::Succeeded);
    assert_eq!(payment.transaction_id, Some(r.transaction_id));
}

async fn late_payment_takes_stock_when_there(env: Env) {
    let (order, _) = pending_order(&env, 5, "late-stock").await;
    // The shopper pays at WeChat, the callback is lost, and the worker's close happens to fail
    // to see it: model it by cancelling directly in the store.
    let r = report(&env, &order);
    let cancel = order
        .apply(shop_core::order::OrderCommand::Cancel {
            reason: shop_core::order::CancelReason::Timeout,
            note: None,
            at: env.clock.now(),
        })
        .unwrap();
    env.stores()
        .orders
        .apply(&shop_core::ports::OrderChange {
            transition: cancel,
            events: vec![],
            audit: None,
        })
        .await
        .unwrap();
    assert_eq!(stock_of(&env, &order).await, (5, 0));
    match env.shop.confirm_payment(&r).await.unwrap() {
        Confirmed::LatePaid(o) => {
            assert_eq!(o.status, OrderStatus::Paid);
            assert!(o.late_payment);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(
        stock_of(&env, &order).await,
        (4, 0),
        "sold directly from available stock"
    );
    assert_eq!(
        env.shop.confirm_payment(&r).await.unwrap(),
        Confirmed::Duplicate
    );
}

async fn late_payment_without_stock_is_refunded(env: Env) {
    let (order, _) = pending_order(&env, 1, "late-nostock").await;
    let r = report(&env, &order);
    let cancel = order
        .apply(shop_core::order::OrderCommand::Cancel {
            reason: shop_core::order::CancelReason::Timeout,
            note: None,
            at: env.clock.now(),
        })
        .unwrap();
    env.stores()
        .orders
        .apply(&shop_core::ports::OrderChange {
            transition: cancel,
            events: vec![],
            audit: None,
        })
        .await
        .unwrap();
    env.gate.gate.release(order.id).await.unwrap();
    // The last unit goes to someone else.
    let (other, addr) = shopper(&env).await;
    env.shop
        .place_order(
            other,
            &order_cmd(addr, &[(order.lines[0].sku_id, 1)]),
            &key("took-the-last"),
        )
        .await
        .unwrap();
    match env.shop.confirm_payment(&r).await.unwrap() {
        Confirmed::LateRefunding { order: o, refund } => {
            assert_eq!(o.status, OrderStatus::Cancelled);
            assert_eq!(o.paid, order.payable);
            assert_eq!(o.refund_pending, order.payable);
            assert_eq!(refund.amount, order.payable);
            // The fake gateway accepted the refund: it is on its way.
            assert_eq!(refund.status, RefundStatus::Processing);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(
        stock_of(&env, &order).await,
        (1, 1),
        "the other buyer keeps the unit"
    );
    let refunds = env.stores().refunds.list_for_order(order.id).await.unwrap();
    assert_eq!(refunds.len(), 1);
    assert!(env.gateway.calls().iter().any(|c| c.starts_with("refund ")));
    let payment = env
        .stores()
        .payments
        .get_by_order(order.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        payment.status,
        PaymentStatus::Succeeded,
        "the money is recorded, never lost"
    );
    assert_eq!(
        env.shop.confirm_payment(&r).await.unwrap(),
        Confirmed::Duplicate
    );
}

async fn mismatched_amount_changes_nothing(env: Env) {
    let (order, _) = pending_order(&env, 5, "mismatch").await;
    let mut r = report(&env, &order);
    r.amount = shop_core::Fen::new(1);
    let err = env.shop.confirm_payment(&r).await.unwrap_err();
    assert!(matches!(err, ShopError::PaymentMismatch(_)), "{err:?}");
    assert_eq!(
        env.stores().orders.get(order.id).await.unwrap().unwrap(),
        order
    );
    assert_eq!(
        env.db
            .scalar("SELECT COUNT(*) FROM payment_notifications")
            .await,
        0
    );
}

async fn expiry_closes_at_wechat_then_releases(env: Env) {
    let (order, _) = pending_order(&env, 5, "expire").await;
    assert!(
        env.shop
            .expire_unpaid("worker-a", 100)
            .await
            .unwrap()
            .examined
            == 0,
        "not due yet"
    );
    env.clock.advance(Span::minutes(31));
    let report = env.shop.expire_unpaid("worker-a", 100).await.unwrap();
    assert_eq!((report.cancelled, report.failed), (1, 0));
    let calls = env.gateway.calls();
    assert!(
        calls.contains(&format!("close {}", order.order_no)),
        "{calls:?}"
    );
    let stored = env.stores().orders.get(order.id).await.unwrap().unwrap();
    assert_eq!(stored.status, OrderStatus::Cancelled);
    assert_eq!(stock_of(&env, &order).await, (5, 0));
    let payment = env
        .stores()
        .payments
        .get_by_order(order.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(payment.status, PaymentStatus::Closed);
    assert_eq!(
        env.shop
            .expire_unpaid("worker-a", 100)
            .await
            .unwrap()
            .examined,
        0,
        "nothing twice"
    );
}

async fn paid_at_the_last_second_is_confirmed_not_cancelled(env: Env) {
    let (order, _) = pending_order(&env, 5, "last-second").await;
    env.gateway.pay(&order.order_no, env.clock.now()).unwrap();
    env.clock.advance(Span::minutes(31));
    let report = env.shop.expire_unpaid("worker-a", 100).await.unwrap();
    assert_eq!((report.paid, report.cancelled), (1, 0));
    let stored = env.stores().orders.get(order.id).await.unwrap().unwrap();
    assert_eq!(stored.status, OrderStatus::Paid);
    assert_eq!(stock_of(&env, &order).await, (4, 0));
}

async fn two_workers_expire_each_order_once(env: Env) {
    let p = stocked_product(&env, 1000, 100).await;
    let (user, address) = shopper(&env).await;
    let mut orders = vec![];
    for i in 0..20 {
        let o = env
            .shop
            .place_order(
                user,
                &order_cmd(address, &[(p.skus[0].id, 1)]),
                &key(&format!("twin-{i:03}")),
            )
            .await
            .unwrap();
        orders.push(o.order);
    }
    env.clock.advance(Span::minutes(31));
    let env = Arc::new(env);
    let (a, b) = tokio::join!(
        env.shop.expire_unpaid("worker-a", 100),
        env.shop.expire_unpaid("worker-b", 100)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.cancelled + b.cancelled, 20, "{a:?} {b:?}");
    assert_eq!(
        a.examined + b.examined,
        20,
        "no order was claimed by both workers: {a:?} {b:?}"
    );
    assert_eq!(a.failed + b.failed, 0);
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
        "released exactly once"
    );
    assert_eq!(
        env.db
            .scalar("SELECT COUNT(*) FROM outbox_events WHERE event_type = 'Order.Cancelled'")
            .await,
        20
    );
}

async fn expiry_keeps_stock_when_wechat_is_down(env: Env) {
    let (order, _) = pending_order(&env, 5, "wechat-down").await;
    env.gateway.set_down(true);
    env.clock.advance(Span::minutes(31));
    let report = env.shop.expire_unpaid("worker-a", 100).await.unwrap();
    assert_eq!((report.failed, report.cancelled), (1, 0));
    assert_eq!(
        stock_of(&env, &order).await,
        (5, 1),
        "stock stays held until WeChat confirms the close"
    );
    env.gateway.set_down(false);
    assert_eq!(
        env.shop
            .expire_unpaid("worker-b", 100)
            .await
            .unwrap()
            .examined,
        0,
        "still claimed by the failed attempt"
    );
    env.clock.advance(shop_core::usecases::CLAIM_LEASE);
    assert_eq!(
        env.shop
            .expire_unpaid("worker-b", 100)
            .await
            .unwrap()
            .cancelled,
        1,
        "the lapsed claim is taken over"
    );
    assert_eq!(stock_of(&env, &order).await, (5, 0));
}

/// Payments confirmed at the same moment are written together (one transaction per batch, see
/// the SQL store's `settling.rs`). Thirty orders on three SKUs, each reported once, then
/// twice more, all at once: every order is paid exactly once, each SKU loses exactly the units
/// its orders hold, and the inbox, payments and events agree.
async fn payments_confirmed_together_apply_once_each(env: Env) {
    let mut orders = Vec::new();
    let skus: Vec<_> = {
        let mut v = Vec::new();
        for _ in 0..3 {
            v.push(stocked_product(&env, 12900, 50).await.skus[0].id);
        }
        v
    };
    for i in 0..30 {
        let (user, address) = shopper(&env).await;
        let placed = env
            .shop
            .place_order(
                user,
                &order_cmd(address, &[(skus[i % 3], 1 + i as i64 % 2)]),
                &key(&format!("together-pay-{i}")),
            )
            .await
            .unwrap();
        let openid = OpenId::parse(&format!("openid_{user}")).unwrap();
        env.shop
            .start_payment(user, &openid, placed.order.id)
            .await
            .unwrap();
        orders.push(placed.order);
    }
    let reports: Vec<PaymentReport> = orders.iter().map(|o| report(&env, o)).collect();
    let env = Arc::new(env);
    // First every report once (batches of distinct payments), then twice more at once (each
    // batch holds repeats of payments already recorded).
    let mut tally = Vec::new();
    for copies in [1, 2] {
        let tasks: Vec<_> = (0..copies)
            .flat_map(|_| reports.iter().cloned())
            .map(|r| {
                let env = env.clone();
                tokio::spawn(async move { env.shop.confirm_payment(&r).await })
            })
            .collect();
        let (mut paid, mut duplicates) = (0, 0);
        for t in tasks {
            match t.await.unwrap() {
                Ok(Confirmed::Paid(_)) => paid += 1,
                Ok(Confirmed::Duplicate) => duplicates += 1,
                other => panic!("unexpected {other:?}"),
            }
        }
        tally.push((paid, duplicates));
    }
    assert_eq!(tally, vec![(30, 0), (0, 60)]);
    for o in &orders {
        let stored = env.stores().orders.get(o.id).await.unwrap().unwrap();
        assert_eq!(stored.status, OrderStatus::Paid, "order {}", o.id);
        assert_eq!(stored.paid, o.payable);
        assert_eq!(events(&env, o, "Order.Paid").await, 1);
    }
    let levels = env
        .stores()
        .catalogue
        .stock_levels(Some(skus.clone()))
        .await
        .unwrap();
    for (sku, stock) in levels {
        let sold: i64 = orders
            .iter()
            .filter(|o| o.lines[0].sku_id == sku)
            .map(|o| o.lines[0].quantity.get())
            .sum();
        assert_eq!(
            (stock.on_hand(), stock.reserved()),
            (50 - sold, 0),
            "SKU {sku}"
        );
    }
    assert_eq!(
        env.db
            .scalar("SELECT COUNT(*) FROM payment_notifications")
            .await,
        30
    );
    assert_eq!(
        env.db
            .scalar("SELECT COUNT(*) FROM payments WHERE status = 'SUCCEEDED'")
            .await,
        30
    );
    assert_eq!(
        env.db
            .scalar("SELECT COUNT(*) FROM outbox_events WHERE event_type = 'Payment.Succeeded'")
            .await,
        30
    );
}
