//! Writing new orders: one request alone, or many in one transaction (see `batch.rs`).
//!
//! Alone, an order is one conditional stock update per SKU, the order row, its lines, its
//! events and its idempotency key, in one transaction. A batch does the same work for every
//! order at once: **one** conditional update for all the SKUs involved (the quantities summed
//! per SKU), one multi-row insert per table, one key update and one commit. If any SKU cannot
//! cover the batch's sum, or any row collides, the batch is rolled back and each order runs
//! alone, so a shopper never gets a refusal that belonged to someone else's order.

use super::batch::{Batched, MAX_BATCH};
use super::rows::ORDER_ITEM_COLS;
use super::tx::{complete_idempotency, insert_events, Conn};
use super::DbResultExt;
use crate::Db;
use shop_core::events::OutboxEvent;
use shop_core::idempotency::{IdemCompletion, IN_PROGRESS_LEASE};
use shop_core::ids::SkuId;
use shop_core::order::Order;
use shop_core::ports::{OrderStoreError, StoreError};
use shop_core::time::Timestamp;
use shop_sql::{placeholders, unique_violation};
use sqlx::Pool;
use std::collections::BTreeMap;

/// An order to create, as handed to the writer.
pub(crate) struct NewOrder {
    pub(crate) order: Order,
    pub(crate) events: Vec<OutboxEvent>,
    pub(crate) idem: Option<IdemCompletion>,
}

type Created = Result<(), OrderStoreError>;

const ORDER_INSERT: &str = "INSERT INTO orders (id, order_no, user_id, status, items_total_fen, shipping_fee_fen, payable_fen, paid_fen, \
     refunded_fen, refund_pending_fen, receiver, phone, province, city, district, detail, remark, created_at, \
     expires_at, late_payment, updated_at, version) VALUES ";
const ORDER_ROW: &str = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
const ITEM_ROW: &str = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

/// The writer's batch function (a [`super::batch::RunBatch`]).
pub(crate) fn create_batch(pool: Pool<Db>, jobs: Vec<NewOrder>) -> Batched<Created> {
    Box::pin(async move {
        if jobs.len() > 1 {
            match create_together(&pool, &jobs).await {
                Together::Done => return jobs.iter().map(|_| Ok(())).collect(),
                // The commit's outcome is unknown: running the orders again could report a
                // committed order as failed. Every request gets the error; their idempotency
                // keys tell a retry what happened.
                Together::CommitFailed(e) => {
                    return jobs
                        .iter()
                        .map(|_| Err(StoreError::Unavailable(e.clone()).into()))
                        .collect();
                }
                Together::OneByOne => {}
            }
        }
        let mut results = Vec::with_capacity(jobs.len());
        for job in &jobs {
            results.push(create_one(&pool, job).await);
        }
        results
    })
}

/// One order in its own transaction.
async fn create_one(pool: &Pool<Db>, job: &NewOrder) -> Created {
    let o = &job.order;
    let mut tx = pool.begin().await.db()?;
    let at = o.created_at.millis();
    // The database is the authority on stock: one conditional update per SKU, in SKU order
    // so that concurrent multi-SKU orders lock rows in the same order and cannot deadlock.
    for (sku, q) in o.quantities() {
        let done = sqlx::query(
            "UPDATE inventory SET reserved = reserved + ?, updated_at = ? WHERE sku_id = ? AND on_hand - reserved >= ?",
        )
        .bind(q)
        .bind(at)
        .bind(sku.get())
        .bind(q)
        .execute(&mut *tx)
        .await
        .db()?;
        if done.rows_affected() != 1 {
            return Err(OrderStoreError::OutOfStock { sku_id: sku });
        }
    }
    match insert_rows(&mut tx, std::slice::from_ref(job)).await {
        Ok(()) => {}
        Err(e) if unique_violation(&e).is_some() => return Err(OrderStoreError::Duplicate),
        Err(e) => return Err(shop_sql::db_err(e).into()),
    }
    insert_events(&mut tx, &job.events).await?;
    if let Some(idem) = &job.idem {
        complete_idempotency(&mut tx, idem, o.created_at).await?;
    }
    tx.commit().await.db()?;
    Ok(())
}

enum Together {
    Done,
    OneByOne,
    CommitFailed(String),
}

/// Every order of the batch in one transaction, or nothing.
async fn create_together(pool: &Pool<Db>, jobs: &[NewOrder]) -> Together {
    debug_assert!(jobs.len() <= MAX_BATCH);
    let Ok(mut tx) = pool.begin().await else {
        return Together::OneByOne;
    };
    if !all_steps(&mut tx, jobs).await {
        // Dropping the transaction rolls it back.
        return Together::OneByOne;
    }
    match tx.commit().await {
        Ok(()) => Together::Done,
        Err(e) => Together::CommitFailed(e.to_string()),
    }
}

async fn all_steps(conn: &mut Conn, jobs: &[NewOrder]) -> bool {
    let mut wanted: BTreeMap<SkuId, i64> = BTreeMap::new();
    for job in jobs {
        for (sku, q) in job.order.quantities() {
            *wanted.entry(sku).or_default() += q;
        }
    }
    let at = jobs.iter().map(|j| j.order.created_at.millis()).max();
    if !reserve_all(conn, &wanted, at.unwrap_or_default()).await {
        return false;
    }
    if insert_rows(conn, jobs).await.is_err() {
        return false;
    }
    let events: Vec<OutboxEvent> = jobs.iter().flat_map(|j| j.events.clone()).collect();
    if insert_events(conn, &events).await.is_err() {
        return false;
    }
    let keys: Vec<&IdemCompletion> = jobs.iter().filter_map(|j| j.idem.as_ref()).collect();
    complete_keys(conn, &keys, at.unwrap_or_default()).await
}

/// One conditional update for every SKU: each row gains its summed quantity only if it can
/// cover it. Rows are locked in primary-key order, like the single-order path.
async fn reserve_all(conn: &mut Conn, wanted: &BTreeMap<SkuId, i64>, at: i64) -> bool {
    let cases = " WHEN ? THEN ?".repeat(wanted.len());
    let sql = format!(
        "UPDATE inventory SET reserved = reserved + CASE sku_id{cases} END, updated_at = ? \
         WHERE sku_id IN ({}) AND on_hand - reserved >= CASE sku_id{cases} END",
        placeholders(wanted.len())
    );
    let mut q = sqlx::query(&sql);
    for (sku, n) in wanted {
        q = q.bind(sku.get()).bind(*n);
    }
    q = q.bind(at);
    for sku in wanted.keys() {
        q = q.bind(sku.get());
    }
    for (sku, n) in wanted {
        q = q.bind(sku.get()).bind(*n);
    }
    matches!(q.execute(&mut *conn).await, Ok(done) if done.rows_affected() == wanted.len() as u64)
}

/// The orders' rows and lines, one statement per table.
async fn insert_rows(conn: &mut Conn, jobs: &[NewOrder]) -> Result<(), sqlx::Error> {
    let sql = format!("{ORDER_INSERT}{}", vec![ORDER_ROW; jobs.len()].join(", "));
    let mut q = sqlx::query(&sql);
    for job in jobs {
        let o = &job.order;
        let a = &o.address;
        q = q
            .bind(o.id.get())
            .bind(o.order_no.as_str())
            .bind(o.user_id.get())
            .bind(o.status.as_str())
            .bind(o.items_total.get())
            .bind(o.shipping_fee.get())
            .bind(o.payable.get())
            .bind(o.paid.get())
            .bind(o.refunded.get())
            .bind(o.refund_pending.get())
            .bind(a.receiver.as_str())
            .bind(a.phone.as_str())
            .bind(a.province.as_str())
            .bind(a.city.as_str())
            .bind(a.district.as_str())
            .bind(a.detail.as_str())
            .bind(o.remark.as_str())
            .bind(o.created_at.millis())
            .bind(o.expires_at.millis())
            .bind(o.late_payment)
            .bind(o.updated_at.millis())
            .bind(o.version);
    }
    q.execute(&mut *conn).await?;

    let lines: usize = jobs.iter().map(|j| j.order.lines.len()).sum();
    if lines == 0 {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO order_items ({ORDER_ITEM_COLS}) VALUES {}",
        vec![ITEM_ROW; lines].join(", ")
    );
    let mut q = sqlx::query(&sql);
    for job in jobs {
        let o = &job.order;
        for (n, l) in o.lines.iter().enumerate() {
            q = q
                .bind(o.id.get())
                .bind(n as i64 + 1)
                .bind(l.sku_id.get())
                .bind(l.product_id.get())
                .bind(l.title.as_str())
                .bind(l.spec.as_str())
                .bind(l.unit_price.get())
                .bind(l.quantity.get())
                .bind(l.line_total.get())
                .bind(l.cover_url.as_deref());
        }
    }
    q.execute(&mut *conn).await?;
    Ok(())
}

/// Completes every key in one statement; all of them must still be claimed and open.
async fn complete_keys(conn: &mut Conn, keys: &[&IdemCompletion], at: i64) -> bool {
    if keys.is_empty() {
        return true;
    }
    let cases = " WHEN scope = ? AND idem_key = ? THEN ?".repeat(keys.len());
    let which = vec!["(scope = ? AND idem_key = ?)"; keys.len()].join(" OR ");
    let sql = format!(
        "UPDATE idempotency_keys SET resource_id = CASE{cases} END, locked_until = ? \
         WHERE resource_id IS NULL AND ({which})"
    );
    let mut q = sqlx::query(&sql);
    for k in keys {
        q = q
            .bind(k.scope.as_str())
            .bind(k.key.as_str())
            .bind(k.resource_id);
    }
    q = q.bind(Timestamp::from_millis(at).minus(IN_PROGRESS_LEASE).millis());
    for k in keys {
        q = q.bind(k.scope.as_str()).bind(k.key.as_str());
    }
    matches!(q.execute(&mut *conn).await, Ok(done) if done.rows_affected() == keys.len() as u64)
}
