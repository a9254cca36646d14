//! Moving refunds forward: sending an approved refund to WeChat, and applying what WeChat
//! reports (synchronously, by callback or by the sweep) to the refund and its order.

use super::place::Idem;
use super::{Shop, ShopError, MAX_ATTEMPTS};
use crate::audit::{Actor, AuditEntry};
use crate::error::ValidationError;
use crate::events::EventData;
use crate::ids::{OrderId, RefundId, UserId};
use crate::money::Fen;
use crate::order::{OrderCommand, StockEffect};
use crate::ports::{
    GatewayError, OrderChange, ProviderRefund, ProviderRefundStatus, RefundChange, RefundRequest,
    RefundStoreError,
};
use crate::refund::{Refund, RefundCommand, RefundEffect, RefundStatus};
use crate::text::{IdempotencyKey, Reason, RefundNo};
use serde::Serialize;

/// A shopper asks for money back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RefundRequestCmd {
    pub order_id: OrderId,
    /// Default: everything still refundable.
    pub amount: Option<Fen>,
    pub reason: Reason,
}

impl Shop {
    /// A shopper's refund request on a paid, shipped or completed order, once per idempotency
    /// key. The amount is held on the order until the request is decided.
    pub async fn request_refund(
        &self,
        user: UserId,
        cmd: &RefundRequestCmd,
        key: &IdempotencyKey,
    ) -> Result<(Refund, bool), ShopError> {
        let scope = format!("refunds:u{user}");
        let outcome = self
            .idempotent(&scope, key, cmd, |done| async move {
                let order = self
                    .orders
                    .get(cmd.order_id)
                    .await?
                    .ok_or(ShopError::NotFound("order"))?;
                if order.user_id != user {
                    return Err(ShopError::NotFound("order"));
                }
                if !order.status.is_refundable() {
                    return Err(ShopError::IllegalState(format!(
                        "an order that is {} cannot be refunded",
                        order.status
                    )));
                }
                let remaining = order.refundable();
                let amount = cmd.amount.unwrap_or(remaining);
                if !amount.is_positive() {
                    if remaining.is_positive() {
                        return Err(ValidationError::new(
                            "amount_fen",
                            "not_positive",
                            "the amount must be at least 1 fen",
                        )
                        .into());
                    }
                    return Err(ShopError::RefundExceedsPaid { remaining });
                }
                if amount > remaining {
                    return Err(ShopError::RefundExceedsPaid { remaining });
                }
                let now = self.clock.now();
                let id = RefundId::new(self.ids.next_id())
                    .map_err(|e| ShopError::Internal(e.to_string()))?;
                let refund = Refund {
                    id,
                    order_id: order.id,
                    user_id: user,
                    out_refund_no: RefundNo::for_refund(id, now),
                    amount,
                    reason: cmd.reason.clone(),
                    status: RefundStatus::Requested,
                    requested_by: Actor::User { id: user },
                    requested_at: now,
                    decided_by: None,
                    decided_at: None,
                    decision_note: None,
                    provider_refund_id: None,
                    succeeded_at: None,
                    failure: None,
                    updated_at: now,
                    version: 0,
                };
                let events = vec![self.event(EventData::refund_requested(&refund))?];
                let done = crate::idempotency::IdemCompletion {
                    resource_id: id.get(),
                    ..done
                };
                self.refunds.create(&refund, &events, Some(done)).await?;
                Ok(refund)
            })
            .await?;
        match outcome {
            Idem::Done(r) => Ok((r, false)),
            Idem::Replay(id) => {
                let id = RefundId::new(id).map_err(|e| ShopError::Internal(e.to_string()))?;
                let r = self.refunds.get(id).await?.ok_or_else(|| {
                    ShopError::Internal(format!("idempotency key points at missing refund {id}"))
                })?;
                Ok((r, true))
            }
        }
    }

    /// Finance approves a request (audited); the refund goes to WeChat at once, with its stable
    /// `out_refund_no`. If WeChat cannot be reached it stays approved and the sweep sends it.
    pub async fn approve_refund(&self, by: &Actor, id: RefundId) -> Result<Refund, ShopError> {
        let at = self.clock.now();
        let approved = self
            .apply_refund(
                id,
                RefundCommand::Approve { by: by.clone(), at },
                Some(refund_audit(by, at, "refund.approve", id, None)),
            )
            .await?;
        Ok(self.submit_refund(approved).await.unwrap_or_else(|(r, e)| {
            tracing::warn!(refund_id = %id, error = %e, "approved refund not sent yet; the refund sweep sends it");
            r
        }))
    }

    /// Finance rejects a request with a reason the shopper sees (audited).
    pub async fn reject_refund(
        &self,
        by: &Actor,
        id: RefundId,
        note: Reason,
    ) -> Result<Refund, ShopError> {
        let at = self.clock.now();
        let audit = refund_audit(by, at, "refund.reject", id, Some(note.as_str()));
        self.apply_refund(
            id,
            RefundCommand::Reject {
                by: by.clone(),
                note,
                at,
            },
            Some(audit),
        )
        .await
    }

    /// The shopper takes back a request that was not decided yet.
    pub async fn withdraw_refund(&self, user: UserId, id: RefundId) -> Result<Refund, ShopError> {
        let r = self
            .refunds
            .get(id)
            .await?
            .ok_or(ShopError::NotFound("refund"))?;
        if r.user_id != user {
            return Err(ShopError::NotFound("refund"));
        }
        self.apply_refund(
            id,
            RefundCommand::Withdraw {
                at: self.clock.now(),
            },
            None,
        )
        .await
    }

    /// Finance sends a failed refund again, with the same `out_refund_no` (audited).
    pub async fn retry_refund(&self, by: &Actor, id: RefundId) -> Result<Refund, ShopError> {
        let at = self.clock.now();
        let again = self
            .apply_refund(
                id,
                RefundCommand::Retry { by: by.clone(), at },
                Some(refund_audit(by, at, "refund.retry", id, None)),
            )
            .await?;
        Ok(self.submit_refund(again).await.unwrap_or_else(|(r, _)| r))
    }

    /// Sends an approved refund to WeChat with its stable `out_refund_no` and records the answer.
    /// When WeChat cannot be reached the refund stays approved and the sweep sends it again;
    /// the error comes back with the unchanged refund.
    pub async fn submit_refund(&self, refund: Refund) -> Result<Refund, (Refund, ShopError)> {
        if refund.status != RefundStatus::Approved {
            return Ok(refund);
        }
        let order = match self.orders.get(refund.order_id).await {
            Ok(Some(o)) => o,
            Ok(None) => return Err((refund, ShopError::NotFound("order"))),
            Err(e) => return Err((refund, e.into())),
        };
        let req = RefundRequest {
            out_trade_no: order.order_no.clone(),
            out_refund_no: refund.out_refund_no.clone(),
            amount: refund.amount,
            total: order.paid,
            reason: refund.reason.to_string(),
        };
        let at = self.clock.now();
        let cmd = match self.gateway.refund(&req).await {
            Ok(answer) => command_for(&answer, at),
            Err(GatewayError::Rejected { code, message }) => RefundCommand::Fail {
                reason: format!("{code}: {message}"),
                at,
            },
            Err(e) => return Err((refund, e.into())),
        };
        match self.apply_refund(refund.id, cmd, None).await {
            Ok(r) => Ok(r),
            Err(e) => Err((refund, e)),
        }
    }

    /// Applies WeChat's report about a refund (callback or query). Reports that do not move the
    /// refund (a repeat, or PROCESSING while processing) change nothing.
    pub async fn record_refund_report(&self, answer: &ProviderRefund) -> Result<Refund, ShopError> {
        let refund = self
            .refunds
            .get_by_no(&answer.out_refund_no)
            .await?
            .ok_or(ShopError::NotFound("refund"))?;
        if answer.amount != refund.amount {
            return Err(ShopError::PaymentMismatch(format!(
                "WeChat reports {} refunded for {}, which asks {}",
                answer.amount, refund.out_refund_no, refund.amount
            )));
        }
        let cmd = command_for(answer, self.clock.now());
        let settled = matches!(
            refund.status,
            RefundStatus::Succeeded | RefundStatus::Failed
        );
        let repeat = matches!(cmd, RefundCommand::Submit { .. })
            && refund.status == RefundStatus::Processing;
        if settled || repeat {
            return Ok(refund);
        }
        self.apply_refund(refund.id, cmd, None).await
    }

    /// Applies one refund command with its effects on the order, re-reading on concurrent change.
    pub async fn apply_refund(
        &self,
        id: RefundId,
        cmd: RefundCommand,
        audit: Option<AuditEntry>,
    ) -> Result<Refund, ShopError> {
        for _ in 0..MAX_ATTEMPTS {
            let refund = self
                .refunds
                .get(id)
                .await?
                .ok_or(ShopError::NotFound("refund"))?;
            let transition = refund.apply(cmd.clone())?;
            let mut events = Vec::new();
            if matches!(
                transition.refund.status,
                RefundStatus::Succeeded | RefundStatus::Failed
            ) {
                events.push(self.event(EventData::refund_settled(&transition.refund))?);
            }
            let order_change = if transition.effects.contains(&RefundEffect::RecordOnOrder) {
                let order = self
                    .orders
                    .get(refund.order_id)
                    .await?
                    .ok_or(ShopError::NotFound("order"))?;
                let t = order.apply(OrderCommand::RecordRefund {
                    amount: refund.amount,
                    at: transition.refund.updated_at,
                })?;
                let order_events = self.order_events(&t.events, &t.order)?;
                Some(OrderChange {
                    transition: t,
                    events: order_events,
                    audit: None,
                })
            } else {
                None
            };
            let restock = order_change
                .as_ref()
                .filter(|c| c.transition.stock == Some(StockEffect::Restock))
                .map(|c| c.transition.order.clone());
            let after = transition.refund.clone();
            // The audit row records the refund as it was and as it is now.
            let audit = audit.clone().map(|mut a| {
                a.before = serde_json::json!({"status": transition.from.as_str(), "amount_fen": refund.amount.get()});
                let mut next = serde_json::json!({"status": after.status.as_str(), "amount_fen": after.amount.get()});
                if let (Some(n), Some(extra)) = (next.as_object_mut(), a.after.as_object()) {
                    n.extend(extra.iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.clone(), v.clone())));
                }
                a.after = next;
                a
            });
            let change = RefundChange {
                transition,
                order_change,
                events,
                audit,
            };
            match self.refunds.apply(&change).await {
                Ok(()) => {
                    if let Some(order) = restock {
                        self.sync_gate_after_payment(&order, Some(StockEffect::Restock))
                            .await;
                    }
                    return Ok(after);
                }
                Err(RefundStoreError::Stale) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(ShopError::Conflict(
            "the refund kept changing; try again".into(),
        ))
    }
}

fn refund_audit(
    by: &Actor,
    at: crate::time::Timestamp,
    action: &str,
    id: RefundId,
    note: Option<&str>,
) -> AuditEntry {
    AuditEntry {
        at,
        actor: by.clone(),
        action: action.into(),
        target_type: "refund".into(),
        target_id: id.to_string(),
        before: serde_json::json!({}),
        after: serde_json::json!({ "note": note }),
    }
}

fn command_for(answer: &ProviderRefund, at: crate::time::Timestamp) -> RefundCommand {
    let provider_refund_id = Some(answer.refund_id.clone());
    match answer.status {
        ProviderRefundStatus::Processing => RefundCommand::Submit { provider_refund_id, at },
        ProviderRefundStatus::Success => RefundCommand::Succeed { provider_refund_id, at: answer.success_time.unwrap_or(at) },
        ProviderRefundStatus::Closed => RefundCommand::Fail { reason: "CLOSED: WeChat closed the refund".into(), at },
        ProviderRefundStatus::Abnormal => RefundCommand::Fail {
            reason: "ABNORMAL: the shopper's account could not receive the refund; handle it in the merchant platform".into(),
            at,
        },
    }
}
