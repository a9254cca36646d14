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
use serde::Serialize;

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

impl Shop {
    /// Places an order for `user`, exactly once per idempotency key.
    pub async fn place_order(
        &self,
        user: UserId,
        cmd: &PlaceOrder,
        key: &IdempotencyKey,
    ) -> Result<Placed, ShopError> {
        let scope = format!("orders:u{user}");
        if let Some(sku_id) = self.sold_out_at_gate(&cmd.items).await {
            // A flash sale answers thousands of these: one gate read and one key read instead
            // of claiming and releasing the key. A key already used may be a retry of an order
            // that succeeded, so it still goes the normal way (and is replayed).
            if !self
                .idempotency
                .is_live(&scope, key, self.clock.now())
                .await?
            {
                return Err(ShopError::OutOfStock { sku_id });
            }
        }
        let outcome = self
            .idempotent(&scope, key, cmd, |done| {
                self.place_new(user, cmd, Some(done))
            })
            .await?;
        self.placed_or_replayed(outcome).await
    }

    /// A SKU the gate already knows cannot cover the order, if any. Only a hint for shedding
    /// load early: a gate that is down or does not know the SKU answers `None`, and the real
    /// decision is always the reservation's.
    async fn sold_out_at_gate(&self, items: &[OrderItem]) -> Option<SkuId> {
        let wanted = normalise(items).ok()?;
        let skus: Vec<SkuId> = wanted.iter().map(|(s, _)| *s).collect();
        let counts = self.gate.available(&skus).await.ok()?;
        wanted.iter().find_map(|(sku, q)| {
            counts
                .iter()
                .find(|(s, _)| s == sku)
                .and_then(|(_, n)| *n)
                .filter(|n| *n < q.get())
                .map(|_| *sku)
        })
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
        match self.idempotency.begin(&claim).await? {
            IdemBegin::Started => {}
            IdemBegin::Replay { resource_id } => return Ok(Idem::Replay(resource_id)),
            IdemBegin::InProgress => return Err(ShopError::InProgress),
            IdemBegin::Mismatch => return Err(ShopError::KeyReused),
        }
        let done = IdemCompletion {
            scope: scope.to_string(),
            key: key.clone(),
            resource_id: 0,
        };
        let result = create(done).await;
        if result.is_err() {
            // Nothing was created: free the key so that a retry runs again.
            if let Err(e) = self.idempotency.release(scope, key).await {
                tracing::warn!(error = %e, "could not release idempotency key; it frees itself when its lease ends");
            }
        }
        result.map(Idem::Done)
    }

    /// Places an order without an idempotency key (seeding, tests, operator tools).
    pub async fn place_order_once(
        &self,
        user: UserId,
        cmd: &PlaceOrder,
    ) -> Result<Placed, ShopError> {
        self.place_new(user, cmd, None).await
    }

    pub(super) async fn place_new(
        &self,
        user: UserId,
        cmd: &PlaceOrder,
        idem: Option<IdemCompletion>,
    ) -> Result<Placed, ShopError> {
        let wanted = normalise(&cmd.items)?;
        let ids: Vec<SkuId> = wanted.iter().map(|(s, _)| *s).collect();
        let skus = self.catalogue.skus_for_sale(&ids).await?;
        let address = self
            .addresses
            .get(user, cmd.address_id)
            .await?
            .ok_or(ShopError::NotFound("address"))?;

        let mut lines = Vec::with_capacity(wanted.len());
        for (sku_id, quantity) in &wanted {
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
        let id =
            OrderId::new(self.ids.next_id()).map_err(|e| ShopError::Internal(e.to_string()))?;
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
        let quantities = order.quantities();

        let gate = self.gate_reserve(id, &quantities).await?;
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
                if gate == GateUse::Reserved {
                    self.gate_release(id).await;
                }
                if let OrderStoreError::OutOfStock { sku_id } = e {
                    return Err(ShopError::OutOfStock { sku_id });
                }
                Err(e.into())
            }
        }
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
                    tracing::warn!(error = %e, "stock gate unavailable; selling on the database alone");
                    return Ok(GateUse::Fallback);
                }
            }
        }
        Ok(GateUse::Fallback)
    }

    /// Gives an order's hold back to the gate. A failure leaves the gate counting low (it sells
    /// less, never more) until the worker's gate check repairs it.
    pub(super) async fn gate_release(&self, order: OrderId) {
        if let Err(e) = self.gate.release(order).await {
            tracing::warn!(order_id = %order, error = %e, "stock gate release failed; gate-check will repair the drift");
        }
    }
}
