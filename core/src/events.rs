//! Domain events, written to the outbox in the same transaction as the change they describe and
//! relayed from there. Every type has a JSON Schema in `docs/event-schemas/<Type>/v<N>.json`;
//! a test validates every event the shop emits against it.
//!
//! Envelope: `{event_id, type, version, occurred_at, aggregate_id, data}`.

use crate::ids::{EventId, OrderId, PaymentId, ProductId, RefundId, SkuId, UserId};
use crate::money::Fen;
use crate::order::{Order, OrderEventKind};
use crate::payment::Payment;
use crate::refund::Refund;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// A stored event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEvent {
    pub event_id: EventId,
    #[serde(rename = "type")]
    pub event_type: String,
    pub version: u32,
    pub occurred_at: Timestamp,
    /// `order:123`, `refund:9`: the entity the event is about.
    pub aggregate_id: String,
    pub data: serde_json::Value,
}

impl OutboxEvent {
    /// The wire form, with `occurred_at` as RFC 3339.
    pub fn envelope(&self) -> serde_json::Value {
        serde_json::json!({
            "event_id": self.event_id.get().to_string(),
            "type": self.event_type,
            "version": self.version,
            "occurred_at": self.occurred_at.to_rfc3339(),
            "aggregate_id": self.aggregate_id,
            "data": self.data,
        })
    }
}

/// Every event type the shop knows, with its current schema version.
pub const EVENT_TYPES: &[(&str, u32)] = &[
    ("Order.Created", 1),
    ("Order.Paid", 1),
    ("Order.Cancelled", 1),
    ("Order.Shipped", 1),
    ("Order.Completed", 1),
    ("Order.Refunded", 1),
    ("Payment.Succeeded", 1),
    ("Refund.Requested", 1),
    ("Refund.Succeeded", 1),
    ("Refund.Failed", 1),
    ("Commission.Calculated", 1),
];

/// The payload of each event type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum EventData {
    OrderCreated(OrderCreated),
    OrderPaid(OrderPaid),
    OrderCancelled(OrderCancelled),
    OrderShipped(OrderShipped),
    OrderCompleted(OrderCompleted),
    OrderRefunded(OrderRefunded),
    PaymentSucceeded(PaymentSucceeded),
    RefundRequested(RefundRequested),
    RefundSucceeded(RefundSettled),
    RefundFailed(RefundSettled),
}

impl EventData {
    pub const fn event_type(&self) -> &'static str {
        match self {
            Self::OrderCreated(_) => "Order.Created",
            Self::OrderPaid(_) => "Order.Paid",
            Self::OrderCancelled(_) => "Order.Cancelled",
            Self::OrderShipped(_) => "Order.Shipped",
            Self::OrderCompleted(_) => "Order.Completed",
            Self::OrderRefunded(_) => "Order.Refunded",
            Self::PaymentSucceeded(_) => "Payment.Succeeded",
            Self::RefundRequested(_) => "Refund.Requested",
            Self::RefundSucceeded(_) => "Refund.Succeeded",
            Self::RefundFailed(_) => "Refund.Failed",
        }
    }

    fn aggregate_id(&self) -> String {
        match self {
            Self::OrderCreated(d) => format!("order:{}", d.order_id),
            Self::OrderPaid(d) => format!("order:{}", d.order_id),
            Self::OrderCancelled(d) => format!("order:{}", d.order_id),
            Self::OrderShipped(d) => format!("order:{}", d.order_id),
            Self::OrderCompleted(d) => format!("order:{}", d.order_id),
            Self::OrderRefunded(d) => format!("order:{}", d.order_id),
            Self::PaymentSucceeded(d) => format!("order:{}", d.order_id),
            Self::RefundRequested(d) => format!("refund:{}", d.refund_id),
            Self::RefundSucceeded(d) | Self::RefundFailed(d) => format!("refund:{}", d.refund_id),
        }
    }

    /// Wraps the payload in an envelope with the given id and time.
    pub fn into_event(self, event_id: EventId, occurred_at: Timestamp) -> OutboxEvent {
        let event_type = self.event_type();
        let version = EVENT_TYPES
            .iter()
            .find(|(t, _)| *t == event_type)
            .map_or(1, |(_, v)| *v);
        OutboxEvent {
            event_id,
            event_type: event_type.to_string(),
            version,
            occurred_at,
            aggregate_id: self.aggregate_id(),
            data: serde_json::to_value(&self).unwrap_or(serde_json::Value::Null),
        }
    }

    /// The payload for an order event of the given kind, taken from the order after the change.
    pub fn for_order(kind: OrderEventKind, o: &Order) -> EventData {
        let at = o.updated_at.to_rfc3339();
        match kind {
            OrderEventKind::Created => EventData::OrderCreated(OrderCreated {
                order_id: o.id,
                order_no: o.order_no.to_string(),
                user_id: o.user_id,
                items_total_fen: o.items_total,
                shipping_fee_fen: o.shipping_fee,
                payable_fen: o.payable,
                lines: o
                    .lines
                    .iter()
                    .map(|l| OrderCreatedLine {
                        sku_id: l.sku_id,
                        product_id: l.product_id,
                        quantity: l.quantity.get(),
                        unit_price_fen: l.unit_price,
                    })
                    .collect(),
                created_at: o.created_at.to_rfc3339(),
                expires_at: o.expires_at.to_rfc3339(),
            }),
            OrderEventKind::Paid => EventData::OrderPaid(OrderPaid {
                order_id: o.id,
                order_no: o.order_no.to_string(),
                user_id: o.user_id,
                paid_fen: o.paid,
                paid_at: o.paid_at.map_or_else(|| at.clone(), Timestamp::to_rfc3339),
                late_payment: o.late_payment,
            }),
            OrderEventKind::Cancelled => EventData::OrderCancelled(OrderCancelled {
                order_id: o.id,
                order_no: o.order_no.to_string(),
                user_id: o.user_id,
                reason: o.cancel_reason.map_or("USER", |r| r.as_str()).to_string(),
                cancelled_at: o
                    .cancelled_at
                    .map_or_else(|| at.clone(), Timestamp::to_rfc3339),
            }),
            OrderEventKind::Shipped => EventData::OrderShipped(OrderShipped {
                order_id: o.id,
                order_no: o.order_no.to_string(),
                carrier: o
                    .shipment
                    .as_ref()
                    .map(|s| s.carrier.to_string())
                    .unwrap_or_default(),
                tracking_no: o
                    .shipment
                    .as_ref()
                    .map(|s| s.tracking_no.to_string())
                    .unwrap_or_default(),
                shipped_at: o
                    .shipped_at
                    .map_or_else(|| at.clone(), Timestamp::to_rfc3339),
            }),
            OrderEventKind::Completed => EventData::OrderCompleted(OrderCompleted {
                order_id: o.id,
                order_no: o.order_no.to_string(),
                completed_at: o
                    .completed_at
                    .map_or_else(|| at.clone(), Timestamp::to_rfc3339),
            }),
            OrderEventKind::Refunded => EventData::OrderRefunded(OrderRefunded {
                order_id: o.id,
                order_no: o.order_no.to_string(),
                paid_fen: o.paid,
                refunded_fen: o.refunded,
                refunded_at: at,
            }),
        }
    }

    pub fn payment_succeeded(p: &Payment, outcome: &str) -> EventData {
        EventData::PaymentSucceeded(PaymentSucceeded {
            payment_id: p.id,
            order_id: p.order_id,
            out_trade_no: p.out_trade_no.to_string(),
            transaction_id: p
                .transaction_id
                .as_ref()
                .map(|t| t.to_string())
                .unwrap_or_default(),
            amount_fen: p.amount,
            paid_at: p.paid_at.unwrap_or(p.updated_at).to_rfc3339(),
            outcome: outcome.to_string(),
        })
    }

    pub fn refund_requested(r: &Refund) -> EventData {
        EventData::RefundRequested(RefundRequested {
            refund_id: r.id,
            order_id: r.order_id,
            out_refund_no: r.out_refund_no.to_string(),
            amount_fen: r.amount,
            reason: r.reason.to_string(),
            requested_by: r.requested_by.encode(),
            requested_at: r.requested_at.to_rfc3339(),
        })
    }

    pub fn refund_settled(r: &Refund) -> EventData {
        let d = RefundSettled {
            refund_id: r.id,
            order_id: r.order_id,
            out_refund_no: r.out_refund_no.to_string(),
            amount_fen: r.amount,
            status: r.status.as_str().to_string(),
            failure: r.failure.clone(),
            settled_at: r.updated_at.to_rfc3339(),
        };
        if r.status == crate::refund::RefundStatus::Succeeded {
            EventData::RefundSucceeded(d)
        } else {
            EventData::RefundFailed(d)
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderCreatedLine {
    pub sku_id: SkuId,
    pub product_id: ProductId,
    pub quantity: i64,
    pub unit_price_fen: Fen,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderCreated {
    pub order_id: OrderId,
    pub order_no: String,
    pub user_id: UserId,
    pub items_total_fen: Fen,
    pub shipping_fee_fen: Fen,
    pub payable_fen: Fen,
    pub lines: Vec<OrderCreatedLine>,
    pub created_at: String,
    pub expires_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderPaid {
    pub order_id: OrderId,
    pub order_no: String,
    pub user_id: UserId,
    pub paid_fen: Fen,
    pub paid_at: String,
    pub late_payment: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderCancelled {
    pub order_id: OrderId,
    pub order_no: String,
    pub user_id: UserId,
    pub reason: String,
    pub cancelled_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderShipped {
    pub order_id: OrderId,
    pub order_no: String,
    pub carrier: String,
    pub tracking_no: String,
    pub shipped_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderCompleted {
    pub order_id: OrderId,
    pub order_no: String,
    pub completed_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderRefunded {
    pub order_id: OrderId,
    pub order_no: String,
    pub paid_fen: Fen,
    pub refunded_fen: Fen,
    pub refunded_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PaymentSucceeded {
    pub payment_id: PaymentId,
    pub order_id: OrderId,
    pub out_trade_no: String,
    pub transaction_id: String,
    pub amount_fen: Fen,
    pub paid_at: String,
    /// `PAID`, `LATE_PAID` (stock re-reserved) or `LATE_REFUNDING` (stock gone, refund started).
    pub outcome: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RefundRequested {
    pub refund_id: RefundId,
    pub order_id: OrderId,
    pub out_refund_no: String,
    pub amount_fen: Fen,
    pub reason: String,
    pub requested_by: String,
    pub requested_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RefundSettled {
    pub refund_id: RefundId,
    pub order_id: OrderId,
    pub out_refund_no: String,
    pub amount_fen: Fen,
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    pub settled_at: String,
}
