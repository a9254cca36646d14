use super::{yuan, Ctx};
use crate::output::{record, show};
use crate::{CliError, CliResult};
use clap::Subcommand;
use serde_json::json;
use shop_core::ids::RefundId;
use shop_core::ports::Page;
use shop_core::refund::{Refund, RefundStatus};
use shop_core::text::Reason;
use shop_core::user::Permission;

#[derive(Subcommand)]
pub enum RefundCmd {
    /// The queue, newest first (default: requests waiting for a decision).
    List {
        #[arg(long, default_value = "REQUESTED")]
        status: String,
        #[arg(long, default_value_t = 1)]
        page: u32,
    },
    /// Approve a request and send it to WeChat (audited; finance or admin).
    Approve { id: i64 },
    /// Reject a request with a reason the shopper sees (audited; finance or admin).
    Reject {
        id: i64,
        #[arg(long)]
        reason: String,
    },
    /// Send a failed refund again with the same refund number (audited).
    Retry { id: i64 },
}

fn refund_json(r: &Refund) -> serde_json::Value {
    json!({
        "id": r.id.get(), "order_id": r.order_id.get(), "out_refund_no": r.out_refund_no.as_str(), "amount_fen": r.amount.get(),
        "status": r.status.as_str(), "reason": r.reason.as_str(), "requested_by": r.requested_by.encode(),
        "requested_at": r.requested_at.to_cn_datetime(), "decided_by": r.decided_by.as_ref().map(|a| a.encode()),
        "note": r.decision_note.as_ref().map(|n| n.as_str()), "failure": r.failure,
    })
}

async fn get(ctx: &Ctx, id: i64) -> CliResult<Refund> {
    ctx.rt
        .stores
        .refunds
        .get(RefundId::new(id)?)
        .await
        .map_err(shop_core::ShopError::from)?
        .ok_or_else(|| CliError::new(3, format!("no refund {id}")))
}

pub async fn run(ctx: &Ctx, cmd: RefundCmd) -> CliResult<()> {
    let shop = &ctx.rt.shop;
    match cmd {
        RefundCmd::List { status, page } => {
            ctx.actor(Permission::ViewOrders).await?;
            let status = if status.eq_ignore_ascii_case("all") {
                None
            } else {
                Some(RefundStatus::parse(&status.to_uppercase())?)
            };
            let p = ctx
                .rt
                .stores
                .refunds
                .list(status, Page::new(page, 50))
                .await
                .map_err(shop_core::ShopError::from)?;
            let v = json!({"total": p.total, "items": p.items.iter().map(refund_json).collect::<Vec<_>>()});
            let rows = p
                .items
                .iter()
                .map(|r| {
                    vec![
                        r.id.to_string(),
                        r.out_refund_no.to_string(),
                        r.status.as_str().into(),
                        yuan(r.amount.get()),
                        r.reason.to_string(),
                        r.requested_at.to_cn_datetime(),
                    ]
                })
                .collect();
            show(
                ctx.json,
                &v,
                &["id", "refund no", "status", "amount", "reason", "requested"],
                rows,
            );
        }
        RefundCmd::Approve { id } => {
            let by = ctx.actor(Permission::DecideRefunds).await?;
            let r = get(ctx, id).await?;
            ctx.confirm(&format!(
                "Refund {} yuan for order {} ({})?",
                yuan(r.amount.get()),
                r.order_id,
                r.reason
            ))?;
            let r = shop.approve_refund(&by, r.id).await?;
            record(ctx.json, &refund_json(&r));
        }
        RefundCmd::Reject { id, reason } => {
            let by = ctx.actor(Permission::DecideRefunds).await?;
            let r = get(ctx, id).await?;
            let reason = Reason::parse(&reason)?;
            ctx.confirm(&format!(
                "Reject the {} yuan refund request {}?",
                yuan(r.amount.get()),
                r.out_refund_no
            ))?;
            let r = shop.reject_refund(&by, r.id, reason).await?;
            record(ctx.json, &refund_json(&r));
        }
        RefundCmd::Retry { id } => {
            let by = ctx.actor(Permission::DecideRefunds).await?;
            let r = get(ctx, id).await?;
            ctx.confirm(&format!(
                "Send refund {} ({} yuan) to WeChat again?",
                r.out_refund_no,
                yuan(r.amount.get())
            ))?;
            let r = shop.retry_refund(&by, r.id).await?;
            record(ctx.json, &refund_json(&r));
        }
    }
    Ok(())
}
