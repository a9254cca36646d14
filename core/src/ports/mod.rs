//! Ports: what the domain needs from the world, as traits. Each store method is one atomic
//! business step (one database transaction) and documents its failures with a typed error.
//! Adapters live in `adapters/`; the same contract suite (`contract-tests`) runs against each.

mod catalogue;
mod customers;
mod gate;
mod infra;
mod orders;
mod outside;
mod payments;
mod records;
mod reports;

pub use catalogue::*;
pub use customers::*;
pub use gate::*;
pub use infra::*;
pub use orders::*;
pub use outside::*;
pub use payments::*;
pub use records::*;
pub use reports::*;

/// Failures every store can have, whatever the port. Adapters map driver errors to these in
/// one place; ports add their business failures on top.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached or timed out; retrying later may work.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// A concurrent transaction won (deadlock, lock timeout, serialization); retrying is safe.
    #[error("concurrent change: {0}")]
    Contention(String),
    /// A stored row does not parse into a domain value: a bug or a manual edit.
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    /// Anything else the driver reported.
    #[error("storage error: {0}")]
    Other(String),
}

/// A page request: `page` counts from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub page: u32,
    pub per_page: u32,
}

impl Page {
    pub const MAX_PER_PAGE: u32 = 100;

    /// Clamps to 1..=[`Self::MAX_PER_PAGE`] per page and page ≥ 1.
    pub fn new(page: u32, per_page: u32) -> Page {
        Page {
            page: page.max(1),
            per_page: per_page.clamp(1, Self::MAX_PER_PAGE),
        }
    }

    pub const fn offset(self) -> i64 {
        (self.page as i64 - 1) * self.per_page as i64
    }

    pub const fn limit(self) -> i64 {
        self.per_page as i64
    }
}

impl Default for Page {
    fn default() -> Self {
        Page::new(1, 20)
    }
}

/// One page of results and the total count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub page: Page,
}
