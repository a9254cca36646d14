//! Use-cases against mocked ports: what a use-case decides, and exactly which ports it calls
//! (and which it must not) in each case. The contract suite runs the same stories against the
//! real adapters; these pin the orchestration rules in isolation.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::address::Address;
use crate::audit::Actor;
use crate::catalogue::SkuForSale;
use crate::idempotency::IdemBegin;
use crate::ids::{AddressId, OrderId, PaymentId, ProductId, SkuId, UserId};
use crate::money::Fen;
use crate::order::tests::sample_order;
use crate::order::{OrderStatus, Quantity};
use crate::payment::{Payment, PaymentStatus};
use crate::ports::*;
use crate::text::*;
use crate::time::Timestamp;
use std::sync::atomic::{AtomicI64, Ordering};

const NOW: Timestamp = Timestamp::from_millis(1_800_000_000_000);

struct Counter(AtomicI64);

impl IdGenerator for Counter {
    fn next_id(&self) -> i64 {
        self.0.fetch_add(1, Ordering::Relaxed)
    }
}

struct Fixed;

impl Clock for Fixed {
    fn now(&self) -> Timestamp {
        NOW
    }
}

/// Mocks for every port; each test sets the expectations it needs. A call nobody expected
/// fails the test, so "must not touch X" is the default.
#[derive(Default)]
struct Mocks {
    catalogue: MockCatalogueStore,
    addresses: MockAddressStore,
    orders: MockOrderStore,
    payments: MockPaymentStore,
    idempotency: MockIdempotencyStore,
    gate: MockStockGate,
    gateway: MockPaymentGateway,
}

impl Mocks {
    fn shop(self) -> Shop {
        Shop {
            catalogue: Arc::new(self.catalogue),
            addresses: Arc::new(self.addresses),
            carts: Arc::new(MockCartStore::new()),
            orders: Arc::new(self.orders),
            payments: Arc::new(self.payments),
            refunds: Arc::new(MockRefundStore::new()),
            idempotency: Arc::new(self.idempotency),
            gate: Arc::new(self.gate),
            gateway: Arc::new(self.gateway),
            clock: Arc::new(Fixed),
            ids: Arc::new(Counter(AtomicI64::new(1000))),
            policy: OrderPolicy::default(),
        }
    }

    /// One sellable SKU (id 1, 59.90) and the shopper's address.
    fn shelf(&mut self, sellable: bool) {
        self.catalogue.expect_skus_for_sale().returning(move |_| {
            Ok(vec![SkuForSale {
                sku_id: SkuId::new(1).unwrap(),
                product_id: ProductId::new(1).unwrap(),
                title: Title::parse("五常大米 稻花香").unwrap(),
                spec: SkuSpec::parse("5kg").unwrap(),
                price: Fen::new(5990),
                sellable,
                cover_url: None,
            }])
        });
        self.addresses.expect_get().returning(|user, id| {
            Ok(Some(Address {
                id,
                user_id: user,
                fields: sample_order(1).address,
                is_default: true,
                created_at: NOW,
                updated_at: NOW,
            }))
        });
    }

    /// A key never used before: not live, and its claim starts.
    fn key_is_new(&mut self) {
        self.key_live(false);
        self.idempotency
            .expect_begin()
            .times(1)
            .returning(|_| Ok(IdemBegin::Started));
    }

    /// The key's claim finds it completed by `order`, which the store then returns.
    fn key_replays(&mut self, order: &Order) {
        let id = order.id.get();
        self.idempotency
            .expect_begin()
            .times(1)
            .returning(move |_| Ok(IdemBegin::Replay { resource_id: id }));
        let stored = order.clone();
        self.orders
            .expect_get()
            .times(1)
            .returning(move |_| Ok(Some(stored.clone())));
    }

    /// Whether the key was claimed or completed before (and not expired).
    fn key_live(&mut self, live: bool) {
        self.idempotency
            .expect_is_live()
            .times(1)
            .returning(move |_, _, _| Ok(live));
    }
}

fn block<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(f)
}

fn cmd(quantity: i64) -> PlaceOrder {
    PlaceOrder {
        items: vec![OrderItem {
            sku_id: SkuId::new(1).unwrap(),
            quantity: Quantity::new(quantity).unwrap(),
        }],
        address_id: AddressId::new(3).unwrap(),
        remark: Remark::parse("").unwrap(),
    }
}

fn user() -> UserId {
    UserId::new(7).unwrap()
}

fn key() -> IdempotencyKey {
    IdempotencyKey::parse("key-0001-abcd").unwrap()
}

fn payment_for(order: &Order, status: PaymentStatus) -> Payment {
    Payment {
        id: PaymentId::new(9).unwrap(),
        order_id: order.id,
        out_trade_no: order.order_no.clone(),
        amount: order.payable,
        status,
        prepay_id: Some("wx_prepay_1".into()),
        prepay_expires_at: Some(order.expires_at),
        transaction_id: None,
        paid_at: None,
        closed_at: None,
        created_at: NOW,
        updated_at: NOW,
        version: 0,
    }
}

// ---------- place_order ----------

#[test]
fn an_order_is_priced_from_the_catalogue_and_held_by_the_gate() {
    let mut m = Mocks::default();
    m.shelf(true);
    m.key_is_new();
    m.gate
        .expect_try_reserve()
        .times(1)
        .withf(|_, items| items == [(SkuId::new(1).unwrap(), 2)])
        .returning(|_, _| Ok(GateDecision::Reserved));
    m.orders
        .expect_create()
        .times(1)
        .withf(|o, events, idem| {
            o.payable == Fen::new(11_980)
                && o.status == OrderStatus::PendingPayment
                && events.len() == 1
                && idem.as_ref().is_some_and(|c| c.resource_id == o.id.get())
        })
        .returning(|_, _, _| Ok(()));
    let placed = block(m.shop().place_order(user(), &cmd(2), &key())).unwrap();
    assert_eq!(placed.order.payable, Fen::new(11_980));
    assert_eq!(placed.gate, GateUse::Reserved);
    assert!(!placed.replayed);
}

#[test]
fn a_gate_that_says_sold_out_ends_it_before_anything_is_written() {
    let mut m = Mocks::default();
    m.key_live(false);
    m.gate.expect_try_reserve().times(1).returning(|_, _| {
        Ok(GateDecision::Insufficient {
            sku_id: SkuId::new(1).unwrap(),
            available: 0,
        })
    });
    // No key claimed or released, no catalogue or address read, no insert.
    m.idempotency.expect_begin().never();
    m.idempotency.expect_release().never();
    m.catalogue.expect_skus_for_sale().never();
    m.addresses.expect_get().never();
    m.orders.expect_create().never();
    let err = block(m.shop().place_order(user(), &cmd(1), &key())).unwrap_err();
    assert!(matches!(err, ShopError::OutOfStock { .. }), "{err:?}");
}

#[test]
fn a_new_key_asks_the_gate_before_claiming_and_reading() {
    let mut m = Mocks::default();
    let mut seq = mockall::Sequence::new();
    m.idempotency
        .expect_is_live()
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_, _, _| Ok(false));
    m.gate
        .expect_try_reserve()
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_, _| Ok(GateDecision::Reserved));
    m.idempotency
        .expect_begin()
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_| Ok(IdemBegin::Started));
    m.shelf(true);
    m.orders
        .expect_create()
        .times(1)
        .withf(|o, _, idem| idem.as_ref().is_some_and(|c| c.resource_id == o.id.get()))
        .returning(|_, _, _| Ok(()));
    m.gate.expect_release().never();
    let placed = block(m.shop().place_order(user(), &cmd(2), &key())).unwrap();
    assert_eq!(placed.gate, GateUse::Reserved);
}

#[test]
fn a_failed_insert_gives_the_gate_its_units_back() {
    let mut m = Mocks::default();
    m.shelf(true);
    m.key_is_new();
    m.gate
        .expect_try_reserve()
        .returning(|_, _| Ok(GateDecision::Reserved));
    m.orders.expect_create().times(1).returning(|_, _, _| {
        Err(OrderStoreError::Store(StoreError::Unavailable(
            "connection lost".into(),
        )))
    });
    m.gate.expect_release().times(1).returning(|_| Ok(true));
    m.idempotency
        .expect_release()
        .times(1)
        .returning(|_, _| Ok(()));
    let err = block(m.shop().place_order(user(), &cmd(1), &key())).unwrap_err();
    assert!(matches!(err, ShopError::Unavailable(_)), "{err:?}");
}

#[test]
fn the_database_refusing_stock_is_out_of_stock_and_releases_the_gate() {
    let mut m = Mocks::default();
    m.shelf(true);
    m.key_is_new();
    m.gate
        .expect_try_reserve()
        .returning(|_, _| Ok(GateDecision::Reserved));
    m.orders.expect_create().returning(|_, _, _| {
        Err(OrderStoreError::OutOfStock {
            sku_id: SkuId::new(1).unwrap(),
        })
    });
    m.gate.expect_release().times(1).returning(|_| Ok(true));
    m.idempotency.expect_release().returning(|_, _| Ok(()));
    let err = block(m.shop().place_order(user(), &cmd(1), &key())).unwrap_err();
    assert!(matches!(err, ShopError::OutOfStock { .. }), "{err:?}");
}

#[test]
fn a_gate_that_is_down_lets_the_database_decide_alone() {
    let mut m = Mocks::default();
    m.shelf(true);
    m.key_is_new();
    m.gate
        .expect_try_reserve()
        .times(1)
        .returning(|_, _| Err(GateError::Unavailable("redis down".into())));
    m.orders
        .expect_create()
        .times(1)
        .returning(|_, _, _| Ok(()));
    // Sold on the database alone: nothing to give back to the gate.
    m.gate.expect_release().never();
    let placed = block(m.shop().place_order(user(), &cmd(1), &key())).unwrap();
    assert_eq!(placed.gate, GateUse::Fallback);
}

#[test]
fn an_empty_gate_is_loaded_from_the_database_and_asked_again() {
    let mut m = Mocks::default();
    m.shelf(true);
    m.key_is_new();
    let mut seq = mockall::Sequence::new();
    m.gate
        .expect_try_reserve()
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_, _| {
            Ok(GateDecision::NotLoaded {
                skus: vec![SkuId::new(1).unwrap()],
            })
        });
    m.catalogue.expect_stock_levels().times(1).returning(|_| {
        Ok(vec![(
            SkuId::new(1).unwrap(),
            crate::inventory::Stock::new(10, 0).unwrap(),
        )])
    });
    m.gate
        .expect_load()
        .times(1)
        .in_sequence(&mut seq)
        .withf(|levels, overwrite| levels == [(SkuId::new(1).unwrap(), 10)] && !overwrite)
        .returning(|_, _| Ok(()));
    m.gate
        .expect_try_reserve()
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_, _| Ok(GateDecision::Reserved));
    m.orders.expect_create().returning(|_, _, _| Ok(()));
    let placed = block(m.shop().place_order(user(), &cmd(1), &key())).unwrap();
    assert_eq!(placed.gate, GateUse::Reserved);
}

#[test]
fn an_off_sale_sku_is_refused_and_gives_back_what_it_held() {
    let mut m = Mocks::default();
    m.shelf(false);
    m.key_is_new();
    m.gate
        .expect_try_reserve()
        .times(1)
        .returning(|_, _| Ok(GateDecision::Reserved));
    m.gate.expect_release().times(1).returning(|_| Ok(true));
    m.orders.expect_create().never();
    m.idempotency
        .expect_release()
        .times(1)
        .returning(|_, _| Ok(()));
    let err = block(m.shop().place_order(user(), &cmd(1), &key())).unwrap_err();
    assert!(matches!(err, ShopError::NotOnSale { .. }), "{err:?}");
}

#[test]
fn a_key_in_use_or_reused_never_reaches_the_catalogue() {
    for (begin, expected) in [
        (IdemBegin::InProgress, "InProgress"),
        (IdemBegin::Mismatch, "KeyReused"),
    ] {
        let mut m = Mocks::default();
        m.key_live(true);
        m.idempotency
            .expect_begin()
            .times(1)
            .return_once(move |_| Ok(begin));
        m.catalogue.expect_skus_for_sale().never();
        m.gate.expect_try_reserve().never();
        let err = block(m.shop().place_order(user(), &cmd(1), &key())).unwrap_err();
        assert!(format!("{err:?}").starts_with(expected), "{err:?}");
    }
}

#[test]
fn a_key_claimed_by_a_twin_meanwhile_gives_the_gate_back() {
    // Two requests with the same new key at once: both see it unused and hold stock; the one
    // that loses the claim gives its units back and writes nothing. (It may have priced the
    // order alongside its claim; those reads are thrown away.)
    let mut m = Mocks::default();
    m.key_live(false);
    m.shelf(true);
    m.gate
        .expect_try_reserve()
        .times(1)
        .returning(|_, _| Ok(GateDecision::Reserved));
    m.idempotency
        .expect_begin()
        .times(1)
        .returning(|_| Ok(IdemBegin::InProgress));
    m.gate.expect_release().times(1).returning(|_| Ok(true));
    m.orders.expect_create().never();
    let err = block(m.shop().place_order(user(), &cmd(1), &key())).unwrap_err();
    assert_eq!(err, ShopError::InProgress);
}

#[test]
fn a_new_key_completed_by_a_twin_meanwhile_returns_the_twins_order() {
    // The key was unused when asked, but a twin request finished with it before this one's
    // claim: this request answers with the twin's order and gives its own hold back.
    let mut m = Mocks::default();
    m.key_live(false);
    m.shelf(true);
    let order = sample_order(5990);
    m.gate
        .expect_try_reserve()
        .times(1)
        .returning(|_, _| Ok(GateDecision::Reserved));
    m.key_replays(&order);
    m.gate.expect_release().times(1).returning(|_| Ok(true));
    m.idempotency.expect_release().never();
    m.orders.expect_create().never();
    let placed = block(m.shop().place_order(user(), &cmd(1), &key())).unwrap();
    assert!(placed.replayed);
    assert_eq!(placed.order.id, order.id);
}

#[test]
fn a_used_key_returns_the_order_it_made_without_asking_the_gate() {
    // A retry of an order that exists must get that order, even when the gate would now say
    // "sold out" — and it must not hold stock a second time, not even for a moment.
    let mut m = Mocks::default();
    m.key_live(true);
    let order = sample_order(5990);
    m.key_replays(&order);
    m.gate.expect_try_reserve().never();
    m.gate.expect_available().never();
    m.orders.expect_create().never();
    let placed = block(m.shop().place_order(user(), &cmd(1), &key())).unwrap();
    assert!(placed.replayed, "the order the key made, not 'sold out'");
    assert_eq!(placed.order.id, order.id);
}

// ---------- cancel: close at WeChat first ----------

fn pending_with_prepay(m: &mut Mocks) -> Order {
    let order = sample_order(5990);
    let stored = order.clone();
    m.orders
        .expect_get()
        .returning(move |_| Ok(Some(stored.clone())));
    let p = payment_for(&order, PaymentStatus::PrepayIssued);
    m.payments
        .expect_get_by_order()
        .returning(move |_| Ok(Some(p.clone())));
    order
}

#[test]
fn cancelling_waits_for_wechat_to_close_the_payment() {
    let mut m = Mocks::default();
    let order = pending_with_prepay(&mut m);
    m.gateway
        .expect_close()
        .times(1)
        .returning(|_| Err(GatewayError::Unavailable("timeout".into())));
    // WeChat could not be told: the stock stays held, the order stays unpaid.
    m.orders.expect_apply().never();
    m.gate.expect_release().never();
    let err = block(
        m.shop()
            .cancel_order(&Actor::User { id: order.user_id }, order.id, None),
    )
    .unwrap_err();
    assert!(matches!(err, ShopError::Unavailable(_)), "{err:?}");
}

#[test]
fn someone_elses_order_is_not_found_and_not_closed() {
    let mut m = Mocks::default();
    let order = pending_with_prepay(&mut m);
    m.gateway.expect_close().never();
    let stranger = Actor::User {
        id: UserId::new(8).unwrap(),
    };
    let err = block(m.shop().cancel_order(&stranger, order.id, None)).unwrap_err();
    assert!(matches!(err, ShopError::NotFound("order")), "{err:?}");
}

#[test]
fn a_close_refused_as_paid_asks_wechat_before_anything_else() {
    let mut m = Mocks::default();
    let order = pending_with_prepay(&mut m);
    m.gateway
        .expect_close()
        .times(1)
        .returning(|_| Ok(CloseOutcome::AlreadyPaid));
    // WeChat says paid at close but not at query: a provider inconsistency, nothing changes.
    m.gateway
        .expect_query()
        .times(1)
        .returning(|_| Ok(TradeState::NotPay));
    m.orders.expect_apply().never();
    let err = block(
        m.shop()
            .cancel_order(&Actor::User { id: order.user_id }, order.id, None),
    )
    .unwrap_err();
    assert!(matches!(err, ShopError::Provider(_)), "{err:?}");
}

// ---------- confirm_payment ----------

#[test]
fn a_payment_for_an_unknown_order_is_refused_and_nothing_is_recorded() {
    let mut m = Mocks::default();
    m.orders.expect_get_by_no().returning(|_| Ok(None));
    m.payments.expect_record_success().never();
    let report = PaymentReport {
        out_trade_no: OrderNo::parse("R20261124999").unwrap(),
        transaction_id: TransactionId::parse("4200000001").unwrap(),
        amount: Fen::new(5990),
        paid_at: NOW,
        source: PaymentSource::Callback,
        notification_id: None,
        payload: "{}".into(),
    };
    let err = block(m.shop().confirm_payment(&report)).unwrap_err();
    assert!(matches!(err, ShopError::NotFound(_)), "{err:?}");
}

#[test]
fn a_payment_of_the_wrong_amount_is_refused_and_nothing_is_recorded() {
    let mut m = Mocks::default();
    let order = sample_order(5990);
    let stored = order.clone();
    m.orders
        .expect_get_by_no()
        .returning(move |_| Ok(Some(stored.clone())));
    let p = payment_for(&order, PaymentStatus::PrepayIssued);
    m.payments
        .expect_get_by_order()
        .returning(move |_| Ok(Some(p.clone())));
    m.payments.expect_record_success().never();
    let report = PaymentReport {
        out_trade_no: order.order_no.clone(),
        transaction_id: TransactionId::parse("4200000002").unwrap(),
        amount: Fen::new(1),
        paid_at: NOW,
        source: PaymentSource::Callback,
        notification_id: None,
        payload: "{}".into(),
    };
    let err = block(m.shop().confirm_payment(&report)).unwrap_err();
    assert!(matches!(err, ShopError::PaymentMismatch(_)), "{err:?}");
}

// ---------- check_payment ----------

#[test]
fn checking_a_paid_order_does_not_ask_wechat() {
    let mut m = Mocks::default();
    let mut order = sample_order(5990);
    order.status = OrderStatus::Paid;
    let stored = order.clone();
    m.orders
        .expect_get()
        .returning(move |_| Ok(Some(stored.clone())));
    m.gateway.expect_query().never();
    let o = block(m.shop().check_payment(order.user_id, order.id)).unwrap();
    assert_eq!(o.status, OrderStatus::Paid);
}

#[test]
fn checking_without_a_prepay_does_not_ask_wechat() {
    let mut m = Mocks::default();
    let order = sample_order(5990);
    let stored = order.clone();
    m.orders
        .expect_get()
        .returning(move |_| Ok(Some(stored.clone())));
    m.payments.expect_get_by_order().returning(|_| Ok(None));
    m.gateway.expect_query().never();
    let o = block(m.shop().check_payment(order.user_id, order.id)).unwrap();
    assert_eq!(o.status, OrderStatus::PendingPayment);
}

#[test]
fn wechat_unreachable_answers_the_order_as_stored() {
    let mut m = Mocks::default();
    let order = pending_with_prepay(&mut m);
    m.gateway
        .expect_query()
        .times(1)
        .returning(|_| Err(GatewayError::Unavailable("timeout".into())));
    m.payments.expect_record_success().never();
    let o = block(m.shop().check_payment(order.user_id, order.id)).unwrap();
    assert_eq!(o.status, OrderStatus::PendingPayment);
}

#[test]
fn unpaid_at_wechat_changes_nothing() {
    let mut m = Mocks::default();
    let order = pending_with_prepay(&mut m);
    m.gateway
        .expect_query()
        .times(1)
        .returning(|_| Ok(TradeState::UserPaying));
    m.payments.expect_record_success().never();
    let o = block(m.shop().check_payment(order.user_id, order.id)).unwrap();
    assert_eq!(o.status, OrderStatus::PendingPayment);
}

#[test]
fn another_shoppers_order_cannot_be_checked() {
    let mut m = Mocks::default();
    let order = pending_with_prepay(&mut m);
    m.gateway.expect_query().never();
    let err = block(m.shop().check_payment(UserId::new(8).unwrap(), order.id)).unwrap_err();
    assert!(matches!(err, ShopError::NotFound("order")), "{err:?}");
}

#[test]
fn an_order_id_that_does_not_exist_is_not_found() {
    let mut m = Mocks::default();
    m.orders.expect_get().returning(|_| Ok(None));
    let err = block(m.shop().check_payment(user(), OrderId::new(99).unwrap())).unwrap_err();
    assert!(matches!(err, ShopError::NotFound("order")), "{err:?}");
}
