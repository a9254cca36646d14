//! Ports to the outside world: WeChat Pay and WeChat login.

use crate::money::Fen;
use crate::text::{OpenId, OrderNo, RefundNo, TransactionId};
use crate::time::{BizDate, Timestamp};
use async_trait::async_trait;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GatewayError {
    /// Network failure, timeout, 5xx or 429 after the retries: the outcome is unknown.
    #[error("payment provider unavailable: {0}")]
    Unavailable(String),
    /// The provider refused the request (4xx) with its documented code.
    #[error("payment provider refused: {code}: {message}")]
    Rejected { code: String, message: String },
    /// The answer failed signature verification or did not parse: never trusted.
    #[error("invalid answer from payment provider: {0}")]
    InvalidResponse(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrepayRequest {
    pub out_trade_no: OrderNo,
    pub description: String,
    pub amount: Fen,
    pub payer: OpenId,
    /// WeChat stops accepting payment at this instant.
    pub time_expire: Timestamp,
}

/// The parameters of `wx.requestPayment`, signed for the mini-program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayParams {
    pub app_id: String,
    pub time_stamp: String,
    pub nonce_str: String,
    pub package: String,
    pub sign_type: String,
    pub pay_sign: String,
}

/// What WeChat says about a payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TradeState {
    Success {
        transaction_id: TransactionId,
        amount: Fen,
        paid_at: Timestamp,
        /// The transaction resource as received, for the inbox.
        payload: String,
    },
    /// Not paid (yet).
    NotPay,
    Closed,
    /// Paid and then (partly) refunded.
    Refund {
        transaction_id: TransactionId,
        amount: Fen,
    },
    Revoked,
    /// The shopper is entering a password: not final.
    UserPaying,
    PayError,
    /// WeChat does not know this `out_trade_no`.
    NotFound,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseOutcome {
    /// Closed (or was already closed, or never existed): no payment can arrive any more.
    Closed,
    /// WeChat refused because it was paid: confirm the payment instead.
    AlreadyPaid,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundRequest {
    pub out_trade_no: OrderNo,
    pub out_refund_no: RefundNo,
    pub amount: Fen,
    /// The order's total, which WeChat checks against the payment.
    pub total: Fen,
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderRefundStatus {
    Processing,
    Success,
    Closed,
    Abnormal,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderRefund {
    pub refund_id: String,
    pub out_refund_no: RefundNo,
    pub status: ProviderRefundStatus,
    pub amount: Fen,
    pub success_time: Option<Timestamp>,
}

/// One row of WeChat's trade bill, amounts converted to fen exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BillRow {
    pub trade_time: String,
    pub transaction_id: String,
    pub out_trade_no: String,
    /// `SUCCESS`, `REFUND`, …
    pub trade_state: String,
    /// What the order paid (0 on refund rows).
    pub settled_amount: Fen,
    pub refund_id: Option<String>,
    pub out_refund_no: Option<String>,
    pub refund_amount: Fen,
    pub refund_status: Option<String>,
    pub fee: Fen,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TradeBill {
    pub date: BizDate,
    pub rows: Vec<BillRow>,
    pub total_count: i64,
    pub total_settled: Fen,
    pub total_refund: Fen,
    pub total_fee: Fen,
}

/// WeChat Pay v3 (or its sandbox): every answer is signature-verified by the adapter.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PaymentGateway: Send + Sync {
    /// JSAPI prepay. Calling again with identical parameters returns a prepay id again.
    async fn prepay(&self, req: &PrepayRequest) -> Result<String, GatewayError>;
    /// Signs the `wx.requestPayment` parameters for a prepay id.
    fn pay_params(&self, prepay_id: &str, now: Timestamp) -> Result<PayParams, GatewayError>;
    async fn query(&self, out_trade_no: &OrderNo) -> Result<TradeState, GatewayError>;
    async fn close(&self, out_trade_no: &OrderNo) -> Result<CloseOutcome, GatewayError>;
    /// Asks for a refund; the same `out_refund_no` is refunded at most once.
    async fn refund(&self, req: &RefundRequest) -> Result<ProviderRefund, GatewayError>;
    /// `Ok(None)` when WeChat does not know this refund number.
    async fn query_refund(
        &self,
        out_refund_no: &RefundNo,
    ) -> Result<Option<ProviderRefund>, GatewayError>;
    /// Downloads, checks (SHA-1) and parses the trade bill of a day.
    async fn trade_bill(&self, date: BizDate) -> Result<TradeBill, GatewayError>;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoginError {
    /// The code is invalid, expired or used (errcode 40029, 40163).
    #[error("invalid login code")]
    InvalidCode,
    /// WeChat rate-limited us (45011).
    #[error("login rate limited")]
    RateLimited,
    /// WeChat flagged the user as high risk (40226).
    #[error("login refused for this user")]
    Refused,
    /// WeChat is busy (-1) or unreachable.
    #[error("login unavailable: {0}")]
    Unavailable(String),
}

/// What `jscode2session` returns. `session_key` never leaves the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WxSession {
    pub openid: OpenId,
    pub unionid: Option<String>,
    pub session_key: String,
}

#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait WeChatLogin: Send + Sync {
    async fn code_to_session(&self, code: &str) -> Result<WxSession, LoginError>;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StorageError {
    #[error("not an accepted image: {0}")]
    Rejected(String),
    #[error("image storage unavailable: {0}")]
    Unavailable(String),
}

/// Where product pictures live (a local directory by default; object storage behind the same
/// port). Returns the URL under which the picture is served.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ImageStorage: Send + Sync {
    async fn put(
        &self,
        name: &str,
        content_type: &str,
        bytes: Vec<u8>,
    ) -> Result<String, StorageError>;
}
