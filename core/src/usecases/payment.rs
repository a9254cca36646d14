//! `confirm_payment`: a verified success from WeChat (callback or query) becomes a paid order
//! exactly once, or — when it arrives for a cancelled order whose stock is gone — a recorded
//! late payment with an automatic refund. Money that arrived is never lost or silently kept.

use super::{Shop, ShopError, MAX_ATTEMPTS};
use crate::audit::Actor;
use crate::events::EventData;
use crate::ids::{OrderId, UserId};
use crate::ids::{PaymentId, RefundId};
use crate::money::Fen;
use crate::order::{Order, OrderCommand, OrderStatus, StockEffect};
use crate::payment::{Payment, PaymentCommand, PaymentStatus};
use crate::ports::{
    OrderChange, PayParams, PaymentReceipt, PaymentSource, PaymentStoreError, PaymentSuccess,
    PrepayRequest, TradeState,
};
use crate::refund::{Refund, RefundStatus};
use crate::text::{OpenId, OrderNo, Reason, RefundNo, TransactionId};
use crate::time::Timestamp;

/// A payment success as reported by WeChat, after signature and decryption checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentReport {
    pub out_trade_no: OrderNo,
    pub transaction_id: TransactionId,
    pub amount: Fen,
    pub paid_at: Timestamp,
    pub source: PaymentSource,
    pub notification_id: Option<String>,
    /// The decrypted resource, stored in the inbox.
    pub payload: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
#[expect(
    clippy::large_enum_variant,
    reason = "a short-lived result, returned once per call"
)]
pub enum Confirmed {
    /// Recorded before: nothing changed.
    Duplicate,
    /// The pending order is now paid.
    Paid(Order),
    /// The order had been cancelled; its stock was still there and it is paid now.
    LatePaid(Order),
    /// The order had been cancelled and its stock is gone: the money is being refunded.
    LateRefunding { order: Order, refund: Refund },
    /// The payment is recorded; the order had already moved on (it was paid another way).
    Recorded(Order),
}

/// `五常大米 稻花香 5kg 等2件`: what the shopper sees on the WeChat payment sheet (≤ 127 bytes).
fn payment_description(order: &Order) -> String {
    let first = order
        .lines
        .first()
        .map(|l| format!("{} {}", l.title, l.spec))
        .unwrap_or_default();
    let mut d = if order.lines.len() > 1 {
        format!("{first} 等{}件", order.lines.len())
    } else {
        first
    };
    while d.len() > 127 {
        d.pop();
    }
    d
}

const LATE_REFUND_REASON: &str = "订单已取消且库存不足，系统自动全额退款";

impl Shop {
    /// The `wx.requestPayment` parameters for a shopper's pending order. A prepay that is still
    /// valid is reused; a new one expires at WeChat before the order expires here, so no money
    /// can arrive after the worker releases the stock.
    pub async fn start_payment(
        &self,
        user: UserId,
        openid: &OpenId,
        order_id: OrderId,
    ) -> Result<PayParams, ShopError> {
        let order = self
            .orders
            .get(order_id)
            .await?
            .ok_or(ShopError::NotFound("order"))?;
        if order.user_id != user {
            return Err(ShopError::NotFound("order"));
        }
        if order.status != OrderStatus::PendingPayment {
            return Err(ShopError::IllegalState(format!(
                "only unpaid orders can be paid; this one is {}",
                order.status
            )));
        }
        let now = self.clock.now();
        let time_expire = order.expires_at.minus(self.policy.prepay_margin);
        if time_expire <= now {
            return Err(ShopError::IllegalState(
                "the order is about to expire; place it again".into(),
            ));
        }
        for _ in 0..MAX_ATTEMPTS {
            let existing = self.payments.get_by_order(order.id).await?;
            if let Some(p) = &existing {
                if p.prepay_usable(now) {
                    let prepay_id = p.prepay_id.clone().unwrap_or_default();
                    return Ok(self.gateway.pay_params(&prepay_id, now)?);
                }
                if p.status != PaymentStatus::PrepayIssued {
                    return Err(ShopError::IllegalState(format!(
                        "the payment is {}",
                        p.status
                    )));
                }
            }
            let prepay_id = self
                .gateway
                .prepay(&PrepayRequest {
                    out_trade_no: order.order_no.clone(),
                    description: payment_description(&order),
                    amount: order.payable,
                    payer: openid.clone(),
                    time_expire,
                })
                .await?;
            let (mut payment, is_new) = match existing {
                Some(p) => (p, false),
                None => (self.new_payment(&order, now)?, true),
            };
            payment.prepay_id = Some(prepay_id.clone());
            payment.prepay_expires_at = Some(time_expire);
            payment.updated_at = now;
            if !is_new {
                payment.version += 1;
            }
            match self.payments.save(&payment, is_new).await {
                Ok(()) => return Ok(self.gateway.pay_params(&prepay_id, now)?),
                Err(PaymentStoreError::Stale) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(ShopError::Conflict(
            "the payment kept changing; try again".into(),
        ))
    }

    /// Asks WeChat whether `out_trade_no` was paid and, if it was, confirms it like a callback
    /// would (exactly once). `None`: not paid at WeChat (yet).
    pub async fn confirm_by_query(
        &self,
        out_trade_no: &OrderNo,
    ) -> Result<Option<Confirmed>, ShopError> {
        let state = self.gateway.query(out_trade_no).await?;
        self.confirm_queried(out_trade_no, state).await
    }

    async fn confirm_queried(
        &self,
        out_trade_no: &OrderNo,
        state: TradeState,
    ) -> Result<Option<Confirmed>, ShopError> {
        let TradeState::Success {
            transaction_id,
            amount,
            paid_at,
            payload,
        } = state
        else {
            return Ok(None);
        };
        let report = PaymentReport {
            out_trade_no: out_trade_no.clone(),
            transaction_id,
            amount,
            paid_at,
            source: PaymentSource::Query,
            notification_id: None,
            payload,
        };
        let confirmed = self.confirm_payment(&report).await.inspect_err(|e| {
            tracing::error!(%out_trade_no, error = %e, "paid at WeChat but not confirmed");
        })?;
        Ok(Some(confirmed))
    }

    /// A shopper's order, after asking WeChat about it when it is still unpaid and has a prepay
    /// (the mini-program says `wx.requestPayment` succeeded; the callback may not be here yet).
    /// If WeChat cannot be asked, the order is returned as it is: the callback or the sweep
    /// settles it later.
    pub async fn check_payment(&self, user: UserId, order_id: OrderId) -> Result<Order, ShopError> {
        let order = self
            .orders
            .get(order_id)
            .await?
            .filter(|o| o.user_id == user)
            .ok_or(ShopError::NotFound("order"))?;
        if order.status != OrderStatus::PendingPayment {
            return Ok(order);
        }
        match self.payments.get_by_order(order.id).await? {
            Some(p) if p.status == PaymentStatus::PrepayIssued => {}
            _ => return Ok(order),
        }
        let state = match self.gateway.query(&order.order_no).await {
            Ok(state) => state,
            Err(e) => {
                tracing::warn!(order_no = %order.order_no, error = %e, "payment check failed");
                return Ok(order);
            }
        };
        if self
            .confirm_queried(&order.order_no, state)
            .await?
            .is_none()
        {
            return Ok(order);
        }
        self.orders
            .get(order.id)
            .await?
            .ok_or(ShopError::NotFound("order"))
    }

    pub async fn confirm_payment(&self, report: &PaymentReport) -> Result<Confirmed, ShopError> {
        let mut sell_direct_failed = false;
        for _ in 0..MAX_ATTEMPTS {
            let order = self
                .orders
                .get_by_no(&report.out_trade_no)
                .await?
                .ok_or(ShopError::NotFound("order"))?;
            if report.amount != order.payable {
                return Err(ShopError::PaymentMismatch(format!(
                    "WeChat reports {} for order {} which asks {}",
                    report.amount, order.order_no, order.payable
                )));
            }
            let at = self.clock.now();
            let (before, is_new) = match self.payments.get_by_order(order.id).await? {
                Some(p) => (p, false),
                None => (self.new_payment(&order, at)?, true),
            };
            if before.status == PaymentStatus::Succeeded {
                let same = before.transaction_id.as_ref() == Some(&report.transaction_id);
                if same {
                    return Ok(Confirmed::Duplicate);
                }
                tracing::error!(order_no = %order.order_no, "a second WeChat transaction reported for an order already paid");
                return Err(ShopError::PaymentMismatch(format!(
                    "order {} was already paid by another transaction",
                    order.order_no
                )));
            }
            let payment = before.apply(PaymentCommand::Succeed {
                transaction_id: report.transaction_id.clone(),
                amount: report.amount,
                at: report.paid_at,
            })?;
            let receipt = PaymentReceipt {
                transaction_id: report.transaction_id.clone(),
                out_trade_no: report.out_trade_no.clone(),
                amount: report.amount,
                source: report.source,
                notification_id: report.notification_id.clone(),
                received_at: at,
                payload: report.payload.clone(),
            };

            let late = order.status == OrderStatus::Cancelled;
            let (change, refund, outcome) = match order.status {
                OrderStatus::PendingPayment => (
                    Some(order.apply(OrderCommand::Pay {
                        amount: report.amount,
                        at,
                    })?),
                    None,
                    "PAID",
                ),
                OrderStatus::Cancelled if !sell_direct_failed => (
                    Some(order.apply(OrderCommand::Pay {
                        amount: report.amount,
                        at,
                    })?),
                    None,
                    "LATE_PAID",
                ),
                OrderStatus::Cancelled => {
                    let t = order.apply(OrderCommand::RecordLatePayment {
                        amount: report.amount,
                        at,
                    })?;
                    let refund = self.late_refund(&order, at)?;
                    (Some(t), Some(refund), "LATE_REFUNDING")
                }
                other => {
                    tracing::warn!(order_no = %order.order_no, status = %other, "payment recorded for an order that had already moved on");
                    (None, None, "RECORDED")
                }
            };

            let mut events = vec![self.event(EventData::payment_succeeded(&payment, outcome))?];
            if let Some(r) = &refund {
                events.push(self.event(EventData::refund_requested(r))?);
            }
            let order_change = match change {
                Some(t) => {
                    let order_events = self.order_events(&t.events, &t.order)?;
                    Some(OrderChange {
                        transition: t,
                        events: order_events,
                        audit: None,
                    })
                }
                None => None,
            };
            let after = order_change
                .as_ref()
                .map_or_else(|| order.clone(), |c| c.transition.order.clone());
            let stock = order_change.as_ref().and_then(|c| c.transition.stock);
            let success = PaymentSuccess {
                receipt,
                payment,
                payment_is_new: is_new,
                order_change,
                refund: refund.clone(),
                events,
            };

            match self.payments.record_success(&success).await {
                Ok(()) => {}
                Err(PaymentStoreError::AlreadyRecorded) => return Ok(Confirmed::Duplicate),
                Err(PaymentStoreError::Stale) => continue,
                Err(PaymentStoreError::OutOfStock { .. }) if late => {
                    sell_direct_failed = true;
                    continue;
                }
                Err(e) => return Err(e.into()),
            }

            self.sync_gate_after_payment(&order, stock).await;
            return Ok(match (refund, outcome) {
                (Some(refund), _) => {
                    let refund = self.submit_refund(refund).await.unwrap_or_else(|(r, e)| {
                        tracing::warn!(error = %e, "automatic refund not sent yet; the refund sweep retries it");
                        r
                    });
                    Confirmed::LateRefunding {
                        order: after,
                        refund,
                    }
                }
                (None, "PAID") => Confirmed::Paid(after),
                (None, "LATE_PAID") => Confirmed::LatePaid(after),
                (None, _) => Confirmed::Recorded(after),
            });
        }
        Err(ShopError::Conflict(
            "the order kept changing; the payment will be confirmed on retry".into(),
        ))
    }

    fn new_payment(&self, order: &Order, at: Timestamp) -> Result<Payment, ShopError> {
        Ok(Payment {
            id: PaymentId::new(self.ids.next_id())
                .map_err(|e| ShopError::Internal(e.to_string()))?,
            order_id: order.id,
            out_trade_no: order.order_no.clone(),
            amount: order.payable,
            status: PaymentStatus::PrepayIssued,
            prepay_id: None,
            prepay_expires_at: None,
            transaction_id: None,
            paid_at: None,
            closed_at: None,
            created_at: at,
            updated_at: at,
            version: 0,
        })
    }

    fn late_refund(&self, order: &Order, at: Timestamp) -> Result<Refund, ShopError> {
        let id =
            RefundId::new(self.ids.next_id()).map_err(|e| ShopError::Internal(e.to_string()))?;
        let system = Actor::system("late-payment");
        Ok(Refund {
            id,
            order_id: order.id,
            user_id: order.user_id,
            out_refund_no: RefundNo::for_refund(id, at),
            amount: order.payable,
            reason: Reason::parse(LATE_REFUND_REASON)?,
            status: RefundStatus::Approved,
            requested_by: system.clone(),
            requested_at: at,
            decided_by: Some(system),
            decided_at: Some(at),
            decision_note: None,
            provider_refund_id: None,
            succeeded_at: None,
            failure: None,
            updated_at: at,
            version: 0,
        })
    }

    /// Brings the gate in line with a stock effect the database just applied.
    pub(super) async fn sync_gate_after_payment(&self, order: &Order, stock: Option<StockEffect>) {
        let result = match stock {
            Some(StockEffect::Commit) => self.gate.commit(order.id).await.map(|_| ()),
            Some(StockEffect::SellDirect) => {
                let deltas: Vec<_> = order
                    .quantities()
                    .into_iter()
                    .map(|(s, q)| (s, -q))
                    .collect();
                self.gate.adjust(&deltas).await
            }
            Some(StockEffect::Restock) => self.gate.adjust(&order.quantities()).await,
            Some(StockEffect::Release) => self.gate.release(order.id).await.map(|_| ()),
            None => Ok(()),
        };
        if let Err(e) = result {
            tracing::warn!(order_id = %order.id, error = %e, "stock gate not updated; gate-check will repair the drift");
        }
    }
}
