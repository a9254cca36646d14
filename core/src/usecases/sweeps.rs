//! What the worker does on a schedule: catch payments whose callback was lost, push and poll
//! refunds, relay events, reconcile a day, repair the stock gate, purge old keys and sessions.

use super::cancel::CLAIM_LEASE;
use super::{Shop, ShopError};
use crate::events::OutboxEvent;
use crate::ids::SkuId;
use crate::ports::*;
use crate::reconcile::{reconcile, ReconReport};
use crate::refund::RefundStatus;
use crate::time::{BizDate, Span};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PaymentSweep {
    pub examined: usize,
    /// Paid at WeChat: confirmed now (their callback was lost or late).
    pub confirmed: usize,
    pub unpaid: usize,
    pub failed: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RefundSweep {
    pub examined: usize,
    /// Approved refunds sent to WeChat.
    pub sent: usize,
    pub succeeded: usize,
    /// Ended without money moving (CLOSED), or ABNORMAL: the shopper's account refused it.
    pub failed: usize,
    pub abnormal: usize,
    pub processing: usize,
    pub errors: usize,
}

impl Shop {
    /// Asks WeChat about payments still waiting `older_than` after the prepay: a success whose
    /// callback never came is confirmed here, exactly once like any other.
    pub async fn sweep_payments(
        &self,
        owner: &str,
        older_than: Span,
        limit: u32,
    ) -> Result<PaymentSweep, ShopError> {
        let now = self.clock.now();
        let claimed = self
            .payments
            .claim_pending(
                now.minus(older_than),
                owner,
                now,
                now.plus(CLAIM_LEASE),
                limit,
            )
            .await?;
        let mut r = PaymentSweep {
            examined: claimed.len(),
            ..Default::default()
        };
        for p in claimed {
            match self.confirm_by_query(&p.out_trade_no).await {
                Ok(Some(_)) => r.confirmed += 1,
                Ok(None) => r.unpaid += 1,
                Err(e) => {
                    tracing::warn!(out_trade_no = %p.out_trade_no, error = %e, "payment query or confirmation failed");
                    r.failed += 1;
                }
            }
        }
        Ok(r)
    }

    /// Sends approved refunds that have not reached WeChat yet and asks about those in
    /// progress. ABNORMAL refunds are logged as errors for finance to handle.
    pub async fn sweep_refunds(&self, owner: &str, limit: u32) -> Result<RefundSweep, ShopError> {
        let now = self.clock.now();
        let claimed = self
            .refunds
            .claim_in_flight(owner, now, now.plus(CLAIM_LEASE), limit)
            .await?;
        let mut r = RefundSweep {
            examined: claimed.len(),
            ..Default::default()
        };
        for refund in claimed {
            let result = match refund.status {
                RefundStatus::Approved => {
                    self.submit_refund(refund.clone()).await.map_err(|(_, e)| e)
                }
                _ => match self.gateway.query_refund(&refund.out_refund_no).await {
                    Ok(Some(answer)) => {
                        if answer.status == ProviderRefundStatus::Abnormal {
                            r.abnormal += 1;
                            tracing::error!(out_refund_no = %refund.out_refund_no, "refund ABNORMAL at WeChat: handle it in the merchant platform");
                        }
                        self.record_refund_report(&answer).await
                    }
                    Ok(None) => Err(ShopError::Provider(format!(
                        "WeChat does not know refund {}",
                        refund.out_refund_no
                    ))),
                    Err(e) => Err(e.into()),
                },
            };
            match result {
                Ok(after) => match after.status {
                    RefundStatus::Succeeded => r.succeeded += 1,
                    RefundStatus::Failed => r.failed += 1,
                    RefundStatus::Processing if refund.status == RefundStatus::Approved => {
                        r.sent += 1
                    }
                    _ => r.processing += 1,
                },
                Err(e) => {
                    tracing::warn!(out_refund_no = %refund.out_refund_no, error = %e, "refund not advanced; retried next run");
                    r.errors += 1;
                }
            }
        }
        Ok(r)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GateCheck {
    pub checked: usize,
    /// SKUs whose gate count differs from the database now.
    pub drifting: usize,
    /// SKUs reset to the database because the same difference was seen on two checks in a row.
    pub repaired: Vec<(SkuId, i64, i64)>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Purge {
    pub idempotency_keys: u64,
    pub sessions: u64,
}

/// The worker's jobs that are not about one order: events, reconciliation, the gate, purges.
pub struct Operations {
    pub shop: Shop,
    pub outbox: Arc<dyn OutboxStore>,
    pub publisher: Arc<dyn EventPublisher>,
    pub recon: Arc<dyn ReconStore>,
    pub users: Arc<dyn UserStore>,
    /// Differences seen by the previous gate check, by SKU.
    drift: Mutex<HashMap<SkuId, i64>>,
}

impl std::fmt::Debug for Operations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Operations").finish_non_exhaustive()
    }
}

impl Operations {
    pub fn new(
        shop: Shop,
        outbox: Arc<dyn OutboxStore>,
        publisher: Arc<dyn EventPublisher>,
        recon: Arc<dyn ReconStore>,
        users: Arc<dyn UserStore>,
    ) -> Self {
        Operations {
            shop,
            outbox,
            publisher,
            recon,
            users,
            drift: Mutex::new(HashMap::new()),
        }
    }

    /// Publishes unpublished events in order, `batch` at a time, until none are left; at least
    /// once (a crash between publishing and marking repeats a batch; consumers dedupe by id).
    pub async fn relay_outbox(&self, batch: u32) -> Result<usize, ShopError> {
        let mut total = 0;
        loop {
            let events: Vec<OutboxEvent> =
                self.outbox.unpublished(batch).await.map_err(outbox_err)?;
            if events.is_empty() {
                return Ok(total);
            }
            self.publisher
                .publish(&events)
                .await
                .map_err(|e| ShopError::Unavailable(e.to_string()))?;
            let ids: Vec<_> = events.iter().map(|e| e.event_id).collect();
            self.outbox
                .mark_published(&ids, self.shop.clock.now())
                .await
                .map_err(outbox_err)?;
            total += events.len();
        }
    }

    /// Downloads and checks the day's trade bill, compares it with the shop's payments and
    /// refunds, and stores the report (replacing an earlier one of the same day).
    pub async fn reconcile_day(&self, date: BizDate) -> Result<ReconReport, ShopError> {
        let bill = self.shop.gateway.trade_bill(date).await?;
        let payments = self
            .shop
            .payments
            .succeeded_between(date.start(), date.end())
            .await?;
        let refunds = self
            .shop
            .refunds
            .succeeded_between(date.start(), date.end())
            .await?;
        let report = reconcile(date, self.shop.clock.now(), &bill, &payments, &refunds);
        self.recon.save_report(&report).await?;
        if !report.is_clean() {
            tracing::error!(date = %date, differences = report.differences.len(), "reconciliation found differences");
        }
        Ok(report)
    }

    /// Compares every SKU's gate count with the database. A difference seen on two checks in a
    /// row is drift (orders in flight only cause passing differences) and is repaired from the
    /// database; SKUs the gate does not know are loaded when first ordered.
    pub async fn check_gate(&self) -> Result<GateCheck, ShopError> {
        let levels = self.shop.catalogue.stock_levels(None).await?;
        let skus: Vec<SkuId> = levels.iter().map(|(s, _)| *s).collect();
        let counts = self
            .shop
            .gate
            .available(&skus)
            .await
            .map_err(|e| ShopError::Unavailable(e.to_string()))?;
        let mut now_drift = HashMap::new();
        for ((sku, stock), (_, gate)) in levels.iter().zip(counts) {
            if let Some(g) = gate {
                let diff = g - stock.available();
                if diff != 0 {
                    now_drift.insert(*sku, diff);
                }
            }
        }
        let previous = std::mem::take(
            &mut *self
                .drift
                .lock()
                .map_err(|_| ShopError::Internal("gate drift lock".into()))?,
        );
        let mut repaired = Vec::new();
        for (sku, diff) in &now_drift {
            if previous.get(sku) == Some(diff) {
                let db = levels
                    .iter()
                    .find(|(s, _)| s == sku)
                    .map_or(0, |(_, st)| st.available());
                self.shop
                    .gate
                    .load(&[(*sku, db)], true)
                    .await
                    .map_err(|e| ShopError::Unavailable(e.to_string()))?;
                tracing::warn!(sku_id = %sku, gate = db + diff, database = db, "stock gate drift repaired");
                repaired.push((*sku, db + diff, db));
            }
        }
        let report = GateCheck {
            checked: levels.len(),
            drifting: now_drift.len(),
            repaired,
        };
        for (sku, _, _) in &report.repaired {
            now_drift.remove(sku);
        }
        *self
            .drift
            .lock()
            .map_err(|_| ShopError::Internal("gate drift lock".into()))? = now_drift;
        Ok(report)
    }

    /// Forgets idempotency keys older than their 24 hours and expired sessions.
    pub async fn purge(&self) -> Result<Purge, ShopError> {
        let now = self.shop.clock.now();
        Ok(Purge {
            idempotency_keys: self
                .shop
                .idempotency
                .purge(now.minus(crate::idempotency::KEY_TTL))
                .await?,
            sessions: self.users.purge_sessions(now).await?,
        })
    }
}

fn outbox_err(e: OutboxError) -> ShopError {
    match e {
        OutboxError::Store(s) => s.into(),
    }
}
