use async_trait::async_trait;
use shop_core::money::Fen;
use shop_core::ports::*;
use shop_core::text::{OrderNo, RefundNo, TransactionId};
use shop_core::time::{BizDate, Timestamp};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

#[derive(Debug, Clone)]
struct Trade {
    amount: Fen,
    state: FakeTradeState,
    transaction_id: Option<TransactionId>,
    paid_at: Option<Timestamp>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FakeTradeState {
    NotPay,
    Paid,
    Closed,
}

#[derive(Debug, Default)]
struct Inner {
    trades: HashMap<String, Trade>,
    refunds: HashMap<String, ProviderRefund>,
    /// out_refund_no → out_trade_no, for bill rows.
    refund_orders: HashMap<String, String>,
    /// Test hooks to plant reconciliation differences.
    bill_hidden: Vec<String>,
    bill_extra: Vec<BillRow>,
    bill_amounts: HashMap<String, Fen>,
    next: u64,
    /// When set, every call fails with this error (outage simulation).
    down: bool,
    refund_status: Option<ProviderRefundStatus>,
    calls: Vec<String>,
}

/// An in-process stand-in for WeChat Pay for unit and store-level tests. It keeps the rules that
/// matter to the use-cases (a paid trade refuses to close; a refund number refunds once) but
/// speaks no protocol: the HTTP sandbox in `shop-wechat-pay` does that.
#[derive(Debug, Default)]
pub struct FakeGateway {
    inner: Mutex<Inner>,
}

impl FakeGateway {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> Result<MutexGuard<'_, Inner>, GatewayError> {
        self.inner
            .lock()
            .map_err(|_| GatewayError::Unavailable("fake gateway lock poisoned".into()))
    }

    /// The shopper pays: returns what a query would now say.
    pub fn pay(&self, out_trade_no: &OrderNo, at: Timestamp) -> Option<TradeState> {
        let mut g = self.inner.lock().ok()?;
        g.next += 1;
        let tx = TransactionId::parse(&format!("42000{:023}", g.next)).ok()?;
        let t = g.trades.get_mut(out_trade_no.as_str())?;
        if t.state != FakeTradeState::NotPay {
            return None;
        }
        t.state = FakeTradeState::Paid;
        t.transaction_id = Some(tx.clone());
        t.paid_at = Some(at);
        Some(TradeState::Success {
            transaction_id: tx,
            amount: t.amount,
            paid_at: at,
            payload:
                serde_json::json!({"out_trade_no": out_trade_no.as_str(), "trade_state": "SUCCESS"})
                    .to_string(),
        })
    }

    /// Makes every call fail as if WeChat were unreachable, or restores it.
    pub fn set_down(&self, down: bool) {
        if let Ok(mut g) = self.inner.lock() {
            g.down = down;
        }
    }

    /// What refunds answer from now on (default: PROCESSING).
    pub fn set_refund_status(&self, status: ProviderRefundStatus) {
        if let Ok(mut g) = self.inner.lock() {
            g.refund_status = Some(status);
        }
    }

    /// Every refund in progress succeeds at `at` (what WeChat reports by callback or query).
    pub fn settle_refunds(&self, at: Timestamp) -> Vec<ProviderRefund> {
        let Ok(mut g) = self.inner.lock() else {
            return vec![];
        };
        let mut settled = vec![];
        for r in g.refunds.values_mut() {
            if r.status == ProviderRefundStatus::Processing {
                r.status = ProviderRefundStatus::Success;
                r.success_time = Some(at);
                settled.push(r.clone());
            }
        }
        settled
    }

    /// Leaves a payment out of the trade bill (a planted "missing at WeChat").
    pub fn bill_hide(&self, transaction_id: &str) {
        if let Ok(mut g) = self.inner.lock() {
            g.bill_hidden.push(transaction_id.to_string());
        }
    }

    /// Adds a row to every trade bill (a planted "missing locally").
    pub fn bill_add(&self, row: BillRow) {
        if let Ok(mut g) = self.inner.lock() {
            g.bill_extra.push(row);
        }
    }

    /// Reports another amount for a transaction in the bill (a planted mismatch).
    pub fn bill_amount(&self, transaction_id: &str, amount: Fen) {
        if let Ok(mut g) = self.inner.lock() {
            g.bill_amounts.insert(transaction_id.to_string(), amount);
        }
    }

    /// The calls made so far, e.g. `close R2026…`.
    pub fn calls(&self) -> Vec<String> {
        self.inner
            .lock()
            .map(|g| g.calls.clone())
            .unwrap_or_default()
    }

    fn enter(&self, call: String) -> Result<MutexGuard<'_, Inner>, GatewayError> {
        let mut g = self.lock()?;
        g.calls.push(call);
        if g.down {
            return Err(GatewayError::Unavailable("fake gateway is down".into()));
        }
        Ok(g)
    }
}

#[async_trait]
impl PaymentGateway for FakeGateway {
    async fn prepay(&self, req: &PrepayRequest) -> Result<String, GatewayError> {
        let mut g = self.enter(format!("prepay {}", req.out_trade_no))?;
        let t = g
            .trades
            .entry(req.out_trade_no.as_str().to_string())
            .or_insert(Trade {
                amount: req.amount,
                state: FakeTradeState::NotPay,
                transaction_id: None,
                paid_at: None,
            });
        if t.amount != req.amount {
            return Err(GatewayError::Rejected {
                code: "INVALID_REQUEST".into(),
                message: "parameters changed".into(),
            });
        }
        Ok(format!("wx_fake_{}", req.out_trade_no))
    }

    fn pay_params(&self, prepay_id: &str, now: Timestamp) -> Result<PayParams, GatewayError> {
        Ok(PayParams {
            app_id: "wx_fake".into(),
            time_stamp: now.seconds().to_string(),
            nonce_str: "fake".into(),
            package: format!("prepay_id={prepay_id}"),
            sign_type: "RSA".into(),
            pay_sign: "fake".into(),
        })
    }

    async fn query(&self, out_trade_no: &OrderNo) -> Result<TradeState, GatewayError> {
        let g = self.enter(format!("query {out_trade_no}"))?;
        Ok(match g.trades.get(out_trade_no.as_str()) {
            None => TradeState::NotFound,
            Some(t) => match (t.state, &t.transaction_id, t.paid_at) {
                (FakeTradeState::Paid, Some(tx), Some(at)) => TradeState::Success {
                    transaction_id: tx.clone(),
                    amount: t.amount,
                    paid_at: at,
                    payload: serde_json::json!({"out_trade_no": out_trade_no.as_str(), "trade_state": "SUCCESS"}).to_string(),
                },
                (FakeTradeState::Closed, _, _) => TradeState::Closed,
                _ => TradeState::NotPay,
            },
        })
    }

    async fn close(&self, out_trade_no: &OrderNo) -> Result<CloseOutcome, GatewayError> {
        let mut g = self.enter(format!("close {out_trade_no}"))?;
        match g.trades.get_mut(out_trade_no.as_str()) {
            Some(t) if t.state == FakeTradeState::Paid => Ok(CloseOutcome::AlreadyPaid),
            Some(t) => {
                t.state = FakeTradeState::Closed;
                Ok(CloseOutcome::Closed)
            }
            None => Ok(CloseOutcome::Closed),
        }
    }

    async fn refund(&self, req: &RefundRequest) -> Result<ProviderRefund, GatewayError> {
        let mut g = self.enter(format!("refund {} {}", req.out_refund_no, req.amount.get()))?;
        if let Some(r) = g.refunds.get(req.out_refund_no.as_str()) {
            return Ok(r.clone());
        }
        let paid = g
            .trades
            .get(req.out_trade_no.as_str())
            .is_some_and(|t| t.state == FakeTradeState::Paid);
        if !paid {
            return Err(GatewayError::Rejected {
                code: "RESOURCE_NOT_EXISTS".into(),
                message: "no such paid order".into(),
            });
        }
        g.next += 1;
        let status = g.refund_status.unwrap_or(ProviderRefundStatus::Processing);
        let r = ProviderRefund {
            refund_id: format!("503{:023}", g.next),
            out_refund_no: req.out_refund_no.clone(),
            status,
            amount: req.amount,
            success_time: None,
        };
        g.refunds
            .insert(req.out_refund_no.as_str().to_string(), r.clone());
        Ok(r)
    }

    async fn query_refund(
        &self,
        out_refund_no: &RefundNo,
    ) -> Result<Option<ProviderRefund>, GatewayError> {
        let g = self.enter(format!("query_refund {out_refund_no}"))?;
        Ok(g.refunds.get(out_refund_no.as_str()).cloned())
    }

    async fn trade_bill(&self, date: BizDate) -> Result<TradeBill, GatewayError> {
        let g = self.enter(format!("trade_bill {date}"))?;
        let in_day = |t: Timestamp| t >= date.start() && t < date.end();
        let mut rows = vec![];
        let mut trades: Vec<(&String, &Trade)> = g.trades.iter().collect();
        trades.sort_by_key(|(no, _)| no.as_str());
        for (no, t) in trades {
            let (Some(tx), Some(at)) = (&t.transaction_id, t.paid_at) else {
                continue;
            };
            if !in_day(at) || g.bill_hidden.iter().any(|h| h == tx.as_str()) {
                continue;
            }
            rows.push(BillRow {
                trade_time: at.to_cn_datetime(),
                transaction_id: tx.to_string(),
                out_trade_no: no.clone(),
                trade_state: "SUCCESS".into(),
                settled_amount: g.bill_amounts.get(tx.as_str()).copied().unwrap_or(t.amount),
                refund_id: None,
                out_refund_no: None,
                refund_amount: Fen::ZERO,
                refund_status: None,
                fee: Fen::ZERO,
            });
        }
        let mut refunds: Vec<&ProviderRefund> = g.refunds.values().collect();
        refunds.sort_by_key(|r| r.out_refund_no.as_str().to_string());
        for r in refunds {
            let Some(at) = r.success_time.filter(|t| in_day(*t)) else {
                continue;
            };
            let out_trade_no = g
                .refund_orders
                .get(r.out_refund_no.as_str())
                .cloned()
                .unwrap_or_default();
            let tx = g
                .trades
                .get(&out_trade_no)
                .and_then(|t| t.transaction_id.as_ref())
                .map(|t| t.to_string())
                .unwrap_or_default();
            rows.push(BillRow {
                trade_time: at.to_cn_datetime(),
                transaction_id: tx,
                out_trade_no,
                trade_state: "REFUND".into(),
                settled_amount: Fen::ZERO,
                refund_id: Some(r.refund_id.clone()),
                out_refund_no: Some(r.out_refund_no.to_string()),
                refund_amount: r.amount,
                refund_status: Some("SUCCESS".into()),
                fee: Fen::ZERO,
            });
        }
        rows.extend(g.bill_extra.iter().cloned());
        Ok(TradeBill {
            date,
            total_count: rows.len() as i64,
            total_settled: rows.iter().map(|r| r.settled_amount).sum(),
            total_refund: rows.iter().map(|r| r.refund_amount).sum(),
            total_fee: Fen::ZERO,
            rows,
        })
    }
}
