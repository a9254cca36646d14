use super::{Page, Paged, StoreError};
use crate::audit::AuditEntry;
use crate::events::OutboxEvent;
use crate::idempotency::IdemCompletion;
use crate::ids::{OrderId, SkuId, UserId};
use crate::order::{Order, OrderStatus, OrderTransition};
use crate::text::OrderNo;
use crate::time::Timestamp;
use async_trait::async_trait;

/// A computed order transition with everything the same transaction must also write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderChange {
    pub transition: OrderTransition,
    pub events: Vec<OutboxEvent>,
    pub audit: Option<AuditEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderStoreError {
    #[error("order not found")]
    NotFound,
    /// The order changed since it was read: reload and decide again.
    #[error("order changed concurrently")]
    Stale,
    /// A SKU has not enough available stock; nothing was written.
    #[error("SKU {sku_id} is out of stock")]
    OutOfStock { sku_id: SkuId },
    /// An order with this id or number already exists.
    #[error("order already exists")]
    Duplicate,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Back-office order search. Every filter is optional and they combine with AND.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderQuery {
    pub status: Option<OrderStatus>,
    /// Created at or after.
    pub from: Option<Timestamp>,
    /// Created before.
    pub to: Option<Timestamp>,
    pub order_no: Option<OrderNo>,
    /// Receiver phone on the order.
    pub phone: Option<String>,
    pub openid: Option<String>,
    pub user_id: Option<UserId>,
}

#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait OrderStore: Send + Sync {
    /// Reserves stock for every line (a conditional update per SKU: all or nothing), inserts
    /// the order, its lines and its events, and completes the idempotency key — one
    /// transaction. `OutOfStock` names the first short SKU and leaves nothing behind.
    async fn create(
        &self,
        order: &Order,
        events: &[OutboxEvent],
        idem: Option<IdemCompletion>,
    ) -> Result<(), OrderStoreError>;

    async fn get(&self, id: OrderId) -> Result<Option<Order>, OrderStoreError>;

    async fn get_by_no(&self, no: &OrderNo) -> Result<Option<Order>, OrderStoreError>;

    /// A shopper's orders, newest first.
    async fn list_for_user(
        &self,
        user: UserId,
        status: Option<OrderStatus>,
        page: Page,
    ) -> Result<Paged<Order>, OrderStoreError>;

    /// Back-office search, newest first.
    async fn search(&self, query: &OrderQuery, page: Page)
        -> Result<Paged<Order>, OrderStoreError>;

    /// Writes a transition computed by [`Order::apply`]: the order row (only if its version is
    /// still the one the transition started from, i.e. the new version − 1), the stock effect on every
    /// line, the events and the audit row — one transaction. `Stale` if the order moved on;
    /// `OutOfStock` if a `SellDirect` effect found the stock gone.
    async fn apply(&self, change: &OrderChange) -> Result<(), OrderStoreError>;

    /// Orders matching `query` in creation order, after the `(created_at, id)` cursor: pages of
    /// an export that keeps memory flat however many orders there are.
    async fn scan(
        &self,
        query: &OrderQuery,
        after: Option<(Timestamp, OrderId)>,
        limit: u32,
    ) -> Result<Vec<Order>, OrderStoreError>;

    /// Unpaid orders whose `expires_at` is before `now`, oldest first.
    async fn due_unpaid(&self, now: Timestamp, limit: u32)
        -> Result<Vec<OrderId>, OrderStoreError>;

    /// Claims up to `limit` unpaid orders past `expires_at` for `owner` until `until`, skipping
    /// orders another worker holds (`FOR UPDATE SKIP LOCKED`), so that replicas never work on
    /// the same order. Claims lapse on their own at `until`.
    async fn claim_due_unpaid(
        &self,
        now: Timestamp,
        owner: &str,
        until: Timestamp,
        limit: u32,
    ) -> Result<Vec<OrderId>, OrderStoreError>;

    /// Shipped orders shipped before `shipped_before`, oldest first.
    async fn due_auto_confirm(
        &self,
        shipped_before: Timestamp,
        limit: u32,
    ) -> Result<Vec<OrderId>, OrderStoreError>;
}
