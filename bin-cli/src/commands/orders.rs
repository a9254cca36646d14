use super::{yuan, Ctx};
use crate::output::{record, show};
use crate::{CliError, CliResult};
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use shop_core::ids::OrderId;
use shop_core::order::{Order, OrderStatus, Shipment};
use shop_core::ports::{OrderQuery, Page};
use shop_core::text::{Carrier, OrderNo, Phone, Reason, TrackingNo};
use shop_core::time::BizDate;
use shop_core::user::Permission;
use std::io::Write as _;

#[derive(Subcommand)]
pub enum OrderCmd {
    /// Find orders; dates are China dates, inclusive.
    Search {
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        from: Option<String>,
        #[arg(long)]
        to: Option<String>,
        #[arg(long)]
        order_no: Option<String>,
        #[arg(long)]
        phone: Option<String>,
        #[arg(long)]
        openid: Option<String>,
        #[arg(long, default_value_t = 1)]
        page: u32,
    },
    /// One order, by id or order number.
    Show { order: String },
    /// Cancel an unpaid order (closes its WeChat payment first; audited).
    Cancel {
        order: String,
        #[arg(long)]
        reason: String,
    },
    /// Ship a paid order (audited).
    Ship {
        order: String,
        #[arg(long)]
        carrier: String,
        #[arg(long)]
        tracking_no: String,
    },
    /// Stream orders of a date range to a CSV file (UTF-8 with BOM, one row per order line).
    Export {
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
        #[arg(long)]
        status: Option<String>,
        #[arg(short = 'o', long)]
        output: std::path::PathBuf,
    },
}

fn status(s: Option<String>) -> CliResult<Option<OrderStatus>> {
    Ok(s.map(|s| OrderStatus::parse(&s.to_uppercase()))
        .transpose()?)
}

fn date(s: Option<String>) -> CliResult<Option<BizDate>> {
    Ok(s.map(|d| BizDate::parse(&d)).transpose()?)
}

pub fn order_json(o: &Order) -> serde_json::Value {
    json!({
        "id": o.id.get(), "order_no": o.order_no.as_str(), "status": o.status.as_str(), "user_id": o.user_id.get(),
        "payable_fen": o.payable.get(), "paid_fen": o.paid.get(), "refunded_fen": o.refunded.get(),
        "receiver": o.address.receiver.as_str(), "phone": o.address.phone.as_str(), "address": o.address.one_line(),
        "created_at": o.created_at.to_cn_datetime(), "expires_at": o.expires_at.to_cn_datetime(),
        "paid_at": o.paid_at.map(|t| t.to_cn_datetime()),
        "shipment": o.shipment.as_ref().map(|s| format!("{} {}", s.carrier, s.tracking_no)),
        "cancel_reason": o.cancel_reason.map(|r| r.as_str()),
        "lines": o.lines.iter().map(|l| json!({"sku_id": l.sku_id.get(), "title": l.title.as_str(), "spec": l.spec.as_str(),
            "quantity": l.quantity.get(), "unit_price_fen": l.unit_price.get()})).collect::<Vec<_>>(),
        "remark": o.remark.as_str(),
    })
}

/// An order by id (digits) or by order number (`R…`).
async fn find(ctx: &Ctx, key: &str) -> CliResult<Order> {
    let orders = &ctx.rt.stores.orders;
    let found = if key.bytes().all(|b| b.is_ascii_digit()) {
        let id: i64 = key
            .parse()
            .map_err(|_| CliError::new(4, "not an order id"))?;
        orders.get(OrderId::new(id)?).await
    } else {
        orders.get_by_no(&OrderNo::parse(key)?).await
    };
    found
        .map_err(shop_core::ShopError::from)?
        .ok_or_else(|| CliError::new(3, format!("no order {key}")))
}

pub async fn run(ctx: &Ctx, cmd: OrderCmd) -> CliResult<()> {
    match cmd {
        OrderCmd::Search {
            status: st,
            from,
            to,
            order_no,
            phone,
            openid,
            page,
        } => {
            ctx.actor(Permission::ViewOrders).await?;
            let query = OrderQuery {
                status: status(st)?,
                from: date(from)?.map(BizDate::start),
                to: date(to)?.map(BizDate::end),
                order_no: order_no.as_deref().map(OrderNo::parse).transpose()?,
                phone: phone
                    .as_deref()
                    .map(Phone::parse)
                    .transpose()?
                    .map(|p| p.to_string()),
                openid,
                user_id: None,
            };
            let p = ctx
                .rt
                .stores
                .orders
                .search(&query, Page::new(page, 50))
                .await
                .map_err(shop_core::ShopError::from)?;
            let v = json!({"total": p.total, "items": p.items.iter().map(order_json).collect::<Vec<_>>()});
            let rows = p
                .items
                .iter()
                .map(|o| {
                    vec![
                        o.order_no.to_string(),
                        o.status.as_str().into(),
                        o.created_at.to_cn_datetime(),
                        yuan(o.payable.get()),
                        o.address.receiver.to_string(),
                        o.address.phone.masked(),
                        o.lines
                            .iter()
                            .map(|l| format!("{}×{}", l.spec, l.quantity.get()))
                            .collect::<Vec<_>>()
                            .join(", "),
                    ]
                })
                .collect();
            show(
                ctx.json,
                &v,
                &[
                    "order no", "status", "placed", "payable", "receiver", "phone", "items",
                ],
                rows,
            );
            if !ctx.json {
                println!("{} order(s), page {page}", p.total);
            }
        }
        OrderCmd::Show { order } => {
            ctx.actor(Permission::ViewOrders).await?;
            record(ctx.json, &order_json(&find(ctx, &order).await?));
        }
        OrderCmd::Cancel { order, reason } => {
            let by = ctx.actor(Permission::ManageOrders).await?;
            let o = find(ctx, &order).await?;
            let reason = Reason::parse(&reason)?;
            ctx.confirm(&format!(
                "Cancel order {} ({}, {} yuan) and release its stock?",
                o.order_no,
                o.status,
                yuan(o.payable.get())
            ))?;
            let o = ctx.rt.shop.cancel_order(&by, o.id, Some(reason)).await?;
            record(ctx.json, &order_json(&o));
        }
        OrderCmd::Ship {
            order,
            carrier,
            tracking_no,
        } => {
            let by = ctx.actor(Permission::ManageOrders).await?;
            let o = find(ctx, &order).await?;
            let shipment = Shipment {
                carrier: Carrier::parse(&carrier)?,
                tracking_no: TrackingNo::parse(&tracking_no)?,
            };
            let o = ctx.rt.backoffice.ship(&by, o.id, shipment).await?;
            record(ctx.json, &order_json(&o));
        }
        OrderCmd::Export {
            from,
            to,
            status: st,
            output,
        } => {
            ctx.actor(Permission::ViewOrders).await?;
            let query = OrderQuery {
                status: status(st)?,
                from: Some(BizDate::parse(&from)?.start()),
                to: Some(BizDate::parse(&to)?.end()),
                ..OrderQuery::default()
            };
            let stats = export(ctx, &query, &output).await?;
            record(
                ctx.json,
                &json!({"file": output.display().to_string(), "orders": stats.0, "rows": stats.1, "bytes": stats.2}),
            );
        }
    }
    Ok(())
}

/// Writes the CSV page by page: memory stays flat however many orders there are.
/// Returns (orders, rows, bytes).
pub async fn export(
    ctx: &Ctx,
    query: &OrderQuery,
    output: &std::path::Path,
) -> CliResult<(u64, u64, u64)> {
    let orders = &ctx.rt.stores.orders;
    let total = orders
        .search(query, Page::new(1, 1))
        .await
        .map_err(shop_core::ShopError::from)?
        .total;
    let bar = if ctx.json {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(u64::try_from(total).unwrap_or(0))
    };
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} orders {per_sec} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let tmp = output.with_extension("csv.part");
    let file = std::fs::File::create(&tmp)?;
    let mut out = std::io::BufWriter::with_capacity(256 * 1024, file);
    let header = shop_core::export::header();
    out.write_all(header.as_bytes())?;
    let (mut n_orders, mut n_rows, mut bytes) = (0u64, 0u64, header.len() as u64);
    let mut after = None;
    loop {
        let page = orders
            .scan(query, after, 1000)
            .await
            .map_err(shop_core::ShopError::from)?;
        let Some(last) = page.last() else { break };
        after = Some((last.created_at, last.id));
        let chunk = shop_core::export::orders_csv(&page);
        out.write_all(chunk.as_bytes())?;
        bytes += chunk.len() as u64;
        n_rows += page.iter().map(|o| o.lines.len() as u64).sum::<u64>();
        n_orders += page.len() as u64;
        bar.inc(page.len() as u64);
    }
    out.flush()?;
    drop(out);
    std::fs::rename(&tmp, output)?;
    bar.finish_and_clear();
    Ok((n_orders, n_rows, bytes))
}
