//! What the sandbox remembers: trades, refunds, bill files, faults. All in memory: a restart
//! forgets everything, which is what a development simulator should do.

use serde::{Deserialize, Serialize};
use shop_core::time::Timestamp;
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TradeState {
    NotPay,
    Success,
    Closed,
    PayError,
}

impl TradeState {
    pub fn as_str(self) -> &'static str {
        match self {
            TradeState::NotPay => "NOTPAY",
            TradeState::Success => "SUCCESS",
            TradeState::Closed => "CLOSED",
            TradeState::PayError => "PAYERROR",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Trade {
    pub out_trade_no: String,
    /// The prepay parameters that must not change on a repeat.
    pub fingerprint: String,
    pub prepay_id: String,
    pub amount: i64,
    pub openid: String,
    pub notify_url: String,
    pub time_expire: Timestamp,
    pub state: TradeState,
    pub transaction_id: Option<String>,
    pub success_time: Option<Timestamp>,
    /// Fen refunded successfully so far; the query says REFUND once it is positive.
    pub refunded: i64,
}

#[derive(Debug, Clone)]
pub struct Refund {
    pub out_refund_no: String,
    pub refund_id: String,
    pub out_trade_no: String,
    pub transaction_id: String,
    pub amount: i64,
    pub total: i64,
    /// PROCESSING, SUCCESS, ABNORMAL or CLOSED.
    pub status: String,
    pub notify_url: String,
    pub created: Timestamp,
    pub success_time: Option<Timestamp>,
}

/// Faults for the next callbacks, set through `POST /control/faults`. Every field defaults to
/// "no fault", so `{"duplicates": 2}` is a complete request.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Extra copies of each callback, delivered concurrently.
    pub duplicates: u32,
    /// Wait this long (real milliseconds) before the first attempt.
    pub delay_ms: u64,
    /// Claim one fen more than was paid or refunded (the shop must refuse it).
    pub wrong_amount: bool,
    /// Corrupt the signature (the shop must refuse it).
    pub bad_signature: bool,
    /// Hold callbacks for a moment and deliver them newest first.
    pub out_of_order: bool,
    /// Only for the callbacks of this `out_trade_no` (its payment and its refunds); all
    /// callbacks when absent. Faults for a number take precedence over global ones.
    pub out_trade_no: Option<String>,
    /// For this many callbacks, then the faults lapse; until cleared when absent.
    pub count: Option<u32>,
}

#[derive(Debug, Default)]
pub struct State {
    pub trades: HashMap<String, Trade>,
    pub refunds: HashMap<String, Refund>,
    /// Bill files by download token.
    pub bills: HashMap<String, Vec<u8>>,
    pub global_faults: Option<Faults>,
    pub faults_by_trade: HashMap<String, Faults>,
    pub seq: u64,
}

impl State {
    pub fn next(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    pub fn set_faults(&mut self, faults: Faults) {
        match faults.out_trade_no.clone() {
            Some(no) => {
                self.faults_by_trade.insert(no, faults);
            }
            None => self.global_faults = Some(faults),
        }
    }

    pub fn clear_faults(&mut self) {
        self.global_faults = None;
        self.faults_by_trade.clear();
    }

    /// The faults for the next callback of `out_trade_no`, using up one of their `count`.
    pub fn take_faults(&mut self, out_trade_no: &str) -> Faults {
        let slot = match self.faults_by_trade.get_mut(out_trade_no) {
            Some(f) => Some(f),
            None => self.global_faults.as_mut(),
        };
        let Some(f) = slot else {
            return Faults::default();
        };
        let taken = f.clone();
        let lapsed = match f.count.as_mut() {
            Some(n) => {
                *n = n.saturating_sub(1);
                *n == 0
            }
            None => false,
        };
        if lapsed && self.faults_by_trade.remove(out_trade_no).is_none() {
            self.global_faults = None;
        }
        taken
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_for_a_trade_win_over_global_ones_and_lapse_after_their_count() {
        let mut s = State::default();
        s.set_faults(Faults {
            duplicates: 1,
            ..Faults::default()
        });
        s.set_faults(Faults {
            bad_signature: true,
            out_trade_no: Some("R1".into()),
            count: Some(2),
            ..Faults::default()
        });
        assert!(s.take_faults("R1").bad_signature);
        assert_eq!(s.take_faults("R2").duplicates, 1);
        assert!(s.take_faults("R1").bad_signature);
        let after = s.take_faults("R1");
        assert!(!after.bad_signature, "lapsed after two");
        assert_eq!(after.duplicates, 1, "global faults still apply");
        s.clear_faults();
        assert_eq!(s.take_faults("R2"), Faults::default());
    }
}
