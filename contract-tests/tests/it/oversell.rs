//! Zero oversell: many buyers at once on one SKU, multi-SKU orders that are partly short, a
//! gate that is down, and a gate that drifted above the database.

use shop_contract_tests::fixtures::{key, order_cmd, shopper, stocked_product};
use shop_contract_tests::{Env, TestDb, TestGate};
use shop_core::ids::SkuId;
use shop_core::usecases::GateUse;
use shop_core::ShopError;
use std::sync::Arc;

db_contract!(
    two_hundred_buyers_fifty_units,
    short_sku_reserves_nothing,
    database_refusal_gives_the_gate_back,
);

/// 200 buyers, 50 units: exactly 50 orders and 150 clear out-of-stock answers; stock ends at
/// 50 on hand, 50 reserved, 0 available, and never went negative (the schema's CHECK would
/// have failed the transaction).
async fn buy_concurrently(env: Env, buyers: usize, stock: i64) {
    let product = stocked_product(&env, 12900, stock).await;
    let sku = product.skus[0].id;
    let mut users = Vec::with_capacity(buyers);
    for _ in 0..buyers {
        users.push(shopper(&env).await);
    }
    let env = Arc::new(env);
    let tasks: Vec<_> = users
        .into_iter()
        .enumerate()
        .map(|(i, (user, address))| {
            let env = env.clone();
            tokio::spawn(async move {
                env.shop
                    .place_order(
                        user,
                        &order_cmd(address, &[(sku, 1)]),
                        &key(&format!("buyer-{i:04}")),
                    )
                    .await
            })
        })
        .collect();
    let (mut ok, mut out_of_stock) = (0, 0);
    for t in tasks {
        match t.await.unwrap() {
            Ok(placed) => {
                assert!(!placed.replayed);
                ok += 1;
            }
            Err(ShopError::OutOfStock { sku_id }) => {
                assert_eq!(sku_id, sku);
                out_of_stock += 1;
            }
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
    assert_eq!(ok, stock as usize, "exactly the stock is sold");
    assert_eq!(out_of_stock, buyers - stock as usize);
    let levels = env
        .stores()
        .catalogue
        .stock_levels(Some(vec![sku]))
        .await
        .unwrap();
    assert_eq!(
        (levels[0].1.on_hand(), levels[0].1.reserved()),
        (stock, stock)
    );
    assert_eq!(env.db.scalar("SELECT COUNT(*) FROM orders").await, stock);
    assert_eq!(
        env.db.scalar("SELECT COUNT(*) FROM order_items").await,
        stock
    );
    assert_eq!(
        env.db
            .scalar("SELECT COUNT(*) FROM outbox_events WHERE event_type = 'Order.Created'")
            .await,
        stock
    );
    if let Ok(counts) = env.gate.gate.available(&[sku]).await {
        assert!(
            counts[0].1.is_none_or(|n| n == 0),
            "the gate agrees: nothing left ({counts:?})"
        );
    }
}

async fn two_hundred_buyers_fifty_units(env: Env) {
    buy_concurrently(env, 200, 50).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_with_gate_down_still_sells_exactly_the_stock() {
    buy_concurrently(
        Env::new(TestDb::sqlite().await, TestGate::redis_down()),
        120,
        30,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mysql_with_gate_down_still_sells_exactly_the_stock() {
    buy_concurrently(
        Env::new(TestDb::mysql().await, TestGate::redis_down()),
        120,
        30,
    )
    .await;
}

async fn short_sku_reserves_nothing(env: Env) {
    let plenty = stocked_product(&env, 5000, 10).await.skus[0].id;
    let scarce = stocked_product(&env, 8000, 1).await.skus[0].id;
    let (user, address) = shopper(&env).await;
    let err = env
        .shop
        .place_order(
            user,
            &order_cmd(address, &[(plenty, 3), (scarce, 2)]),
            &key("multi-sku-1"),
        )
        .await
        .unwrap_err();
    assert_eq!(err, ShopError::OutOfStock { sku_id: scarce });
    let levels = env
        .stores()
        .catalogue
        .stock_levels(Some(vec![plenty, scarce]))
        .await
        .unwrap();
    let reserved: Vec<i64> = levels.iter().map(|(_, s)| s.reserved()).collect();
    assert_eq!(reserved, vec![0, 0], "neither SKU keeps a reservation");
    assert_eq!(env.db.scalar("SELECT COUNT(*) FROM orders").await, 0);
    let gate: Vec<Option<i64>> = env
        .gate
        .gate
        .available(&[plenty, scarce])
        .await
        .unwrap()
        .into_iter()
        .map(|(_, n)| n)
        .collect();
    assert!(
        gate[0].is_none_or(|n| n == 10),
        "the gate holds nothing for the refused order: {gate:?}"
    );
    // The same key works again once the order can be served.
    let ok = env
        .shop
        .place_order(
            user,
            &order_cmd(address, &[(plenty, 3), (scarce, 1)]),
            &key("multi-sku-2"),
        )
        .await;
    assert!(ok.is_ok(), "{ok:?}");
}

/// The gate believes there are 10 units, the database knows 1: the database refuses, and the
/// gate gets its units back.
async fn database_refusal_gives_the_gate_back(env: Env) {
    let sku: SkuId = stocked_product(&env, 5000, 1).await.skus[0].id;
    env.gate.gate.load(&[(sku, 10)], true).await.unwrap();
    let (user, address) = shopper(&env).await;
    let err = env
        .shop
        .place_order(user, &order_cmd(address, &[(sku, 2)]), &key("drifted-1"))
        .await
        .unwrap_err();
    assert_eq!(err, ShopError::OutOfStock { sku_id: sku });
    assert_eq!(
        env.gate.gate.available(&[sku]).await.unwrap()[0].1,
        Some(10)
    );
    let placed = env
        .shop
        .place_order(user, &order_cmd(address, &[(sku, 1)]), &key("drifted-2"))
        .await
        .unwrap();
    assert_eq!(placed.gate, GateUse::Reserved);
}

/// Orders placed together are written together (one transaction per batch, see the SQL
/// store's `batch.rs`). With the gate down the database alone decides: 40 buyers of a
/// plentiful SKU and 20 of a SKU with 5 units, all at once. Every plentiful order succeeds
/// even when it shared a batch with a refused one, exactly 5 scarce orders succeed, and the
/// rows, lines, events, keys and stock all agree.
async fn orders_written_together_keep_their_own_answers(env: Env) {
    let plenty = stocked_product(&env, 5000, 1000).await.skus[0].id;
    let scarce = stocked_product(&env, 8000, 5).await.skus[0].id;
    let mut buyers = Vec::new();
    for i in 0..60 {
        let (user, address) = shopper(&env).await;
        buyers.push((i, user, address, if i % 3 == 0 { scarce } else { plenty }));
    }
    let env = Arc::new(env);
    let tasks: Vec<_> = buyers
        .into_iter()
        .map(|(i, user, address, sku)| {
            let env = env.clone();
            tokio::spawn(async move {
                let placed = env
                    .shop
                    .place_order(
                        user,
                        &order_cmd(address, &[(sku, 1)]),
                        &key(&format!("together-{i:03}")),
                    )
                    .await;
                (sku, placed)
            })
        })
        .collect();
    let (mut plenty_ok, mut scarce_ok, mut scarce_refused) = (0, 0, 0);
    for t in tasks {
        match t.await.unwrap() {
            (sku, Ok(_)) if sku == plenty => plenty_ok += 1,
            (_, Ok(_)) => scarce_ok += 1,
            (sku, Err(ShopError::OutOfStock { sku_id })) if sku == scarce => {
                assert_eq!(sku_id, scarce);
                scarce_refused += 1;
            }
            (sku, Err(e)) => panic!("order for {sku} failed: {e}"),
        }
    }
    assert_eq!((plenty_ok, scarce_ok, scarce_refused), (40, 5, 15));
    let levels = env
        .stores()
        .catalogue
        .stock_levels(Some(vec![plenty, scarce]))
        .await
        .unwrap();
    let reserved: Vec<i64> = levels.iter().map(|(_, s)| s.reserved()).collect();
    assert_eq!(reserved, vec![40, 5]);
    assert_eq!(env.db.scalar("SELECT COUNT(*) FROM orders").await, 45);
    assert_eq!(env.db.scalar("SELECT COUNT(*) FROM order_items").await, 45);
    assert_eq!(
        env.db
            .scalar("SELECT COUNT(*) FROM outbox_events WHERE event_type = 'Order.Created'")
            .await,
        45
    );
    assert_eq!(
        env.db
            .scalar("SELECT COUNT(*) FROM idempotency_keys WHERE resource_id IS NOT NULL")
            .await,
        45,
        "every created order completed its key"
    );
    assert_eq!(
        env.db
            .scalar("SELECT COUNT(*) FROM idempotency_keys WHERE resource_id IS NULL")
            .await,
        0,
        "every refused order released its key"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_orders_written_together_keep_their_own_answers() {
    orders_written_together_keep_their_own_answers(Env::new(
        TestDb::sqlite().await,
        TestGate::redis_down(),
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mysql_orders_written_together_keep_their_own_answers() {
    orders_written_together_keep_their_own_answers(Env::new(
        TestDb::mysql().await,
        TestGate::redis_down(),
    ))
    .await;
}
