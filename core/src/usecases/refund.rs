//! Moving refunds forward: sending an approved refund to WeChat, and applying what WeChat
//! reports (synchronously, by callback or by the sweep) to the refund and its order.

use super::{Shop, ShopError, MAX_ATTEMPTS};
use crate::audit::AuditEntry;
use crate::events::EventData;
use crate::ids::RefundId;
use crate::order::{OrderCommand, StockEffect};
use crate::ports::{
    GatewayError, OrderChange, ProviderRefund, ProviderRefundStatus, RefundChange, RefundRequest,
    RefundStoreError,
};
use crate::refund::{Refund, RefundCommand, RefundEffect, RefundStatus};

impl Shop {
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
            let change = RefundChange {
                transition,
                order_change,
                events,
                audit: audit.clone(),
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
