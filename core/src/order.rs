//! Orders and their state machine.
//!
//! ```text
//! PENDING_PAYMENT ──pay──▶ PAID ──ship──▶ SHIPPED ──confirm──▶ COMPLETED
//!        │                   │               │                    │
//!        └─cancel─▶ CANCELLED └──── full refund ─┴────────────────────┴──▶ REFUNDED
//!                    │
//!                    └─late pay (stock still there)─▶ PAID
//! ```
//!
//! One enum, one transition function ([`Order::apply`]) that returns the new order with the
//! stock effect and the events the change must write in the same transaction. Every illegal
//! move is an [`OrderError`], never a silent no-op.

use crate::address::AddressSnapshot;
use crate::error::ValidationError;
use crate::ids::{OrderId, ProductId, SkuId, UserId};
use crate::money::Fen;
use crate::text::{Carrier, OrderNo, Reason, Remark, SkuSpec, Title, TrackingNo};
use crate::time::{Span, Timestamp};
use serde::{Deserialize, Serialize};
use std::fmt;

/// How many units of one SKU a single order line may hold.
pub const MAX_QUANTITY: u32 = 99;
/// How many lines a single order may hold.
pub const MAX_ORDER_LINES: usize = 20;

/// Units of one SKU on a line: 1 to [`MAX_QUANTITY`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct Quantity(u32);

impl Quantity {
    pub fn new(q: i64) -> Result<Self, ValidationError> {
        if !(1..=i64::from(MAX_QUANTITY)).contains(&q) {
            return Err(ValidationError::new(
                "quantity",
                "out_of_range",
                format!("quantity must be between 1 and {MAX_QUANTITY}"),
            ));
        }
        Ok(Quantity(q as u32))
    }

    pub const fn get(self) -> i64 {
        self.0 as i64
    }
}

impl TryFrom<i64> for Quantity {
    type Error = ValidationError;
    fn try_from(v: i64) -> Result<Self, Self::Error> {
        Self::new(v)
    }
}

impl From<Quantity> for i64 {
    fn from(q: Quantity) -> i64 {
        q.get()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderStatus {
    PendingPayment,
    Paid,
    Shipped,
    Completed,
    Cancelled,
    Refunded,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 6] = [
        Self::PendingPayment,
        Self::Paid,
        Self::Shipped,
        Self::Completed,
        Self::Cancelled,
        Self::Refunded,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::PendingPayment => "PENDING_PAYMENT",
            Self::Paid => "PAID",
            Self::Shipped => "SHIPPED",
            Self::Completed => "COMPLETED",
            Self::Cancelled => "CANCELLED",
            Self::Refunded => "REFUNDED",
        }
    }

    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        Self::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| {
                ValidationError::new("status", "unknown", format!("unknown order status `{s}`"))
            })
    }

    /// Whether money received for the order can still be refunded through a refund request.
    pub const fn is_refundable(self) -> bool {
        matches!(self, Self::Paid | Self::Shipped | Self::Completed)
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who or what cancelled an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CancelReason {
    /// The shopper cancelled before paying.
    User,
    /// An operator cancelled it (audited).
    Operator,
    /// Nobody paid before `expires_at`.
    Timeout,
}

impl CancelReason {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::User => "USER",
            Self::Operator => "OPERATOR",
            Self::Timeout => "TIMEOUT",
        }
    }

    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        match s {
            "USER" => Ok(Self::User),
            "OPERATOR" => Ok(Self::Operator),
            "TIMEOUT" => Ok(Self::Timeout),
            _ => Err(ValidationError::new(
                "cancel_reason",
                "unknown",
                format!("unknown cancel reason `{s}`"),
            )),
        }
    }
}

/// One SKU on an order, with the names and price copied at the time of ordering.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    pub sku_id: SkuId,
    pub product_id: ProductId,
    pub title: Title,
    pub spec: SkuSpec,
    pub unit_price: Fen,
    pub quantity: Quantity,
    pub line_total: Fen,
    pub cover_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shipment {
    pub carrier: Carrier,
    pub tracking_no: TrackingNo,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub id: OrderId,
    pub order_no: OrderNo,
    pub user_id: UserId,
    pub status: OrderStatus,
    pub lines: Vec<OrderLine>,
    pub items_total: Fen,
    pub shipping_fee: Fen,
    /// What the shopper must pay: items + shipping, computed on the server.
    pub payable: Fen,
    /// What was received (0 until paid; equals `payable` afterwards).
    pub paid: Fen,
    /// What was refunded so far.
    pub refunded: Fen,
    /// What open refund requests hold (requested, approved or processing).
    pub refund_pending: Fen,
    pub address: AddressSnapshot,
    pub remark: Remark,
    pub created_at: Timestamp,
    /// When an unpaid order is cancelled by the worker.
    pub expires_at: Timestamp,
    pub paid_at: Option<Timestamp>,
    pub shipment: Option<Shipment>,
    pub shipped_at: Option<Timestamp>,
    pub completed_at: Option<Timestamp>,
    pub cancelled_at: Option<Timestamp>,
    pub cancel_reason: Option<CancelReason>,
    pub cancel_note: Option<Reason>,
    /// The payment arrived after the order was cancelled.
    pub late_payment: bool,
    pub updated_at: Timestamp,
    /// Optimistic-lock counter. A transition's order carries `version + 1`, and the store writes
    /// it only where the row still has the version it started from.
    pub version: i64,
}

/// What a transition does to the stock of every line of the order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum StockEffect {
    /// Give the reserved units back (cancel).
    Release,
    /// The reserved units are sold (pay).
    Commit,
    /// Sell from what is available now; fails if it is not there (late payment).
    SellDirect,
    /// The units come back into the warehouse (full refund before shipping).
    Restock,
}

/// Events an order change emits; the use-case turns them into outbox rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OrderEventKind {
    Created,
    Paid,
    Cancelled,
    Shipped,
    Completed,
    Refunded,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderCommand {
    /// A verified payment of `amount`.
    Pay {
        amount: Fen,
        at: Timestamp,
    },
    /// A verified payment that arrived after cancellation when the stock is gone: the money is
    /// recorded on the cancelled order and held for the automatic refund.
    RecordLatePayment {
        amount: Fen,
        at: Timestamp,
    },
    Cancel {
        reason: CancelReason,
        note: Option<Reason>,
        at: Timestamp,
    },
    Ship {
        shipment: Shipment,
        at: Timestamp,
    },
    /// The shopper confirmed receipt, or the auto-confirm period passed.
    Complete {
        at: Timestamp,
    },
    /// A refund of `amount` succeeded at WeChat; it was held in `refund_pending`.
    RecordRefund {
        amount: Fen,
        at: Timestamp,
    },
}

impl OrderCommand {
    pub const fn name(&self) -> &'static str {
        match self {
            Self::Pay { .. } => "pay",
            Self::RecordLatePayment { .. } => "record_late_payment",
            Self::Cancel { .. } => "cancel",
            Self::Ship { .. } => "ship",
            Self::Complete { .. } => "complete",
            Self::RecordRefund { .. } => "record_refund",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderError {
    #[error("cannot {command} an order that is {from}")]
    IllegalTransition {
        from: OrderStatus,
        command: &'static str,
    },
    #[error("paid {paid} but the order asks for {payable}")]
    AmountMismatch { payable: Fen, paid: Fen },
    #[error("refund of {amount} exceeds the {remaining} still refundable")]
    RefundExceedsPaid { amount: Fen, remaining: Fen },
    #[error("amounts must be positive")]
    NonPositiveAmount,
}

/// The result of a legal transition: the order as it must be stored, and what else the same
/// transaction must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderTransition {
    pub from: OrderStatus,
    pub order: Order,
    pub stock: Option<StockEffect>,
    pub events: Vec<OrderEventKind>,
}

/// Order timing rules, as data so that tests and operators can change them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderPolicy {
    /// An order not paid within this time is cancelled (default 30 minutes).
    pub unpaid_timeout: Span,
    /// A shipped order not confirmed within this time is completed (default 10 days).
    pub auto_confirm_after: Span,
    /// WeChat's `time_expire` is this much earlier than the order's own expiry, so WeChat
    /// stops accepting payment before the worker releases the stock (default 2 minutes).
    pub prepay_margin: Span,
    /// Flat shipping fee, waived from `free_shipping_from` (defaults: free shipping).
    pub shipping_fee: Fen,
    pub free_shipping_from: Fen,
}

impl Default for OrderPolicy {
    fn default() -> Self {
        OrderPolicy {
            unpaid_timeout: Span::minutes(30),
            auto_confirm_after: Span::days(10),
            prepay_margin: Span::minutes(2),
            shipping_fee: Fen::ZERO,
            free_shipping_from: Fen::ZERO,
        }
    }
}

impl OrderPolicy {
    pub fn shipping_for(&self, items_total: Fen) -> Fen {
        if items_total >= self.free_shipping_from {
            Fen::ZERO
        } else {
            self.shipping_fee
        }
    }
}

impl Order {
    /// What can still be asked back: paid − refunded − held by open refund requests.
    pub fn refundable(&self) -> Fen {
        self.paid
            .saturating_remaining(self.refunded)
            .saturating_remaining(self.refund_pending)
    }

    /// Total units per SKU on this order, for stock effects.
    pub fn quantities(&self) -> Vec<(SkuId, i64)> {
        let mut out: Vec<(SkuId, i64)> = Vec::with_capacity(self.lines.len());
        for l in &self.lines {
            match out.iter_mut().find(|(s, _)| *s == l.sku_id) {
                Some((_, q)) => *q += l.quantity.get(),
                None => out.push((l.sku_id, l.quantity.get())),
            }
        }
        out.sort_by_key(|(s, _)| *s);
        out
    }

    /// The transition function: the only place that decides whether a command is legal in the
    /// current state and what it changes.
    pub fn apply(&self, cmd: OrderCommand) -> Result<OrderTransition, OrderError> {
        use OrderStatus as S;
        let illegal = |cmd: &OrderCommand| OrderError::IllegalTransition {
            from: self.status,
            command: cmd.name(),
        };
        let mut next = self.clone();
        next.version = self.version + 1;
        let (stock, events) = match (&cmd, self.status) {
            (OrderCommand::Pay { amount, at }, S::PendingPayment | S::Cancelled) => {
                if *amount != self.payable {
                    return Err(OrderError::AmountMismatch {
                        payable: self.payable,
                        paid: *amount,
                    });
                }
                let late = self.status == S::Cancelled;
                if late && self.paid.is_positive() {
                    // Already recorded as a late payment that is being refunded.
                    return Err(illegal(&cmd));
                }
                next.status = S::Paid;
                next.paid = *amount;
                next.paid_at = Some(*at);
                next.late_payment = late;
                next.updated_at = *at;
                let effect = if late {
                    StockEffect::SellDirect
                } else {
                    StockEffect::Commit
                };
                (Some(effect), vec![OrderEventKind::Paid])
            }
            (OrderCommand::RecordLatePayment { amount, at }, S::Cancelled) => {
                if *amount != self.payable {
                    return Err(OrderError::AmountMismatch {
                        payable: self.payable,
                        paid: *amount,
                    });
                }
                if self.paid.is_positive() {
                    return Err(illegal(&cmd));
                }
                next.paid = *amount;
                // All of it must go back: hold it for the automatic refund.
                next.refund_pending = *amount;
                next.paid_at = Some(*at);
                next.late_payment = true;
                next.updated_at = *at;
                (None, vec![])
            }
            (OrderCommand::Cancel { reason, note, at }, S::PendingPayment) => {
                next.status = S::Cancelled;
                next.cancelled_at = Some(*at);
                next.cancel_reason = Some(*reason);
                next.cancel_note = note.clone();
                next.updated_at = *at;
                (Some(StockEffect::Release), vec![OrderEventKind::Cancelled])
            }
            (OrderCommand::Ship { shipment, at }, S::Paid) => {
                next.status = S::Shipped;
                next.shipment = Some(shipment.clone());
                next.shipped_at = Some(*at);
                next.updated_at = *at;
                (None, vec![OrderEventKind::Shipped])
            }
            (OrderCommand::Complete { at }, S::Shipped) => {
                next.status = S::Completed;
                next.completed_at = Some(*at);
                next.updated_at = *at;
                (None, vec![OrderEventKind::Completed])
            }
            (
                OrderCommand::RecordRefund { amount, at },
                S::Paid | S::Shipped | S::Completed | S::Cancelled,
            ) => {
                if !amount.is_positive() {
                    return Err(OrderError::NonPositiveAmount);
                }
                let remaining = self.paid.saturating_remaining(self.refunded);
                if *amount > remaining {
                    return Err(OrderError::RefundExceedsPaid {
                        amount: *amount,
                        remaining,
                    });
                }
                next.refunded = self
                    .refunded
                    .checked_add(*amount)
                    .ok_or(OrderError::NonPositiveAmount)?;
                next.refund_pending = self.refund_pending.saturating_remaining(*amount);
                next.updated_at = *at;
                let full = next.refunded == self.paid;
                let mut stock = None;
                let mut events = vec![];
                if full {
                    events.push(OrderEventKind::Refunded);
                    if self.status != S::Cancelled {
                        next.status = S::Refunded;
                    }
                    // Goods that never left the warehouse go back on the shelf.
                    if self.status == S::Paid {
                        stock = Some(StockEffect::Restock);
                    }
                }
                (stock, events)
            }
            _ => return Err(illegal(&cmd)),
        };
        Ok(OrderTransition {
            from: self.status,
            order: next,
            stock,
            events,
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::address::AddressFields;
    use crate::text::{AddressDetail, Phone, ReceiverName, RegionPart};
    use proptest::prelude::*;

    pub(crate) fn sample_order(payable: i64) -> Order {
        let at = Timestamp::from_millis(1_800_000_000_000);
        let id = OrderId::new(42).unwrap();
        Order {
            id,
            order_no: OrderNo::for_order(id, at),
            user_id: UserId::new(7).unwrap(),
            status: OrderStatus::PendingPayment,
            lines: vec![OrderLine {
                sku_id: SkuId::new(1).unwrap(),
                product_id: ProductId::new(1).unwrap(),
                title: Title::parse("五常大米").unwrap(),
                spec: SkuSpec::parse("5kg").unwrap(),
                unit_price: Fen::new(payable),
                quantity: Quantity::new(1).unwrap(),
                line_total: Fen::new(payable),
                cover_url: None,
            }],
            items_total: Fen::new(payable),
            shipping_fee: Fen::ZERO,
            payable: Fen::new(payable),
            paid: Fen::ZERO,
            refunded: Fen::ZERO,
            refund_pending: Fen::ZERO,
            address: AddressFields {
                receiver: ReceiverName::parse("张三").unwrap(),
                phone: Phone::parse("13812345678").unwrap(),
                province: RegionPart::parse("黑龙江省").unwrap(),
                city: RegionPart::parse("哈尔滨市").unwrap(),
                district: RegionPart::parse("五常市").unwrap(),
                detail: AddressDetail::parse("民乐乡 1 号").unwrap(),
            },
            remark: Remark::parse("").unwrap(),
            created_at: at,
            expires_at: at.plus(Span::minutes(30)),
            paid_at: None,
            shipment: None,
            shipped_at: None,
            completed_at: None,
            cancelled_at: None,
            cancel_reason: None,
            cancel_note: None,
            late_payment: false,
            updated_at: at,
            version: 0,
        }
    }

    fn ship() -> Shipment {
        Shipment {
            carrier: Carrier::parse("顺丰速运").unwrap(),
            tracking_no: TrackingNo::parse("SF1234567890").unwrap(),
        }
    }

    #[test]
    fn happy_path() {
        let o = sample_order(12900);
        let at = o.created_at.plus(Span::minutes(1));
        let t = o
            .apply(OrderCommand::Pay {
                amount: Fen::new(12900),
                at,
            })
            .unwrap();
        assert_eq!(t.order.status, OrderStatus::Paid);
        assert_eq!(t.stock, Some(StockEffect::Commit));
        assert_eq!(t.events, vec![OrderEventKind::Paid]);
        let t = t
            .order
            .apply(OrderCommand::Ship {
                shipment: ship(),
                at,
            })
            .unwrap();
        assert_eq!(t.order.status, OrderStatus::Shipped);
        let t = t.order.apply(OrderCommand::Complete { at }).unwrap();
        assert_eq!(t.order.status, OrderStatus::Completed);
        assert_eq!(t.order.completed_at, Some(at));
    }

    #[test]
    fn wrong_amount_is_refused() {
        let o = sample_order(12900);
        let e = o
            .apply(OrderCommand::Pay {
                amount: Fen::new(1),
                at: o.created_at,
            })
            .unwrap_err();
        assert_eq!(
            e,
            OrderError::AmountMismatch {
                payable: Fen::new(12900),
                paid: Fen::new(1)
            }
        );
    }

    #[test]
    fn illegal_moves_are_typed_errors() {
        let o = sample_order(100);
        let at = o.created_at;
        for cmd in [
            OrderCommand::Ship {
                shipment: ship(),
                at,
            },
            OrderCommand::Complete { at },
            OrderCommand::RecordRefund {
                amount: Fen::new(1),
                at,
            },
            OrderCommand::RecordLatePayment {
                amount: Fen::new(100),
                at,
            },
        ] {
            assert!(matches!(
                o.apply(cmd),
                Err(OrderError::IllegalTransition {
                    from: OrderStatus::PendingPayment,
                    ..
                })
            ));
        }
        let paid = o
            .apply(OrderCommand::Pay {
                amount: Fen::new(100),
                at,
            })
            .unwrap()
            .order;
        assert!(matches!(
            paid.apply(OrderCommand::Pay {
                amount: Fen::new(100),
                at
            }),
            Err(OrderError::IllegalTransition {
                from: OrderStatus::Paid,
                command: "pay"
            })
        ));
        assert!(matches!(
            paid.apply(OrderCommand::Cancel {
                reason: CancelReason::User,
                note: None,
                at
            }),
            Err(OrderError::IllegalTransition { .. })
        ));
    }

    #[test]
    fn late_payment_sells_directly() {
        let o = sample_order(100);
        let at = o.created_at;
        let c = o
            .apply(OrderCommand::Cancel {
                reason: CancelReason::Timeout,
                note: None,
                at,
            })
            .unwrap();
        assert_eq!(c.stock, Some(StockEffect::Release));
        let p = c
            .order
            .apply(OrderCommand::Pay {
                amount: Fen::new(100),
                at,
            })
            .unwrap();
        assert_eq!(p.order.status, OrderStatus::Paid);
        assert!(p.order.late_payment);
        assert_eq!(p.stock, Some(StockEffect::SellDirect));
        // When the stock is gone the money is recorded on the cancelled order and refunded.
        let r = c
            .order
            .apply(OrderCommand::RecordLatePayment {
                amount: Fen::new(100),
                at,
            })
            .unwrap();
        assert_eq!(r.order.status, OrderStatus::Cancelled);
        assert_eq!(r.order.paid, Fen::new(100));
        assert_eq!(r.order.refund_pending, Fen::new(100));
        let f = r
            .order
            .apply(OrderCommand::RecordRefund {
                amount: Fen::new(100),
                at,
            })
            .unwrap();
        assert_eq!(f.order.status, OrderStatus::Cancelled);
        assert_eq!(f.order.refunded, Fen::new(100));
        assert_eq!(f.events, vec![OrderEventKind::Refunded]);
        assert_eq!(f.stock, None);
    }

    #[test]
    fn partial_then_full_refund() {
        let o = sample_order(1000);
        let at = o.created_at;
        let mut paid = o
            .apply(OrderCommand::Pay {
                amount: Fen::new(1000),
                at,
            })
            .unwrap()
            .order;
        paid.refund_pending = Fen::new(1000);
        let p = paid
            .apply(OrderCommand::RecordRefund {
                amount: Fen::new(300),
                at,
            })
            .unwrap();
        assert_eq!(p.order.status, OrderStatus::Paid);
        assert_eq!(p.order.refunded, Fen::new(300));
        assert_eq!(p.order.refund_pending, Fen::new(700));
        assert!(p.events.is_empty());
        let e = p
            .order
            .apply(OrderCommand::RecordRefund {
                amount: Fen::new(701),
                at,
            })
            .unwrap_err();
        assert!(matches!(e, OrderError::RefundExceedsPaid { .. }));
        let f = p
            .order
            .apply(OrderCommand::RecordRefund {
                amount: Fen::new(700),
                at,
            })
            .unwrap();
        assert_eq!(f.order.status, OrderStatus::Refunded);
        assert_eq!(f.stock, Some(StockEffect::Restock));
        assert_eq!(f.events, vec![OrderEventKind::Refunded]);
    }

    fn command(amount: i64) -> impl Strategy<Value = OrderCommand> {
        let at = Timestamp::from_millis(1_800_000_000_000);
        prop_oneof![
            Just(OrderCommand::Pay {
                amount: Fen::new(amount),
                at
            }),
            (0i64..3).prop_map(move |d| OrderCommand::Pay {
                amount: Fen::new(amount + d - 1),
                at
            }),
            Just(OrderCommand::RecordLatePayment {
                amount: Fen::new(amount),
                at
            }),
            Just(OrderCommand::Cancel {
                reason: CancelReason::User,
                note: None,
                at
            }),
            Just(OrderCommand::Ship {
                shipment: ship(),
                at
            }),
            Just(OrderCommand::Complete { at }),
            (-5i64..=amount + 5).prop_map(move |a| OrderCommand::RecordRefund {
                amount: Fen::new(a),
                at
            }),
        ]
    }

    /// The invariants every stored order satisfies, whatever happened to it.
    pub(crate) fn assert_invariants(o: &Order) -> Result<(), TestCaseError> {
        use OrderStatus as S;
        prop_assert!(o.refunded >= Fen::ZERO && o.refunded <= o.paid);
        prop_assert!(o.refund_pending >= Fen::ZERO);
        prop_assert_eq!(o.paid_at.is_some(), o.paid.is_positive());
        match o.status {
            S::PendingPayment => prop_assert_eq!(o.paid, Fen::ZERO),
            S::Paid | S::Shipped | S::Completed => {
                prop_assert_eq!(o.paid, o.payable);
                prop_assert!(o.refunded < o.paid);
            }
            S::Refunded => {
                prop_assert_eq!(o.paid, o.payable);
                prop_assert_eq!(o.refunded, o.paid);
            }
            S::Cancelled => prop_assert!(o.cancelled_at.is_some()),
        }
        prop_assert_eq!(o.shipment.is_some(), o.shipped_at.is_some());
        if matches!(o.status, S::Shipped | S::Completed) {
            prop_assert!(o.shipment.is_some());
        }
        if o.status == S::Completed {
            prop_assert!(o.completed_at.is_some());
        }
        Ok(())
    }

    proptest! {
        /// Random command sequences never reach an illegal state; rejected commands change nothing.
        #[test]
        fn random_commands_keep_invariants(
            amount in 1i64..100_000,
            cmds in proptest::collection::vec(command(50), 0..40),
        ) {
            let mut o = sample_order(amount);
            // The strategy is built for 50 fen; rescale so some payments match.
            for cmd in cmds {
                let cmd = match cmd {
                    OrderCommand::Pay { amount: a, at } if a.get() == 50 => OrderCommand::Pay { amount: o.payable, at },
                    OrderCommand::RecordLatePayment { amount: a, at } if a.get() == 50 => OrderCommand::RecordLatePayment { amount: o.payable, at },
                    c => c,
                };
                // Open refund requests hold money before it is refunded.
                if let OrderCommand::RecordRefund { amount: a, .. } = &cmd {
                    o.refund_pending = o.refund_pending.max(*a);
                }
                let before = o.clone();
                match o.apply(cmd) {
                    Ok(t) => {
                        prop_assert_eq!(t.from, before.status);
                        prop_assert_eq!(t.order.version, before.version + 1);
                        o = t.order;
                    }
                    Err(_) => prop_assert_eq!(&o, &before),
                }
                assert_invariants(&o)?;
            }
        }
    }
}
