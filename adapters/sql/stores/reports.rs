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
