//! The WeChat Pay v3 client, implementing the shop's `PaymentGateway` port. Every request is
//! signed; every 2xx answer (204 included) is verified against the platform keys before it is
//! believed; 5xx, 429 and network failures are retried with backoff and the byte-identical
//! body, because WeChat treats the same parameters as the same request; other 4xx are WeChat's
//! answer and come back as `Rejected` with its code, never retried.

use crate::config::{ConfigError, WechatPayConfig};
use crate::crypto::{
    nonce, pay_sign, sha1_hex, MerchantSigner, PlatformKeys, Signer, WechatpayHeaders,
};
use async_trait::async_trait;
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::json;
use shop_core::ports::{
    Clock, CloseOutcome, GatewayError, PayParams, PaymentGateway, PrepayRequest, ProviderRefund,
    ProviderRefundStatus, RefundRequest, TradeBill, TradeState,
};
use shop_core::text::{OrderNo, RefundNo, TransactionId};
use shop_core::time::{BizDate, Timestamp};
use shop_core::Fen;
use std::sync::Arc;
use std::time::Duration;

/// How often and how patiently a request is repeated when the outcome is unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all (the first and the retries).
    pub attempts: u32,
    /// The first pause; each next one is three times longer.
    pub first_pause: Duration,
}

impl Default for RetryPolicy {
    /// 4 attempts over about 2.6 s: long enough for a WeChat blip, short enough for a shopper
    /// waiting on "pay".
    fn default() -> Self {
        RetryPolicy {
            attempts: 4,
            first_pause: Duration::from_millis(200),
        }
    }
}

impl RetryPolicy {
    fn pause_before(&self, attempt: u32) -> Duration {
        self.first_pause
            .saturating_mul(3u32.saturating_pow(attempt.saturating_sub(1)))
    }
}

pub struct WechatPayClient {
    cfg: WechatPayConfig,
    merchant: MerchantSigner,
    keys: PlatformKeys,
    http: reqwest::Client,
    clock: Arc<dyn Clock>,
    retry: RetryPolicy,
}

impl std::fmt::Debug for WechatPayClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WechatPayClient")
            .field("cfg", &self.cfg)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Deserialize)]
struct WxError {
    code: String,
    #[serde(default)]
    message: String,
}

#[derive(Debug, Deserialize)]
struct QueryAmount {
    total: i64,
}

#[derive(Debug, Deserialize)]
struct QueryAnswer {
    trade_state: String,
    #[serde(default)]
    transaction_id: Option<String>,
    #[serde(default)]
    success_time: Option<String>,
    amount: Option<QueryAmount>,
}

#[derive(Debug, Deserialize)]
struct RefundAnswerAmount {
    refund: i64,
}

#[derive(Debug, Deserialize)]
struct RefundAnswer {
    refund_id: String,
    out_refund_no: String,
    status: String,
    amount: RefundAnswerAmount,
    #[serde(default)]
    success_time: Option<String>,
}

#[derive(Debug, Deserialize)]
struct BillAnswer {
    download_url: String,
    hash_type: String,
    hash_value: String,
}

fn invalid(e: impl std::fmt::Display) -> GatewayError {
    GatewayError::InvalidResponse(e.to_string())
}

/// Which codes mean what, whatever spelling (v2 and v3 differ) WeChat uses.
const NOT_FOUND: &[&str] = &["ORDER_NOT_EXIST", "ORDERNOTEXIST", "RESOURCE_NOT_EXISTS"];
const PAID: &[&str] = &["ORDER_PAID", "ORDERPAID", "TRADE_PAID"];
const CLOSED: &[&str] = &["ORDER_CLOSED", "ORDERCLOSED"];

/// Where a request goes and what is signed: the path and query as WeChat sees them.
struct Target {
    url: String,
    signed_path: String,
}

impl WechatPayClient {
    /// Fails only on configuration: a key that does not parse.
    pub fn new(
        cfg: WechatPayConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<WechatPayClient, ConfigError> {
        let bad = |name: &'static str, e: String| ConfigError::Invalid { name, problem: e };
        let key = Signer::from_pem(&cfg.merchant_private_key)
            .map_err(|e| bad("SHOP_WECHAT_MERCHANT_KEY_FILE", e.to_string()))?;
        let keys = PlatformKeys::from_pems(&cfg.platform_keys)
            .map_err(|e| bad("SHOP_WECHAT_PLATFORM_KEYS", e.to_string()))?;
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_secs(10))
            .user_agent(concat!("wuchang-rice-shop/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| bad("SHOP_WECHAT_BASE_URL", e.to_string()))?;
        let merchant = MerchantSigner {
            mchid: cfg.mchid.clone(),
            serial_no: cfg.merchant_serial.clone(),
            key,
        };
        Ok(WechatPayClient {
            cfg,
            merchant,
            keys,
            http,
            clock,
            retry: RetryPolicy::default(),
        })
    }

    #[must_use]
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    pub fn config(&self) -> &WechatPayConfig {
        &self.cfg
    }

    /// The keys that verify WeChat's answers, which also verify its callbacks.
    pub fn platform_keys(&self) -> &PlatformKeys {
        &self.keys
    }

    fn target(&self, path: &str) -> Target {
        Target {
            url: format!("{}{path}", self.cfg.base_url.trim_end_matches('/')),
            signed_path: path.to_string(),
        }
    }

    /// An absolute URL WeChat handed us (the bill download). Under our base URL it is signed
    /// relative to it, as every other request; elsewhere by its own path and query.
    fn absolute_target(&self, url: &str) -> Result<Target, GatewayError> {
        let base = self.cfg.base_url.trim_end_matches('/');
        if let Some(rest) = url.strip_prefix(base).filter(|r| r.starts_with('/')) {
            return Ok(self.target(rest));
        }
        let parsed = reqwest::Url::parse(url).map_err(|e| invalid(format!("download_url: {e}")))?;
        let mut signed_path = parsed.path().to_string();
        if let Some(q) = parsed.query() {
            signed_path = format!("{signed_path}?{q}");
        }
        Ok(Target {
            url: url.to_string(),
            signed_path,
        })
    }

    /// Sends a signed request and returns the status and verified answer. `verify` is false
    /// only for the bill download, which is checked by its hash instead.
    async fn call(
        &self,
        method: Method,
        target: &Target,
        body: Option<&str>,
        verify: bool,
    ) -> Result<(StatusCode, Vec<u8>), GatewayError> {
        let path = target.signed_path.as_str();
        let attempts = self.retry.attempts.max(1);
        let mut last = String::new();
        for attempt in 0..attempts {
            if attempt > 0 {
                tokio::time::sleep(self.retry.pause_before(attempt)).await;
            }
            let ts = self.clock.now().seconds().to_string();
            let auth = self
                .merchant
                .authorization(method.as_str(), path, body.unwrap_or(""), &ts, &nonce(32))
                .map_err(|e| GatewayError::Unavailable(e.to_string()))?;
            let mut req = self
                .http
                .request(method.clone(), &target.url)
                .header("Authorization", auth)
                .header("Accept", "application/json");
            if let Some(b) = body {
                req = req
                    .header("Content-Type", "application/json")
                    .body(b.to_string());
            }
            let resp = match req.send().await {
                Ok(r) => r,
                Err(e) => {
                    last = format!("network: {}", e.without_url());
                    tracing::warn!(path, attempt, error = %last, "WeChat Pay request failed");
                    continue;
                }
            };
            let status = resp.status();
            let headers = WechatpayHeaders::read(|name| {
                resp.headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(String::from)
            });
            let bytes = match resp.bytes().await {
                Ok(b) => b.to_vec(),
                Err(e) => {
                    last = format!("reading the answer: {}", e.without_url());
                    tracing::warn!(path, attempt, error = %last, "WeChat Pay answer cut short");
                    continue;
                }
            };
            if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
                last = format!("HTTP {status}");
                tracing::warn!(path, attempt, %status, "WeChat Pay busy or failing");
                continue;
            }
            let now = self.clock.now().seconds();
            if status.is_success() {
                if verify {
                    self.keys
                        .verify(&headers, &bytes, now)
                        .map_err(|e| invalid(format!("{path}: {e}")))?;
                }
                return Ok((status, bytes));
            }
            // Error answers are not always signed; when they are, a forged one is not believed
            // either, since some (ORDER_PAID, ORDER_NOT_EXIST) decide what the shop does next.
            if headers.signature.is_some() {
                self.keys
                    .verify(&headers, &bytes, now)
                    .map_err(|e| invalid(format!("{path}: HTTP {status}: {e}")))?;
            }
            let err: WxError = serde_json::from_slice(&bytes).unwrap_or_else(|_| WxError {
                code: format!("HTTP_{}", status.as_u16()),
                message: String::from_utf8_lossy(&bytes).chars().take(200).collect(),
            });
            return Err(GatewayError::Rejected {
                code: err.code,
                message: err.message,
            });
        }
        Err(GatewayError::Unavailable(format!(
            "{path}: {last} after {attempts} attempts"
        )))
    }

    async fn json<T: for<'de> Deserialize<'de>>(
        &self,
        method: Method,
        path: &str,
        body: Option<&str>,
    ) -> Result<T, GatewayError> {
        let (_, bytes) = self.call(method, &self.target(path), body, true).await?;
        serde_json::from_slice(&bytes).map_err(|e| invalid(format!("{path}: {e}")))
    }

    fn provider_refund(a: RefundAnswer) -> Result<ProviderRefund, GatewayError> {
        let status = match a.status.as_str() {
            "PROCESSING" => ProviderRefundStatus::Processing,
            "SUCCESS" => ProviderRefundStatus::Success,
            "CLOSED" => ProviderRefundStatus::Closed,
            "ABNORMAL" => ProviderRefundStatus::Abnormal,
            other => return Err(invalid(format!("refund status {other}"))),
        };
        Ok(ProviderRefund {
            refund_id: a.refund_id,
            out_refund_no: RefundNo::parse(&a.out_refund_no).map_err(invalid)?,
            status,
            amount: Fen::new(a.amount.refund),
            success_time: a
                .success_time
                .as_deref()
                .and_then(|t| Timestamp::parse_rfc3339(t).ok()),
        })
    }

    fn transaction_id(id: Option<&str>) -> Result<TransactionId, GatewayError> {
        TransactionId::parse(id.unwrap_or("")).map_err(|e| invalid(format!("transaction_id: {e}")))
    }
}

#[async_trait]
impl PaymentGateway for WechatPayClient {
    async fn prepay(&self, req: &PrepayRequest) -> Result<String, GatewayError> {
        #[derive(Deserialize)]
        struct Answer {
            prepay_id: String,
        }
        let body = json!({
            "appid": self.cfg.appid,
            "mchid": self.cfg.mchid,
            "description": req.description,
            "out_trade_no": req.out_trade_no.as_str(),
            "time_expire": req.time_expire.to_rfc3339_cn(),
            "notify_url": self.cfg.notify_url,
            "amount": {"total": req.amount.get(), "currency": "CNY"},
            "payer": {"openid": req.payer.as_str()},
        })
        .to_string();
        let a: Answer = self
            .json(Method::POST, "/v3/pay/transactions/jsapi", Some(&body))
            .await?;
        if a.prepay_id.is_empty() {
            return Err(invalid("empty prepay_id"));
        }
        Ok(a.prepay_id)
    }

    fn pay_params(&self, prepay_id: &str, now: Timestamp) -> Result<PayParams, GatewayError> {
        let time_stamp = now.seconds().to_string();
        let nonce_str = nonce(32);
        let package = format!("prepay_id={prepay_id}");
        let pay_sign = pay_sign(
            &self.merchant.key,
            &self.cfg.appid,
            &time_stamp,
            &nonce_str,
            &package,
        )
        .map_err(|e| GatewayError::Unavailable(e.to_string()))?;
        Ok(PayParams {
            app_id: self.cfg.appid.clone(),
            time_stamp,
            nonce_str,
            package,
            sign_type: "RSA".into(),
            pay_sign,
        })
    }

    async fn query(&self, out_trade_no: &OrderNo) -> Result<TradeState, GatewayError> {
        let path = format!(
            "/v3/pay/transactions/out-trade-no/{}?mchid={}",
            out_trade_no, self.cfg.mchid
        );
        let bytes = match self
            .call(Method::GET, &self.target(&path), None, true)
            .await
        {
            Ok((_, bytes)) => bytes,
            Err(GatewayError::Rejected { code, .. }) if NOT_FOUND.contains(&code.as_str()) => {
                return Ok(TradeState::NotFound)
            }
            Err(e) => return Err(e),
        };
        let a: QueryAnswer = serde_json::from_slice(&bytes).map_err(invalid)?;
        // A paid state without its amount would be compared with the order as 0 fen.
        let total = || {
            a.amount
                .as_ref()
                .map(|m| Fen::new(m.total))
                .ok_or_else(|| invalid(format!("{path}: {} without amount", a.trade_state)))
        };
        Ok(match a.trade_state.as_str() {
            "SUCCESS" => TradeState::Success {
                transaction_id: Self::transaction_id(a.transaction_id.as_deref())?,
                amount: total()?,
                paid_at: a
                    .success_time
                    .as_deref()
                    .and_then(|t| Timestamp::parse_rfc3339(t).ok())
                    .unwrap_or_else(|| self.clock.now()),
                payload: String::from_utf8_lossy(&bytes).into_owned(),
            },
            "REFUND" => TradeState::Refund {
                transaction_id: Self::transaction_id(a.transaction_id.as_deref())?,
                amount: total()?,
            },
            "NOTPAY" => TradeState::NotPay,
            "CLOSED" => TradeState::Closed,
            "REVOKED" => TradeState::Revoked,
            "USERPAYING" => TradeState::UserPaying,
            "PAYERROR" => TradeState::PayError,
            other => return Err(invalid(format!("trade_state {other}"))),
        })
    }

    async fn close(&self, out_trade_no: &OrderNo) -> Result<CloseOutcome, GatewayError> {
        let path = format!("/v3/pay/transactions/out-trade-no/{out_trade_no}/close");
        let body = json!({ "mchid": self.cfg.mchid }).to_string();
        match self
            .call(Method::POST, &self.target(&path), Some(&body), true)
            .await
        {
            Ok(_) => Ok(CloseOutcome::Closed),
            Err(GatewayError::Rejected { code, .. }) if PAID.contains(&code.as_str()) => {
                Ok(CloseOutcome::AlreadyPaid)
            }
            // Closed before, or never created: either way no payment can arrive.
            Err(GatewayError::Rejected { code, .. })
                if CLOSED.contains(&code.as_str()) || NOT_FOUND.contains(&code.as_str()) =>
            {
                Ok(CloseOutcome::Closed)
            }
            Err(e) => Err(e),
        }
    }

    async fn refund(&self, req: &RefundRequest) -> Result<ProviderRefund, GatewayError> {
        let body = json!({
            "out_trade_no": req.out_trade_no.as_str(),
            "out_refund_no": req.out_refund_no.as_str(),
            "reason": req.reason,
            "notify_url": self.cfg.refund_notify_url,
            "amount": {"refund": req.amount.get(), "total": req.total.get(), "currency": "CNY"},
        })
        .to_string();
        let a: RefundAnswer = self
            .json(Method::POST, "/v3/refund/domestic/refunds", Some(&body))
            .await?;
        Self::provider_refund(a)
    }

    async fn query_refund(
        &self,
        out_refund_no: &RefundNo,
    ) -> Result<Option<ProviderRefund>, GatewayError> {
        let path = format!("/v3/refund/domestic/refunds/{out_refund_no}");
        match self.json::<RefundAnswer>(Method::GET, &path, None).await {
            Ok(a) => Self::provider_refund(a).map(Some),
            Err(GatewayError::Rejected { code, .. }) if NOT_FOUND.contains(&code.as_str()) => {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    async fn trade_bill(&self, date: BizDate) -> Result<TradeBill, GatewayError> {
        let path = format!("/v3/bill/tradebill?bill_date={date}&bill_type=ALL");
        let a: BillAnswer = self.json(Method::GET, &path, None).await?;
        if !a.hash_type.eq_ignore_ascii_case("SHA1") {
            return Err(invalid(format!("hash type {}", a.hash_type)));
        }
        let target = self.absolute_target(&a.download_url)?;
        let (_, bytes) = self.call(Method::GET, &target, None, false).await?;
        let hash = sha1_hex(&bytes);
        if !hash.eq_ignore_ascii_case(a.hash_value.trim()) {
            return Err(invalid(format!(
                "bill SHA-1 {hash} does not match {}",
                a.hash_value
            )));
        }
        let text = String::from_utf8(bytes).map_err(|_| invalid("the bill is not UTF-8"))?;
        crate::bill::parse(date, &text).map_err(|e| invalid(format!("bill: {e}")))
    }
}
