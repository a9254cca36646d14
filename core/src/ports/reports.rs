use super::StoreError;
use crate::ids::SkuId;
use crate::money::Fen;
use crate::reconcile::ReconReport;
use crate::time::BizDate;
use async_trait::async_trait;

/// One China calendar day of business.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailyStats {
    pub date: BizDate,
    /// Orders placed that day.
    pub orders: i64,
    /// Orders paid that day (by payment time).
    pub paid_orders: i64,
    /// Money received that day.
    pub gmv: Fen,
    /// Money refunded that day (refunds that succeeded that day).
    pub refunds: Fen,
    pub refund_count: i64,
}

impl DailyStats {
    /// Average order value: GMV per paid order, rounded down to the fen.
    pub fn aov(&self) -> Fen {
        if self.paid_orders == 0 {
            Fen::ZERO
        } else {
            Fen::new(self.gmv.get() / self.paid_orders)
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkuSales {
    pub sku_id: SkuId,
    pub title: String,
    pub spec: String,
    pub quantity: i64,
    pub revenue: Fen,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ReportStore: Send + Sync {
    /// One row per day from `from` to `to` inclusive, days without business included as zeros.
    async fn daily(&self, from: BizDate, to: BizDate) -> Result<Vec<DailyStats>, ReportError>;
    /// Best-selling SKUs of orders paid in the range, by quantity.
    async fn top_skus(
        &self,
        from: BizDate,
        to: BizDate,
        limit: u32,
    ) -> Result<Vec<SkuSales>, ReportError>;
}

/// Stored reconciliation reports, one per China date.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ReconStore: Send + Sync {
    /// Stores the report of its date, replacing an earlier one of the same date.
    async fn save_report(&self, report: &ReconReport) -> Result<(), ReportError>;
    async fn report(&self, date: BizDate) -> Result<Option<ReconReport>, ReportError>;
    /// The latest reports (without their differences), newest first.
    async fn recent_reports(&self, limit: u32) -> Result<Vec<ReconReport>, ReportError>;
}
