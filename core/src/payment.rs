//! Payment of one order through WeChat Pay.
//!
//! `PREPAY_ISSUED → SUCCEEDED | CLOSED`, and `CLOSED → SUCCEEDED` when WeChat reports a success
//! after we closed (money was taken: it is never ignored, see late payments in the use-cases).

use crate::error::ValidationError;
use crate::ids::{OrderId, PaymentId};
use crate::money::Fen;
use crate::text::{OrderNo, TransactionId};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PaymentStatus {
    PrepayIssued,
    Succeeded,
    Closed,
}

impl PaymentStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::PrepayIssued => "PREPAY_ISSUED",
            Self::Succeeded => "SUCCEEDED",
            Self::Closed => "CLOSED",
        }
    }

    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        match s {
            "PREPAY_ISSUED" => Ok(Self::PrepayIssued),
            "SUCCEEDED" => Ok(Self::Succeeded),
            "CLOSED" => Ok(Self::Closed),
            _ => Err(ValidationError::new(
                "status",
                "unknown",
                format!("unknown payment status `{s}`"),
            )),
        }
    }
}

impl fmt::Display for PaymentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    pub id: PaymentId,
    pub order_id: OrderId,
    /// Sent to WeChat as `out_trade_no`; equal to the order number.
    pub out_trade_no: OrderNo,
    pub amount: Fen,
    pub status: PaymentStatus,
    pub prepay_id: Option<String>,
    /// After this instant WeChat refuses to take the money (`time_expire`).
    pub prepay_expires_at: Option<Timestamp>,
    pub transaction_id: Option<TransactionId>,
    pub paid_at: Option<Timestamp>,
    pub closed_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Optimistic-lock counter, as for orders: a changed payment carries the version it is
    /// stored with.
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentCommand {
    Succeed {
        transaction_id: TransactionId,
        amount: Fen,
        at: Timestamp,
    },
    Close {
        at: Timestamp,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaymentError {
    #[error("cannot {command} a payment that is {from}")]
    IllegalTransition {
        from: PaymentStatus,
        command: &'static str,
    },
    #[error("payment already succeeded with transaction {existing}")]
    AlreadySucceeded {
        existing: String,
        same_transaction: bool,
    },
    #[error("WeChat reports {reported}, the payment is for {expected}")]
    AmountMismatch { expected: Fen, reported: Fen },
}

impl Payment {
    /// The payment after `cmd`, with its version incremented (see `Order::version`).
    pub fn apply(&self, cmd: PaymentCommand) -> Result<Payment, PaymentError> {
        let mut next = self.clone();
        next.version = self.version + 1;
        match cmd {
            PaymentCommand::Succeed {
                transaction_id,
                amount,
                at,
            } => {
                if self.status == PaymentStatus::Succeeded {
                    let existing = self
                        .transaction_id
                        .as_ref()
                        .map(|t| t.as_str().to_string())
                        .unwrap_or_default();
                    let same_transaction = existing == transaction_id.as_str();
                    return Err(PaymentError::AlreadySucceeded {
                        existing,
                        same_transaction,
                    });
                }
                if amount != self.amount {
                    return Err(PaymentError::AmountMismatch {
                        expected: self.amount,
                        reported: amount,
                    });
                }
                next.status = PaymentStatus::Succeeded;
                next.transaction_id = Some(transaction_id);
                next.paid_at = Some(at);
                next.updated_at = at;
            }
            PaymentCommand::Close { at } => {
                if self.status != PaymentStatus::PrepayIssued {
                    return Err(PaymentError::IllegalTransition {
                        from: self.status,
                        command: "close",
                    });
                }
                next.status = PaymentStatus::Closed;
                next.closed_at = Some(at);
                next.updated_at = at;
            }
        }
        Ok(next)
    }

    /// Whether the prepay can be handed to the mini-program again instead of asking for a new one.
    pub fn prepay_usable(&self, now: Timestamp) -> bool {
        self.status == PaymentStatus::PrepayIssued
            && self.prepay_id.is_some()
            && self.prepay_expires_at.is_some_and(|t| t > now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payment() -> Payment {
        let at = Timestamp::from_millis(1_800_000_000_000);
        Payment {
            id: PaymentId::new(1).unwrap(),
            order_id: OrderId::new(2).unwrap(),
            out_trade_no: OrderNo::parse("R2026112400001").unwrap(),
            amount: Fen::new(12900),
            status: PaymentStatus::PrepayIssued,
            prepay_id: Some("wx123".into()),
            prepay_expires_at: Some(at),
            transaction_id: None,
            paid_at: None,
            closed_at: None,
            created_at: at,
            updated_at: at,
            version: 0,
        }
    }

    #[test]
    fn transitions() {
        let p = payment();
        let at = p.created_at;
        let tx = TransactionId::parse("4200002026112412345678901234").unwrap();
        let s = p
            .apply(PaymentCommand::Succeed {
                transaction_id: tx.clone(),
                amount: Fen::new(12900),
                at,
            })
            .unwrap();
        assert_eq!(s.status, PaymentStatus::Succeeded);
        let dup = s
            .apply(PaymentCommand::Succeed {
                transaction_id: tx.clone(),
                amount: Fen::new(12900),
                at,
            })
            .unwrap_err();
        assert!(matches!(
            dup,
            PaymentError::AlreadySucceeded {
                same_transaction: true,
                ..
            }
        ));
        assert!(matches!(
            s.apply(PaymentCommand::Close { at }),
            Err(PaymentError::IllegalTransition { .. })
        ));
        let wrong = p
            .apply(PaymentCommand::Succeed {
                transaction_id: tx.clone(),
                amount: Fen::new(1),
                at,
            })
            .unwrap_err();
        assert!(matches!(wrong, PaymentError::AmountMismatch { .. }));
        let c = p.apply(PaymentCommand::Close { at }).unwrap();
        assert_eq!(c.status, PaymentStatus::Closed);
        assert!(matches!(
            c.apply(PaymentCommand::Close { at }),
            Err(PaymentError::IllegalTransition { .. })
        ));
        // A success reported after closing is still recorded: money was taken.
        let late = c
            .apply(PaymentCommand::Succeed {
                transaction_id: tx,
                amount: Fen::new(12900),
                at,
            })
            .unwrap();
        assert_eq!(late.status, PaymentStatus::Succeeded);
    }

    #[test]
    fn prepay_reuse_window() {
        let p = payment();
        assert!(!p.prepay_usable(p.created_at));
        assert!(p.prepay_usable(Timestamp::from_millis(p.created_at.millis() - 1)));
    }
}
