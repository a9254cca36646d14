//! Refunds, their own state machine.
//!
//! ```text
//! REQUESTED ──approve──▶ APPROVED ──submit──▶ PROCESSING ──▶ SUCCEEDED
//!     │                                          │  ▲
//!     ├──reject──▶ REJECTED                       ▼  │ retry (same out_refund_no)
//!     └──withdraw─▶ WITHDRAWN                    FAILED
//! ```
//!
//! The amount is held on the order (`refund_pending`) from the request on, so that requests
//! together never exceed what was paid; the hold is released when a refund ends without money
//! moving and turned into `refunded` when it succeeds.

use crate::audit::Actor;
use crate::error::ValidationError;
use crate::ids::{OrderId, RefundId, UserId};
use crate::money::Fen;
use crate::text::{Reason, RefundNo};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RefundStatus {
    Requested,
    Approved,
    Processing,
    Succeeded,
    Failed,
    Rejected,
    Withdrawn,
}

impl RefundStatus {
    pub const ALL: [RefundStatus; 7] = [
        Self::Requested,
        Self::Approved,
        Self::Processing,
        Self::Succeeded,
        Self::Failed,
        Self::Rejected,
        Self::Withdrawn,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Requested => "REQUESTED",
            Self::Approved => "APPROVED",
            Self::Processing => "PROCESSING",
            Self::Succeeded => "SUCCEEDED",
            Self::Failed => "FAILED",
            Self::Rejected => "REJECTED",
            Self::Withdrawn => "WITHDRAWN",
        }
    }

    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        Self::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| {
                ValidationError::new("status", "unknown", format!("unknown refund status `{s}`"))
            })
    }

    /// Whether the refund still holds its amount on the order.
    pub const fn holds_amount(self) -> bool {
        matches!(self, Self::Requested | Self::Approved | Self::Processing)
    }
}

impl fmt::Display for RefundStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refund {
    pub id: RefundId,
    pub order_id: OrderId,
    pub user_id: UserId,
    /// Stable across every retry: WeChat refunds an `out_refund_no` at most once.
    pub out_refund_no: RefundNo,
    pub amount: Fen,
    pub reason: Reason,
    pub status: RefundStatus,
    pub requested_by: Actor,
    pub requested_at: Timestamp,
    pub decided_by: Option<Actor>,
    pub decided_at: Option<Timestamp>,
    pub decision_note: Option<Reason>,
    /// WeChat's `refund_id`, once the refund was accepted.
    pub provider_refund_id: Option<String>,
    pub succeeded_at: Option<Timestamp>,
    pub failure: Option<String>,
    pub updated_at: Timestamp,
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundCommand {
    Approve {
        by: Actor,
        at: Timestamp,
    },
    Reject {
        by: Actor,
        note: Reason,
        at: Timestamp,
    },
    /// The shopper takes the request back before it is decided.
    Withdraw {
        at: Timestamp,
    },
    /// WeChat accepted the refund request.
    Submit {
        provider_refund_id: Option<String>,
        at: Timestamp,
    },
    Succeed {
        provider_refund_id: Option<String>,
        at: Timestamp,
    },
    Fail {
        reason: String,
        at: Timestamp,
    },
    /// Finance sends a failed refund again with the same `out_refund_no`.
    Retry {
        by: Actor,
        at: Timestamp,
    },
}

impl RefundCommand {
    pub const fn name(&self) -> &'static str {
        match self {
            Self::Approve { .. } => "approve",
            Self::Reject { .. } => "reject",
            Self::Withdraw { .. } => "withdraw",
            Self::Submit { .. } => "submit",
            Self::Succeed { .. } => "succeed",
            Self::Fail { .. } => "fail",
            Self::Retry { .. } => "retry",
        }
    }
}

/// What a refund transition does to the order in the same transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefundEffect {
    /// Hold the amount on the order again (retry of a failed refund).
    HoldOnOrder,
    /// Give the held amount back (rejected, withdrawn, failed).
    ReleaseHold,
    /// Money moved: the order records the refund (`OrderCommand::RecordRefund`).
    RecordOnOrder,
    /// Call WeChat after the transaction commits.
    SendToProvider,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefundError {
    #[error("cannot {command} a refund that is {from}")]
    IllegalTransition {
        from: RefundStatus,
        command: &'static str,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundTransition {
    pub from: RefundStatus,
    pub refund: Refund,
    pub effects: Vec<RefundEffect>,
}

impl Refund {
    pub fn apply(&self, cmd: RefundCommand) -> Result<RefundTransition, RefundError> {
        use RefundStatus as S;
        let illegal = RefundError::IllegalTransition {
            from: self.status,
            command: cmd.name(),
        };
        let mut next = self.clone();
        next.version = self.version + 1;
        let effects = match (cmd, self.status) {
            (RefundCommand::Approve { by, at }, S::Requested) => {
                next.status = S::Approved;
                next.decided_by = Some(by);
                next.decided_at = Some(at);
                next.updated_at = at;
                vec![RefundEffect::SendToProvider]
            }
            (RefundCommand::Reject { by, note, at }, S::Requested) => {
                next.status = S::Rejected;
                next.decided_by = Some(by);
                next.decided_at = Some(at);
                next.decision_note = Some(note);
                next.updated_at = at;
                vec![RefundEffect::ReleaseHold]
            }
            (RefundCommand::Withdraw { at }, S::Requested) => {
                next.status = S::Withdrawn;
                next.updated_at = at;
                vec![RefundEffect::ReleaseHold]
            }
            (
                RefundCommand::Submit {
                    provider_refund_id,
                    at,
                },
                S::Approved,
            ) => {
                next.status = S::Processing;
                next.provider_refund_id = provider_refund_id.or(next.provider_refund_id);
                next.updated_at = at;
                vec![]
            }
            (
                RefundCommand::Succeed {
                    provider_refund_id,
                    at,
                },
                S::Approved | S::Processing,
            ) => {
                next.status = S::Succeeded;
                next.provider_refund_id = provider_refund_id.or(next.provider_refund_id);
                next.succeeded_at = Some(at);
                next.failure = None;
                next.updated_at = at;
                vec![RefundEffect::RecordOnOrder]
            }
            (RefundCommand::Fail { reason, at }, S::Approved | S::Processing) => {
                next.status = S::Failed;
                next.failure = Some(reason);
                next.updated_at = at;
                vec![RefundEffect::ReleaseHold]
            }
            (RefundCommand::Retry { by, at }, S::Failed) => {
                next.status = S::Approved;
                next.decided_by = Some(by);
                next.decided_at = Some(at);
                next.updated_at = at;
                vec![RefundEffect::HoldOnOrder, RefundEffect::SendToProvider]
            }
            _ => return Err(illegal),
        };
        Ok(RefundTransition {
            from: self.status,
            refund: next,
            effects,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn refund() -> Refund {
        let at = Timestamp::from_millis(1_800_000_000_000);
        let id = RefundId::new(9).unwrap();
        Refund {
            id,
            order_id: OrderId::new(1).unwrap(),
            user_id: UserId::new(2).unwrap(),
            out_refund_no: RefundNo::for_refund(id, at),
            amount: Fen::new(4300),
            reason: Reason::parse("米袋破损").unwrap(),
            status: RefundStatus::Requested,
            requested_by: Actor::User {
                id: UserId::new(2).unwrap(),
            },
            requested_at: at,
            decided_by: None,
            decided_at: None,
            decision_note: None,
            provider_refund_id: None,
            succeeded_at: None,
            failure: None,
            updated_at: at,
            version: 0,
        }
    }

    fn commands() -> impl Strategy<Value = RefundCommand> {
        let at = Timestamp::from_millis(1_800_000_000_000);
        let fin = Actor::system("finance");
        prop_oneof![
            Just(RefundCommand::Approve {
                by: fin.clone(),
                at
            }),
            Just(RefundCommand::Reject {
                by: fin.clone(),
                note: Reason::parse("no").unwrap(),
                at
            }),
            Just(RefundCommand::Withdraw { at }),
            Just(RefundCommand::Submit {
                provider_refund_id: Some("503".into()),
                at
            }),
            Just(RefundCommand::Succeed {
                provider_refund_id: None,
                at
            }),
            Just(RefundCommand::Fail {
                reason: "ABNORMAL".into(),
                at
            }),
            Just(RefundCommand::Retry { by: fin, at }),
        ]
    }

    #[test]
    fn approve_submit_succeed() {
        let r = refund();
        let at = r.requested_at;
        let a = r
            .apply(RefundCommand::Approve {
                by: Actor::system("finance"),
                at,
            })
            .unwrap();
        assert_eq!(a.effects, vec![RefundEffect::SendToProvider]);
        let p = a
            .refund
            .apply(RefundCommand::Submit {
                provider_refund_id: Some("503".into()),
                at,
            })
            .unwrap();
        assert_eq!(p.refund.status, RefundStatus::Processing);
        let s = p
            .refund
            .apply(RefundCommand::Succeed {
                provider_refund_id: None,
                at,
            })
            .unwrap();
        assert_eq!(s.refund.status, RefundStatus::Succeeded);
        assert_eq!(s.refund.provider_refund_id.as_deref(), Some("503"));
        assert_eq!(s.effects, vec![RefundEffect::RecordOnOrder]);
        assert!(s
            .refund
            .apply(RefundCommand::Succeed {
                provider_refund_id: None,
                at
            })
            .is_err());
        assert_eq!(s.refund.out_refund_no, r.out_refund_no);
    }

    proptest! {
        /// Holds are balanced: whatever the sequence, the amount is held exactly while the status
        /// says so, recorded once on success, and never both.
        #[test]
        fn holds_follow_status(cmds in proptest::collection::vec(commands(), 0..30)) {
            let mut r = refund();
            let mut held = true;
            let mut recorded = 0;
            for cmd in cmds {
                if let Ok(t) = r.apply(cmd) {
                    for e in &t.effects {
                        match e {
                            RefundEffect::HoldOnOrder => { prop_assert!(!held); held = true; }
                            RefundEffect::ReleaseHold => { prop_assert!(held); held = false; }
                            RefundEffect::RecordOnOrder => { prop_assert!(held); held = false; recorded += 1; }
                            RefundEffect::SendToProvider => prop_assert!(held),
                        }
                    }
                    r = t.refund;
                }
                prop_assert_eq!(held, r.status.holds_amount());
                prop_assert!(recorded <= 1);
                prop_assert_eq!(recorded == 1, r.status == RefundStatus::Succeeded);
            }
        }
    }
}
