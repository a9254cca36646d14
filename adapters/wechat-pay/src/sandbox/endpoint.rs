//! The sandbox's HTTP surface: the `/v3` endpoints the shop calls (merchant-signed requests,
//! platform-signed answers) and the unsigned `/control` API that plays shopper and bank.

use super::delivery::{DeliveryRecord, Notice};
use super::state::{Faults, Refund, State, Trade, TradeState};
use crate::config::{ConfigError, SandboxConfig};
use crate::crypto::{
    nonce, sha1_hex, verify_request, ApiV3Key, PublicKey, Signer, WechatpayHeaders,
};
use poem::http::{Method, StatusCode};
use poem::{Endpoint, Request, Response};
use serde::Deserialize;
use serde_json::{json, Value};
use shop_core::ports::{BillRow, Clock, TradeBill};
use shop_core::time::{BizDate, Span, Timestamp};
use shop_core::Fen;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// WeChat's requests are small; the limit keeps a sandbox exposed by the demo from being an
/// easy way to fill memory.
const MAX_BODY_BYTES: usize = 64 * 1024;

pub(crate) struct Inner {
    pub(crate) cfg: SandboxConfig,
    pub(crate) platform: Signer,
    pub(crate) merchant: PublicKey,
    pub(crate) apiv3: ApiV3Key,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) state: Mutex<State>,
    pub(crate) deliveries: Mutex<Vec<DeliveryRecord>>,
    pub(crate) held: Mutex<Vec<(Notice, Duration, u32)>>,
    pub(crate) http: reqwest::Client,
    pub(crate) stop: tokio::sync::watch::Sender<bool>,
    auto_settle_ms: Mutex<Option<u64>>,
    /// Random per instance, inside every id the sandbox makes: a restarted sandbox must not
    /// hand out a transaction id the shop already recorded for another order.
    instance: u32,
}

/// The WeChat Pay simulator; cheap to clone. Serve it as a poem endpoint (nested at `/sandbox`
/// in `shop-api`) or with [`super::serve`]. Callbacks go out on background tasks that stop at
/// [`Sandbox::shutdown`].
#[derive(Clone)]
pub struct Sandbox {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("cfg", &self.inner.cfg)
            .finish_non_exhaustive()
    }
}

type Answer = (StatusCode, Value);

/// Why a control action (pay, fail, settle) was refused; the control API answers 409 with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ControlError {
    #[error("no prepay for {0}")]
    UnknownTrade(String),
    #[error("no refund {0}")]
    UnknownRefund(String),
    #[error("the trade is already {0}")]
    TradeIs(&'static str),
    #[error("the payment expired (time_expire passed)")]
    Expired,
    #[error("the refund is already {0}")]
    RefundIs(String),
    #[error("status `{0}`: use SUCCESS, ABNORMAL or CLOSED")]
    BadStatus(String),
    #[error("sandbox state unavailable")]
    State,
}

fn wx_error(status: StatusCode, code: &str, message: &str) -> Answer {
    (status, json!({"code": code, "message": message}))
}

fn system_error() -> Answer {
    wx_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "SYSTEM_ERROR",
        "sandbox state unavailable",
    )
}

impl Sandbox {
    /// Fails only on configuration: keys that do not parse, an APIv3 key of the wrong size.
    pub fn new(cfg: SandboxConfig, clock: Arc<dyn Clock>) -> Result<Sandbox, ConfigError> {
        cfg.check()?;
        let bad = |name: &'static str, problem: String| ConfigError::Invalid { name, problem };
        let platform = Signer::from_pem(&cfg.platform_private_key)
            .map_err(|e| bad("SHOP_SANDBOX_PLATFORM_KEY_FILE", e.to_string()))?;
        let merchant = PublicKey::from_pem(&cfg.merchant_public_key)
            .map_err(|e| bad("SHOP_SANDBOX_MERCHANT_PUBLIC_KEY_FILE", e.to_string()))?;
        let apiv3 = ApiV3Key::new(&cfg.apiv3_key)
            .ok_or_else(|| bad("SHOP_WECHAT_APIV3_KEY", "must be 32 bytes".into()))?;
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(2))
            .timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| bad("SHOP_SANDBOX_TIME_SCALE", e.to_string()))?;
        let (stop, _) = tokio::sync::watch::channel(false);
        let auto_settle_ms = Mutex::new(cfg.auto_settle_refunds_ms);
        Ok(Sandbox {
            inner: Arc::new(Inner {
                cfg,
                platform,
                merchant,
                apiv3,
                clock,
                state: Mutex::new(State::default()),
                deliveries: Mutex::new(vec![]),
                held: Mutex::new(vec![]),
                http,
                stop,
                auto_settle_ms,
                instance: rand::random::<u32>() % 1_000_000,
            }),
        })
    }

    pub fn config(&self) -> &SandboxConfig {
        &self.inner.cfg
    }

    /// Stops every callback delivery and pending refund settlement; requests are still
    /// answered until the server itself stops.
    pub fn shutdown(&self) {
        self.inner.stop.send_replace(true);
    }

    pub fn is_shut_down(&self) -> bool {
        *self.inner.stop.borrow()
    }

    /// Every delivery attempt so far, oldest first.
    pub fn deliveries(&self) -> Vec<DeliveryRecord> {
        self.inner
            .deliveries
            .lock()
            .map(|d| d.clone())
            .unwrap_or_default()
    }

    /// Faults for the next callbacks: of `faults.out_trade_no` only, or of all.
    pub fn set_faults(&self, faults: Faults) {
        if let Ok(mut s) = self.inner.state.lock() {
            s.set_faults(faults);
        }
    }

    pub fn clear_faults(&self) {
        if let Ok(mut s) = self.inner.state.lock() {
            s.clear_faults();
        }
    }

    /// After how long refunds settle SUCCESS by themselves; `None`: only by
    /// [`Sandbox::settle_refund`].
    pub fn set_auto_settle(&self, ms: Option<u64>) {
        if let Ok(mut a) = self.inner.auto_settle_ms.lock() {
            *a = ms;
        }
    }

    /// The shopper pays in the WeChat sheet: the trade succeeds, gets a transaction id, and
    /// the TRANSACTION.SUCCESS callback goes to the prepay's notify_url.
    pub fn pay(&self, out_trade_no: &str) -> Result<String, ControlError> {
        self.inner.pay(out_trade_no, false)
    }

    /// A payment that completes although the shop closed (or tried to close) the prepay: the
    /// race a real shop meets when its close request timed out or crossed the shopper's
    /// payment. The trade succeeds even if CLOSED or past `time_expire`, and is called back.
    pub fn pay_late(&self, out_trade_no: &str) -> Result<String, ControlError> {
        self.inner.pay(out_trade_no, true)
    }

    /// The payment fails (bank declined): PAYERROR, and like WeChat no callback.
    pub fn fail(&self, out_trade_no: &str) -> Result<(), ControlError> {
        let mut s = self.inner.state.lock().map_err(|_| ControlError::State)?;
        let t = s
            .trades
            .get_mut(out_trade_no)
            .ok_or_else(|| ControlError::UnknownTrade(out_trade_no.into()))?;
        if t.state != TradeState::NotPay {
            return Err(ControlError::TradeIs(t.state.as_str()));
        }
        t.state = TradeState::PayError;
        Ok(())
    }

    /// Settles a PROCESSING refund as SUCCESS, ABNORMAL or CLOSED and sends its callback.
    pub fn settle_refund(&self, out_refund_no: &str, status: &str) -> Result<(), ControlError> {
        self.inner.settle(out_refund_no, status)
    }
}

fn transaction_json(cfg: &SandboxConfig, t: &Trade) -> Value {
    json!({
        "mchid": cfg.mchid, "appid": cfg.appid, "out_trade_no": t.out_trade_no,
        "transaction_id": t.transaction_id, "trade_type": "JSAPI", "trade_state": t.state.as_str(),
        "trade_state_desc": if t.state == TradeState::Success { "支付成功" } else { "" },
        "bank_type": "OTHERS", "attach": "",
        "success_time": t.success_time.map(Timestamp::to_rfc3339_cn),
        "payer": {"openid": t.openid},
        "amount": {"total": t.amount, "payer_total": t.amount, "currency": "CNY", "payer_currency": "CNY"},
    })
}

fn refund_json(r: &Refund) -> Value {
    json!({
        "refund_id": r.refund_id, "out_refund_no": r.out_refund_no, "transaction_id": r.transaction_id,
        "out_trade_no": r.out_trade_no, "channel": "ORIGINAL", "user_received_account": "支付用户零钱",
        "success_time": r.success_time.map(Timestamp::to_rfc3339_cn), "create_time": r.created.to_rfc3339_cn(),
        "status": r.status,
        "amount": {"total": r.total, "refund": r.amount, "payer_total": r.total, "payer_refund": r.amount, "currency": "CNY"},
    })
}

/// WeChat's fee, 0.6 %, rounded to the fen.
fn fee(amount: i64) -> i64 {
    (amount * 6 + 500) / 1000
}

impl Inner {
    /// Runs `task` in the background until it ends or the sandbox shuts down. Outside a Tokio
    /// runtime there is nothing to run it on; that is logged rather than a panic.
    pub(crate) fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        let mut stop = self.stop.subscribe();
        if *stop.borrow_and_update() {
            return;
        }
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn(async move {
                    tokio::select! {
                        () = task => {}
                        _ = stop.changed() => {}
                    }
                });
            }
            Err(_) => {
                tracing::warn!("WeChat Pay sandbox used outside a Tokio runtime; task dropped")
            }
        }
    }

    fn id(&self, prefix: &str, seq: u64, now: Timestamp) -> String {
        format!(
            "{prefix}{}{:06}{:010}",
            now.cn_date().compact(),
            self.instance,
            seq
        )
    }

    fn pay(self: &Arc<Self>, out_trade_no: &str, late: bool) -> Result<String, ControlError> {
        let now = self.clock.now();
        let (notice, tx) = {
            let mut s = self.state.lock().map_err(|_| ControlError::State)?;
            let seq = s.next();
            let tx = self.id("4200", seq, now);
            let t = s
                .trades
                .get_mut(out_trade_no)
                .ok_or_else(|| ControlError::UnknownTrade(out_trade_no.into()))?;
            match t.state {
                TradeState::NotPay | TradeState::PayError => {}
                TradeState::Closed if late => {}
                other => return Err(ControlError::TradeIs(other.as_str())),
            }
            if now > t.time_expire && !late {
                return Err(ControlError::Expired);
            }
            t.state = TradeState::Success;
            t.transaction_id = Some(tx.clone());
            t.success_time = Some(now);
            let notice = Notice {
                id: format!("EV-{}-{seq}", self.id("", seq, now)),
                event_type: "TRANSACTION.SUCCESS".into(),
                summary: "支付成功".into(),
                original_type: "transaction",
                key: out_trade_no.to_string(),
                url: t.notify_url.clone(),
                resource: transaction_json(&self.cfg, t),
                bad_signature: false,
            };
            (notice, tx)
        };
        self.dispatch(notice, out_trade_no);
        Ok(tx)
    }

    fn settle(self: &Arc<Self>, out_refund_no: &str, status: &str) -> Result<(), ControlError> {
        let summary = match status {
            "SUCCESS" => "退款成功",
            "ABNORMAL" => "退款异常",
            "CLOSED" => "退款关闭",
            other => return Err(ControlError::BadStatus(other.into())),
        };
        let now = self.clock.now();
        let (notice, trade_key) = {
            let mut s = self.state.lock().map_err(|_| ControlError::State)?;
            let seq = s.next();
            let r = s
                .refunds
                .get_mut(out_refund_no)
                .ok_or_else(|| ControlError::UnknownRefund(out_refund_no.into()))?;
            if r.status != "PROCESSING" {
                return Err(ControlError::RefundIs(r.status.clone()));
            }
            r.status = status.to_string();
            if status == "SUCCESS" {
                r.success_time = Some(now);
            }
            let r = r.clone();
            if status == "SUCCESS" {
                if let Some(t) = s.trades.get_mut(&r.out_trade_no) {
                    t.refunded += r.amount;
                }
            }
            let resource = json!({
                "mchid": self.cfg.mchid, "out_trade_no": r.out_trade_no, "transaction_id": r.transaction_id,
                "out_refund_no": r.out_refund_no, "refund_id": r.refund_id, "refund_status": r.status,
                "success_time": r.success_time.map(Timestamp::to_rfc3339_cn), "user_received_account": "支付用户零钱",
                "amount": {"total": r.total, "refund": r.amount, "payer_total": r.total, "payer_refund": r.amount},
            });
            let notice = Notice {
                id: format!("EV-{}-{seq}", self.id("", seq, now)),
                event_type: format!("REFUND.{status}"),
                summary: summary.into(),
                original_type: "refund",
                key: r.out_refund_no.clone(),
                url: r.notify_url.clone(),
                resource,
                bad_signature: false,
            };
            (notice, r.out_trade_no)
        };
        self.dispatch(notice, &trade_key);
        Ok(())
    }

    /// Checks the merchant's `Authorization` over exactly what was sent. The path is the one
    /// under the sandbox's mount point (what a client with base URL `…/sandbox` signs); a
    /// client that followed an absolute URL signed the full path, which is accepted too.
    fn authenticate(&self, req: &Request, body: &str) -> Result<(), Answer> {
        let auth = req
            .headers()
            .get("Authorization")
            .and_then(|v| v.to_str().ok());
        let now = self.clock.now().seconds();
        let check = |path: &str| {
            verify_request(
                &self.merchant,
                &self.cfg.mchid,
                req.method().as_str(),
                path,
                body,
                auth,
                now,
            )
        };
        let path_of = |uri: &poem::http::Uri| {
            uri.path_and_query()
                .map(|p| p.as_str().to_string())
                .unwrap_or_default()
        };
        let inner = path_of(req.uri());
        let full = path_of(req.original_uri());
        match check(&inner) {
            Ok(_) => Ok(()),
            Err(_) if full != inner && check(&full).is_ok() => Ok(()),
            Err(e) => Err(wx_error(
                StatusCode::UNAUTHORIZED,
                "SIGN_ERROR",
                &format!("签名错误: {e}"),
            )),
        }
    }

    /// Signs an answer with the platform key, as WeChat signs every answer.
    fn signed(&self, (status, body): Answer) -> Response {
        let body = if status == StatusCode::NO_CONTENT {
            String::new()
        } else {
            body.to_string()
        };
        let ts = self.clock.now().seconds().to_string();
        let headers = match WechatpayHeaders::sign(
            &self.platform,
            &self.cfg.platform_serial,
            &ts,
            &nonce(32),
            body.as_bytes(),
        ) {
            Ok(h) => h,
            Err(e) => {
                return Response::builder()
                    .status(StatusCode::INTERNAL_SERVER_ERROR)
                    .body(e.to_string())
            }
        };
        let mut resp = Response::builder().status(status);
        for (k, v) in headers.pairs() {
            resp = resp.header(k, v);
        }
        if status != StatusCode::NO_CONTENT {
            resp = resp.content_type("application/json");
        }
        resp.body(body)
    }

    fn jsapi(&self, body: &str) -> Answer {
        #[derive(Deserialize)]
        struct Amount {
            total: i64,
            currency: Option<String>,
        }
        #[derive(Deserialize)]
        struct Payer {
            openid: String,
        }
        #[derive(Deserialize)]
        struct Prepay {
            appid: String,
            mchid: String,
            description: String,
            out_trade_no: String,
            time_expire: Option<String>,
            notify_url: String,
            amount: Amount,
            payer: Payer,
        }
        let p = match serde_json::from_str::<Prepay>(body) {
            Ok(p) => p,
            Err(e) => return wx_error(StatusCode::BAD_REQUEST, "PARAM_ERROR", &e.to_string()),
        };
        if p.appid != self.cfg.appid || p.mchid != self.cfg.mchid {
            return wx_error(
                StatusCode::BAD_REQUEST,
                "APPID_MCHID_NOT_MATCH",
                "appid和mch_id不匹配",
            );
        }
        if p.amount.total <= 0 || p.amount.currency.as_deref().is_some_and(|c| c != "CNY") {
            return wx_error(
                StatusCode::BAD_REQUEST,
                "PARAM_ERROR",
                "amount must be positive CNY",
            );
        }
        if !p.notify_url.starts_with("http") {
            return wx_error(
                StatusCode::BAD_REQUEST,
                "PARAM_ERROR",
                "notify_url is not a URL",
            );
        }
        let now = self.clock.now();
        let time_expire = match p.time_expire.as_deref().map(Timestamp::parse_rfc3339) {
            Some(Ok(t)) => t,
            Some(Err(_)) => {
                return wx_error(
                    StatusCode::BAD_REQUEST,
                    "PARAM_ERROR",
                    "time_expire is not RFC 3339",
                )
            }
            None => now.plus(Span::hours(2)),
        };
        let fingerprint = format!(
            "{}|{}|{}|{}|{}",
            p.description,
            p.amount.total,
            p.payer.openid,
            p.notify_url,
            time_expire.millis()
        );
        let Ok(mut s) = self.state.lock() else {
            return system_error();
        };
        let seq = s.next();
        if let Some(t) = s.trades.get(&p.out_trade_no) {
            return match t.state {
                TradeState::Success => {
                    wx_error(StatusCode::BAD_REQUEST, "ORDER_PAID", "该订单已支付")
                }
                TradeState::Closed => {
                    wx_error(StatusCode::BAD_REQUEST, "ORDER_CLOSED", "该订单已关闭")
                }
                _ if t.fingerprint != fingerprint => wx_error(
                    StatusCode::BAD_REQUEST,
                    "INVALID_REQUEST",
                    "201 商户订单号重复: 参数与首次请求时不一致",
                ),
                _ => (StatusCode::OK, json!({"prepay_id": t.prepay_id})),
            };
        }
        let prepay_id = format!("wx{}", self.id("", seq, now));
        s.trades.insert(
            p.out_trade_no.clone(),
            Trade {
                out_trade_no: p.out_trade_no,
                fingerprint,
                prepay_id: prepay_id.clone(),
                amount: p.amount.total,
                openid: p.payer.openid,
                notify_url: p.notify_url,
                time_expire,
                state: TradeState::NotPay,
                transaction_id: None,
                success_time: None,
                refunded: 0,
            },
        );
        (StatusCode::OK, json!({"prepay_id": prepay_id}))
    }

    fn query(&self, no: &str, query: &str) -> Answer {
        let mchid = query.split('&').find_map(|kv| kv.strip_prefix("mchid="));
        if mchid != Some(self.cfg.mchid.as_str()) {
            return wx_error(
                StatusCode::BAD_REQUEST,
                "PARAM_ERROR",
                "mchid is required and must be ours",
            );
        }
        self.trade(no)
    }

    fn trade(&self, no: &str) -> Answer {
        let Ok(s) = self.state.lock() else {
            return system_error();
        };
        match s.trades.get(no) {
            None => wx_error(StatusCode::NOT_FOUND, "ORDER_NOT_EXIST", "订单不存在"),
            Some(t) => {
                let mut v = transaction_json(&self.cfg, t);
                if t.state == TradeState::Success && t.refunded > 0 {
                    v["trade_state"] = json!("REFUND");
                    v["trade_state_desc"] = json!("转入退款");
                }
                (StatusCode::OK, v)
            }
        }
    }

    fn close(&self, no: &str, body: &str) -> Answer {
        #[derive(Deserialize)]
        struct Close {
            mchid: String,
        }
        match serde_json::from_str::<Close>(body) {
            Ok(c) if c.mchid == self.cfg.mchid => {}
            _ => {
                return wx_error(
                    StatusCode::BAD_REQUEST,
                    "PARAM_ERROR",
                    "mchid is required and must be ours",
                )
            }
        }
        let Ok(mut s) = self.state.lock() else {
            return system_error();
        };
        match s.trades.get_mut(no) {
            Some(t) if t.state == TradeState::Success => {
                wx_error(StatusCode::BAD_REQUEST, "ORDER_PAID", "订单已支付")
            }
            Some(t) => {
                t.state = TradeState::Closed;
                (StatusCode::NO_CONTENT, Value::Null)
            }
            None => (StatusCode::NO_CONTENT, Value::Null),
        }
    }

    fn refund(self: &Arc<Self>, body: &str) -> Answer {
        #[derive(Deserialize)]
        struct Amount {
            refund: i64,
            total: i64,
            currency: Option<String>,
        }
        #[derive(Deserialize)]
        struct Req {
            out_trade_no: Option<String>,
            transaction_id: Option<String>,
            out_refund_no: String,
            notify_url: Option<String>,
            amount: Amount,
        }
        let r = match serde_json::from_str::<Req>(body) {
            Ok(r) => r,
            Err(e) => return wx_error(StatusCode::BAD_REQUEST, "PARAM_ERROR", &e.to_string()),
        };
        if r.amount.currency.as_deref().is_some_and(|c| c != "CNY") {
            return wx_error(
                StatusCode::BAD_REQUEST,
                "PARAM_ERROR",
                "currency must be CNY",
            );
        }
        let now = self.clock.now();
        let answer = {
            let Ok(mut s) = self.state.lock() else {
                return system_error();
            };
            if let Some(existing) = s.refunds.get(&r.out_refund_no) {
                // One refund per number: a retry gets the same refund, not a second one.
                return (StatusCode::OK, refund_json(existing));
            }
            let seq = s.next();
            let trade = match (&r.out_trade_no, &r.transaction_id) {
                (Some(no), _) => s.trades.get(no),
                (None, Some(tx)) => s
                    .trades
                    .values()
                    .find(|t| t.transaction_id.as_deref() == Some(tx.as_str())),
                (None, None) => {
                    return wx_error(
                        StatusCode::BAD_REQUEST,
                        "PARAM_ERROR",
                        "out_trade_no or transaction_id",
                    )
                }
            };
            let Some(t) = trade else {
                return wx_error(StatusCode::NOT_FOUND, "RESOURCE_NOT_EXISTS", "订单不存在");
            };
            if t.state != TradeState::Success {
                return wx_error(StatusCode::BAD_REQUEST, "INVALID_REQUEST", "订单未支付");
            }
            if r.amount.total != t.amount {
                return wx_error(
                    StatusCode::BAD_REQUEST,
                    "INVALID_REQUEST",
                    "订单金额与支付金额不一致",
                );
            }
            let committed: i64 = s
                .refunds
                .values()
                .filter(|x| {
                    x.out_trade_no == t.out_trade_no
                        && matches!(x.status.as_str(), "PROCESSING" | "SUCCESS")
                })
                .map(|x| x.amount)
                .sum();
            if r.amount.refund <= 0 || committed + r.amount.refund > t.amount {
                return wx_error(
                    StatusCode::BAD_REQUEST,
                    "INVALID_REQUEST",
                    "申请退款金额超过订单可退金额",
                );
            }
            let refund = Refund {
                out_refund_no: r.out_refund_no.clone(),
                refund_id: self.id("503", seq, now),
                out_trade_no: t.out_trade_no.clone(),
                transaction_id: t.transaction_id.clone().unwrap_or_default(),
                amount: r.amount.refund,
                total: r.amount.total,
                status: "PROCESSING".into(),
                notify_url: r.notify_url.unwrap_or_default(),
                created: now,
                success_time: None,
            };
            let json = refund_json(&refund);
            s.refunds.insert(refund.out_refund_no.clone(), refund);
            json
        };
        let auto = self.auto_settle_ms.lock().ok().and_then(|a| *a);
        if let Some(ms) = auto {
            let me = self.clone();
            let no = r.out_refund_no;
            self.spawn(async move {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                // Settled by hand in the meantime is fine.
                let _ = me.settle(&no, "SUCCESS");
            });
        }
        (StatusCode::OK, answer)
    }

    fn refund_query(&self, no: &str) -> Answer {
        let Ok(s) = self.state.lock() else {
            return system_error();
        };
        match s.refunds.get(no) {
            Some(r) => (StatusCode::OK, refund_json(r)),
            None => wx_error(StatusCode::NOT_FOUND, "RESOURCE_NOT_EXISTS", "退款单不存在"),
        }
    }

    /// The day's bill, built from the trades and refunds that succeeded that day (China time).
    fn bill(&self, query: &str, download_base: &str) -> Answer {
        let param = |name: &str| {
            query
                .split('&')
                .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
        };
        let Some(date) = param("bill_date").and_then(|d| BizDate::parse(d).ok()) else {
            return wx_error(
                StatusCode::BAD_REQUEST,
                "PARAM_ERROR",
                "bill_date is YYYY-MM-DD",
            );
        };
        if !matches!(param("bill_type"), None | Some("ALL")) {
            return wx_error(
                StatusCode::BAD_REQUEST,
                "PARAM_ERROR",
                "the sandbox has bill_type=ALL only",
            );
        }
        if date > self.clock.now().cn_date() {
            return wx_error(StatusCode::BAD_REQUEST, "NO_STATEMENT_EXIST", "账单不存在");
        }
        let Ok(mut s) = self.state.lock() else {
            return system_error();
        };
        let in_day = |t: Timestamp| t >= date.start() && t < date.end();
        let mut rows = vec![];
        let mut trades: Vec<&Trade> = s
            .trades
            .values()
            .filter(|t| t.success_time.is_some_and(in_day))
            .collect();
        trades.sort_by_key(|t| (t.success_time, t.out_trade_no.clone()));
        for t in trades {
            rows.push(BillRow {
                trade_time: t
                    .success_time
                    .map(Timestamp::to_cn_datetime)
                    .unwrap_or_default(),
                transaction_id: t.transaction_id.clone().unwrap_or_default(),
                out_trade_no: t.out_trade_no.clone(),
                trade_state: "SUCCESS".into(),
                settled_amount: Fen::new(t.amount),
                refund_id: None,
                out_refund_no: None,
                refund_amount: Fen::ZERO,
                refund_status: None,
                fee: Fen::new(fee(t.amount)),
            });
        }
        let mut refunds: Vec<&Refund> = s
            .refunds
            .values()
            .filter(|r| r.status == "SUCCESS" && r.success_time.is_some_and(in_day))
            .collect();
        refunds.sort_by_key(|r| (r.success_time, r.out_refund_no.clone()));
        for r in refunds {
            rows.push(BillRow {
                trade_time: r
                    .success_time
                    .map(Timestamp::to_cn_datetime)
                    .unwrap_or_default(),
                transaction_id: r.transaction_id.clone(),
                out_trade_no: r.out_trade_no.clone(),
                trade_state: "REFUND".into(),
                settled_amount: Fen::ZERO,
                refund_id: Some(r.refund_id.clone()),
                out_refund_no: Some(r.out_refund_no.clone()),
                refund_amount: Fen::new(r.amount),
                refund_status: Some("SUCCESS".into()),
                fee: Fen::new(-fee(r.amount)),
            });
        }
        let bill = TradeBill {
            date,
            total_count: i64::try_from(rows.len()).unwrap_or(i64::MAX),
            total_settled: rows.iter().map(|r| r.settled_amount).sum(),
            total_refund: rows.iter().map(|r| r.refund_amount).sum(),
            total_fee: rows.iter().map(|r| r.fee).sum(),
            rows,
        };
        let csv = crate::bill::render(&bill, &self.cfg.mchid, &self.cfg.appid).into_bytes();
        let hash = sha1_hex(&csv);
        let token = format!("{}{}", date.compact(), &hash[..16]);
        s.bills.insert(token.clone(), csv);
        (
            StatusCode::OK,
            json!({
                "download_url": format!("{download_base}/v3/billdownload/file?token={token}"),
                "hash_type": "SHA1",
                "hash_value": hash,
            }),
        )
    }

    async fn v3(self: &Arc<Self>, req: &Request, body: &str, download_base: &str) -> Response {
        if let Err(a) = self.authenticate(req, body) {
            return self.signed(a);
        }
        let query = req.uri().query().unwrap_or("");
        let segs: Vec<&str> = req.uri().path().trim_matches('/').split('/').collect();
        let answer = match (req.method().clone(), segs.as_slice()) {
            (Method::POST, ["v3", "pay", "transactions", "jsapi"]) => self.jsapi(body),
            (Method::GET, ["v3", "pay", "transactions", "out-trade-no", no]) => {
                self.query(no, query)
            }
            (Method::POST, ["v3", "pay", "transactions", "out-trade-no", no, "close"]) => {
                self.close(no, body)
            }
            (Method::POST, ["v3", "refund", "domestic", "refunds"]) => self.refund(body),
            (Method::GET, ["v3", "refund", "domestic", "refunds", no]) => self.refund_query(no),
            (Method::GET, ["v3", "bill", "tradebill"]) => self.bill(query, download_base),
            (Method::GET, ["v3", "billdownload", "file"]) => {
                let token = query
                    .split('&')
                    .find_map(|kv| kv.strip_prefix("token="))
                    .unwrap_or("");
                let file = self
                    .state
                    .lock()
                    .ok()
                    .and_then(|s| s.bills.get(token).cloned());
                return match file {
                    // The bill file is the one unsigned answer: it is checked by its SHA-1.
                    Some(bytes) => Response::builder()
                        .content_type("text/csv; charset=utf-8")
                        .body(bytes),
                    None => self.signed(wx_error(
                        StatusCode::NOT_FOUND,
                        "NO_STATEMENT_EXIST",
                        "账单不存在",
                    )),
                };
            }
            _ => wx_error(
                StatusCode::NOT_FOUND,
                "NOT_FOUND",
                "no such endpoint in the sandbox",
            ),
        };
        self.signed(answer)
    }

    fn control(
        self: &Arc<Self>,
        method: &Method,
        segs: &[&str],
        query: &str,
        body: &str,
    ) -> Answer {
        #[derive(Deserialize)]
        struct Trade {
            out_trade_no: String,
            /// Pay even a CLOSED or expired trade (see [`Sandbox::pay_late`]).
            #[serde(default)]
            late: bool,
        }
        #[derive(Deserialize)]
        struct Settle {
            status: String,
        }
        #[derive(Deserialize)]
        struct Settings {
            auto_settle_refunds_ms: Option<u64>,
        }
        fn parse<T: for<'de> Deserialize<'de>>(body: &str) -> Result<T, Answer> {
            serde_json::from_str(body)
                .map_err(|e| (StatusCode::BAD_REQUEST, json!({"error": e.to_string()})))
        }
        let conflict = |e: ControlError| (StatusCode::CONFLICT, json!({"error": e.to_string()}));
        let sb = Sandbox {
            inner: self.clone(),
        };
        let result = match (method.clone(), segs) {
            (Method::POST, ["pay"]) => {
                parse::<Trade>(body).map(|t| match sb.inner.pay(&t.out_trade_no, t.late) {
                    Ok(tx) => (StatusCode::OK, json!({"transaction_id": tx})),
                    Err(e) => conflict(e),
                })
            }
            (Method::POST, ["fail"]) => {
                parse::<Trade>(body).map(|t| match sb.fail(&t.out_trade_no) {
                    Ok(()) => (StatusCode::OK, json!({"trade_state": "PAYERROR"})),
                    Err(e) => conflict(e),
                })
            }
            (Method::GET, ["trades", no]) => Ok(self.trade(no)),
            (Method::GET, ["refunds", no]) => Ok(self.refund_query(no)),
            (Method::POST, ["refunds", no]) => {
                parse::<Settle>(body).map(|st| match sb.settle_refund(no, &st.status) {
                    Ok(()) => (StatusCode::OK, json!({"status": st.status})),
                    Err(e) => conflict(e),
                })
            }
            (Method::POST, ["faults"]) => parse::<Faults>(body).map(|f| {
                sb.set_faults(f.clone());
                (StatusCode::OK, json!(f))
            }),
            (Method::DELETE, ["faults"]) => {
                sb.clear_faults();
                Ok((StatusCode::OK, json!({})))
            }
            (Method::POST, ["settings"]) => parse::<Settings>(body).map(|s| {
                sb.set_auto_settle(s.auto_settle_refunds_ms);
                (
                    StatusCode::OK,
                    json!({"auto_settle_refunds_ms": s.auto_settle_refunds_ms}),
                )
            }),
            (Method::GET, ["deliveries"]) => {
                let key = query.split('&').find_map(|kv| kv.strip_prefix("key="));
                let log: Vec<DeliveryRecord> = sb
                    .deliveries()
                    .into_iter()
                    .filter(|d| key.is_none_or(|k| d.key == k))
                    .collect();
                Ok((StatusCode::OK, json!(log)))
            }
            _ => Ok((
                StatusCode::NOT_FOUND,
                json!({"error": "no such control endpoint"}),
            )),
        };
        result.unwrap_or_else(|a| a)
    }
}

impl Endpoint for Sandbox {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Response> {
        let body = match req.take_body().into_bytes_limit(MAX_BODY_BYTES).await {
            Ok(b) => b,
            Err(_) => {
                return Ok(Response::builder()
                    .status(StatusCode::PAYLOAD_TOO_LARGE)
                    .body("request body too large"))
            }
        };
        let Ok(body) = String::from_utf8(body.to_vec()) else {
            return Ok(Response::builder()
                .status(StatusCode::BAD_REQUEST)
                .body("request body is not UTF-8"));
        };
        // Where the sandbox is mounted (`/sandbox` inside shop-api), for absolute download URLs.
        let full = req.original_uri().path().to_string();
        let prefix = full
            .strip_suffix(req.uri().path())
            .unwrap_or("")
            .to_string();
        let host = req
            .headers()
            .get("host")
            .and_then(|h| h.to_str().ok())
            .unwrap_or("127.0.0.1")
            .to_string();
        // Behind a TLS-terminating proxy the URL the shop can follow is https.
        let scheme = req
            .headers()
            .get("x-forwarded-proto")
            .and_then(|h| h.to_str().ok())
            .filter(|p| *p == "https")
            .unwrap_or("http");
        let download_base = format!("{scheme}://{host}{prefix}");
        let path = req.uri().path().to_string();
        if path.starts_with("/v3/") {
            return Ok(self.inner.v3(&req, &body, &download_base).await);
        }
        let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
        if segs.first() == Some(&"control") {
            let query = req.uri().query().unwrap_or("");
            let (status, v) = self.inner.control(req.method(), &segs[1..], query, &body);
            return Ok(Response::builder()
                .status(status)
                .content_type("application/json")
                .body(v.to_string()));
        }
        Ok(Response::builder()
            .status(StatusCode::NOT_FOUND)
            .body("WeChat Pay sandbox: /v3/… (signed) and /control/…"))
    }
}
