//! The stock gate contract, on the in-process gate and on Redis.

use shop_contract_tests::TestGate;
use shop_core::ids::{OrderId, SkuId};
use shop_core::ports::GateDecision;
use std::sync::Arc;

gate_contract!(
    reserves_all_or_nothing,
    unknown_skus_are_not_loaded,
    reserve_is_idempotent_per_order,
    release_gives_back_once,
    commit_forgets_without_giving_back,
    adjust_and_load,
    rebuild_replaces_counts_and_holds,
    concurrent_reservations_never_exceed_stock,
);

fn sku(n: i64) -> SkuId {
    SkuId::new(n).unwrap()
}

fn order(n: i64) -> OrderId {
    OrderId::new(n).unwrap()
}

async fn counts(g: &TestGate, skus: &[i64]) -> Vec<Option<i64>> {
    let ids: Vec<SkuId> = skus.iter().map(|s| sku(*s)).collect();
    g.gate
        .available(&ids)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, n)| n)
        .collect()
}

async fn reserves_all_or_nothing(g: TestGate) {
    g.gate
        .load(&[(sku(1), 5), (sku(2), 1)], true)
        .await
        .unwrap();
    let d = g
        .gate
        .try_reserve(order(10), &[(sku(1), 2), (sku(2), 2)])
        .await
        .unwrap();
    assert_eq!(
        d,
        GateDecision::Insufficient {
            sku_id: sku(2),
            available: 1
        }
    );
    assert_eq!(
        counts(&g, &[1, 2]).await,
        vec![Some(5), Some(1)],
        "a refused order holds nothing"
    );
    let d = g
        .gate
        .try_reserve(order(11), &[(sku(1), 2), (sku(2), 1)])
        .await
        .unwrap();
    assert_eq!(d, GateDecision::Reserved);
    assert_eq!(counts(&g, &[1, 2]).await, vec![Some(3), Some(0)]);
}

async fn unknown_skus_are_not_loaded(g: TestGate) {
    g.gate.load(&[(sku(1), 5)], true).await.unwrap();
    let d = g
        .gate
        .try_reserve(order(1), &[(sku(1), 1), (sku(7), 1), (sku(8), 1)])
        .await
        .unwrap();
    assert_eq!(
        d,
        GateDecision::NotLoaded {
            skus: vec![sku(7), sku(8)]
        }
    );
    assert_eq!(counts(&g, &[1, 7]).await, vec![Some(5), None]);
}

async fn reserve_is_idempotent_per_order(g: TestGate) {
    g.gate.load(&[(sku(1), 5)], true).await.unwrap();
    for _ in 0..3 {
        assert_eq!(
            g.gate.try_reserve(order(1), &[(sku(1), 2)]).await.unwrap(),
            GateDecision::Reserved
        );
    }
    assert_eq!(
        counts(&g, &[1]).await,
        vec![Some(3)],
        "a retried reservation holds once"
    );
}

async fn release_gives_back_once(g: TestGate) {
    g.gate
        .load(&[(sku(1), 5), (sku(2), 5)], true)
        .await
        .unwrap();
    g.gate
        .try_reserve(order(1), &[(sku(1), 2), (sku(2), 3)])
        .await
        .unwrap();
    assert!(g.gate.release(order(1)).await.unwrap());
    assert!(
        !g.gate.release(order(1)).await.unwrap(),
        "a second release gives nothing back"
    );
    assert!(!g.gate.release(order(99)).await.unwrap());
    assert_eq!(counts(&g, &[1, 2]).await, vec![Some(5), Some(5)]);
}

async fn commit_forgets_without_giving_back(g: TestGate) {
    g.gate.load(&[(sku(1), 5)], true).await.unwrap();
    g.gate.try_reserve(order(1), &[(sku(1), 2)]).await.unwrap();
    assert!(g.gate.commit(order(1)).await.unwrap());
    assert!(
        !g.gate.release(order(1)).await.unwrap(),
        "a committed order cannot be released"
    );
    assert_eq!(counts(&g, &[1]).await, vec![Some(3)]);
}

async fn adjust_and_load(g: TestGate) {
    g.gate.load(&[(sku(1), 5)], false).await.unwrap();
    g.gate
        .load(&[(sku(1), 9), (sku(2), 4)], false)
        .await
        .unwrap();
    assert_eq!(
        counts(&g, &[1, 2]).await,
        vec![Some(5), Some(4)],
        "load without overwrite keeps counts"
    );
    g.gate.load(&[(sku(1), 9)], true).await.unwrap();
    g.gate
        .adjust(&[(sku(1), -3), (sku(2), -10), (sku(3), 5)])
        .await
        .unwrap();
    assert_eq!(
        counts(&g, &[1, 2, 3]).await,
        vec![Some(6), Some(0), None],
        "never below zero; unknown SKUs stay unknown"
    );
}

async fn rebuild_replaces_counts_and_holds(g: TestGate) {
    g.gate
        .load(&[(sku(1), 5), (sku(2), 5)], true)
        .await
        .unwrap();
    g.gate.try_reserve(order(1), &[(sku(1), 2)]).await.unwrap();
    g.gate.rebuild(&[(sku(1), 7)]).await.unwrap();
    assert_eq!(counts(&g, &[1, 2]).await, vec![Some(7), None]);
    assert!(
        !g.gate.release(order(1)).await.unwrap(),
        "holds from before the rebuild are gone"
    );
}

async fn concurrent_reservations_never_exceed_stock(g: TestGate) {
    g.gate.load(&[(sku(1), 50)], true).await.unwrap();
    let gate = Arc::clone(&g.gate);
    let tasks: Vec<_> = (1..=200)
        .map(|n| {
            let gate = gate.clone();
            tokio::spawn(async move { gate.try_reserve(order(n), &[(sku(1), 1)]).await.unwrap() })
        })
        .collect();
    let mut reserved = 0;
    for t in tasks {
        if t.await.unwrap() == GateDecision::Reserved {
            reserved += 1;
        }
    }
    assert_eq!(reserved, 50);
    assert_eq!(counts(&g, &[1]).await, vec![Some(0)]);
}
