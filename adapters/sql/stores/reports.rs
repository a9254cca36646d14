use super::rows::{self, Row};
use super::{DbResultExt, SqlStore};
use crate::DIALECT;
use async_trait::async_trait;
use shop_core::ids::SkuId;
use shop_core::money::Fen;
use shop_core::ports::{DailyStats, ReportError, ReportStore, SkuSales, StoreError};
use shop_core::time::BizDate;

/// Milliseconds between UTC and China time: days are China calendar days.
const CN_OFFSET_MS: i64 = 8 * 3_600_000;
const DAY_MS: i64 = 86_400_000;

fn day_of(col: &str) -> String {
    format!("(({col} + {CN_OFFSET_MS}){}{DAY_MS})", DIALECT.int_div())
}

fn sum(col: &str) -> String {
    format!("{}{col}{}", DIALECT.sum_int_open(), DIALECT.sum_int_close())
}

impl SqlStore {
    /// `(day, count, sum)` rows of one grouped query over `[from, to]`.
    async fn per_day(
        &self,
        sql: &str,
        from: BizDate,
        to: BizDate,
    ) -> Result<Vec<(i64, i64, i64)>, StoreError> {
        let rows: Vec<Row> = sqlx::query(sql)
            .bind(from.start().millis())
            .bind(to.end().millis())
            .fetch_all(&self.read)
            .await
            .db()?;
        rows.iter()
            .map(|r| {
                Ok((
                    rows::get::<i64>(r, "day")?,
                    rows::get::<i64>(r, "n")?,
                    rows::get::<i64>(r, "total")?,
                ))
            })
            .collect()
    }
}

#[async_trait]
impl ReportStore for SqlStore {
    async fn daily(&self, from: BizDate, to: BizDate) -> Result<Vec<DailyStats>, ReportError> {
        let created = self
            .per_day(
                &format!(
                    "SELECT {d} AS day, COUNT(*) AS n, 0 AS total FROM orders WHERE created_at >= ? AND created_at < ? GROUP BY {d}",
                    d = day_of("created_at")
                ),
                from,
                to,
            )
            .await?;
        let paid = self
            .per_day(
                &format!(
                    "SELECT {d} AS day, COUNT(*) AS n, {s} AS total FROM orders WHERE paid_at >= ? AND paid_at < ? GROUP BY {d}",
                    d = day_of("paid_at"),
                    s = sum("paid_fen")
                ),
                from,
                to,
            )
            .await?;
        let refunded = self
            .per_day(
                &format!(
                    "SELECT {d} AS day, COUNT(*) AS n, {s} AS total FROM refunds \
                     WHERE status = 'SUCCEEDED' AND succeeded_at >= ? AND succeeded_at < ? GROUP BY {d}",
                    d = day_of("succeeded_at"),
                    s = sum("amount_fen")
                ),
                from,
                to,
            )
            .await?;
        let find = |rows: &[(i64, i64, i64)], day: i64| {
            rows.iter()
                .find(|r| r.0 == day)
                .map_or((0, 0), |r| (r.1, r.2))
        };
        let mut out = Vec::new();
        let mut day = from.days();
        while day <= to.days() {
            let (orders, _) = find(&created, day);
            let (paid_orders, gmv) = find(&paid, day);
            let (refund_count, refunds) = find(&refunded, day);
            out.push(DailyStats {
                date: BizDate::from_days(day),
                orders,
                paid_orders,
                gmv: Fen::new(gmv),
                refunds: Fen::new(refunds),
                refund_count,
            });
            day += 1;
        }
        Ok(out)
    }

    async fn top_skus(
        &self,
        from: BizDate,
        to: BizDate,
        limit: u32,
    ) -> Result<Vec<SkuSales>, ReportError> {
        let sql = format!(
            "SELECT i.sku_id AS sku_id, MAX(i.title) AS title, MAX(i.spec) AS spec, {q} AS qty, {r} AS revenue \
             FROM order_items i JOIN orders o ON o.id = i.order_id \
             WHERE o.paid_at >= ? AND o.paid_at < ? GROUP BY i.sku_id ORDER BY qty DESC, i.sku_id LIMIT ?",
            q = sum("i.quantity"),
            r = sum("i.line_total_fen")
        );
        let rows = sqlx::query(&sql)
            .bind(from.start().millis())
            .bind(to.end().millis())
            .bind(i64::from(limit))
            .fetch_all(&self.read)
            .await
            .db()?;
        rows.iter()
            .map(|r| {
                let id: i64 = rows::get(r, "sku_id")?;
                Ok(SkuSales {
                    sku_id: SkuId::new(id).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    title: rows::string(r, "title")?,
                    spec: rows::string(r, "spec")?,
                    quantity: rows::get(r, "qty")?,
                    revenue: Fen::new(rows::get(r, "revenue")?),
                })
            })
            .collect()
    }
}

#[async_trait]
impl shop_core::ports::ReconStore for SqlStore {
    async fn save_report(&self, r: &shop_core::reconcile::ReconReport) -> Result<(), ReportError> {
        let date = r.date.to_string();
        let mut tx = self.write.begin().await.db()?;
        // Rerunning a day replaces its report; the differences go with it (ON DELETE CASCADE,
        // and explicitly for databases that do not cascade).
        sqlx::query("DELETE FROM recon_diffs WHERE report_date = ?")
            .bind(date.as_str())
            .execute(&mut *tx)
            .await
            .db()?;
        sqlx::query("DELETE FROM recon_reports WHERE report_date = ?")
            .bind(date.as_str())
            .execute(&mut *tx)
            .await
            .db()?;
        sqlx::query(
            "INSERT INTO recon_reports (report_date, generated_at, bill_count, bill_settled_fen, bill_refund_fen, \
             local_count, local_paid_fen, local_refund_fen, differences) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(date.as_str())
        .bind(r.generated_at.millis())
        .bind(r.bill_count)
        .bind(r.bill_settled.get())
        .bind(r.bill_refund.get())
        .bind(r.local_count)
        .bind(r.local_paid.get())
        .bind(r.local_refund.get())
        .bind(r.differences.len() as i64)
        .execute(&mut *tx)
        .await
        .db()?;
        for (i, d) in r.differences.iter().enumerate() {
            let detail: String = d.detail.chars().take(400).collect();
            sqlx::query(
                "INSERT INTO recon_diffs (report_date, seq, kind, out_trade_no, transaction_id, out_refund_no, local_fen, wechat_fen, detail) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(date.as_str())
            .bind(i as i64 + 1)
            .bind(d.kind.as_str())
            .bind(d.out_trade_no.as_deref())
            .bind(d.transaction_id.as_deref())
            .bind(d.out_refund_no.as_deref())
            .bind(d.local.map(Fen::get))
            .bind(d.wechat.map(Fen::get))
            .bind(detail)
            .execute(&mut *tx)
            .await
            .db()?;
        }
        tx.commit().await.db()?;
        Ok(())
    }

    async fn report(
        &self,
        date: BizDate,
    ) -> Result<Option<shop_core::reconcile::ReconReport>, ReportError> {
        let d = date.to_string();
        let Some(row) = sqlx::query(&format!(
            "SELECT {RECON_COLS} FROM recon_reports WHERE report_date = ?"
        ))
        .bind(d.as_str())
        .fetch_optional(&self.read)
        .await
        .db()?
        else {
            return Ok(None);
        };
        let mut report = recon_report(&row)?;
        let diffs = sqlx::query(
            "SELECT kind, out_trade_no, transaction_id, out_refund_no, local_fen, wechat_fen, detail \
             FROM recon_diffs WHERE report_date = ? ORDER BY seq",
        )
        .bind(d.as_str())
        .fetch_all(&self.read)
        .await
        .db()?;
        for r in &diffs {
            let kind = rows::string(r, "kind")?;
            report.differences.push(shop_core::reconcile::Difference {
                kind: shop_core::reconcile::DiffKind::parse(&kind).ok_or_else(|| {
                    StoreError::Corrupt(format!("unknown difference kind {kind}"))
                })?,
                out_trade_no: rows::string_opt(r, "out_trade_no")?,
                transaction_id: rows::string_opt(r, "transaction_id")?,
                out_refund_no: rows::string_opt(r, "out_refund_no")?,
                local: rows::get::<Option<i64>>(r, "local_fen")?.map(Fen::new),
                wechat: rows::get::<Option<i64>>(r, "wechat_fen")?.map(Fen::new),
                detail: rows::string(r, "detail")?,
            });
        }
        Ok(Some(report))
    }

    async fn recent_reports(
        &self,
        limit: u32,
    ) -> Result<Vec<shop_core::reconcile::ReconReport>, ReportError> {
        let rows = sqlx::query(&format!(
            "SELECT {RECON_COLS} FROM recon_reports ORDER BY report_date DESC LIMIT ?"
        ))
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await
        .db()?;
        Ok(rows.iter().map(recon_report).collect::<Result<_, _>>()?)
    }
}

const RECON_COLS: &str =
    "report_date, generated_at, bill_count, bill_settled_fen, bill_refund_fen, local_count, \
     local_paid_fen, local_refund_fen, differences";

/// A report row; its differences are loaded separately (the count is in `differences`).
fn recon_report(row: &Row) -> Result<shop_core::reconcile::ReconReport, StoreError> {
    let date = rows::string(row, "report_date")?;
    Ok(shop_core::reconcile::ReconReport {
        date: BizDate::parse(&date).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        generated_at: shop_core::Timestamp::from_millis(rows::get(row, "generated_at")?),
        bill_count: rows::get(row, "bill_count")?,
        bill_settled: Fen::new(rows::get(row, "bill_settled_fen")?),
        bill_refund: Fen::new(rows::get(row, "bill_refund_fen")?),
        local_count: rows::get(row, "local_count")?,
        local_paid: Fen::new(rows::get(row, "local_paid_fen")?),
        local_refund: Fen::new(rows::get(row, "local_refund_fen")?),
        differences: Vec::with_capacity(
            usize::try_from(rows::get::<i64>(row, "differences")?).unwrap_or(0),
        ),
    })
}
