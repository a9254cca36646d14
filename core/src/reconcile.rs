//! Daily reconciliation: WeChat's trade bill of a day against the shop's own payments and
//! refunds of that day. Every disagreement is reported; nothing is corrected automatically —
//! money differences are for people to look at.

use crate::money::Fen;
use crate::payment::Payment;
use crate::ports::TradeBill;
use crate::refund::Refund;
use crate::time::{BizDate, Timestamp};
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DiffKind {
    /// Paid at WeChat, not recorded here (a lost callback the sweep did not catch).
    MissingLocally,
    /// Recorded as paid here, absent from WeChat's bill.
    MissingAtWechat,
    /// Both know the payment, with different amounts.
    AmountMismatch,
    RefundMissingLocally,
    RefundMissingAtWechat,
    RefundAmountMismatch,
}

impl DiffKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::MissingLocally => "MISSING_LOCALLY",
            Self::MissingAtWechat => "MISSING_AT_WECHAT",
            Self::AmountMismatch => "AMOUNT_MISMATCH",
            Self::RefundMissingLocally => "REFUND_MISSING_LOCALLY",
            Self::RefundMissingAtWechat => "REFUND_MISSING_AT_WECHAT",
            Self::RefundAmountMismatch => "REFUND_AMOUNT_MISMATCH",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::MissingLocally,
            Self::MissingAtWechat,
            Self::AmountMismatch,
            Self::RefundMissingLocally,
            Self::RefundMissingAtWechat,
            Self::RefundAmountMismatch,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    pub kind: DiffKind,
    pub out_trade_no: Option<String>,
    pub transaction_id: Option<String>,
    pub out_refund_no: Option<String>,
    /// The amount the shop has, if it has one.
    pub local: Option<Fen>,
    /// The amount WeChat's bill has, if it has one.
    pub wechat: Option<Fen>,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReconReport {
    pub date: BizDate,
    pub generated_at: Timestamp,
    pub bill_count: i64,
    pub bill_settled: Fen,
    pub bill_refund: Fen,
    pub local_count: i64,
    pub local_paid: Fen,
    pub local_refund: Fen,
    pub differences: Vec<Difference>,
}

impl ReconReport {
    pub fn is_clean(&self) -> bool {
        self.differences.is_empty()
    }
}

/// Compares the bill with the payments that succeeded on `date` and the refunds that
/// succeeded on it (both by WeChat's own success time, which is what the shop records).
pub fn reconcile(
    date: BizDate,
    generated_at: Timestamp,
    bill: &TradeBill,
    payments: &[Payment],
    refunds: &[Refund],
) -> ReconReport {
    let mut differences = Vec::new();

    let bill_payments: HashMap<&str, (&str, Fen)> = bill
        .rows
        .iter()
        .filter(|r| r.trade_state == "SUCCESS")
        .map(|r| {
            (
                r.transaction_id.as_str(),
                (r.out_trade_no.as_str(), r.settled_amount),
            )
        })
        .collect();
    let local_payments: HashMap<&str, &Payment> = payments
        .iter()
        .filter_map(|p| p.transaction_id.as_ref().map(|t| (t.as_str(), p)))
        .collect();

    let mut bill_tx: Vec<&&str> = bill_payments.keys().collect();
    bill_tx.sort();
    for tx in bill_tx {
        let (out_trade_no, amount) = bill_payments[*tx];
        match local_payments.get(*tx) {
            None => differences.push(Difference {
                kind: DiffKind::MissingLocally,
                out_trade_no: Some(out_trade_no.to_string()),
                transaction_id: Some(tx.to_string()),
                out_refund_no: None,
                local: None,
                wechat: Some(amount),
                detail: format!("WeChat has a {amount} payment for {out_trade_no} that the shop did not record that day"),
            }),
            Some(p) if p.amount != amount => differences.push(Difference {
                kind: DiffKind::AmountMismatch,
                out_trade_no: Some(out_trade_no.to_string()),
                transaction_id: Some(tx.to_string()),
                out_refund_no: None,
                local: Some(p.amount),
                wechat: Some(amount),
                detail: format!("the shop recorded {}, WeChat settled {amount}", p.amount),
            }),
            Some(_) => {}
        }
    }
    let mut local_tx: Vec<&&str> = local_payments.keys().collect();
    local_tx.sort();
    for tx in local_tx {
        if !bill_payments.contains_key(*tx) {
            let p = local_payments[*tx];
            differences.push(Difference {
                kind: DiffKind::MissingAtWechat,
                out_trade_no: Some(p.out_trade_no.to_string()),
                transaction_id: Some(tx.to_string()),
                out_refund_no: None,
                local: Some(p.amount),
                wechat: None,
                detail: format!(
                    "the shop recorded a {} payment that WeChat's bill does not have",
                    p.amount
                ),
            });
        }
    }

    let bill_refunds: HashMap<&str, (&str, Fen)> = bill
        .rows
        .iter()
        .filter(|r| {
            r.trade_state == "REFUND" && r.refund_status.as_deref().is_none_or(|s| s == "SUCCESS")
        })
        .filter_map(|r| {
            r.out_refund_no
                .as_deref()
                .map(|n| (n, (r.out_trade_no.as_str(), r.refund_amount)))
        })
        .collect();
    let local_refunds: HashMap<&str, &Refund> = refunds
        .iter()
        .map(|r| (r.out_refund_no.as_str(), r))
        .collect();
    let mut bill_rf: Vec<&&str> = bill_refunds.keys().collect();
    bill_rf.sort();
    for no in bill_rf {
        let (out_trade_no, amount) = bill_refunds[*no];
        match local_refunds.get(*no) {
            None => differences.push(Difference {
                kind: DiffKind::RefundMissingLocally,
                out_trade_no: Some(out_trade_no.to_string()),
                transaction_id: None,
                out_refund_no: Some(no.to_string()),
                local: None,
                wechat: Some(amount),
                detail: format!(
                    "WeChat refunded {amount} that the shop did not record as refunded that day"
                ),
            }),
            Some(r) if r.amount != amount => differences.push(Difference {
                kind: DiffKind::RefundAmountMismatch,
                out_trade_no: Some(out_trade_no.to_string()),
                transaction_id: None,
                out_refund_no: Some(no.to_string()),
                local: Some(r.amount),
                wechat: Some(amount),
                detail: format!("the shop refunded {}, WeChat {amount}", r.amount),
            }),
            Some(_) => {}
        }
    }
    let mut local_rf: Vec<&&str> = local_refunds.keys().collect();
    local_rf.sort();
    for no in local_rf {
        if !bill_refunds.contains_key(*no) {
            let r = local_refunds[*no];
            differences.push(Difference {
                kind: DiffKind::RefundMissingAtWechat,
                out_trade_no: None,
                transaction_id: None,
                out_refund_no: Some(no.to_string()),
                local: Some(r.amount),
                wechat: None,
                detail: format!(
                    "the shop recorded a {} refund that WeChat's bill does not have",
                    r.amount
                ),
            });
        }
    }

    ReconReport {
        date,
        generated_at,
        bill_count: bill.rows.len() as i64,
        bill_settled: bill.rows.iter().map(|r| r.settled_amount).sum(),
        bill_refund: bill.rows.iter().map(|r| r.refund_amount).sum(),
        local_count: payments.len() as i64,
        local_paid: payments.iter().map(|p| p.amount).sum(),
        local_refund: refunds.iter().map(|r| r.amount).sum(),
        differences,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{OrderId, PaymentId, RefundId, UserId};
    use crate::payment::PaymentStatus;
    use crate::ports::BillRow;
    use crate::refund::RefundStatus;
    use crate::text::{OrderNo, Reason, RefundNo, TransactionId};

    fn bill_row(
        tx: &str,
        no: &str,
        state: &str,
        settled: i64,
        refund_no: Option<&str>,
        refund: i64,
    ) -> BillRow {
        BillRow {
            trade_time: "2026-11-24 10:00:00".into(),
            transaction_id: tx.into(),
            out_trade_no: no.into(),
            trade_state: state.into(),
            settled_amount: Fen::new(settled),
            refund_id: refund_no.map(|_| "503".into()),
            out_refund_no: refund_no.map(Into::into),
            refund_amount: Fen::new(refund),
            refund_status: refund_no.map(|_| "SUCCESS".into()),
            fee: Fen::ZERO,
        }
    }

    fn payment(tx: &str, no: &str, amount: i64) -> Payment {
        let at = Timestamp::from_millis(1_795_485_600_000);
        Payment {
            id: PaymentId::new(1).unwrap(),
            order_id: OrderId::new(1).unwrap(),
            out_trade_no: OrderNo::parse(no).unwrap(),
            amount: Fen::new(amount),
            status: PaymentStatus::Succeeded,
            prepay_id: None,
            prepay_expires_at: None,
            transaction_id: Some(TransactionId::parse(tx).unwrap()),
            paid_at: Some(at),
            closed_at: None,
            created_at: at,
            updated_at: at,
            version: 1,
        }
    }

    fn refund(no: &str, amount: i64) -> Refund {
        let at = Timestamp::from_millis(1_795_485_600_000);
        Refund {
            id: RefundId::new(1).unwrap(),
            order_id: OrderId::new(1).unwrap(),
            user_id: UserId::new(1).unwrap(),
            out_refund_no: RefundNo::parse(no).unwrap(),
            amount: Fen::new(amount),
            reason: Reason::parse("x").unwrap(),
            status: RefundStatus::Succeeded,
            requested_by: crate::audit::Actor::system("t"),
            requested_at: at,
            decided_by: None,
            decided_at: None,
            decision_note: None,
            provider_refund_id: None,
            succeeded_at: Some(at),
            failure: None,
            updated_at: at,
            version: 1,
        }
    }

    fn bill(rows: Vec<BillRow>) -> TradeBill {
        TradeBill {
            date: BizDate::parse("2026-11-24").unwrap(),
            rows,
            total_count: 0,
            total_settled: Fen::ZERO,
            total_refund: Fen::ZERO,
            total_fee: Fen::ZERO,
        }
    }

    #[test]
    fn a_clean_day_reports_nothing() {
        let b = bill(vec![
            bill_row("4200000001", "R0000001", "SUCCESS", 12900, None, 0),
            bill_row(
                "4200000001",
                "R0000001",
                "REFUND",
                0,
                Some("F0000001"),
                4300,
            ),
        ]);
        let r = reconcile(
            b.date,
            Timestamp::default(),
            &b,
            &[payment("4200000001", "R0000001", 12900)],
            &[refund("F0000001", 4300)],
        );
        assert!(r.is_clean(), "{:?}", r.differences);
        assert_eq!(
            (r.bill_settled, r.local_paid, r.bill_refund, r.local_refund),
            (
                Fen::new(12900),
                Fen::new(12900),
                Fen::new(4300),
                Fen::new(4300)
            )
        );
    }

    #[test]
    fn every_planted_difference_is_found() {
        let b = bill(vec![
            bill_row("4200000001", "R0000001", "SUCCESS", 12900, None, 0),
            bill_row("4200000002", "R0000002", "SUCCESS", 5000, None, 0),
            bill_row("4200000003", "R0000003", "SUCCESS", 7000, None, 0),
            bill_row(
                "4200000001",
                "R0000001",
                "REFUND",
                0,
                Some("F0000001"),
                4300,
            ),
            bill_row("4200000001", "R0000001", "REFUND", 0, Some("F0000002"), 100),
        ]);
        let payments = [
            payment("4200000001", "R0000001", 12900),
            payment("4200000003", "R0000003", 7001),
            payment("4200000009", "R0000009", 999),
        ];
        let refunds = [refund("F0000001", 4000), refund("F0000003", 50)];
        let r = reconcile(b.date, Timestamp::default(), &b, &payments, &refunds);
        let kinds: Vec<(DiffKind, Option<String>)> = r
            .differences
            .iter()
            .map(|d| (d.kind, d.out_refund_no.clone().or(d.out_trade_no.clone())))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (DiffKind::MissingLocally, Some("R0000002".into())),
                (DiffKind::AmountMismatch, Some("R0000003".into())),
                (DiffKind::MissingAtWechat, Some("R0000009".into())),
                (DiffKind::RefundAmountMismatch, Some("F0000001".into())),
                (DiffKind::RefundMissingLocally, Some("F0000002".into())),
                (DiffKind::RefundMissingAtWechat, Some("F0000003".into())),
            ]
        );
        assert_eq!(r.differences[1].local, Some(Fen::new(7001)));
        assert_eq!(r.differences[1].wechat, Some(Fen::new(7000)));
    }
}
