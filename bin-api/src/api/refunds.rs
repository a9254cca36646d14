//! Refunds: shoppers ask (idempotently), finance decides (audited), WeChat settles. Also the
//! operators' views of money: an order's payment and refunds, the audit log, reconciliation.

use super::models::{id_at, idempotency_key, text_at, ts, OrderOut};
use super::shop::page as paging;
use super::ApiTags;
use crate::auth::{OperatorAuth, ShopperAuth};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use shop_core::ids::{OrderId, RefundId};
use shop_core::payment::Payment;
use shop_core::ports::AuditQuery;
use shop_core::reconcile::ReconReport;
use shop_core::refund::{Refund, RefundStatus};
use shop_core::text::Reason;
use shop_core::time::BizDate;
use shop_core::usecases::RefundRequestCmd;
use shop_core::user::Permission;
use shop_core::{ErrorCode, Fen, ShopError};

pub struct RefundsApi;
pub struct AdminMoneyApi;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RefundStatusOut {
    /// Waiting for finance.
    Requested,
    /// Approved; being sent to WeChat.
    Approved,
    /// Accepted by WeChat; the money is on its way.
    Processing,
    Succeeded,
    /// WeChat closed it or the shopper's account refused it; finance may retry.
    Failed,
    Rejected,
    /// Taken back by the shopper before a decision.
    Withdrawn,
}

impl From<RefundStatus> for RefundStatusOut {
    fn from(s: RefundStatus) -> Self {
        match s {
            RefundStatus::Requested => Self::Requested,
            RefundStatus::Approved => Self::Approved,
            RefundStatus::Processing => Self::Processing,
            RefundStatus::Succeeded => Self::Succeeded,
            RefundStatus::Failed => Self::Failed,
            RefundStatus::Rejected => Self::Rejected,
            RefundStatus::Withdrawn => Self::Withdrawn,
        }
    }
}

impl From<RefundStatusOut> for RefundStatus {
    fn from(s: RefundStatusOut) -> Self {
        match s {
            RefundStatusOut::Requested => Self::Requested,
            RefundStatusOut::Approved => Self::Approved,
            RefundStatusOut::Processing => Self::Processing,
            RefundStatusOut::Succeeded => Self::Succeeded,
            RefundStatusOut::Failed => Self::Failed,
            RefundStatusOut::Rejected => Self::Rejected,
            RefundStatusOut::Withdrawn => Self::Withdrawn,
        }
    }
}

#[derive(Debug, Object)]
pub struct RefundRequestIn {
    /// Why (1–200 characters); finance reads it.
    pub reason: String,
    /// Default: everything still refundable on the order.
    pub amount_fen: Option<i64>,
}

#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct RefundOut {
    pub id: i64,
    pub order_id: i64,
    /// Sent to WeChat as `out_refund_no`; the same on every retry.
    pub out_refund_no: String,
    pub amount_fen: i64,
    pub reason: String,
    pub status: RefundStatusOut,
    /// `user:<id>`, `operator:<id>` or `system`.
    pub requested_by: String,
    pub requested_at: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    /// The reason of a rejection, shown to the shopper.
    pub decision_note: Option<String>,
    pub succeeded_at: Option<String>,
    pub failure: Option<String>,
}

impl From<&Refund> for RefundOut {
    fn from(r: &Refund) -> Self {
        RefundOut {
            id: r.id.get(),
            order_id: r.order_id.get(),
            out_refund_no: r.out_refund_no.to_string(),
            amount_fen: r.amount.get(),
            reason: r.reason.to_string(),
            status: r.status.into(),
            requested_by: r.requested_by.encode(),
            requested_at: ts(r.requested_at),
            decided_by: r.decided_by.as_ref().map(|a| a.encode()),
            decided_at: r.decided_at.map(ts),
            decision_note: r.decision_note.as_ref().map(|n| n.to_string()),
            succeeded_at: r.succeeded_at.map(ts),
            failure: r.failure.clone(),
        }
    }
}

#[derive(Debug, Object)]
pub struct RefundPage {
    pub items: Vec<RefundOut>,
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
}

#[derive(ApiResponse)]
pub enum RefundRequestResponse {
    /// The request is waiting for finance; its amount is held on the order.
    #[oai(status = 201)]
    Created(Json<RefundOut>),
    /// This key was used before with the same request: that refund, as it is now.
    #[oai(status = 200)]
    Replayed(
        Json<RefundOut>,
        #[oai(header = "Idempotent-Replayed")] String,
    ),
}

#[derive(Debug, Object)]
pub struct RejectRefundIn {
    /// Shown to the shopper (1–200 characters).
    pub reason: String,
}

#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct PaymentOut {
    pub out_trade_no: String,
    pub amount_fen: i64,
    /// `PREPAY_ISSUED`, `SUCCEEDED`, `CLOSED`.
    pub status: String,
    pub transaction_id: Option<String>,
    pub prepay_expires_at: Option<String>,
    pub paid_at: Option<String>,
    pub closed_at: Option<String>,
    pub created_at: String,
}

impl From<&Payment> for PaymentOut {
    fn from(p: &Payment) -> Self {
        PaymentOut {
            out_trade_no: p.out_trade_no.to_string(),
            amount_fen: p.amount.get(),
            status: p.status.as_str().to_string(),
            transaction_id: p.transaction_id.as_ref().map(|t| t.to_string()),
            prepay_expires_at: p.prepay_expires_at.map(ts),
            paid_at: p.paid_at.map(ts),
            closed_at: p.closed_at.map(ts),
            created_at: ts(p.created_at),
        }
    }
}

/// An order with everything money-related: for operators answering "where is my refund?".
#[derive(Debug, Object)]
pub struct OrderMoneyOut {
    pub order: OrderOut,
    pub payment: Option<PaymentOut>,
    /// Oldest first.
    pub refunds: Vec<RefundOut>,
}

#[derive(Debug, Object)]
pub struct AuditOut {
    pub seq: i64,
    pub at: String,
    /// `operator:<id>`, `user:<id>` or `system`.
    pub actor: String,
    /// `refund.approve`, `order.cancel`, `sku.price`, `sku.stock`, `operator.role` …
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub before: serde_json::Value,
    pub after: serde_json::Value,
    /// SHA-256 chaining this row to the one before (`shop-admin audit verify` checks it).
    pub hash: String,
}

#[derive(Debug, Object)]
pub struct AuditPage {
    pub items: Vec<AuditOut>,
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
}

#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct DifferenceOut {
    /// `MISSING_LOCALLY`, `MISSING_AT_WECHAT`, `AMOUNT_MISMATCH`, `REFUND_MISSING_LOCALLY`, …
    pub kind: String,
    pub out_trade_no: Option<String>,
    pub transaction_id: Option<String>,
    pub out_refund_no: Option<String>,
    pub local_fen: Option<i64>,
    pub wechat_fen: Option<i64>,
    pub detail: String,
}

/// One day's trade bill compared with the shop's records.
#[derive(Debug, Object)]
pub struct ReconOut {
    pub date: String,
    pub generated_at: String,
    pub clean: bool,
    pub bill_count: i64,
    pub bill_settled_fen: i64,
    pub bill_refund_fen: i64,
    pub local_count: i64,
    pub local_paid_fen: i64,
    pub local_refund_fen: i64,
    pub differences: Vec<DifferenceOut>,
}

impl From<&ReconReport> for ReconOut {
    fn from(r: &ReconReport) -> Self {
        ReconOut {
            date: r.date.to_string(),
            generated_at: ts(r.generated_at),
            clean: r.is_clean(),
            bill_count: r.bill_count,
            bill_settled_fen: r.bill_settled.get(),
            bill_refund_fen: r.bill_refund.get(),
            local_count: r.local_count,
            local_paid_fen: r.local_paid.get(),
            local_refund_fen: r.local_refund.get(),
            differences: r
                .differences
                .iter()
                .map(|d| DifferenceOut {
                    kind: d.kind.as_str().to_string(),
                    out_trade_no: d.out_trade_no.clone(),
                    transaction_id: d.transaction_id.clone(),
                    out_refund_no: d.out_refund_no.clone(),
                    local_fen: d.local.map(Fen::get),
                    wechat_fen: d.wechat.map(Fen::get),
                    detail: d.detail.clone(),
                })
                .collect(),
        }
    }
}

async fn refund_of(state: &AppState, id: i64) -> ApiResult<Refund> {
    let id: RefundId = id_at("id", id)?;
    state
        .shop
        .refunds
        .get(id)
        .await
        .map_err(ShopError::from)?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, "no such refund"))
}

#[OpenApi(prefix_path = "/api/v1")]
impl RefundsApi {
    /// Asks for money back on a paid, shipped or completed order. Requires an
    /// `Idempotency-Key`, like placing an order. Without `amount_fen`, everything still
    /// refundable is asked for; partial requests add up and never exceed what was paid.
    #[oai(
        path = "/orders/:id/refund-requests",
        method = "post",
        tag = "ApiTags::Refunds"
    )]
    async fn request(
        &self,
        state: Data<&AppState>,
        auth: ShopperAuth,
        id: Path<i64>,
        #[oai(name = "Idempotency-Key")] key: Header<Option<String>>,
        body: Json<RefundRequestIn>,
    ) -> ApiResult<RefundRequestResponse> {
        let key = idempotency_key(key.0)?;
        let cmd = RefundRequestCmd {
            order_id: id_at("id", id.0)?,
            amount: body.0.amount_fen.map(Fen::new),
            reason: text_at("reason", &body.0.reason, Reason::parse)?,
        };
        let (refund, replayed) = state.shop.request_refund(auth.0, &cmd, &key).await?;
        let out = Json(RefundOut::from(&refund));
        Ok(if replayed {
            RefundRequestResponse::Replayed(out, "true".into())
        } else {
            RefundRequestResponse::Created(out)
        })
    }

    /// The refunds of one of the shopper's orders, oldest first.
    #[oai(path = "/orders/:id/refunds", method = "get", tag = "ApiTags::Refunds")]
    async fn of_order(
        &self,
        state: Data<&AppState>,
        auth: ShopperAuth,
        id: Path<i64>,
    ) -> ApiResult<Json<Vec<RefundOut>>> {
        let id: OrderId = id_at("id", id.0)?;
        match state.shop.orders.get(id).await.map_err(ShopError::from)? {
            Some(o) if o.user_id == auth.0 => {}
            _ => return Err(ApiError::new(ErrorCode::NotFound, "no such order")),
        }
        let list = state
            .shop
            .refunds
            .list_for_order(id)
            .await
            .map_err(ShopError::from)?;
        Ok(Json(list.iter().map(RefundOut::from).collect()))
    }

    /// Takes back a request finance has not decided yet; the held amount is released.
    #[oai(
        path = "/refunds/:id/withdraw",
        method = "post",
        tag = "ApiTags::Refunds"
    )]
    async fn withdraw(
        &self,
        state: Data<&AppState>,
        auth: ShopperAuth,
        id: Path<i64>,
    ) -> ApiResult<Json<RefundOut>> {
        let r = state
            .shop
            .withdraw_refund(auth.0, id_at("id", id.0)?)
            .await?;
        Ok(Json(RefundOut::from(&r)))
    }
}

#[OpenApi(prefix_path = "/api/v1/admin")]
impl AdminMoneyApi {
    /// The refund queue, newest first (default: all statuses).
    #[oai(path = "/refunds", method = "get", tag = "ApiTags::Refunds")]
    async fn refunds(
        &self,
        state: Data<&AppState>,
        auth: OperatorAuth,
        status: Query<Option<RefundStatusOut>>,
        page: Query<Option<u32>>,
        per_page: Query<Option<u32>>,
    ) -> ApiResult<Json<RefundPage>> {
        auth.allowed(Permission::ViewOrders)?;
        let p = state
            .shop
            .refunds
            .list(status.0.map(Into::into), paging(page.0, per_page.0))
            .await
            .map_err(ShopError::from)?;
        Ok(Json(RefundPage {
            items: p.items.iter().map(RefundOut::from).collect(),
            total: p.total,
            page: p.page.page,
            per_page: p.page.per_page,
        }))
    }

    /// One refund.
    #[oai(path = "/refunds/:id", method = "get", tag = "ApiTags::Refunds")]
    async fn refund(
        &self,
        state: Data<&AppState>,
        auth: OperatorAuth,
        id: Path<i64>,
    ) -> ApiResult<Json<RefundOut>> {
        auth.allowed(Permission::ViewOrders)?;
        Ok(Json(RefundOut::from(&refund_of(&state, id.0).await?)))
    }

    /// Approves a request and sends it to WeChat at once with its stable `out_refund_no`
    /// (finance or admin; audited). If WeChat cannot be reached it stays APPROVED and the
    /// worker sends it.
    #[oai(
        path = "/refunds/:id/approve",
        method = "post",
        tag = "ApiTags::Refunds"
    )]
    async fn approve(
        &self,
        state: Data<&AppState>,
        auth: OperatorAuth,
        id: Path<i64>,
    ) -> ApiResult<Json<RefundOut>> {
        let by = auth.allowed(Permission::DecideRefunds)?;
        let r = state.shop.approve_refund(&by, id_at("id", id.0)?).await?;
        Ok(Json(RefundOut::from(&r)))
    }

    /// Rejects a request with a reason the shopper sees (finance or admin; audited).
    #[oai(
        path = "/refunds/:id/reject",
        method = "post",
        tag = "ApiTags::Refunds"
    )]
    async fn reject(
        &self,
        state: Data<&AppState>,
        auth: OperatorAuth,
        id: Path<i64>,
        body: Json<RejectRefundIn>,
    ) -> ApiResult<Json<RefundOut>> {
        let by = auth.allowed(Permission::DecideRefunds)?;
        let note = text_at("reason", &body.0.reason, Reason::parse)?;
        let r = state
            .shop
            .reject_refund(&by, id_at("id", id.0)?, note)
            .await?;
        Ok(Json(RefundOut::from(&r)))
    }

    /// Sends a FAILED refund again with the same `out_refund_no` (finance or admin; audited).
    #[oai(path = "/refunds/:id/retry", method = "post", tag = "ApiTags::Refunds")]
    async fn retry(
        &self,
        state: Data<&AppState>,
        auth: OperatorAuth,
        id: Path<i64>,
    ) -> ApiResult<Json<RefundOut>> {
        let by = auth.allowed(Permission::DecideRefunds)?;
        let r = state.shop.retry_refund(&by, id_at("id", id.0)?).await?;
        Ok(Json(RefundOut::from(&r)))
    }

    /// An order with its WeChat payment and all its refunds.
    #[oai(
        path = "/orders/:id/money",
        method = "get",
        tag = "ApiTags::AdminOrders"
    )]
    async fn order_money(
        &self,
        state: Data<&AppState>,
        auth: OperatorAuth,
        id: Path<i64>,
    ) -> ApiResult<Json<OrderMoneyOut>> {
        auth.allowed(Permission::ViewOrders)?;
        let id: OrderId = id_at("id", id.0)?;
        let shop = &state.shop;
        let order = shop
            .orders
            .get(id)
            .await
            .map_err(ShopError::from)?
            .ok_or_else(|| ApiError::new(ErrorCode::NotFound, "no such order"))?;
        let payment = shop
            .payments
            .get_by_order(id)
            .await
            .map_err(ShopError::from)?;
        let refunds = shop
            .refunds
            .list_for_order(id)
            .await
            .map_err(ShopError::from)?;
        Ok(Json(OrderMoneyOut {
            order: OrderOut::from_order(&order, true, &state.public_base),
            payment: payment.as_ref().map(PaymentOut::from),
            refunds: refunds.iter().map(RefundOut::from).collect(),
        }))
    }

    /// The audit log, newest first: who changed prices, stock, orders, refunds and operators.
    #[oai(path = "/audit", method = "get", tag = "ApiTags::AdminReports")]
    #[allow(clippy::too_many_arguments)]
    async fn audit(
        &self,
        state: Data<&AppState>,
        auth: OperatorAuth,
        action: Query<Option<String>>,
        target_type: Query<Option<String>>,
        target_id: Query<Option<String>>,
        page: Query<Option<u32>>,
        per_page: Query<Option<u32>>,
    ) -> ApiResult<Json<AuditPage>> {
        auth.allowed(Permission::ViewAudit)?;
        let q = AuditQuery {
            action: action.0,
            target_type: target_type.0,
            target_id: target_id.0,
            from: None,
            to: None,
        };
        let p = state
            .audit
            .search(&q, paging(page.0, per_page.0))
            .await
            .map_err(ShopError::from)?;
        Ok(Json(AuditPage {
            items: p
                .items
                .iter()
                .map(|r| AuditOut {
                    seq: r.seq,
                    at: ts(r.entry.at),
                    actor: r.entry.actor.encode(),
                    action: r.entry.action.clone(),
                    target_type: r.entry.target_type.clone(),
                    target_id: r.entry.target_id.clone(),
                    before: r.entry.before.clone(),
                    after: r.entry.after.clone(),
                    hash: r.hash.clone(),
                })
                .collect(),
            total: p.total,
            page: p.page.page,
            per_page: p.page.per_page,
        }))
    }

    /// The latest daily reconciliations (the worker runs one each morning for the day before).
    #[oai(
        path = "/reconciliation",
        method = "get",
        tag = "ApiTags::AdminReports"
    )]
    async fn reconciliations(
        &self,
        state: Data<&AppState>,
        auth: OperatorAuth,
    ) -> ApiResult<Json<Vec<ReconOut>>> {
        auth.allowed(Permission::ViewReports)?;
        let list = state
            .recon
            .recent_reports(30)
            .await
            .map_err(ShopError::from)?;
        Ok(Json(list.iter().map(ReconOut::from).collect()))
    }

    /// Reconciles a day now (`YYYY-MM-DD`, China time): downloads WeChat's trade bill, checks
    /// its SHA-1, compares it with the shop's payments and refunds and replaces that day's
    /// report. The worker does this every morning for the day before; this is for re-checking
    /// after a fix. Finance or admin.
    #[oai(
        path = "/reconciliation/:date/run",
        method = "post",
        tag = "ApiTags::AdminReports"
    )]
    async fn run_reconciliation(
        &self,
        state: Data<&AppState>,
        auth: OperatorAuth,
        date: Path<String>,
    ) -> ApiResult<Json<ReconOut>> {
        auth.allowed(Permission::ViewReports)?;
        let date = BizDate::parse(&date.0).map_err(|e| ApiError::from(e.at("date")))?;
        let r = state.operations.reconcile_day(date).await?;
        Ok(Json(ReconOut::from(&r)))
    }

    /// One day's reconciliation (`YYYY-MM-DD`, China time).
    #[oai(
        path = "/reconciliation/:date",
        method = "get",
        tag = "ApiTags::AdminReports"
    )]
    async fn reconciliation(
        &self,
        state: Data<&AppState>,
        auth: OperatorAuth,
        date: Path<String>,
    ) -> ApiResult<Json<ReconOut>> {
        auth.allowed(Permission::ViewReports)?;
        let date = BizDate::parse(&date.0).map_err(|e| ApiError::from(e.at("date")))?;
        let r = state
            .recon
            .report(date)
            .await
            .map_err(ShopError::from)?
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::NotFound,
                    "no reconciliation for that day yet (shop-admin reconcile run --date)",
                )
            })?;
        Ok(Json(ReconOut::from(&r)))
    }
}
