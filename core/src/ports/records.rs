use super::{Page, Paged, StoreError};
use crate::audit::{AuditEntry, AuditRecord};
use crate::events::OutboxEvent;
use crate::idempotency::{IdemBegin, IdemClaim};
use crate::ids::EventId;
use crate::text::IdempotencyKey;
use crate::time::{Span, Timestamp};
use async_trait::async_trait;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdempotencyError {
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Claims the key for this request, or says why not. An expired key (older than
    /// [`crate::idempotency::KEY_TTL`]) or an abandoned claim (lease passed) is taken over.
    async fn begin(&self, claim: &IdemClaim) -> Result<IdemBegin, IdempotencyError>;

    /// Releases a claim whose request failed without effect, so a retry runs again.
    async fn release(&self, scope: &str, key: &IdempotencyKey) -> Result<(), IdempotencyError>;

    /// Whether this key is claimed or completed and not expired — a request carrying it must
    /// go through [`IdempotencyStore::begin`] (it may be a replay). A read, no write.
    async fn is_live(
        &self,
        scope: &str,
        key: &IdempotencyKey,
        now: Timestamp,
    ) -> Result<bool, IdempotencyError>;

    /// Deletes keys created before `before`; returns how many.
    async fn purge(&self, before: Timestamp) -> Result<u64, IdempotencyError>;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutboxError {
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How far the relay is behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OutboxLag {
    pub pending: i64,
    pub oldest: Option<Timestamp>,
}

#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Unpublished events in the order they were written.
    async fn unpublished(&self, limit: u32) -> Result<Vec<OutboxEvent>, OutboxError>;
    async fn mark_published(&self, ids: &[EventId], at: Timestamp) -> Result<(), OutboxError>;
    async fn lag(&self) -> Result<OutboxLag, OutboxError>;
    /// Every event about one aggregate (`order:123`), in order; for operators and tests.
    async fn for_aggregate(&self, aggregate_id: &str) -> Result<Vec<OutboxEvent>, OutboxError>;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuditError {
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    pub action: Option<String>,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
}

/// The append-only audit log. Stores append to it inside their own transactions; this port
/// appends on its own and reads. There is no delete: rows are kept seven years.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait AuditLog: Send + Sync {
    async fn append(&self, entry: &AuditEntry) -> Result<AuditRecord, AuditError>;
    /// Rows with `seq > after`, in order: for verifying the chain page by page.
    async fn after(&self, after: i64, limit: u32) -> Result<Vec<AuditRecord>, AuditError>;
    /// Newest first.
    async fn search(
        &self,
        query: &AuditQuery,
        page: Page,
    ) -> Result<Paged<AuditRecord>, AuditError>;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LeaseError {
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What the last runs of a job did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobStatus {
    pub job: String,
    pub owner: Option<String>,
    pub lease_until: Option<Timestamp>,
    pub last_started_at: Option<Timestamp>,
    pub last_finished_at: Option<Timestamp>,
    pub last_ok: Option<bool>,
    pub last_note: Option<String>,
}

/// One row per worker job: a job runs where it holds the lease, so replicas take turns.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait JobLeases: Send + Sync {
    /// Takes the lease if it is free, expired or already `owner`'s.
    async fn acquire(
        &self,
        job: &str,
        owner: &str,
        now: Timestamp,
        lease: Span,
    ) -> Result<bool, LeaseError>;
    /// Gives the lease back and records the outcome.
    async fn finish(
        &self,
        job: &str,
        owner: &str,
        now: Timestamp,
        ok: bool,
        note: &str,
    ) -> Result<(), LeaseError>;
    async fn status(&self) -> Result<Vec<JobStatus>, LeaseError>;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublishError {
    #[error("event stream unavailable: {0}")]
    Unavailable(String),
}

/// Where the outbox relay publishes events (a Redis Stream; Kafka or NATS behind the same port).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait EventPublisher: Send + Sync {
    /// Publishes in order; at least once (a retry after a failure may repeat some).
    async fn publish(&self, events: &[OutboxEvent]) -> Result<(), PublishError>;
}
