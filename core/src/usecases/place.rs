//! `place_order`: price on the server, reserve through the gate, persist with the database as
//! the authority, compensate the gate when the database says no.

use super::{Shop, ShopError};
use crate::catalogue::SkuForSale;
use crate::error::ValidationError;
use crate::idempotency::{IdemBegin, IdemClaim, IdemCompletion};
use crate::ids::{AddressId, OrderId, SkuId, UserId};
use crate::money::Fen;
use crate::order::{Order, OrderEventKind, OrderLine, OrderStatus, Quantity, MAX_ORDER_LINES};
use crate::ports::{GateDecision, OrderStoreError};
use crate::text::{IdempotencyKey, OrderNo, Remark};
use crate::time::Timestamp;
use serde::Serialize;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderItem {
    pub sku_id: SkuId,
    pub quantity: Quantity,
}

/// A shopper's order request, already parsed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlaceOrder {
    pub items: Vec<OrderItem>,
    pub address_id: AddressId,
    pub remark: Remark,
}

/// What an idempotent request came to.
#[derive(Debug)]
pub(super) enum Idem<T> {
    /// Created now.
    Done(T),
    /// Created before, by the same key and request: the id of what it created.
    Replay(i64),
}

/// How the stock gate took part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GateUse {
    /// The gate held the stock before the database did.
    Reserved,
    /// The gate was unavailable; the database alone decided.
    Fallback,
    /// The answer was replayed from the idempotency key; nothing was reserved.
    Replay,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placed {
    pub order: Order,
    pub replayed: bool,
    pub gate: GateUse,
}

/// Merges repeated SKUs and checks the line count and per-line quantity.
fn normalise(items: &[OrderItem]) -> Result<Vec<(SkuId, Quantity)>, ValidationError> {
    if items.is_empty() {
        return Err(ValidationError::new(
            "items",
            "empty",
            "an order needs at least one item",
        ));
    }
    let mut merged: Vec<(SkuId, i64)> = Vec::with_capacity(items.len());
    for it in items {
        match merged.iter_mut().find(|(s, _)| *s == it.sku_id) {
            Some((_, q)) => *q += it.quantity.get(),
            None => merged.push((it.sku_id, it.quantity.get())),
        }
    }
    if merged.len() > MAX_ORDER_LINES {
        return Err(ValidationError::new(
            "items",
            "too_many",
            format!("an order holds at most {MAX_ORDER_LINES} different SKUs"),
        ));
    }
    merged
        .into_iter()
        .enumerate()
        .map(|(i, (s, q))| {
            Quantity::new(q)
                .map(|q| (s, q))
                .map_err(|e| e.at(format!("items[{i}].quantity")))
        })
        .collect()
}

/// What a claim that did not start comes to: the key's earlier resource, or the refusal.
fn not_started<T>(begun: IdemBegin) -> Option<Result<Idem<T>, ShopError>> {
    match begun {
        IdemBegin::Started => None,
        IdemBegin::Replay { resource_id } => Some(Ok(Idem::Replay(resource_id))),
        IdemBegin::InProgress => Some(Err(ShopError::InProgress)),
        IdemBegin::Mismatch => Some(Err(ShopError::KeyReused)),
    }
}

/// While the gate is down every order falls back, and a warning per order would bury the log
/// (5,359 identical lines in a 2-second Redis outage during a drill). One line per
/// [`LogThrottle::EVERY_MS`] says it, with how many were left out; the metric
/// `shop_gate_fallbacks_total` still counts each.
static GATE_DOWN_LOG: LogThrottle = LogThrottle::new();

/// Lets a repeated log line through at most once per interval.
struct LogThrottle {
    last_ms: AtomicI64,
    skipped: AtomicU64,
}

impl LogThrottle {
    const EVERY_MS: i64 = 10_000;

    const fn new() -> Self {
        LogThrottle {
            last_ms: AtomicI64::new(i64::MIN),
            skipped: AtomicU64::new(0),
        }
    }

    /// `Some(lines left out since the last one)` when this one should be written.
    fn due(&self, now: Timestamp) -> Option<u64> {
        let now = now.millis();
        let last = self.last_ms.load(Ordering::Relaxed);
        if now.saturating_sub(last) >= Self::EVERY_MS
            && self
                .last_ms
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            return Some(self.skipped.swap(0, Ordering::Relaxed));
        }
        self.skipped.fetch_add(1, Ordering::Relaxed);
        None
    }
}

impl Shop {
    /// Places an order for `user`, exactly once per idempotency key.
    ///
    /// A key never seen before asks the stock gate **first**: a buyer the gate cannot serve
    /// (a flash sale's thousands) is refused before anything is written, and only buyers holding
    /// stock claim their key and write. A key seen before may be the retry of an order that
    /// exists, so it goes the careful way: claim (and replay) first, then the gate.
    pub async fn place_order(
        &self,
        user: UserId,
        cmd: &PlaceOrder,
        key: &IdempotencyKey,
    ) -> Result<Placed, ShopError> {
        let scope = format!("orders:u{user}");
        if self
            .idempotency
            .is_live(&scope, key, self.clock.now())
            .await?
        {
            let outcome = self
                .idempotent(&scope, key, cmd, |done| {
                    self.place_new(user, cmd, Some(done))
                })
                .await?;
            return self.placed_or_replayed(outcome).await;
        }
        let wanted = normalise(&cmd.items)?;
        let id = self.new_order_id()?;
        let quantities: Vec<(SkuId, i64)> = wanted.iter().map(|(s, q)| (*s, q.get())).collect();
        let gate = self.gate_reserve(id, &quantities).await?;
        // Stock in hand: claim the key and price the order at the same time (two round trips
        // that do not depend on each other). A price read for a key that turns out taken is
        // thrown away; nothing is written before the claim is ours.
        let claim = IdemClaim::new(scope, key.clone(), cmd, self.clock.now());
        let (begun, priced) = futures::join!(
            self.idempotency.begin(&claim),
            self.price_order(user, cmd, &wanted, id)
        );
        let refused = match begun {
            Ok(begun) => not_started(begun),
            Err(e) => Some(Err(e.into())),
        };
        if let Some(outcome) = refused {
            // A concurrent twin holds the key (in progress, replayed, reused) or it could not
            // be claimed: this request creates nothing, so the units go back.
            self.give_back(id, gate).await;
            return self.placed_or_replayed(outcome?).await;
        }
        let result = match priced {
            Ok((order, events)) => {
                self.write_order(order, events, Some(claim.completion()), gate)
                    .await
            }
            Err(e) => {
                self.give_back(id, gate).await;
                Err(e)
            }
        };
        if result.is_err() {
            self.release_key(&claim.scope, key).await;
        }
        result
    }

    fn new_order_id(&self) -> Result<OrderId, ShopError> {
        OrderId::new(self.ids.next_id()).map_err(|e| ShopError::Internal(e.to_string()))
    }

    /// The order a replayed key created, as it is now.
    pub(super) async fn placed_or_replayed(
        &self,
        outcome: Idem<Placed>,
    ) -> Result<Placed, ShopError> {
        match outcome {
            Idem::Done(p) => Ok(p),
            Idem::Replay(resource_id) => {
                let id =
                    OrderId::new(resource_id).map_err(|e| ShopError::Internal(e.to_string()))?;
                let order = self.orders.get(id).await?.ok_or_else(|| {
                    ShopError::Internal(format!("idempotency key points at missing order {id}"))
                })?;
                Ok(Placed {
                    order,
                    replayed: true,
                    gate: GateUse::Replay,
                })
            }
        }
    }

    /// Runs `create` at most once per `(scope, key)`: says what the key created before, refuses
    /// a key reused with another request or still running, and releases the key when `create`
    /// fails so that a retry runs again. `create` must complete the key (the
    /// [`IdemCompletion`] it is given) in the transaction that creates the resource.
    pub(super) async fn idempotent<'a, R, T, F, Fut>(
        &'a self,
        scope: &str,
        key: &IdempotencyKey,
        request: &R,
        create: F,
    ) -> Result<Idem<T>, ShopError>
    where
        R: Serialize,
        F: FnOnce(IdemCompletion) -> Fut,
        Fut: std::future::Future<Output = Result<T, ShopError>> + 'a,
    {
        let claim = IdemClaim::new(scope.to_string(), key.clone(), request, self.clock.now());
        if let Some(outcome) = not_started(self.idempotency.begin(&claim).await?) {
            return outcome;
        }
        let result = create(claim.completion()).await;
        if result.is_err() {
            self.release_key(scope, key).await;
        }
        result.map(Idem::Done)
    }

    /// Nothing was created under the key: free it so that a retry runs again.
    async fn release_key(&self, scope: &str, key: &IdempotencyKey) {
        if let Err(e) = self.idempotency.release(scope, key).await {
            tracing::warn!(error = %e, "could not release idempotency key; it frees itself when its lease ends");
        }
    }

    /// Places an order without an idempotency key (seeding, tests, operator tools).
    pub async fn place_order_once(
        &self,
        user: UserId,
        cmd: &PlaceOrder,
    ) -> Result<Placed, ShopError> {
        self.place_new(user, cmd, None).await
    }

    /// Prices the order, asks the gate, writes it.
    pub(super) async fn place_new(
        &self,
        user: UserId,
        cmd: &PlaceOrder,
        idem: Option<IdemCompletion>,
    ) -> Result<Placed, ShopError> {
        let wanted = normalise(&cmd.items)?;
        let id = self.new_order_id()?;
        let (order, events) = self.price_order(user, cmd, &wanted, id).await?;
        let gate = self.gate_reserve(order.id, &order.quantities()).await?;
        self.write_order(order, events, idem, gate).await
    }

    /// Writes a priced order (completing `idem` in the same transaction); gives the gate's
    /// hold back when the database says no.
    async fn write_order(
        &self,
        order: Order,
        events: Vec<crate::events::OutboxEvent>,
        idem: Option<IdemCompletion>,
        gate: GateUse,
    ) -> Result<Placed, ShopError> {
        let id = order.id;
        let idem = idem.map(|c| IdemCompletion {
            resource_id: id.get(),
            ..c
        });
        match self.orders.create(&order, &events, idem).await {
            Ok(()) => Ok(Placed {
                order,
                replayed: false,
                gate,
            }),
            Err(e) => {
                self.give_back(id, gate).await;
                if let OrderStoreError::OutOfStock { sku_id } = e {
                    return Err(ShopError::OutOfStock { sku_id });
                }
                Err(e.into())
            }
        }
    }

    /// The order as it would be written now: lines priced from the catalogue, the address
    /// copied, shipping and deadline from the policy, and its `Created` event.
    async fn price_order(
        &self,
        user: UserId,
        cmd: &PlaceOrder,
        wanted: &[(SkuId, Quantity)],
        id: OrderId,
    ) -> Result<(Order, Vec<crate::events::OutboxEvent>), ShopError> {
        let ids: Vec<SkuId> = wanted.iter().map(|(s, _)| *s).collect();
        // Two independent reads, one round trip's wait.
        let (skus, address) = futures::join!(
            self.catalogue.skus_for_sale(&ids),
            self.addresses.get(user, cmd.address_id)
        );
        let skus = skus?;
        let address = address?.ok_or(ShopError::NotFound("address"))?;

        let mut lines = Vec::with_capacity(wanted.len());
        for (sku_id, quantity) in wanted {
            let sku: &SkuForSale = skus
                .iter()
                .find(|s| s.sku_id == *sku_id)
                .ok_or(ShopError::NotFound("sku"))?;
            if !sku.sellable {
                return Err(ShopError::NotOnSale { sku_id: *sku_id });
            }
            let line_total = sku
                .price
                .checked_mul(quantity.get())
                .ok_or_else(|| ShopError::Internal("line total overflows".into()))?;
            lines.push(OrderLine {
                sku_id: *sku_id,
                product_id: sku.product_id,
                title: sku.title.clone(),
                spec: sku.spec.clone(),
                unit_price: sku.price,
                quantity: *quantity,
                line_total,
                cover_url: sku.cover_url.clone(),
            });
        }
        let items_total = lines
            .iter()
            .try_fold(Fen::ZERO, |acc, l| acc.checked_add(l.line_total))
            .ok_or_else(|| ShopError::Internal("order total overflows".into()))?;
        let shipping_fee = self.policy.shipping_for(items_total);
        let payable = items_total
            .checked_add(shipping_fee)
            .ok_or_else(|| ShopError::Internal("order total overflows".into()))?;

        let now = self.clock.now();
        let order = Order {
            id,
            order_no: OrderNo::for_order(id, now),
            user_id: user,
            status: OrderStatus::PendingPayment,
            lines,
            items_total,
            shipping_fee,
            payable,
            paid: Fen::ZERO,
            refunded: Fen::ZERO,
            refund_pending: Fen::ZERO,
            address: address.fields,
            remark: cmd.remark.clone(),
            created_at: now,
            expires_at: now.plus(self.policy.unpaid_timeout),
            paid_at: None,
            shipment: None,
            shipped_at: None,
            completed_at: None,
            cancelled_at: None,
            cancel_reason: None,
            cancel_note: None,
            late_payment: false,
            updated_at: now,
            version: 0,
        };
        let events = self.order_events(&[OrderEventKind::Created], &order)?;
        Ok((order, events))
    }

    /// Asks the gate to hold the stock. A "sold out" from the gate is final; a gate that is down
    /// or does not know a SKU lets the database decide alone.
    async fn gate_reserve(
        &self,
        order: OrderId,
        items: &[(SkuId, i64)],
    ) -> Result<GateUse, ShopError> {
        for attempt in 0..2 {
            match self.gate.try_reserve(order, items).await {
                Ok(GateDecision::Reserved) => return Ok(GateUse::Reserved),
                Ok(GateDecision::Insufficient { sku_id, .. }) => {
                    return Err(ShopError::OutOfStock { sku_id })
                }
                Ok(GateDecision::NotLoaded { skus }) if attempt == 0 => {
                    let levels = self.catalogue.stock_levels(Some(skus)).await?;
                    let levels: Vec<(SkuId, i64)> =
                        levels.iter().map(|(s, st)| (*s, st.available())).collect();
                    if let Err(e) = self.gate.load(&levels, false).await {
                        tracing::warn!(error = %e, "stock gate could not be loaded; selling on the database alone");
                        return Ok(GateUse::Fallback);
                    }
                }
                Ok(GateDecision::NotLoaded { .. }) => return Ok(GateUse::Fallback),
                Err(e) => {
                    if let Some(suppressed) = GATE_DOWN_LOG.due(self.clock.now()) {
                        tracing::warn!(error = %e, similar_since_last = suppressed, "stock gate unavailable; selling on the database alone");
                    }
                    return Ok(GateUse::Fallback);
                }
            }
        }
        Ok(GateUse::Fallback)
    }

    /// Gives back what `gate_reserve` held for an order that will not be made (nothing when
    /// the database decided alone).
    async fn give_back(&self, order: OrderId, gate: GateUse) {
        if gate == GateUse::Reserved {
            self.gate_release(order).await;
        }
    }

    /// Gives an order's hold back to the gate. A failure leaves the gate counting low (it sells
    /// less, never more) until the worker's gate check repairs it.
    pub(super) async fn gate_release(&self, order: OrderId) {
        if let Err(e) = self.gate.release(order).await {
            tracing::warn!(order_id = %order, error = %e, "stock gate release failed; gate-check will repair the drift");
        }
    }
}

#[cfg(test)]
mod log_throttle_tests {
    use super::LogThrottle;
    use crate::time::Timestamp;

    #[test]
    fn a_repeated_line_is_written_once_per_interval_with_the_count_left_out() {
        let t = LogThrottle::new();
        let at = |ms: i64| Timestamp::from_millis(1_800_000_000_000 + ms);
        assert_eq!(t.due(at(0)), Some(0));
        assert_eq!(t.due(at(1)), None);
        assert_eq!(t.due(at(9_999)), None);
        assert_eq!(t.due(at(10_000)), Some(2));
        assert_eq!(t.due(at(10_001)), None);
        assert_eq!(t.due(at(25_000)), Some(1));
    }
}
