use super::{OrderChange, Page, Paged, StoreError};
use crate::audit::AuditEntry;
use crate::events::OutboxEvent;
use crate::idempotency::IdemCompletion;
use crate::ids::{OrderId, RefundId, SkuId};
use crate::money::Fen;
use crate::payment::Payment;
use crate::refund::{Refund, RefundStatus, RefundTransition};
use crate::text::{OrderNo, RefundNo, TransactionId};
use crate::time::Timestamp;
use async_trait::async_trait;

/// How the shop learned that a payment succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaymentSource {
    /// A verified, decrypted WeChat callback.
    Callback,
    /// An active query (the client said it paid, the sweep, or a refused close).
    Query,
}

impl PaymentSource {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Callback => "CALLBACK",
            Self::Query => "QUERY",
        }
    }
}

/// A row of the payment inbox: unique on `transaction_id`, which makes every success
/// exactly-once however many times and by whatever path it arrives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentReceipt {
    pub transaction_id: TransactionId,
    pub out_trade_no: OrderNo,
    pub amount: Fen,
    pub source: PaymentSource,
    /// WeChat's notification id (`id` of the callback body), when it came as a callback.
    pub notification_id: Option<String>,
    pub received_at: Timestamp,
    /// The decrypted resource, kept for audit and reconciliation.
    pub payload: String,
}

/// Everything one confirmed payment writes, in one transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentSuccess {
    pub receipt: PaymentReceipt,
    /// The payment after the success; inserted when `payment_is_new`, else updated under its version.
    pub payment: Payment,
    pub payment_is_new: bool,
    pub order_change: Option<OrderChange>,
    /// The automatic refund of a late payment whose stock is gone.
    pub refund: Option<Refund>,
    pub events: Vec<OutboxEvent>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaymentStoreError {
    #[error("payment not found")]
    NotFound,
    /// This transaction id is already in the inbox: the success was recorded before.
    #[error("payment already recorded")]
    AlreadyRecorded,
    /// The payment or order changed since it was read.
    #[error("changed concurrently")]
    Stale,
    /// A late payment could not take its stock.
    #[error("SKU {sku_id} is out of stock")]
    OutOfStock { sku_id: SkuId },
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PaymentStore: Send + Sync {
    async fn get_by_order(&self, order: OrderId) -> Result<Option<Payment>, PaymentStoreError>;

    async fn get_by_out_trade_no(&self, no: &OrderNo)
        -> Result<Option<Payment>, PaymentStoreError>;

    /// Inserts a new payment (`is_new`) or updates it under its version (a renewed prepay).
    async fn save(&self, payment: &Payment, is_new: bool) -> Result<(), PaymentStoreError>;

    /// The exactly-once step: inserts the receipt (`AlreadyRecorded` if its transaction id is
    /// there), writes the payment, applies the order change, inserts the automatic refund and
    /// the events — all or nothing.
    async fn record_success(&self, success: &PaymentSuccess) -> Result<(), PaymentStoreError>;

    /// Payments still waiting (`PREPAY_ISSUED`) created before `created_before`, oldest first.
    async fn pending_before(
        &self,
        created_before: Timestamp,
        limit: u32,
    ) -> Result<Vec<Payment>, PaymentStoreError>;

    /// Claims up to `limit` waiting payments created before `created_before` for `owner` until
    /// `until`, skipping those another worker holds.
    async fn claim_pending(
        &self,
        created_before: Timestamp,
        owner: &str,
        now: Timestamp,
        until: Timestamp,
        limit: u32,
    ) -> Result<Vec<Payment>, PaymentStoreError>;

    /// Successful payments whose `paid_at` is in `[from, to)`.
    async fn succeeded_between(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<Payment>, PaymentStoreError>;
}

/// A computed refund transition and what the same transaction writes with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundChange {
    pub transition: RefundTransition,
    /// Present with `RecordOnOrder`: the order's `RecordRefund` transition.
    pub order_change: Option<OrderChange>,
    pub events: Vec<OutboxEvent>,
    pub audit: Option<AuditEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefundStoreError {
    #[error("refund not found")]
    NotFound,
    #[error("changed concurrently")]
    Stale,
    /// The amount is more than paid − refunded − held by open requests.
    #[error("only {remaining} can still be refunded")]
    ExceedsRefundable { remaining: Fen },
    /// The order is not in a state that can be refunded.
    #[error("order cannot be refunded in its state")]
    NotRefundable,
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait RefundStore: Send + Sync {
    /// Inserts a refund request and holds its amount on the order — conditional on the order
    /// being refundable and on enough being left — with its events and idempotency completion.
    async fn create(
        &self,
        refund: &Refund,
        events: &[OutboxEvent],
        idem: Option<IdemCompletion>,
    ) -> Result<(), RefundStoreError>;

    async fn get(&self, id: RefundId) -> Result<Option<Refund>, RefundStoreError>;

    async fn get_by_no(&self, no: &RefundNo) -> Result<Option<Refund>, RefundStoreError>;

    /// Refunds of an order, oldest first.
    async fn list_for_order(&self, order: OrderId) -> Result<Vec<Refund>, RefundStoreError>;

    /// Back-office queue, newest first.
    async fn list(
        &self,
        status: Option<RefundStatus>,
        page: Page,
    ) -> Result<Paged<Refund>, RefundStoreError>;

    /// Writes a transition under the refund's version, with its effect on the order's hold or
    /// the order change, the events and the audit row — one transaction.
    async fn apply(&self, change: &RefundChange) -> Result<(), RefundStoreError>;

    /// Refunds approved or processing, oldest first: what the sweep must push or poll.
    async fn in_flight(&self, limit: u32) -> Result<Vec<Refund>, RefundStoreError>;

    /// Claims up to `limit` approved or processing refunds for `owner` until `until`, skipping
    /// those another worker holds.
    async fn claim_in_flight(
        &self,
        owner: &str,
        now: Timestamp,
        until: Timestamp,
        limit: u32,
    ) -> Result<Vec<Refund>, RefundStoreError>;

    /// Refunds that succeeded in `[from, to)`, for reconciliation.
    async fn succeeded_between(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<Refund>, RefundStoreError>;
}
