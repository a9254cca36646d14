//! The order store contract.

use shop_contract_tests::fixtures::{key, order_cmd, shopper, stocked_product};
use shop_contract_tests::Env;
use shop_core::audit::Actor;
use shop_core::order::{CancelReason, OrderCommand, OrderStatus};
use shop_core::ports::{Clock, OrderChange, OrderQuery, OrderStoreError, Page};
use shop_core::time::Span;
use shop_core::ShopError;

db_contract!(
    placed_order_reads_back_identically,
    cancel_releases_and_pay_commits,
    stale_changes_are_refused,
    late_sale_without_stock_changes_nothing,
    shoppers_see_only_their_orders,
    back_office_search_filters,
    due_lists_for_the_worker,
    idempotent_placement,
    sold_out_is_answered_early_but_a_used_key_is_replayed,
);

async fn placed_order_reads_back_identically(env: Env) {
    let p = stocked_product(&env, 12900, 10).await;
    let (user, address) = shopper(&env).await;
    let placed = env
        .shop
        .place_order(
            user,
            &order_cmd(address, &[(p.skus[0].id, 2)]),
            &key("read-back-1"),
        )
        .await
        .unwrap();
    let o = placed.order;
    assert_eq!(o.payable.get(), 25800);
    assert_eq!(o.status, OrderStatus::PendingPayment);
    assert_eq!(o.expires_at, o.created_at.plus(Span::minutes(30)));
    let by_id = env.stores().orders.get(o.id).await.unwrap().unwrap();
    assert_eq!(by_id, o);
    let by_no = env
        .stores()
        .orders
        .get_by_no(&o.order_no)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_no, o);
    let events = env
        .stores()
        .outbox
        .for_aggregate(&format!("order:{}", o.id))
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event_type, "Order.Created");
    assert_eq!(events[0].data["payable_fen"], 25800);
}

async fn cancel_releases_and_pay_commits(env: Env) {
    let p = stocked_product(&env, 1000, 10).await;
    let sku = p.skus[0].id;
    let (user, address) = shopper(&env).await;
    let a = env
        .shop
        .place_order(user, &order_cmd(address, &[(sku, 3)]), &key("release-1"))
        .await
        .unwrap()
        .order;
    let b = env
        .shop
        .place_order(user, &order_cmd(address, &[(sku, 2)]), &key("release-2"))
        .await
        .unwrap()
        .order;
    let stock = |env: &Env| {
        let c = env.stores().catalogue.clone();
        async move { c.stock_levels(Some(vec![sku])).await.unwrap()[0].1 }
    };
    assert_eq!(
        (stock(&env).await.on_hand(), stock(&env).await.reserved()),
        (10, 5)
    );

    let cancelled = env
        .shop
        .cancel_order(&Actor::User { id: user }, a.id, None)
        .await
        .unwrap();
    assert_eq!(cancelled.status, OrderStatus::Cancelled);
    assert_eq!(cancelled.cancel_reason, Some(CancelReason::User));
    assert_eq!(
        (stock(&env).await.on_hand(), stock(&env).await.reserved()),
        (10, 2)
    );
    assert_eq!(env.gate.gate.available(&[sku]).await.unwrap()[0].1, Some(8));

    let t = b
        .apply(OrderCommand::Pay {
            amount: b.payable,
            at: env.clock.now(),
        })
        .unwrap();
    env.stores()
        .orders
        .apply(&OrderChange {
            transition: t,
            events: vec![],
            audit: None,
        })
        .await
        .unwrap();
    assert_eq!(
        (stock(&env).await.on_hand(), stock(&env).await.reserved()),
        (8, 0)
    );

    // Cancelling again is an illegal move, not a silent success.
    let again = env
        .shop
        .cancel_order(&Actor::User { id: user }, a.id, None)
        .await
        .unwrap_err();
    assert!(matches!(again, ShopError::IllegalState(_)), "{again:?}");
}

async fn stale_changes_are_refused(env: Env) {
    let p = stocked_product(&env, 1000, 10).await;
    let (user, address) = shopper(&env).await;
    let o = env
        .shop
        .place_order(
            user,
            &order_cmd(address, &[(p.skus[0].id, 1)]),
            &key("stale-0001"),
        )
        .await
        .unwrap()
        .order;
    let now = env.clock.now();
    let pay = o
        .apply(OrderCommand::Pay {
            amount: o.payable,
            at: now,
        })
        .unwrap();
    let cancel = o
        .apply(OrderCommand::Cancel {
            reason: CancelReason::User,
            note: None,
            at: now,
        })
        .unwrap();
    env.stores()
        .orders
        .apply(&OrderChange {
            transition: pay,
            events: vec![],
            audit: None,
        })
        .await
        .unwrap();
    let err = env
        .stores()
        .orders
        .apply(&OrderChange {
            transition: cancel,
            events: vec![],
            audit: None,
        })
        .await
        .unwrap_err();
    assert_eq!(err, OrderStoreError::Stale);
    let stored = env.stores().orders.get(o.id).await.unwrap().unwrap();
    assert_eq!(stored.status, OrderStatus::Paid);
    assert_eq!(stored.version, o.version + 1);
}

async fn late_sale_without_stock_changes_nothing(env: Env) {
    let p = stocked_product(&env, 1000, 1).await;
    let sku = p.skus[0].id;
    let (user, address) = shopper(&env).await;
    let o = env
        .shop
        .place_order(user, &order_cmd(address, &[(sku, 1)]), &key("late-0001"))
        .await
        .unwrap()
        .order;
    let cancelled = env
        .shop
        .cancel_order(&Actor::User { id: user }, o.id, None)
        .await
        .unwrap();
    // Someone else buys the unit back.
    env.shop
        .place_order(user, &order_cmd(address, &[(sku, 1)]), &key("late-0002"))
        .await
        .unwrap();
    let late = cancelled
        .apply(OrderCommand::Pay {
            amount: o.payable,
            at: env.clock.now(),
        })
        .unwrap();
    let err = env
        .stores()
        .orders
        .apply(&OrderChange {
            transition: late,
            events: vec![],
            audit: None,
        })
        .await
        .unwrap_err();
    assert_eq!(err, OrderStoreError::OutOfStock { sku_id: sku });
    assert_eq!(
        env.stores().orders.get(o.id).await.unwrap().unwrap(),
        cancelled
    );
}

async fn shoppers_see_only_their_orders(env: Env) {
    let p = stocked_product(&env, 1000, 50).await;
    let sku = p.skus[0].id;
    let (alice, a_addr) = shopper(&env).await;
    let (bob, b_addr) = shopper(&env).await;
    for i in 0..5 {
        env.clock.advance(Span::seconds(1));
        env.shop
            .place_order(
                alice,
                &order_cmd(a_addr, &[(sku, 1)]),
                &key(&format!("alice-{i:03}")),
            )
            .await
            .unwrap();
    }
    let bobs = env
        .shop
        .place_order(bob, &order_cmd(b_addr, &[(sku, 1)]), &key("bob-0001"))
        .await
        .unwrap()
        .order;
    env.shop
        .cancel_order(&Actor::User { id: bob }, bobs.id, None)
        .await
        .unwrap();

    let page1 = env
        .stores()
        .orders
        .list_for_user(alice, None, Page::new(1, 2))
        .await
        .unwrap();
    assert_eq!(page1.total, 5);
    assert_eq!(page1.items.len(), 2);
    assert!(
        page1.items[0].created_at > page1.items[1].created_at,
        "newest first"
    );
    assert!(page1
        .items
        .iter()
        .all(|o| o.user_id == alice && o.lines.len() == 1));
    let page3 = env
        .stores()
        .orders
        .list_for_user(alice, None, Page::new(3, 2))
        .await
        .unwrap();
    assert_eq!(page3.items.len(), 1);
    let cancelled = env
        .stores()
        .orders
        .list_for_user(bob, Some(OrderStatus::Cancelled), Page::default())
        .await
        .unwrap();
    assert_eq!(cancelled.total, 1);
    let pending = env
        .stores()
        .orders
        .list_for_user(bob, Some(OrderStatus::PendingPayment), Page::default())
        .await
        .unwrap();
    assert_eq!(pending.total, 0);
    // Another shopper's order is "not found" to a cancel attempt.
    let err = env
        .shop
        .cancel_order(&Actor::User { id: bob }, page1.items[0].id, None)
        .await
        .unwrap_err();
    assert_eq!(err, ShopError::NotFound("order"));
}

async fn back_office_search_filters(env: Env) {
    let p = stocked_product(&env, 1000, 50).await;
    let sku = p.skus[0].id;
    let (alice, a_addr) = shopper(&env).await;
    let first = env
        .shop
        .place_order(alice, &order_cmd(a_addr, &[(sku, 1)]), &key("search-001"))
        .await
        .unwrap()
        .order;
    env.clock.advance(Span::hours(2));
    let second = env
        .shop
        .place_order(alice, &order_cmd(a_addr, &[(sku, 1)]), &key("search-002"))
        .await
        .unwrap()
        .order;
    let orders = &env.stores().orders;
    let all = orders
        .search(&OrderQuery::default(), Page::default())
        .await
        .unwrap();
    assert_eq!(all.total, 2);
    let by_no = orders
        .search(
            &OrderQuery {
                order_no: Some(first.order_no.clone()),
                ..Default::default()
            },
            Page::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        by_no.items.iter().map(|o| o.id).collect::<Vec<_>>(),
        vec![first.id]
    );
    let since = orders
        .search(
            &OrderQuery {
                from: Some(second.created_at),
                ..Default::default()
            },
            Page::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        since.items.iter().map(|o| o.id).collect::<Vec<_>>(),
        vec![second.id]
    );
    let until = orders
        .search(
            &OrderQuery {
                to: Some(second.created_at),
                ..Default::default()
            },
            Page::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        until.items.iter().map(|o| o.id).collect::<Vec<_>>(),
        vec![first.id]
    );
    let phone = orders
        .search(
            &OrderQuery {
                phone: Some("13812345678".into()),
                ..Default::default()
            },
            Page::default(),
        )
        .await
        .unwrap();
    assert_eq!(phone.total, 2);
    let openid = orders
        .search(
            &OrderQuery {
                openid: Some(format!("openid_{alice}")),
                ..Default::default()
            },
            Page::default(),
        )
        .await
        .unwrap();
    assert_eq!(openid.total, 2);
    let nobody = orders
        .search(
            &OrderQuery {
                openid: Some("openid_nobody".into()),
                ..Default::default()
            },
            Page::default(),
        )
        .await
        .unwrap();
    assert_eq!(nobody.total, 0);
    let paid = orders
        .search(
            &OrderQuery {
                status: Some(OrderStatus::Paid),
                ..Default::default()
            },
            Page::default(),
        )
        .await
        .unwrap();
    assert_eq!(paid.total, 0);
}

async fn due_lists_for_the_worker(env: Env) {
    let p = stocked_product(&env, 1000, 50).await;
    let (user, address) = shopper(&env).await;
    let o = env
        .shop
        .place_order(
            user,
            &order_cmd(address, &[(p.skus[0].id, 1)]),
            &key("due-0001"),
        )
        .await
        .unwrap()
        .order;
    let orders = &env.stores().orders;
    assert!(orders
        .due_unpaid(env.clock.now(), 10)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        orders.due_unpaid(o.expires_at, 10).await.unwrap(),
        vec![o.id]
    );
    let now = env.clock.now();
    let pay = o
        .apply(OrderCommand::Pay {
            amount: o.payable,
            at: now,
        })
        .unwrap();
    orders
        .apply(&OrderChange {
            transition: pay,
            events: vec![],
            audit: None,
        })
        .await
        .unwrap();
    let paid = orders.get(o.id).await.unwrap().unwrap();
    let shipment = shop_core::order::Shipment {
        carrier: shop_core::text::Carrier::parse("顺丰速运").unwrap(),
        tracking_no: shop_core::text::TrackingNo::parse("SF1234567890").unwrap(),
    };
    let shipped = paid
        .apply(OrderCommand::Ship { shipment, at: now })
        .unwrap();
    env.stores()
        .orders
        .apply(&OrderChange {
            transition: shipped,
            events: vec![],
            audit: None,
        })
        .await
        .unwrap();
    assert!(orders
        .due_unpaid(o.expires_at, 10)
        .await
        .unwrap()
        .is_empty());
    assert!(orders
        .due_auto_confirm(now.minus(Span::seconds(1)), 10)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(orders.due_auto_confirm(now, 10).await.unwrap(), vec![o.id]);
}

async fn idempotent_placement(env: Env) {
    let p = stocked_product(&env, 1000, 100).await;
    let sku = p.skus[0].id;
    let (user, address) = shopper(&env).await;
    let env = std::sync::Arc::new(env);
    let cmd = order_cmd(address, &[(sku, 2)]);
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let (env, cmd) = (env.clone(), cmd.clone());
            tokio::spawn(async move {
                env.shop
                    .place_order(user, &cmd, &key("same-key-0001"))
                    .await
            })
        })
        .collect();
    let mut ids = std::collections::HashSet::new();
    for t in tasks {
        match t.await.unwrap() {
            Ok(placed) => {
                ids.insert(placed.order.id);
            }
            Err(ShopError::InProgress) => {}
            Err(e) => panic!("unexpected: {e}"),
        }
    }
    assert_eq!(ids.len(), 1, "one order whatever the number of retries");
    let replay = env
        .shop
        .place_order(user, &cmd, &key("same-key-0001"))
        .await
        .unwrap();
    assert!(replay.replayed);
    assert!(ids.contains(&replay.order.id));
    assert_eq!(env.db.scalar("SELECT COUNT(*) FROM orders").await, 1);
    assert_eq!(
        env.stores()
            .catalogue
            .stock_levels(Some(vec![sku]))
            .await
            .unwrap()[0]
            .1
            .reserved(),
        2
    );
    let other = order_cmd(address, &[(sku, 3)]);
    assert_eq!(
        env.shop
            .place_order(user, &other, &key("same-key-0001"))
            .await
            .unwrap_err(),
        ShopError::KeyReused
    );
    // Keys are per user: another shopper may use the same string.
    let (bob, bob_addr) = shopper(&env).await;
    assert!(env
        .shop
        .place_order(
            bob,
            &order_cmd(bob_addr, &[(sku, 2)]),
            &key("same-key-0001")
        )
        .await
        .is_ok());
}

/// Once the gate knows a SKU is sold out, new orders are refused before any key is claimed —
/// but a retry with the key of an order that succeeded still gets that order back.
async fn sold_out_is_answered_early_but_a_used_key_is_replayed(env: Env) {
    let p = stocked_product(&env, 9900, 1).await;
    let sku = p.skus[0].id;
    let (buyer, address) = shopper(&env).await;
    let first = env
        .shop
        .place_order(buyer, &order_cmd(address, &[(sku, 1)]), &key("last-unit-1"))
        .await
        .unwrap();
    let idem = &env.stores().idempotency;
    let scope = format!("orders:u{buyer}");
    assert!(idem
        .is_live(&scope, &key("last-unit-1"), env.clock.now())
        .await
        .unwrap());
    assert!(!idem
        .is_live(&scope, &key("never-used-1"), env.clock.now())
        .await
        .unwrap());
    // Another shopper: sold out, and no key of theirs is stored.
    let (other, other_address) = shopper(&env).await;
    let err = env
        .shop
        .place_order(
            other,
            &order_cmd(other_address, &[(sku, 1)]),
            &key("too-late-1"),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, ShopError::OutOfStock { .. }), "{err:?}");
    assert!(!idem
        .is_live(
            &format!("orders:u{other}"),
            &key("too-late-1"),
            env.clock.now()
        )
        .await
        .unwrap());
    // The first buyer's retry is a replay, not "sold out".
    let again = env
        .shop
        .place_order(buyer, &order_cmd(address, &[(sku, 1)]), &key("last-unit-1"))
        .await
        .unwrap();
    assert!(again.replayed);
    assert_eq!(again.order.id, first.order.id);
    // Keys expire after 24 h.
    assert!(!idem
        .is_live(
            &scope,
            &key("last-unit-1"),
            env.clock.now().plus(Span::hours(25))
        )
        .await
        .unwrap());
}
