use super::batch::WriterGone;
use super::placing::NewOrder;
use super::rows::{self, Row, ORDER_COLS, ORDER_ITEM_COLS};
use super::tx::{apply_order_change, in_list};
use super::{DbResultExt, SqlStore};
use crate::Db;
use async_trait::async_trait;
use shop_core::events::OutboxEvent;
use shop_core::idempotency::IdemCompletion;
use shop_core::ids::{OrderId, UserId};
use shop_core::order::{Order, OrderLine, OrderStatus};
use shop_core::ports::*;
use shop_core::text::OrderNo;
use shop_core::time::Timestamp;
use sqlx::Pool;
use sqlx::Row as _;

impl SqlStore {
    /// Loads the lines of the given orders and assembles them, keeping the rows' order.
    pub(crate) async fn assemble_orders(
        &self,
        order_rows: Vec<Row>,
    ) -> Result<Vec<Order>, StoreError> {
        assemble(&self.read, order_rows).await
    }

    async fn order_by_id(&self, id: i64) -> Result<Option<Order>, OrderStoreError> {
        let sql = format!("SELECT {ORDER_COLS} FROM orders WHERE id = ?");
        let q = sqlx::query(&sql).bind(id);
        let Some(row) = q.fetch_optional(&self.read).await.db()? else {
            return Ok(None);
        };
        Ok(self.assemble_orders(vec![row]).await?.pop())
    }

    async fn page_orders(
        &self,
        where_sql: &str,
        binds: &[Bind],
        page: Page,
    ) -> Result<Paged<Order>, OrderStoreError> {
        let count_sql = format!("SELECT COUNT(*) AS n FROM orders WHERE {where_sql}");
        let mut cq = sqlx::query(&count_sql);
        for b in binds {
            cq = b.bind_to(cq);
        }
        let total: i64 = cq.fetch_one(&self.read).await.db()?.try_get("n").db()?;
        let sql = format!("SELECT {ORDER_COLS} FROM orders WHERE {where_sql} ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?");
        let mut q = sqlx::query(&sql);
        for b in binds {
            q = b.bind_to(q);
        }
        let rows = q
            .bind(page.limit())
            .bind(page.offset())
            .fetch_all(&self.read)
            .await
            .db()?;
        Ok(Paged {
            items: self.assemble_orders(rows).await?,
            total,
            page,
        })
    }
}

/// A bind value of a dynamically built query.
pub(crate) enum Bind {
    Int(i64),
    Text(String),
}

type Query<'q> = sqlx::query::Query<'q, crate::Db, <crate::Db as sqlx::Database>::Arguments<'q>>;

impl Bind {
    pub(crate) fn bind_to<'q>(&'q self, q: Query<'q>) -> Query<'q> {
        match self {
            Bind::Int(i) => q.bind(*i),
            Bind::Text(s) => q.bind(s.as_str()),
        }
    }
}

#[async_trait]
impl OrderStore for SqlStore {
    async fn create(
        &self,
        o: &Order,
        events: &[OutboxEvent],
        idem: Option<IdemCompletion>,
    ) -> Result<(), OrderStoreError> {
        let job = NewOrder {
            order: o.clone(),
            events: events.to_vec(),
            idem,
        };
        self.batches
            .orders
            .submit(&self.write, job)
            .await
            .unwrap_or_else(|WriterGone| {
                Err(StoreError::Unavailable("the order writer has stopped".into()).into())
            })
    }

    async fn get(&self, id: OrderId) -> Result<Option<Order>, OrderStoreError> {
        self.order_by_id(id.get()).await
    }

    async fn get_by_no(&self, no: &OrderNo) -> Result<Option<Order>, OrderStoreError> {
        Ok(self
            .batches
            .orders_by_no
            .submit(&self.read, no.clone())
            .await
            .unwrap_or_else(|WriterGone| {
                Err(StoreError::Unavailable(
                    "the order reader has stopped".into(),
                ))
            })?)
    }

    async fn list_for_user(
        &self,
        user: UserId,
        status: Option<OrderStatus>,
        page: Page,
    ) -> Result<Paged<Order>, OrderStoreError> {
        let mut binds = vec![Bind::Int(user.get())];
        let mut where_sql = String::from("user_id = ?");
        if let Some(s) = status {
            where_sql.push_str(" AND status = ?");
            binds.push(Bind::Text(s.as_str().to_string()));
        }
        self.page_orders(&where_sql, &binds, page).await
    }

    async fn search(
        &self,
        query: &OrderQuery,
        page: Page,
    ) -> Result<Paged<Order>, OrderStoreError> {
        let (clauses, binds) = order_filters(query);
        self.page_orders(&clauses.join(" AND "), &binds, page).await
    }

    async fn scan(
        &self,
        query: &OrderQuery,
        after: Option<(Timestamp, OrderId)>,
        limit: u32,
    ) -> Result<Vec<Order>, OrderStoreError> {
        let (mut clauses, mut binds) = order_filters(query);
        if let Some((t, id)) = after {
            clauses.push("(created_at > ? OR (created_at = ? AND id > ?))");
            binds.extend([
                Bind::Int(t.millis()),
                Bind::Int(t.millis()),
                Bind::Int(id.get()),
            ]);
        }
        let sql = format!(
            "SELECT {ORDER_COLS} FROM orders WHERE {} ORDER BY created_at, id LIMIT ?",
            clauses.join(" AND ")
        );
        let mut q = sqlx::query(&sql);
        for b in &binds {
            q = b.bind_to(q);
        }
        let rows = q.bind(i64::from(limit)).fetch_all(&self.read).await.db()?;
        Ok(self.assemble_orders(rows).await?)
    }

    async fn apply(&self, change: &OrderChange) -> Result<(), OrderStoreError> {
        let mut tx = self.write.begin().await.db()?;
        apply_order_change(&mut tx, change).await?;
        tx.commit().await.db()?;
        Ok(())
    }

    async fn due_unpaid(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<OrderId>, OrderStoreError> {
        ids_of(
            sqlx::query("SELECT id FROM orders WHERE status = ? AND expires_at <= ? ORDER BY expires_at, id LIMIT ?")
                .bind(OrderStatus::PendingPayment.as_str())
                .bind(now.millis())
                .bind(i64::from(limit))
                .fetch_all(&self.read)
                .await
                .db()?,
        )
    }

    async fn claim_due_unpaid(
        &self,
        now: Timestamp,
        owner: &str,
        until: Timestamp,
        limit: u32,
    ) -> Result<Vec<OrderId>, OrderStoreError> {
        let ids = super::tx::claim_rows(
            &self.write,
            "orders",
            "SELECT id FROM orders WHERE status = 'PENDING_PAYMENT' AND expires_at <= ? \
             AND (claimed_until IS NULL OR claimed_until <= ?) ORDER BY expires_at, id",
            &[now.millis(), now.millis()],
            limit,
            owner,
            until.millis(),
        )
        .await?;
        ids.into_iter()
            .map(|id| OrderId::new(id).map_err(|e| StoreError::Corrupt(e.to_string()).into()))
            .collect()
    }

    async fn due_auto_confirm(
        &self,
        shipped_before: Timestamp,
        limit: u32,
    ) -> Result<Vec<OrderId>, OrderStoreError> {
        ids_of(
            sqlx::query("SELECT id FROM orders WHERE status = ? AND shipped_at <= ? ORDER BY shipped_at, id LIMIT ?")
                .bind(OrderStatus::Shipped.as_str())
                .bind(shipped_before.millis())
                .bind(i64::from(limit))
                .fetch_all(&self.read)
                .await
                .db()?,
        )
    }
}

/// The WHERE clauses and binds of a back-office order query; every filter is optional.
fn order_filters(query: &OrderQuery) -> (Vec<&'static str>, Vec<Bind>) {
    let mut clauses: Vec<&'static str> = vec!["1 = 1"];
    let mut binds = Vec::new();
    if let Some(s) = query.status {
        clauses.push("status = ?");
        binds.push(Bind::Text(s.as_str().to_string()));
    }
    if let Some(t) = query.from {
        clauses.push("created_at >= ?");
        binds.push(Bind::Int(t.millis()));
    }
    if let Some(t) = query.to {
        clauses.push("created_at < ?");
        binds.push(Bind::Int(t.millis()));
    }
    if let Some(no) = &query.order_no {
        clauses.push("order_no = ?");
        binds.push(Bind::Text(no.as_str().to_string()));
    }
    if let Some(p) = &query.phone {
        clauses.push("phone = ?");
        binds.push(Bind::Text(p.clone()));
    }
    if let Some(o) = &query.openid {
        clauses.push("user_id IN (SELECT id FROM users WHERE openid = ?)");
        binds.push(Bind::Text(o.clone()));
    }
    if let Some(u) = query.user_id {
        clauses.push("user_id = ?");
        binds.push(Bind::Int(u.get()));
    }
    (clauses, binds)
}

fn ids_of(rows: Vec<Row>) -> Result<Vec<OrderId>, OrderStoreError> {
    rows.iter()
        .map(|r| {
            let id: i64 = rows::get(r, "id")?;
            OrderId::new(id).map_err(|e| StoreError::Corrupt(e.to_string()).into())
        })
        .collect()
}

/// Loads the lines of the given orders and assembles them, keeping the rows' order.
pub(crate) async fn assemble(
    pool: &Pool<Db>,
    order_rows: Vec<Row>,
) -> Result<Vec<Order>, StoreError> {
    if order_rows.is_empty() {
        return Ok(vec![]);
    }
    let ids: Vec<i64> = order_rows
        .iter()
        .map(|r| rows::get::<i64>(r, "id"))
        .collect::<Result<_, _>>()?;
    let asked = super::tx::padded(ids.iter().copied());
    let sql = format!(
        "SELECT {ORDER_ITEM_COLS} FROM order_items WHERE order_id IN ({}) ORDER BY order_id, line_no",
        in_list(asked.len())
    );
    let mut q = sqlx::query(&sql);
    for id in asked {
        q = q.bind(id);
    }
    let line_rows = q.fetch_all(pool).await.db()?;
    let mut lines: Vec<(OrderId, OrderLine)> = line_rows
        .iter()
        .map(rows::order_line)
        .collect::<Result<_, _>>()?;
    order_rows
        .iter()
        .zip(ids)
        .map(|(row, id)| {
            let mine: Vec<OrderLine> = lines
                .iter()
                .filter(|(o, _)| o.get() == id)
                .map(|(_, l)| l.clone())
                .collect();
            lines.retain(|(o, _)| o.get() != id);
            rows::order(row, mine)
        })
        .collect()
}
