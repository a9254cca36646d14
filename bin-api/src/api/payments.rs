//! Paying: the `wx.requestPayment` parameters, and WeChat's signed callbacks. A callback is
//! acted on only after its signature, timestamp, decryption, merchant and app ids, order and
//! amount all check out; anything else gets a 4xx with a FAIL body, a warning and a metric.

use super::models::id_at;
use super::ApiTags;
use crate::auth::ShopperAuth;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use poem::web::Data;
use poem::{Request, RequestBody};
use poem_openapi::error::ParseRequestPayloadError;
use poem_openapi::param::Path;
use poem_openapi::payload::{Json, ParsePayload, Payload};
use poem_openapi::registry::{MetaSchemaRef, Registry};
use poem_openapi::types::Type;
use poem_openapi::{impl_apirequest_for_payload, ApiResponse, Object, OpenApi};
use shop_core::ids::OrderId;
use shop_core::ports::{PaymentSource, ProviderRefund, ProviderRefundStatus};
use shop_core::text::{OrderNo, RefundNo, TransactionId};
use shop_core::time::Timestamp;
use shop_core::usecases::{Confirmed, PaymentReport};
use shop_core::{ErrorCode, Fen, ShopError};
use shop_wechat_pay::crypto::WechatpayHeaders;
use shop_wechat_pay::notify::{self, Notice};
use std::time::Instant;

pub struct PaymentsApi;

/// The parameters of `wx.requestPayment`, signed by the server.
#[derive(Debug, Object)]
pub struct PayParamsOut {
    #[oai(rename = "appId")]
    pub app_id: String,
    #[oai(rename = "timeStamp")]
    pub time_stamp: String,
    #[oai(rename = "nonceStr")]
    pub nonce_str: String,
    /// `prepay_id=…`
    pub package: String,
    #[oai(rename = "signType")]
    pub sign_type: String,
    #[oai(rename = "paySign")]
    pub pay_sign: String,
}

/// The resource of a callback, encrypted with the APIv3 key.
#[derive(Debug, Object)]
pub struct NotifyResource {
    pub original_type: String,
    pub algorithm: String,
    pub ciphertext: String,
    pub associated_data: Option<String>,
    pub nonce: String,
}

/// A WeChat Pay v3 callback as it arrives (signed with `Wechatpay-*` headers).
#[derive(Debug, Object)]
pub struct NotifyEnvelope {
    pub id: String,
    pub create_time: String,
    pub resource_type: String,
    /// `TRANSACTION.SUCCESS`, `REFUND.SUCCESS`, `REFUND.ABNORMAL`, `REFUND.CLOSED`.
    pub event_type: String,
    pub summary: String,
    pub resource: NotifyResource,
}

/// The exact bytes of a JSON body: the signature covers them, so they must not be re-serialised.
#[derive(Debug)]
pub struct SignedJson(pub Vec<u8>);

impl Payload for SignedJson {
    const CONTENT_TYPE: &'static str = "application/json";

    fn schema_ref() -> MetaSchemaRef {
        NotifyEnvelope::schema_ref()
    }

    fn register(registry: &mut Registry) {
        NotifyEnvelope::register(registry);
    }
}

impl ParsePayload for SignedJson {
    const IS_REQUIRED: bool = true;

    async fn from_request(request: &Request, body: &mut RequestBody) -> poem::Result<Self> {
        let data = <Vec<u8> as poem::FromRequest>::from_request(request, body)
            .await
            .map_err(|e| ParseRequestPayloadError {
                reason: e.to_string(),
            })?;
        Ok(SignedJson(data))
    }
}

impl_apirequest_for_payload!(SignedJson);

/// What WeChat reads: only the status matters to it; the body says why for people.
#[derive(Debug, Object)]
pub struct NotifyAck {
    /// `FAIL`
    pub code: String,
    pub message: String,
}

#[derive(ApiResponse)]
pub enum NotifyResponse {
    /// Recorded (or recorded before): WeChat stops sending it.
    #[oai(status = 204)]
    Received,
    /// Forged, broken or not ours: never acted on. WeChat may retry; the answer stays the same.
    #[oai(status = 400)]
    Rejected(Json<NotifyAck>),
    /// The shop could not record it now; WeChat retries on its schedule.
    #[oai(status = 500)]
    RetryLater(Json<NotifyAck>),
}

fn fail(message: impl Into<String>) -> Json<NotifyAck> {
    Json(NotifyAck {
        code: "FAIL".into(),
        message: message.into(),
    })
}

impl PaymentsApi {
    fn reject(state: &AppState, kind: &str, reason: &str, detail: &str) -> NotifyResponse {
        state
            .metrics
            .callbacks_rejected
            .with_label_values(&[reason])
            .inc();
        state
            .metrics
            .callbacks
            .with_label_values(&[kind, "rejected"])
            .inc();
        tracing::warn!(kind, reason, detail, "WeChat callback refused");
        NotifyResponse::Rejected(fail(format!("{reason}: {detail}")))
    }

    fn retry_later(state: &AppState, kind: &str, e: &ShopError) -> NotifyResponse {
        state
            .metrics
            .callbacks
            .with_label_values(&[kind, "retry"])
            .inc();
        tracing::warn!(kind, error = %e, "WeChat callback not recorded now; WeChat will retry");
        NotifyResponse::RetryLater(fail("temporarily unavailable"))
    }

    fn parse_notice(
        state: &AppState,
        req: &Request,
        body: &[u8],
    ) -> Result<Notice, notify::NotifyError> {
        let headers = WechatpayHeaders::read(|k| {
            req.headers()
                .get(k)
                .and_then(|v| v.to_str().ok())
                .map(String::from)
        });
        notify::parse(
            &state.notify.platform,
            &state.notify.apiv3,
            &headers,
            body,
            state.shop.clock.now().seconds(),
        )
    }

    async fn transaction(
        state: &AppState,
        id: String,
        t: notify::Transaction,
        raw: String,
    ) -> NotifyResponse {
        const KIND: &str = "payment";
        if let Err(e) = t.check_ours(&state.notify.mchid, &state.notify.appid) {
            return Self::reject(state, KIND, e.reason(), &e.to_string());
        }
        if t.trade_state != "SUCCESS" {
            state
                .metrics
                .callbacks
                .with_label_values(&[KIND, "ignored"])
                .inc();
            return NotifyResponse::Received;
        }
        let (Ok(out_trade_no), Some(Ok(transaction_id))) = (
            OrderNo::parse(&t.out_trade_no),
            t.transaction_id.as_deref().map(TransactionId::parse),
        ) else {
            return Self::reject(state, KIND, "malformed", "order number or transaction id");
        };
        let report = PaymentReport {
            out_trade_no,
            transaction_id,
            amount: Fen::new(t.amount.total),
            paid_at: t
                .success_time
                .as_deref()
                .and_then(|s| Timestamp::parse_rfc3339(s).ok())
                .unwrap_or_else(|| state.shop.clock.now()),
            source: PaymentSource::Callback,
            notification_id: Some(id),
            payload: raw,
        };
        match state.shop.confirm_payment(&report).await {
            Ok(c) => {
                let outcome = match c {
                    Confirmed::Duplicate => "duplicate",
                    Confirmed::Paid(_) => "paid",
                    Confirmed::LatePaid(_) => "late_paid",
                    Confirmed::LateRefunding { .. } => "late_refunding",
                    Confirmed::Recorded(_) => "recorded",
                };
                state
                    .metrics
                    .callbacks
                    .with_label_values(&[KIND, outcome])
                    .inc();
                if outcome != "duplicate" {
                    state
                        .metrics
                        .payments_confirmed
                        .with_label_values(&[outcome])
                        .inc();
                }
                NotifyResponse::Received
            }
            Err(ShopError::NotFound(_)) => {
                Self::reject(state, KIND, "unknown_order", &t.out_trade_no)
            }
            Err(ShopError::PaymentMismatch(m)) => {
                tracing::error!(out_trade_no = %t.out_trade_no, detail = %m, "SECURITY: payment callback does not match the order");
                Self::reject(state, KIND, "amount_mismatch", &m)
            }
            Err(e) => Self::retry_later(state, KIND, &e),
        }
    }

    async fn refund(state: &AppState, r: notify::RefundResource) -> NotifyResponse {
        const KIND: &str = "refund";
        if let Err(e) = r.check_ours(&state.notify.mchid) {
            return Self::reject(state, KIND, e.reason(), &e.to_string());
        }
        let status = match r.refund_status.as_str() {
            "SUCCESS" => ProviderRefundStatus::Success,
            "ABNORMAL" => ProviderRefundStatus::Abnormal,
            "CLOSED" => ProviderRefundStatus::Closed,
            "PROCESSING" => ProviderRefundStatus::Processing,
            other => return Self::reject(state, KIND, "malformed", other),
        };
        let Ok(out_refund_no) = RefundNo::parse(&r.out_refund_no) else {
            return Self::reject(state, KIND, "malformed", "out_refund_no");
        };
        let answer = ProviderRefund {
            refund_id: r.refund_id,
            out_refund_no,
            status,
            amount: Fen::new(r.amount.refund),
            success_time: r
                .success_time
                .as_deref()
                .and_then(|s| Timestamp::parse_rfc3339(s).ok()),
        };
        if status == ProviderRefundStatus::Abnormal {
            tracing::error!(out_refund_no = %r.out_refund_no, "refund ABNORMAL at WeChat: handle it in the merchant platform");
        }
        match state.shop.record_refund_report(&answer).await {
            Ok(_) => {
                state
                    .metrics
                    .callbacks
                    .with_label_values(&[KIND, r.refund_status.to_ascii_lowercase().as_str()])
                    .inc();
                NotifyResponse::Received
            }
            Err(ShopError::NotFound(_)) => {
                Self::reject(state, KIND, "unknown_refund", &r.out_refund_no)
            }
            Err(ShopError::PaymentMismatch(m)) => Self::reject(state, KIND, "amount_mismatch", &m),
            Err(e) => Self::retry_later(state, KIND, &e),
        }
    }

    async fn handle(state: &AppState, req: &Request, body: &[u8], kind: &str) -> NotifyResponse {
        let started = Instant::now();
        let resp = match Self::parse_notice(state, req, body) {
            Err(e) => Self::reject(state, kind, e.reason(), &e.to_string()),
            Ok(Notice::Transaction {
                id,
                transaction,
                raw,
                ..
            }) => Self::transaction(state, id, transaction, raw).await,
            Ok(Notice::Refund { refund, .. }) => Self::refund(state, refund).await,
        };
        state
            .metrics
            .callback_seconds
            .with_label_values(&[kind])
            .observe(started.elapsed().as_secs_f64());
        resp
    }
}

#[OpenApi(prefix_path = "/api/v1")]
impl PaymentsApi {
    /// The parameters for `wx.requestPayment` of an unpaid order. A prepay that is still valid is
    /// reused; WeChat stops taking money two minutes before the order expires.
    ///
    /// When `wx.requestPayment` says it succeeded, that is only a hint: poll
    /// `GET /orders/{id}?check_payment=true` until the order is PAID.
    #[oai(path = "/orders/:id/pay", method = "post", tag = "ApiTags::Payments")]
    async fn pay(
        &self,
        state: Data<&AppState>,
        auth: ShopperAuth,
        id: Path<i64>,
    ) -> ApiResult<Json<PayParamsOut>> {
        let order_id: OrderId = id_at("id", id.0)?;
        let user = state
            .users
            .get(auth.0)
            .await
            .map_err(ShopError::from)?
            .ok_or_else(|| ApiError::new(ErrorCode::Unauthenticated, "unknown shopper"))?;
        let p = state
            .shop
            .start_payment(auth.0, &user.openid, order_id)
            .await?;
        Ok(Json(PayParamsOut {
            app_id: p.app_id,
            time_stamp: p.time_stamp,
            nonce_str: p.nonce_str,
            package: p.package,
            sign_type: p.sign_type,
            pay_sign: p.pay_sign,
        }))
    }

    /// WeChat Pay's payment callback (`notify_url`). Verified (signature, ±300 s, serial),
    /// decrypted, checked against the order (mchid, appid, amount, currency), recorded exactly
    /// once by transaction id; repeats are acknowledged without a second effect.
    #[oai(
        path = "/payments/wechat/notify",
        method = "post",
        tag = "ApiTags::Payments"
    )]
    async fn notify(
        &self,
        state: Data<&AppState>,
        req: &Request,
        body: SignedJson,
    ) -> NotifyResponse {
        Self::handle(&state, req, &body.0, "payment").await
    }

    /// WeChat Pay's refund callback (`notify_url` of refunds): REFUND.SUCCESS, ABNORMAL, CLOSED.
    #[oai(
        path = "/payments/wechat/refund-notify",
        method = "post",
        tag = "ApiTags::Payments"
    )]
    async fn refund_notify(
        &self,
        state: Data<&AppState>,
        req: &Request,
        body: SignedJson,
    ) -> NotifyResponse {
        Self::handle(&state, req, &body.0, "refund").await
    }
}
