//! Every event the shop emits matches its schema in docs/event-schemas, the registry lists
//! every type, and versions only ever change compatibly.

use shop_contract_tests::fixtures::{key, order_cmd, shopper, stocked_product};
use shop_contract_tests::schemas::{breaking_changes, load_registry};
use shop_contract_tests::Env;
use shop_core::audit::Actor;
use shop_core::events::EVENT_TYPES;
use shop_core::order::Shipment;
use shop_core::ports::{Clock, PaymentSource, ProviderRefundStatus, TradeState};
use shop_core::text::{Carrier, OpenId, Reason, TrackingNo};
use shop_core::usecases::{PaymentReport, RefundRequestCmd};
use shop_core::Fen;
use std::collections::BTreeSet;

db_contract!(every_emitted_event_matches_its_schema);

#[test]
fn the_registry_lists_exactly_the_known_types() {
    let files: BTreeSet<(String, u32)> = load_registry()
        .into_iter()
        .map(|(t, v, _)| (t, v))
        .collect();
    for (t, v) in EVENT_TYPES {
        assert!(
            files.contains(&(t.to_string(), *v)),
            "{t} v{v} has no schema file"
        );
    }
    let known: BTreeSet<&str> = EVENT_TYPES.iter().map(|(t, _)| *t).collect();
    for (t, _) in &files {
        assert!(known.contains(t.as_str()), "schema for unknown type {t}");
    }
    for (t, v, s) in load_registry() {
        assert_eq!(s["properties"]["type"]["const"], t.as_str());
        assert_eq!(s["properties"]["version"]["const"], v);
        jsonschema::draft202012::meta::validate(&s)
            .unwrap_or_else(|e| panic!("{t} v{v} is not a valid schema: {e}"));
    }
}

#[test]
fn later_versions_never_break_earlier_ones() {
    let all = load_registry();
    for pair in all.windows(2) {
        let ((t1, v1, old), (t2, v2, new)) = (&pair[0], &pair[1]);
        if t1 == t2 {
            let broken = breaking_changes(&old["properties"]["data"], &new["properties"]["data"]);
            assert!(broken.is_empty(), "{t2} v{v2} breaks v{v1}: {broken:?}");
        }
    }
}

#[test]
fn the_compatibility_check_catches_breaking_changes() {
    let v1 = serde_json::json!({"type": "object", "required": ["a"], "properties": {
        "a": {"type": "integer"}, "b": {"type": "string", "maxLength": 10}, "c": {"enum": ["X", "Y"]}}});
    let compatible = serde_json::json!({"type": "object", "required": ["a"], "properties": {
        "a": {"type": "integer"}, "b": {"type": "string", "maxLength": 20}, "c": {"enum": ["X", "Y", "Z"]}, "d": {"type": "string"}}});
    assert_eq!(breaking_changes(&v1, &compatible), Vec::<String>::new());
    let breaking = serde_json::json!({"type": "object", "required": ["a", "d"], "properties": {
        "a": {"type": "string"}, "b": {"type": "string", "maxLength": 5}, "c": {"enum": ["X"]}, "d": {"type": "string"}}});
    let found = breaking_changes(&v1, &breaking);
    assert_eq!(found.len(), 4, "{found:?}");
    let removed = serde_json::json!({"type": "object", "required": ["a"], "properties": {"a": {"type": "integer"}}});
    assert_eq!(breaking_changes(&v1, &removed).len(), 2);
}

/// Drives a shop through every event type and validates every event in the outbox.
async fn every_emitted_event_matches_its_schema(env: Env) {
    let p = stocked_product(&env, 12900, 10).await;
    let sku = p.skus[0].id;
    let (user, address) = shopper(&env).await;
    let openid = OpenId::parse(&format!("openid_{user}")).unwrap();
    let pay = |o: &shop_core::order::Order| {
        let TradeState::Success {
            transaction_id,
            amount,
            paid_at,
            payload,
        } = env.gateway.pay(&o.order_no, env.clock.now()).unwrap()
        else {
            panic!()
        };
        PaymentReport {
            out_trade_no: o.order_no.clone(),
            transaction_id,
            amount,
            paid_at,
            source: PaymentSource::Callback,
            notification_id: None,
            payload,
        }
    };
    // Created, Paid, Payment.Succeeded, Shipped, Completed.
    let a = env
        .shop
        .place_order(user, &order_cmd(address, &[(sku, 2)]), &key("events-a"))
        .await
        .unwrap()
        .order;
    env.shop.start_payment(user, &openid, a.id).await.unwrap();
    env.shop.confirm_payment(&pay(&a)).await.unwrap();
    let backoffice = shop_core::usecases::Backoffice {
        shop: env.shop.clone(),
        audit: env.stores().audit.clone(),
        reports: env.stores().reports.clone(),
        storage: std::sync::Arc::new(shop_memory::LocalDirStorage::new(
            std::env::temp_dir(),
            "/media",
        )),
    };
    let shipment = Shipment {
        carrier: Carrier::parse("顺丰速运").unwrap(),
        tracking_no: TrackingNo::parse("SF1234567890").unwrap(),
    };
    backoffice
        .ship(&Actor::system("ops"), a.id, shipment)
        .await
        .unwrap();
    env.shop.confirm_receipt(user, a.id).await.unwrap();
    // Cancelled.
    let b = env
        .shop
        .place_order(user, &order_cmd(address, &[(sku, 1)]), &key("events-b"))
        .await
        .unwrap()
        .order;
    env.shop
        .cancel_order(&Actor::User { id: user }, b.id, None)
        .await
        .unwrap();
    // Refund.Requested, Refund.Succeeded, Order.Refunded; Refund.Failed.
    let c = env
        .shop
        .place_order(user, &order_cmd(address, &[(sku, 1)]), &key("events-c"))
        .await
        .unwrap()
        .order;
    env.shop.start_payment(user, &openid, c.id).await.unwrap();
    env.shop.confirm_payment(&pay(&c)).await.unwrap();
    let reason = Reason::parse("米袋破损").unwrap();
    let (part, _) = env
        .shop
        .request_refund(
            user,
            &RefundRequestCmd {
                order_id: c.id,
                amount: Some(Fen::new(100)),
                reason: reason.clone(),
            },
            &key("events-r1"),
        )
        .await
        .unwrap();
    env.gateway.set_refund_status(ProviderRefundStatus::Closed);
    env.shop
        .approve_refund(&Actor::system("finance"), part.id)
        .await
        .unwrap();
    env.gateway.set_refund_status(ProviderRefundStatus::Success);
    let (rest, _) = env
        .shop
        .request_refund(
            user,
            &RefundRequestCmd {
                order_id: c.id,
                amount: None,
                reason,
            },
            &key("events-r2"),
        )
        .await
        .unwrap();
    env.shop
        .approve_refund(&Actor::system("finance"), rest.id)
        .await
        .unwrap();
    assert_eq!(
        env.stores().orders.get(c.id).await.unwrap().unwrap().status,
        shop_core::order::OrderStatus::Refunded
    );

    let registry = load_registry();
    let outbox = env.stores().outbox.unpublished(10_000).await.unwrap();
    let mut seen = BTreeSet::new();
    for e in &outbox {
        let (_, _, schema) = registry
            .iter()
            .find(|(t, v, _)| *t == e.event_type && *v == e.version)
            .unwrap_or_else(|| panic!("no schema for {} v{}", e.event_type, e.version));
        let validator = jsonschema::validator_for(schema).unwrap();
        let envelope = e.envelope();
        let errors: Vec<String> = validator
            .iter_errors(&envelope)
            .map(|err| format!("{} at {}", err, err.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{} does not match its schema: {errors:?}\n{envelope:#}",
            e.event_type
        );
        seen.insert(e.event_type.clone());
    }
    let expected: BTreeSet<String> = EVENT_TYPES
        .iter()
        .map(|(t, _)| t.to_string())
        .filter(|t| t != "Commission.Calculated")
        .collect();
    assert_eq!(seen, expected, "every emitted type was exercised");
}
