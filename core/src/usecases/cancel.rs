//! `cancel_order` and `expire_unpaid`. Both close the WeChat order *before* releasing stock: once
//! WeChat has closed it no payment can arrive, and if WeChat says it was paid the payment is
//! confirmed instead of the order being cancelled.

use super::{Confirmed, PaymentReport, Shop, ShopError, MAX_ATTEMPTS};
use crate::audit::{Actor, AuditEntry};
use crate::ids::OrderId;
use crate::order::{CancelReason, Order, OrderCommand, OrderStatus};
use crate::payment::{PaymentCommand, PaymentStatus};
use crate::ports::{
    CloseOutcome, GatewayError, OrderChange, OrderStoreError, PaymentSource, TradeState,
};
use crate::text::Reason;
use futures::stream::{self, StreamExt};

/// How long a worker's claim on a row lasts; a claim that lapsed is picked up again.
pub const CLAIM_LEASE: crate::time::Span = crate::time::Span::minutes(2);

/// Orders an expiry run closes and cancels at the same time.
pub const EXPIRE_IN_FLIGHT: usize = 8;

/// What happened to an order someone tried to cancel.
#[derive(Debug, Clone, PartialEq, Eq)]
#[expect(
    clippy::large_enum_variant,
    reason = "a short-lived result, returned once per call"
)]
pub enum CancelOutcome {
    Cancelled(Order),
    /// WeChat had taken the money: the payment was confirmed instead.
    Paid(Confirmed),
    /// The order was no longer pending (or, for the timeout, not yet due).
    Skipped(OrderStatus),
}

/// What one `expire_unpaid` run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExpireReport {
    pub examined: usize,
    pub cancelled: usize,
    pub paid: usize,
    pub skipped: usize,
    /// Orders left for the next run (WeChat or the database failed); their stock stays held.
    pub failed: usize,
}

impl Shop {
    /// Cancels a pending order. Shoppers may cancel only their own (others' are "not found");
    /// cancels by operators or back-office tools are audited. Timeouts go through
    /// [`Shop::expire_unpaid`].
    pub async fn cancel_order(
        &self,
        by: &Actor,
        order_id: OrderId,
        note: Option<Reason>,
    ) -> Result<Order, ShopError> {
        let reason = match by {
            Actor::User { id } => {
                let order = self
                    .orders
                    .get(order_id)
                    .await?
                    .ok_or(ShopError::NotFound("order"))?;
                if order.user_id != *id {
                    return Err(ShopError::NotFound("order"));
                }
                CancelReason::User
            }
            // The back office, by name or through a tool: cancelled by the shop, audited.
            Actor::Operator { .. } | Actor::System { .. } => CancelReason::Operator,
        };
        match self
            .close_then_cancel(by, order_id, reason, note, false)
            .await?
        {
            CancelOutcome::Cancelled(o) => Ok(o),
            CancelOutcome::Paid(_) => Err(ShopError::IllegalState(
                "the order was paid in the meantime and cannot be cancelled".into(),
            )),
            CancelOutcome::Skipped(status) => Err(ShopError::IllegalState(format!(
                "only unpaid orders can be cancelled; this one is {status}"
            ))),
        }
    }

    /// Cancels unpaid orders past their `expires_at` (up to `limit`), closing each at WeChat
    /// first. The orders are claimed for `owner` first, so several workers never handle the
    /// same order; an order whose close fails keeps its stock and its claim lapses, so it is
    /// tried again a little later.
    pub async fn expire_unpaid(&self, owner: &str, limit: u32) -> Result<ExpireReport, ShopError> {
        let now = self.clock.now();
        let due = self
            .orders
            .claim_due_unpaid(now, owner, now.plus(CLAIM_LEASE), limit)
            .await?;
        let mut report = ExpireReport {
            examined: due.len(),
            ..ExpireReport::default()
        };
        let actor = Actor::system("expire-unpaid");
        // Each order is a round trip to WeChat (close) and a transaction: a few at a time, so
        // a backlog (a flash sale's unpaid orders all expiring together) drains at the pace
        // of WeChat's latency times EXPIRE_IN_FLIGHT, not one order after the other.
        let outcomes: Vec<(OrderId, Result<CancelOutcome, ShopError>)> = stream::iter(due)
            .map(|id| {
                let actor = &actor;
                async move {
                    let r = self
                        .close_then_cancel(actor, id, CancelReason::Timeout, None, true)
                        .await;
                    (id, r)
                }
            })
            .buffer_unordered(EXPIRE_IN_FLIGHT)
            .collect()
            .await;
        for (id, outcome) in outcomes {
            match outcome {
                Ok(CancelOutcome::Cancelled(_)) => report.cancelled += 1,
                Ok(CancelOutcome::Paid(_)) => report.paid += 1,
                Ok(CancelOutcome::Skipped(_)) => report.skipped += 1,
                Err(e) => {
                    tracing::warn!(order_id = %id, error = %e, "could not expire order; will retry next run");
                    report.failed += 1;
                }
            }
        }
        Ok(report)
    }

    async fn close_then_cancel(
        &self,
        by: &Actor,
        order_id: OrderId,
        reason: CancelReason,
        note: Option<Reason>,
        only_if_due: bool,
    ) -> Result<CancelOutcome, ShopError> {
        for _ in 0..MAX_ATTEMPTS {
            let order = self
                .orders
                .get(order_id)
                .await?
                .ok_or(ShopError::NotFound("order"))?;
            if order.status != OrderStatus::PendingPayment {
                return Ok(CancelOutcome::Skipped(order.status));
            }
            if only_if_due && order.expires_at > self.clock.now() {
                return Ok(CancelOutcome::Skipped(order.status));
            }
            if let Some(paid) = self.close_at_wechat(&order).await? {
                return Ok(CancelOutcome::Paid(paid));
            }
            let at = self.clock.now();
            let transition = order.apply(OrderCommand::Cancel {
                reason,
                note: note.clone(),
                at,
            })?;
            let events = self.order_events(&transition.events, &transition.order)?;
            // Cancels by the back office are audited; shoppers' and timeouts are not (the order
            // itself records them).
            let audit = (reason == CancelReason::Operator).then(|| AuditEntry {
                at,
                actor: by.clone(),
                action: "order.cancel".into(),
                target_type: "order".into(),
                target_id: order.id.to_string(),
                before: serde_json::json!({"status": order.status.as_str()}),
                after: serde_json::json!({
                    "status": transition.order.status.as_str(),
                    "note": note.as_ref().map(|n| n.as_str()),
                }),
            });
            let cancelled = transition.order.clone();
            match self
                .orders
                .apply(&OrderChange {
                    transition,
                    events,
                    audit,
                })
                .await
            {
                Ok(()) => {
                    self.gate_release(order_id).await;
                    return Ok(CancelOutcome::Cancelled(cancelled));
                }
                Err(OrderStoreError::Stale) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(ShopError::Conflict(
            "the order kept changing; try again".into(),
        ))
    }

    /// Closes the order's WeChat payment if one was started. `Ok(Some(_))` when WeChat had
    /// already been paid (and the payment is now confirmed).
    async fn close_at_wechat(&self, order: &Order) -> Result<Option<Confirmed>, ShopError> {
        let Some(payment) = self.payments.get_by_order(order.id).await? else {
            return Ok(None);
        };
        if payment.status != PaymentStatus::PrepayIssued {
            return Ok(None);
        }
        match self.gateway.close(&order.order_no).await {
            Ok(CloseOutcome::Closed) => {}
            Err(GatewayError::Rejected { code, .. }) if code == "ORDER_NOT_EXIST" => {}
            Ok(CloseOutcome::AlreadyPaid) => {
                return match self.gateway.query(&order.order_no).await? {
                    TradeState::Success {
                        transaction_id,
                        amount,
                        paid_at,
                        payload,
                    } => {
                        let report = PaymentReport {
                            out_trade_no: order.order_no.clone(),
                            transaction_id,
                            amount,
                            paid_at,
                            source: PaymentSource::Query,
                            notification_id: None,
                            payload,
                        };
                        Ok(Some(self.confirm_payment(&report).await?))
                    }
                    other => Err(ShopError::Provider(format!(
                        "WeChat refused to close as paid but reports {other:?}"
                    ))),
                };
            }
            Err(e) => return Err(e.into()),
        }
        let closed = payment.apply(PaymentCommand::Close {
            at: self.clock.now(),
        })?;
        // A concurrent closer may have won; the payment is closed either way.
        if let Err(e) = self.payments.save(&closed, false).await {
            tracing::debug!(order_id = %order.id, error = %e, "payment close not recorded");
        }
        Ok(None)
    }
}
