//! The invariants, read straight from the shop's database after a run: stock never negative
//! nor over-reserved, reservations equal to what unpaid orders hold, nothing sold beyond the
//! stock, and at most one recorded payment per order.

use anyhow::Context as _;
use serde::Serialize;
use sqlx::{MySqlPool, SqlitePool};

pub enum Db {
    MySql(MySqlPool),
    Sqlite(SqlitePool),
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct Invariants {
    /// SKUs with on_hand < 0, reserved < 0 or reserved > on_hand (must be 0).
    pub bad_stock_rows: i64,
    /// SKUs whose `reserved` differs from the quantity held by unpaid orders (must be 0).
    pub reservation_mismatches: i64,
    /// Orders with more than one recorded payment (must be 0).
    pub orders_paid_twice: i64,
    /// For the scenario's SKUs: units in orders that are not cancelled.
    pub sold: i64,
    /// For the scenario's SKUs: the stock they were created with.
    pub stock: i64,
    /// Units sold beyond the stock (must be 0).
    pub oversold: i64,
    /// Orders of the scenario's SKUs that are PAID.
    pub paid_orders: i64,
    /// Orders of the scenario's SKUs in the database (≥ the 201 answers: none acknowledged is lost).
    pub orders: i64,
}

impl Invariants {
    pub fn hold(&self) -> bool {
        self.bad_stock_rows == 0
            && self.reservation_mismatches == 0
            && self.orders_paid_twice == 0
            && self.oversold == 0
    }
}

impl std::fmt::Display for Invariants {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "  invariants: {} — bad stock rows {}, reservation mismatches {}, orders paid twice {}, \
             sold {} of {} (oversold {}), orders {}, paid orders {}",
            if self.hold() { "HOLD" } else { "BROKEN" },
            self.bad_stock_rows,
            self.reservation_mismatches,
            self.orders_paid_twice,
            self.sold,
            self.stock,
            self.oversold,
            self.orders,
            self.paid_orders
        )
    }
}

impl Db {
    pub async fn connect(url: &str) -> anyhow::Result<Db> {
        if url.starts_with("mysql:") {
            Ok(Db::MySql(
                MySqlPool::connect(url)
                    .await
                    .with_context(|| format!("connecting to {url}"))?,
            ))
        } else if url.starts_with("sqlite:") {
            Ok(Db::Sqlite(
                SqlitePool::connect(url)
                    .await
                    .with_context(|| format!("opening {url}"))?,
            ))
        } else {
            anyhow::bail!("--database-url must be mysql://… or sqlite://…")
        }
    }

    /// One integer from `sql`; `{int}` becomes the dialect's integer cast target.
    async fn scalar(&self, sql: &str) -> anyhow::Result<i64> {
        let v: i64 = match self {
            Db::MySql(p) => {
                sqlx::query_scalar(&sql.replace("{int}", "SIGNED"))
                    .fetch_one(p)
                    .await?
            }
            Db::Sqlite(p) => {
                sqlx::query_scalar(&sql.replace("{int}", "INTEGER"))
                    .fetch_one(p)
                    .await?
            }
        };
        Ok(v)
    }

    /// Checks the whole database, and the scenario's SKUs (`skus`, each created with `stock`).
    pub async fn invariants(&self, skus: &[i64], stock_each: i64) -> anyhow::Result<Invariants> {
        let list = if skus.is_empty() {
            "NULL".to_string()
        } else {
            skus.iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(",")
        };
        let bad_stock_rows = self
            .scalar("SELECT COUNT(*) FROM inventory WHERE on_hand < 0 OR reserved < 0 OR reserved > on_hand")
            .await?;
        let reservation_mismatches = self
            .scalar(
                "SELECT COUNT(*) FROM inventory i LEFT JOIN ( \
                   SELECT oi.sku_id, CAST(SUM(oi.quantity) AS {int}) AS held \
                   FROM order_items oi JOIN orders o ON o.id = oi.order_id \
                   WHERE o.status = 'PENDING_PAYMENT' GROUP BY oi.sku_id \
                 ) h ON h.sku_id = i.sku_id \
                 WHERE i.reserved <> COALESCE(h.held, 0)",
            )
            .await?;
        let orders_paid_twice = self
            .scalar(
                "SELECT COUNT(*) FROM (SELECT out_trade_no FROM payment_notifications \
                 GROUP BY out_trade_no HAVING COUNT(*) > 1) d",
            )
            .await?;
        let sold = self
            .scalar(&format!(
                "SELECT CAST(COALESCE(SUM(oi.quantity), 0) AS {{int}}) FROM order_items oi \
                 JOIN orders o ON o.id = oi.order_id \
                 WHERE oi.sku_id IN ({list}) AND o.status <> 'CANCELLED'"
            ))
            .await?;
        let paid_orders = self
            .scalar(&format!(
                "SELECT COUNT(DISTINCT o.id) FROM orders o JOIN order_items oi ON oi.order_id = o.id \
                 WHERE oi.sku_id IN ({list}) AND o.status = 'PAID'"
            ))
            .await?;
        let orders = self
            .scalar(&format!(
                "SELECT COUNT(DISTINCT o.id) FROM orders o JOIN order_items oi ON oi.order_id = o.id \
                 WHERE oi.sku_id IN ({list})"
            ))
            .await?;
        // Per SKU: what is on hand now plus what was committed must equal what it started with.
        let stock = stock_each * skus.len() as i64;
        let oversold = if skus.len() == 1 {
            (sold - stock).max(0)
        } else {
            self.scalar(&format!(
                "SELECT CAST(COALESCE(SUM(CASE WHEN s.sold > {stock_each} THEN s.sold - {stock_each} ELSE 0 END), 0) AS {{int}}) \
                 FROM (SELECT oi.sku_id, SUM(oi.quantity) AS sold FROM order_items oi \
                       JOIN orders o ON o.id = oi.order_id \
                       WHERE oi.sku_id IN ({list}) AND o.status <> 'CANCELLED' GROUP BY oi.sku_id) s"
            ))
            .await?
        };
        Ok(Invariants {
            bad_stock_rows,
            reservation_mismatches,
            orders_paid_twice,
            sold,
            stock,
            oversold,
            paid_orders,
            orders,
        })
    }
}
