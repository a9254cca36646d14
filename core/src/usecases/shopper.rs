//! What a shopper does besides placing an order: the cart (priced live), ordering from the
//! cart, and confirming receipt.

use super::{OrderItem, PlaceOrder, Placed, Shop, ShopError, MAX_ATTEMPTS};
use crate::ids::{AddressId, OrderId, ProductId, SkuId, UserId};
use crate::money::Fen;
use crate::order::{Order, OrderCommand, Quantity};
use crate::ports::{OrderChange, OrderStoreError};
use crate::text::{IdempotencyKey, Remark, SkuSpec, Title};
use serde::Serialize;

/// A cart line with today's price and availability.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CartLineView {
    pub sku_id: SkuId,
    pub product_id: ProductId,
    pub title: Title,
    pub spec: SkuSpec,
    pub price: Fen,
    pub quantity: Quantity,
    pub line_total: Fen,
    /// Units that can be ordered now.
    pub available: i64,
    /// On sale and enabled.
    pub sellable: bool,
    pub cover_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CartView {
    pub lines: Vec<CartLineView>,
    /// Total of the lines that can be ordered as they are.
    pub total: Fen,
}

/// "Check out these cart lines (all when `skus` is empty)".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CartCheckout {
    pub skus: Vec<SkuId>,
    pub address_id: AddressId,
    pub remark: Remark,
}

impl Shop {
    pub async fn cart(&self, user: UserId) -> Result<CartView, ShopError> {
        let lines = self.carts.lines(user).await?;
        let ids: Vec<SkuId> = lines.iter().map(|l| l.sku_id).collect();
        let skus = self.catalogue.skus_for_sale(&ids).await?;
        let stock = self.catalogue.stock_levels(Some(ids)).await?;
        let mut view = CartView {
            lines: Vec::with_capacity(lines.len()),
            total: Fen::ZERO,
        };
        for line in lines {
            // A SKU removed from the catalogue disappears from the cart view.
            let Some(sku) = skus.iter().find(|s| s.sku_id == line.sku_id) else {
                continue;
            };
            let available = stock
                .iter()
                .find(|(s, _)| *s == line.sku_id)
                .map_or(0, |(_, st)| st.available());
            let line_total = sku
                .price
                .checked_mul(line.quantity.get())
                .unwrap_or(Fen::ZERO);
            if sku.sellable && available >= line.quantity.get() {
                view.total = view.total.checked_add(line_total).unwrap_or(view.total);
            }
            view.lines.push(CartLineView {
                sku_id: line.sku_id,
                product_id: sku.product_id,
                title: sku.title.clone(),
                spec: sku.spec.clone(),
                price: sku.price,
                quantity: line.quantity,
                line_total,
                available,
                sellable: sku.sellable,
                cover_url: sku.cover_url.clone(),
            });
        }
        Ok(view)
    }

    /// Puts `quantity` of a SKU in the cart (replacing what was there).
    pub async fn set_cart_item(
        &self,
        user: UserId,
        sku: SkuId,
        quantity: Quantity,
    ) -> Result<CartView, ShopError> {
        let found = self.catalogue.skus_for_sale(&[sku]).await?;
        let sku_info = found.first().ok_or(ShopError::NotFound("sku"))?;
        if !sku_info.sellable {
            return Err(ShopError::NotOnSale { sku_id: sku });
        }
        self.carts
            .set(user, sku, quantity, self.clock.now())
            .await?;
        self.cart(user).await
    }

    pub async fn remove_cart_item(&self, user: UserId, sku: SkuId) -> Result<CartView, ShopError> {
        self.carts.remove(user, &[sku]).await?;
        self.cart(user).await
    }

    /// Orders cart lines; the ordered lines leave the cart. The idempotency key covers the
    /// checkout request itself, so a retry after success replays the order even though the cart
    /// has since been emptied.
    pub async fn checkout_cart(
        &self,
        user: UserId,
        req: &CartCheckout,
        key: &IdempotencyKey,
    ) -> Result<Placed, ShopError> {
        let scope = format!("orders:u{user}");
        let outcome = self
            .idempotent(&scope, key, req, |done| async move {
                let lines = self.carts.lines(user).await?;
                let items: Vec<OrderItem> = lines
                    .iter()
                    .filter(|l| req.skus.is_empty() || req.skus.contains(&l.sku_id))
                    .map(|l| OrderItem {
                        sku_id: l.sku_id,
                        quantity: l.quantity,
                    })
                    .collect();
                if items.is_empty() {
                    return Err(crate::ValidationError::new(
                        "skus",
                        "empty",
                        "the cart has none of these items",
                    )
                    .into());
                }
                let cmd = PlaceOrder {
                    items,
                    address_id: req.address_id,
                    remark: req.remark.clone(),
                };
                let placed = self.place_new(user, &cmd, Some(done)).await?;
                let ordered: Vec<SkuId> = cmd.items.iter().map(|i| i.sku_id).collect();
                if let Err(e) = self.carts.remove(user, &ordered).await {
                    tracing::warn!(error = %e, "ordered lines stay in the cart");
                }
                Ok(placed)
            })
            .await?;
        self.placed_or_replayed(outcome).await
    }

    /// The shopper confirms the parcel arrived: SHIPPED → COMPLETED.
    pub async fn confirm_receipt(
        &self,
        user: UserId,
        order_id: OrderId,
    ) -> Result<Order, ShopError> {
        for _ in 0..MAX_ATTEMPTS {
            let order = self
                .orders
                .get(order_id)
                .await?
                .ok_or(ShopError::NotFound("order"))?;
            if order.user_id != user {
                return Err(ShopError::NotFound("order"));
            }
            match self.complete(&order).await {
                Err(ShopError::Conflict(_)) => continue,
                other => return other,
            }
        }
        Err(ShopError::Conflict(
            "the order kept changing; try again".into(),
        ))
    }

    /// SHIPPED → COMPLETED with its event; `Conflict` when the order changed meanwhile.
    pub async fn complete(&self, order: &Order) -> Result<Order, ShopError> {
        let t = order.apply(OrderCommand::Complete {
            at: self.clock.now(),
        })?;
        let events = self.order_events(&t.events, &t.order)?;
        let done = t.order.clone();
        match self
            .orders
            .apply(&OrderChange {
                transition: t,
                events,
                audit: None,
            })
            .await
        {
            Ok(()) => Ok(done),
            Err(OrderStoreError::Stale) => Err(ShopError::Conflict("the order changed".into())),
            Err(e) => Err(e.into()),
        }
    }

    /// Completes shipped orders whose auto-confirm period has passed; returns how many.
    pub async fn auto_confirm(&self, limit: u32) -> Result<usize, ShopError> {
        let due = self
            .orders
            .due_auto_confirm(
                self.clock.now().minus(self.policy.auto_confirm_after),
                limit,
            )
            .await?;
        let mut n = 0;
        for id in due {
            let Some(order) = self.orders.get(id).await? else {
                continue;
            };
            match self.complete(&order).await {
                Ok(_) => n += 1,
                Err(ShopError::Conflict(_) | ShopError::IllegalState(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(n)
    }
}
