//! What operators do: the catalogue (every price and stock change audited), shipping and
//! cancelling orders, and reports.

use super::{Shop, ShopError, MAX_ATTEMPTS};
use crate::audit::{Actor, AuditEntry};
use crate::catalogue::{Product, ProductImage, ProductStatus, Sku};
use crate::error::ValidationError;
use crate::ids::{ImageId, OrderId, ProductId, SkuId};
use crate::inventory::Stock;
use crate::money::Fen;
use crate::order::{Order, OrderCommand, Shipment};
use crate::ports::{
    AuditLog, DailyStats, ImageStorage, OrderChange, OrderStoreError, ReportStore, SkuSales,
    StockChange,
};
use crate::text::{Description, Reason, SkuSpec, Title};
use crate::time::{BizDate, Timestamp};
use std::sync::Arc;

/// The longest report range: one year and a day.
pub const MAX_REPORT_DAYS: i64 = 367;

#[derive(Clone)]
pub struct Backoffice {
    pub shop: Shop,
    pub audit: Arc<dyn AuditLog>,
    pub reports: Arc<dyn ReportStore>,
    pub storage: Arc<dyn ImageStorage>,
}

impl std::fmt::Debug for Backoffice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Backoffice")
            .field("shop", &self.shop)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSku {
    pub spec: SkuSpec,
    pub price: Fen,
    pub stock: i64,
    pub enabled: bool,
    pub sort: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewProduct {
    pub title: Title,
    pub description: Description,
    pub on_sale: bool,
    pub sort: i64,
    pub skus: Vec<NewSku>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProductPatch {
    pub title: Option<Title>,
    pub description: Option<Description>,
    pub sort: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SkuPatch {
    pub spec: Option<SkuSpec>,
    pub price: Option<Fen>,
    pub enabled: Option<bool>,
    pub sort: Option<i64>,
}

fn sku_json(s: &Sku) -> serde_json::Value {
    serde_json::json!({"spec": s.spec.as_str(), "price_fen": s.price.get(), "enabled": s.enabled, "sort": s.sort})
}

fn product_json(p: &Product) -> serde_json::Value {
    serde_json::json!({"title": p.title.as_str(), "status": p.status.as_str(), "sort": p.sort,
        "description_chars": p.description.as_str().chars().count()})
}

impl Backoffice {
    fn now(&self) -> Timestamp {
        self.shop.clock.now()
    }

    fn id<T: TryFrom<i64, Error = ValidationError>>(&self) -> Result<T, ShopError> {
        T::try_from(self.shop.ids.next_id()).map_err(|e| ShopError::Internal(e.to_string()))
    }

    fn audit_entry(
        &self,
        by: &Actor,
        action: &str,
        target: (&str, String),
        before: serde_json::Value,
        after: serde_json::Value,
    ) -> AuditEntry {
        AuditEntry {
            at: self.now(),
            actor: by.clone(),
            action: action.into(),
            target_type: target.0.into(),
            target_id: target.1,
            before,
            after,
        }
    }

    async fn product(&self, id: ProductId) -> Result<Product, ShopError> {
        self.shop
            .catalogue
            .get_product(id)
            .await?
            .ok_or(ShopError::NotFound("product"))
    }

    pub async fn create_product(&self, by: &Actor, new: NewProduct) -> Result<Product, ShopError> {
        if new.skus.is_empty() {
            return Err(
                ValidationError::new("skus", "empty", "a product needs at least one SKU").into(),
            );
        }
        let now = self.now();
        let id: ProductId = self.id()?;
        let mut skus = Vec::with_capacity(new.skus.len());
        for (i, s) in new.skus.into_iter().enumerate() {
            let stock = Stock::new(s.stock, 0).map_err(|e| {
                ValidationError::new(format!("skus[{i}].stock"), "negative", e.to_string())
            })?;
            skus.push(Sku {
                id: self.id()?,
                product_id: id,
                spec: s.spec,
                price: s.price,
                enabled: s.enabled,
                stock,
                sort: s.sort,
            });
        }
        let product = Product {
            id,
            title: new.title,
            description: new.description,
            status: if new.on_sale {
                ProductStatus::OnSale
            } else {
                ProductStatus::OffSale
            },
            sort: new.sort,
            images: vec![],
            skus,
            created_at: now,
            updated_at: now,
        };
        let mut after = product_json(&product);
        after["skus"] = product.skus.iter().map(|s| serde_json::json!({"spec": s.spec.as_str(), "price_fen": s.price.get(), "stock": s.stock.on_hand()})).collect();
        let audit = self.audit_entry(
            by,
            "product.create",
            ("product", id.to_string()),
            serde_json::Value::Null,
            after,
        );
        self.shop.catalogue.create_product(&product, &audit).await?;
        self.warm_gate(product.skus.iter()).await;
        Ok(product)
    }

    /// Gives the stock gate the counts of new SKUs at once, so the first buyers of a product
    /// put on sale for a flash sale do not all miss the gate together. Best effort: a gate
    /// that cannot be reached loads itself from the database on the first order.
    async fn warm_gate(&self, skus: impl Iterator<Item = &Sku>) {
        let levels: Vec<(SkuId, i64)> = skus.map(|s| (s.id, s.stock.available())).collect();
        if let Err(e) = self.shop.gate.load(&levels, false).await {
            tracing::warn!(error = %e, "stock gate not warmed; it loads on the first order");
        }
    }

    pub async fn update_product(
        &self,
        by: &Actor,
        id: ProductId,
        patch: ProductPatch,
    ) -> Result<Product, ShopError> {
        let before = self.product(id).await?;
        let mut after = before.clone();
        if let Some(t) = patch.title {
            after.title = t;
        }
        if let Some(d) = patch.description {
            after.description = d;
        }
        if let Some(s) = patch.sort {
            after.sort = s;
        }
        after.updated_at = self.now();
        let audit = self.audit_entry(
            by,
            "product.update",
            ("product", id.to_string()),
            product_json(&before),
            product_json(&after),
        );
        self.shop.catalogue.update_product(&after, &audit).await?;
        Ok(after)
    }

    /// Puts a product on or off sale, or deletes it (kept for the orders that refer to it).
    pub async fn set_product_status(
        &self,
        by: &Actor,
        id: ProductId,
        status: ProductStatus,
    ) -> Result<Product, ShopError> {
        let before = self.product(id).await?;
        let after = Product {
            status,
            updated_at: self.now(),
            ..before.clone()
        };
        let audit = self.audit_entry(
            by,
            "product.status",
            ("product", id.to_string()),
            serde_json::json!({"status": before.status.as_str()}),
            serde_json::json!({"status": status.as_str()}),
        );
        self.shop.catalogue.update_product(&after, &audit).await?;
        Ok(after)
    }

    pub async fn add_sku(
        &self,
        by: &Actor,
        product: ProductId,
        new: NewSku,
    ) -> Result<Sku, ShopError> {
        let stock = Stock::new(new.stock, 0)
            .map_err(|e| ValidationError::new("stock", "negative", e.to_string()))?;
        let sku = Sku {
            id: self.id()?,
            product_id: product,
            spec: new.spec,
            price: new.price,
            enabled: new.enabled,
            stock,
            sort: new.sort,
        };
        let mut after = sku_json(&sku);
        after["stock"] = serde_json::json!(stock.on_hand());
        let audit = self.audit_entry(
            by,
            "sku.create",
            ("sku", sku.id.to_string()),
            serde_json::Value::Null,
            after,
        );
        self.shop.catalogue.save_sku(&sku, &audit).await?;
        self.warm_gate(std::iter::once(&sku)).await;
        Ok(sku)
    }

    /// Changes spec, price, enabled flag or sort of a SKU. Placed orders keep the price they had.
    pub async fn update_sku(
        &self,
        by: &Actor,
        product: ProductId,
        sku: SkuId,
        patch: SkuPatch,
    ) -> Result<Sku, ShopError> {
        let p = self.product(product).await?;
        let before = p
            .skus
            .into_iter()
            .find(|s| s.id == sku)
            .ok_or(ShopError::NotFound("sku"))?;
        let mut after = before.clone();
        if let Some(v) = patch.spec {
            after.spec = v;
        }
        if let Some(v) = patch.price {
            after.price = v;
        }
        if let Some(v) = patch.enabled {
            after.enabled = v;
        }
        if let Some(v) = patch.sort {
            after.sort = v;
        }
        let action = if after.price != before.price {
            "sku.price"
        } else {
            "sku.update"
        };
        let audit = self.audit_entry(
            by,
            action,
            ("sku", sku.to_string()),
            sku_json(&before),
            sku_json(&after),
        );
        self.shop.catalogue.save_sku(&after, &audit).await?;
        Ok(after)
    }

    /// Sets or adjusts on-hand stock, audited with the reason and the levels before and after;
    /// the stock gate follows.
    pub async fn change_stock(
        &self,
        by: &Actor,
        sku: SkuId,
        change: StockChange,
        reason: &Reason,
    ) -> Result<Stock, ShopError> {
        let described = match &change {
            StockChange::Set(n) => format!("set {n}"),
            StockChange::Adjust(d) => format!("adjust {d:+}"),
        };
        let audit = self.audit_entry(
            by,
            "sku.stock",
            ("sku", sku.to_string()),
            serde_json::json!({}),
            serde_json::json!({"change": described, "reason": reason.as_str()}),
        );
        let (before, after) = self
            .shop
            .catalogue
            .change_stock(sku, change, &audit)
            .await?;
        let delta = after.available() - before.available();
        if delta != 0 {
            if let Err(e) = self.shop.gate.adjust(&[(sku, delta)]).await {
                tracing::warn!(sku_id = %sku, error = %e, "stock gate not adjusted; gate-check will repair it");
            }
        }
        Ok(after)
    }

    pub async fn add_image(
        &self,
        product: ProductId,
        file_name: &str,
        content_type: &str,
        bytes: Vec<u8>,
    ) -> Result<ProductImage, ShopError> {
        let p = self.product(product).await?;
        let id: ImageId = self.id()?;
        let url = self
            .storage
            .put(&format!("{product}-{id}-{file_name}"), content_type, bytes)
            .await?;
        let sort = p.images.iter().map(|i| i.sort).max().map_or(0, |s| s + 1);
        let image = ProductImage { id, url, sort };
        self.shop.catalogue.add_image(product, &image).await?;
        Ok(image)
    }

    pub async fn remove_image(&self, product: ProductId, image: ImageId) -> Result<(), ShopError> {
        Ok(self.shop.catalogue.remove_image(product, image).await?)
    }

    /// PAID → SHIPPED with carrier and tracking number, audited.
    pub async fn ship(
        &self,
        by: &Actor,
        order_id: OrderId,
        shipment: Shipment,
    ) -> Result<Order, ShopError> {
        for _ in 0..MAX_ATTEMPTS {
            let order = self
                .shop
                .orders
                .get(order_id)
                .await?
                .ok_or(ShopError::NotFound("order"))?;
            let t = order.apply(OrderCommand::Ship {
                shipment: shipment.clone(),
                at: self.now(),
            })?;
            let events = self.shop.order_events(&t.events, &t.order)?;
            let audit = self.audit_entry(by, "order.ship", ("order", order_id.to_string()),
                serde_json::json!({"status": order.status.as_str()}),
                serde_json::json!({"status": t.order.status.as_str(), "carrier": shipment.carrier.as_str(), "tracking_no": shipment.tracking_no.as_str()}));
            let shipped = t.order.clone();
            match self
                .shop
                .orders
                .apply(&OrderChange {
                    transition: t,
                    events,
                    audit: Some(audit),
                })
                .await
            {
                Ok(()) => return Ok(shipped),
                Err(OrderStoreError::Stale) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(ShopError::Conflict(
            "the order kept changing; try again".into(),
        ))
    }

    /// Daily figures for a date range (at most [`MAX_REPORT_DAYS`]).
    pub async fn daily_report(
        &self,
        from: BizDate,
        to: BizDate,
    ) -> Result<Vec<DailyStats>, ShopError> {
        check_range(from, to)?;
        Ok(self.reports.daily(from, to).await?)
    }

    pub async fn top_skus(
        &self,
        from: BizDate,
        to: BizDate,
        limit: u32,
    ) -> Result<Vec<SkuSales>, ShopError> {
        check_range(from, to)?;
        Ok(self.reports.top_skus(from, to, limit).await?)
    }
}

fn check_range(from: BizDate, to: BizDate) -> Result<(), ShopError> {
    if to < from {
        return Err(
            ValidationError::new("to", "before_from", "the range ends before it starts").into(),
        );
    }
    if to.start().since(from.start()).as_millis() / 86_400_000 >= MAX_REPORT_DAYS {
        return Err(ValidationError::new(
            "to",
            "too_long",
            format!("at most {MAX_REPORT_DAYS} days"),
        )
        .into());
    }
    Ok(())
}
