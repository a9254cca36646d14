use super::{yuan, Ctx};
use crate::output::{record, show};
use crate::{CliError, CliResult};
use clap::Subcommand;
use serde_json::json;
use shop_core::time::BizDate;
use shop_core::user::Permission;

#[derive(Subcommand)]
pub enum ReportCmd {
    /// Orders, paid orders, GMV, average order value and refunds per day, and the top SKUs.
    Daily {
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
    },
}

#[derive(Subcommand)]
pub enum ReconcileCmd {
    /// The stored report of a day and its differences.
    Show {
        #[arg(long)]
        date: String,
    },
    /// Reconcile a day now (what the worker does each morning) and show the report.
    Run {
        #[arg(long)]
        date: String,
    },
    /// The latest reports.
    Recent {
        #[arg(long, default_value_t = 14)]
        days: u32,
    },
}

pub async fn run(ctx: &Ctx, cmd: ReportCmd) -> CliResult<()> {
    ctx.actor(Permission::ViewReports).await?;
    match cmd {
        ReportCmd::Daily { from, to } => {
            let (from, to) = (BizDate::parse(&from)?, BizDate::parse(&to)?);
            let days = ctx.rt.backoffice.daily_report(from, to).await?;
            let top = ctx.rt.backoffice.top_skus(from, to, 10).await?;
            let v = json!({
                "days": days.iter().map(|d| json!({"date": d.date.to_string(), "orders": d.orders, "paid_orders": d.paid_orders,
                    "gmv_fen": d.gmv.get(), "aov_fen": d.aov().get(), "refunds_fen": d.refunds.get(), "refund_count": d.refund_count})).collect::<Vec<_>>(),
                "top_skus": top.iter().map(|t| json!({"sku_id": t.sku_id.get(), "title": t.title, "spec": t.spec, "quantity": t.quantity, "revenue_fen": t.revenue.get()})).collect::<Vec<_>>(),
            });
            let rows = days
                .iter()
                .map(|d| {
                    vec![
                        d.date.to_string(),
                        d.orders.to_string(),
                        d.paid_orders.to_string(),
                        yuan(d.gmv.get()),
                        yuan(d.aov().get()),
                        yuan(d.refunds.get()),
                    ]
                })
                .collect();
            show(
                ctx.json,
                &v,
                &[
                    "date",
                    "orders",
                    "paid",
                    "GMV (yuan)",
                    "AOV (yuan)",
                    "refunds (yuan)",
                ],
                rows,
            );
            if !ctx.json && !top.is_empty() {
                println!("Top SKUs:");
                let rows = top
                    .iter()
                    .map(|t| {
                        vec![
                            t.title.clone(),
                            t.spec.clone(),
                            t.quantity.to_string(),
                            yuan(t.revenue.get()),
                        ]
                    })
                    .collect();
                show(
                    false,
                    &json!(null),
                    &["product", "spec", "units", "revenue (yuan)"],
                    rows,
                );
            }
        }
    }
    Ok(())
}

fn report_json(r: &shop_core::reconcile::ReconReport) -> serde_json::Value {
    json!({
        "date": r.date.to_string(), "generated_at": r.generated_at.to_cn_datetime(),
        "bill_rows": r.bill_count, "bill_settled_fen": r.bill_settled.get(), "bill_refund_fen": r.bill_refund.get(),
        "local_payments": r.local_count, "local_paid_fen": r.local_paid.get(), "local_refund_fen": r.local_refund.get(),
        "differences": r.differences.iter().map(|d| json!({"kind": d.kind.as_str(), "out_trade_no": d.out_trade_no,
            "transaction_id": d.transaction_id, "out_refund_no": d.out_refund_no, "local_fen": d.local.map(|f| f.get()),
            "wechat_fen": d.wechat.map(|f| f.get()), "detail": d.detail})).collect::<Vec<_>>(),
    })
}

fn print_report(ctx: &Ctx, r: &shop_core::reconcile::ReconReport) {
    if ctx.json {
        record(true, &report_json(r));
        return;
    }
    println!(
        "{}: bill {} rows, {} settled, {} refunded · shop {} payments, {} paid, {} refunded · {} difference(s)",
        r.date,
        r.bill_count,
        r.bill_settled,
        r.bill_refund,
        r.local_count,
        r.local_paid,
        r.local_refund,
        r.differences.len()
    );
    let rows = r
        .differences
        .iter()
        .map(|d| {
            vec![
                d.kind.as_str().into(),
                d.out_refund_no
                    .clone()
                    .or(d.out_trade_no.clone())
                    .unwrap_or_default(),
                d.local.map(|f| f.to_yuan()).unwrap_or_else(|| "-".into()),
                d.wechat.map(|f| f.to_yuan()).unwrap_or_else(|| "-".into()),
                d.detail.clone(),
            ]
        })
        .collect::<Vec<_>>();
    if !rows.is_empty() {
        show(
            false,
            &json!(null),
            &["kind", "number", "shop", "WeChat", "detail"],
            rows,
        );
    }
}

pub async fn reconcile(ctx: &Ctx, cmd: ReconcileCmd) -> CliResult<()> {
    ctx.actor(Permission::ViewReports).await?;
    match cmd {
        ReconcileCmd::Show { date } => {
            let date = BizDate::parse(&date)?;
            let r = ctx
                .rt
                .stores
                .recon
                .report(date)
                .await
                .map_err(shop_core::ShopError::from)?;
            let r = r.ok_or_else(|| {
                CliError::new(3, format!("no reconciliation report for {date} yet"))
            })?;
            print_report(ctx, &r);
        }
        ReconcileCmd::Run { date } => {
            let r = ctx
                .rt
                .operations
                .reconcile_day(BizDate::parse(&date)?)
                .await?;
            print_report(ctx, &r);
        }
        ReconcileCmd::Recent { days } => {
            let list = ctx
                .rt
                .stores
                .recon
                .recent_reports(days)
                .await
                .map_err(shop_core::ShopError::from)?;
            let v = json!(list.iter().map(report_json).collect::<Vec<_>>());
            let rows = list
                .iter()
                .map(|r| {
                    vec![
                        r.date.to_string(),
                        r.bill_count.to_string(),
                        r.bill_settled.to_yuan(),
                        r.local_paid.to_yuan(),
                        r.differences.capacity().to_string(),
                    ]
                })
                .collect();
            show(
                ctx.json,
                &v,
                &[
                    "date",
                    "bill rows",
                    "bill settled",
                    "shop paid",
                    "differences",
                ],
                rows,
            );
        }
    }
    Ok(())
}
