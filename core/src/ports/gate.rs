use crate::ids::{OrderId, SkuId};
use async_trait::async_trait;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GateError {
    /// The gate cannot be reached; the shop sells on the database alone meanwhile.
    #[error("stock gate unavailable: {0}")]
    Unavailable(String),
}

/// What the gate decided for an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GateDecision {
    /// Every SKU was held for the order (or already was: retries are safe).
    Reserved,
    /// This SKU has fewer units available than asked for; nothing was held.
    Insufficient { sku_id: SkuId, available: i64 },
    /// The gate has no count for these SKUs yet; nothing was held. Load them and ask again.
    NotLoaded { skus: Vec<SkuId> },
}

/// The stock gate sits in front of the database and sheds load on hot SKUs: it answers "sold
/// out" without a database round trip. It is never the authority — the database is — so a gate
/// that is down, empty or drifting can cost sales or speed but never oversell.
///
/// It holds an available count per SKU and, per order, what it reserved, so that releasing or
/// committing an order is idempotent.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait StockGate: Send + Sync {
    /// Holds `items` for `order` atomically: all SKUs or none.
    async fn try_reserve(
        &self,
        order: OrderId,
        items: &[(SkuId, i64)],
    ) -> Result<GateDecision, GateError>;
    /// Gives back what the order holds; `false` if it held nothing (already released or
    /// committed, or reserved before a rebuild).
    async fn release(&self, order: OrderId) -> Result<bool, GateError>;
    /// Forgets the order's hold without giving it back: the units were sold.
    async fn commit(&self, order: OrderId) -> Result<bool, GateError>;
    /// Adds `delta` to SKUs that are loaded (stock changes, late sales, restocks).
    async fn adjust(&self, deltas: &[(SkuId, i64)]) -> Result<(), GateError>;
    /// Sets available counts; only for SKUs not loaded yet unless `overwrite`.
    async fn load(&self, levels: &[(SkuId, i64)], overwrite: bool) -> Result<(), GateError>;
    /// Current counts; `None` for SKUs not loaded.
    async fn available(&self, skus: &[SkuId]) -> Result<Vec<(SkuId, Option<i64>)>, GateError>;
    /// Replaces every count and forgets every hold (after an outage, from the database).
    async fn rebuild(&self, levels: &[(SkuId, i64)]) -> Result<(), GateError>;
    /// `memory`, `redis` — for logs and metrics.
    fn kind(&self) -> &'static str;
}
