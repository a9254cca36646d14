//! Confirming payments in batches (see `batch.rs`): the two reads a payment callback makes
//! (its order by number, the order's payment) and the write that records it.
//!
//! Alone, a confirmed payment is one transaction: the inbox row (a repeat stops there), the
//! payment under its version, the order under its version and status, the committed stock of
//! each SKU, the events. A batch of the common case — a pending order with an issued prepay
//! becoming paid — does the same for every payment at once: one multi-row insert into the
//! inbox, one versioned update of all the payments, one of all the orders (each row only if
//! it is still at the version and status its request read), one stock update for all the
//! SKUs (quantities summed), one insert of all the events, one commit. Anything else — a late
//! payment, an automatic refund, a payment row created now — runs alone. When any row of a
//! batch does not match (a repeat, a concurrent change), the batch is rolled back and every
//! payment runs alone, so each request gets exactly the answer it would have had alone.

use super::batch::Batched;
use super::orders::assemble;
use super::rows::{self, ORDER_COLS, PAYMENT_COLS};
use super::tx::{in_list, insert_events, padded, Conn};
use super::DbResultExt;
use crate::Db;
use shop_core::events::OutboxEvent;
use shop_core::ids::{OrderId, SkuId};
use shop_core::order::{Order, OrderStatus, StockEffect};
use shop_core::payment::Payment;
use shop_core::ports::{PaymentStoreError, PaymentSuccess, StoreError};
use shop_core::text::OrderNo;
use shop_core::time::Timestamp;
use sqlx::Pool;
use std::collections::{BTreeMap, BTreeSet};

pub(crate) type OrderFound = Result<Option<Order>, StoreError>;
pub(crate) type PaymentFound = Result<Option<Payment>, StoreError>;
pub(crate) type Settled = Result<(), PaymentStoreError>;

/// Orders by number, for every waiting request at once.
pub(crate) fn orders_by_no_batch(pool: Pool<Db>, nos: Vec<OrderNo>) -> Batched<OrderFound> {
    Box::pin(async move {
        let wanted: BTreeSet<&str> = nos.iter().map(OrderNo::as_str).collect();
        let wanted = padded(wanted);
        let sql = format!(
            "SELECT {ORDER_COLS} FROM orders WHERE order_no IN ({})",
            in_list(wanted.len())
        );
        let mut q = sqlx::query(&sql);
        for no in &wanted {
            q = q.bind(*no);
        }
        let found = match q.fetch_all(&pool).await.db() {
            Ok(rows) => assemble(&pool, rows).await,
            Err(e) => Err(e),
        };
        match found {
            Ok(found) => nos
                .iter()
                .map(|no| Ok(found.iter().find(|o| o.order_no == *no).cloned()))
                .collect(),
            Err(e) => nos.iter().map(|_| Err(e.clone())).collect(),
        }
    })
}

/// Payments by order, for every waiting request at once.
pub(crate) fn payments_by_order_batch(
    pool: Pool<Db>,
    orders: Vec<OrderId>,
) -> Batched<PaymentFound> {
    Box::pin(async move {
        let wanted: BTreeSet<i64> = orders.iter().map(|o| o.get()).collect();
        let wanted = padded(wanted);
        let sql = format!(
            "SELECT {PAYMENT_COLS} FROM payments WHERE order_id IN ({})",
            in_list(wanted.len())
        );
        let mut q = sqlx::query(&sql);
        for id in &wanted {
            q = q.bind(*id);
        }
        let found: Result<Vec<Payment>, StoreError> = match q.fetch_all(&pool).await.db() {
            Ok(rows) => rows.iter().map(rows::payment).collect(),
            Err(e) => Err(e),
        };
        match found {
            Ok(found) => orders
                .iter()
                .map(|o| Ok(found.iter().find(|p| p.order_id == *o).cloned()))
                .collect(),
            Err(e) => orders.iter().map(|_| Err(e.clone())).collect(),
        }
    })
}

/// The settle writer's batch function.
pub(crate) fn settle_batch(pool: Pool<Db>, jobs: Vec<PaymentSuccess>) -> Batched<Settled> {
    Box::pin(async move {
        let common: Vec<usize> = (0..jobs.len()).filter(|i| is_common(&jobs[*i])).collect();
        let mut results: Vec<Option<Settled>> = jobs.iter().map(|_| None).collect();
        if common.len() > 1 {
            let batch: Vec<&PaymentSuccess> = common.iter().map(|i| &jobs[*i]).collect();
            match settle_together(&pool, &batch).await {
                Together::Done => {
                    for i in &common {
                        results[*i] = Some(Ok(()));
                    }
                }
                // The commit's outcome is unknown: each request answers "try again later"
                // and WeChat's retry finds the inbox row if it did commit.
                Together::CommitFailed(e) => {
                    for i in &common {
                        results[*i] = Some(Err(StoreError::Unavailable(e.clone()).into()));
                    }
                }
                Together::OneByOne => {}
            }
        }
        let mut out = Vec::with_capacity(jobs.len());
        for (job, result) in jobs.iter().zip(results) {
            out.push(match result {
                Some(r) => r,
                None => super::payments::settle_one(&pool, job).await,
            });
        }
        out
    })
}

/// A pending order with an issued prepay becoming paid: the shape a batch handles.
fn is_common(s: &PaymentSuccess) -> bool {
    s.refund.is_none()
        && !s.payment_is_new
        && s.order_change.as_ref().is_some_and(|c| {
            c.audit.is_none()
                && c.transition.from == OrderStatus::PendingPayment
                && c.transition.stock == Some(StockEffect::Commit)
        })
}

enum Together {
    Done,
    OneByOne,
    CommitFailed(String),
}

async fn settle_together(pool: &Pool<Db>, jobs: &[&PaymentSuccess]) -> Together {
    let Ok(mut tx) = pool.begin().await else {
        return Together::OneByOne;
    };
    if !all_steps(&mut tx, jobs).await {
        return Together::OneByOne;
    }
    match tx.commit().await {
        Ok(()) => Together::Done,
        Err(e) => Together::CommitFailed(e.to_string()),
    }
}

async fn all_steps(conn: &mut Conn, jobs: &[&PaymentSuccess]) -> bool {
    let orders: Vec<&shop_core::order::OrderTransition> = jobs
        .iter()
        .filter_map(|s| s.order_change.as_ref().map(|c| &c.transition))
        .collect();
    if orders.len() != jobs.len() {
        return false;
    }
    let mut events: Vec<OutboxEvent> = Vec::new();
    for s in jobs {
        if let Some(c) = &s.order_change {
            events.extend(c.events.iter().cloned());
        }
        events.extend(s.events.iter().cloned());
    }
    insert_inbox(conn, jobs).await
        && update_payments(conn, jobs).await
        && update_orders(conn, &orders).await
        && commit_stock(conn, &orders).await
        && insert_events(conn, &events).await.is_ok()
}

/// The inbox rows; a repeat (the same WeChat transaction) makes the whole insert fail.
async fn insert_inbox(conn: &mut Conn, jobs: &[&PaymentSuccess]) -> bool {
    let sql = format!(
        "INSERT INTO payment_notifications (transaction_id, out_trade_no, amount_fen, source, notification_id, received_at, payload) VALUES {}",
        vec!["(?, ?, ?, ?, ?, ?, ?)"; jobs.len()].join(", ")
    );
    let mut q = sqlx::query(&sql);
    for s in jobs {
        let r = &s.receipt;
        q = q
            .bind(r.transaction_id.as_str())
            .bind(r.out_trade_no.as_str())
            .bind(r.amount.get())
            .bind(r.source.as_str())
            .bind(r.notification_id.as_deref())
            .bind(r.received_at.millis())
            .bind(r.payload.as_str());
    }
    q.execute(&mut *conn).await.is_ok()
}

/// A value of a batched `CASE` update.
enum Val {
    Int(i64),
    OptInt(Option<i64>),
    Text(String),
    OptText(Option<String>),
    Bool(bool),
}

type Query<'q> = sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments<'q>>;

impl Val {
    fn bind_to<'q>(&'q self, q: Query<'q>) -> Query<'q> {
        match self {
            Val::Int(v) => q.bind(*v),
            Val::OptInt(v) => q.bind(*v),
            Val::Text(v) => q.bind(v.as_str()),
            Val::OptText(v) => q.bind(v.as_deref()),
            Val::Bool(v) => q.bind(*v),
        }
    }
}

/// One row of a batched update: its id, the new value of each column, and the values of
/// the guard's placeholders (the version and status it must still have).
struct RowUpdate {
    id: i64,
    set: Vec<Val>,
    guard: Vec<Val>,
}

/// `UPDATE table SET col = CASE id WHEN ? THEN ? … END, … WHERE (guard) OR (guard) …`;
/// true when every row matched its guard.
async fn update_rows(
    conn: &mut Conn,
    table: &str,
    cols: &[&str],
    guard: &str,
    rows: &[RowUpdate],
) -> bool {
    let whens = " WHEN ? THEN ?".repeat(rows.len());
    let set: Vec<String> = cols
        .iter()
        .map(|c| format!("{c} = CASE id{whens} END"))
        .collect();
    let which = vec![format!("({guard})"); rows.len()].join(" OR ");
    let sql = format!("UPDATE {table} SET {} WHERE {which}", set.join(", "));
    let ids: Vec<Val> = rows.iter().map(|r| Val::Int(r.id)).collect();
    let mut q = sqlx::query(&sql);
    for c in 0..cols.len() {
        for (r, id) in rows.iter().zip(&ids) {
            q = id.bind_to(q);
            q = r.set[c].bind_to(q);
        }
    }
    for r in rows {
        for g in &r.guard {
            q = g.bind_to(q);
        }
    }
    matches!(q.execute(&mut *conn).await, Ok(done) if done.rows_affected() == rows.len() as u64)
}

async fn update_payments(conn: &mut Conn, jobs: &[&PaymentSuccess]) -> bool {
    let rows: Vec<RowUpdate> = jobs
        .iter()
        .map(|s| {
            let p = &s.payment;
            RowUpdate {
                id: p.id.get(),
                set: vec![
                    Val::Text(p.status.as_str().to_string()),
                    Val::OptText(p.prepay_id.clone()),
                    Val::OptInt(p.prepay_expires_at.map(Timestamp::millis)),
                    Val::OptText(p.transaction_id.as_ref().map(|t| t.as_str().to_string())),
                    Val::OptInt(p.paid_at.map(Timestamp::millis)),
                    Val::OptInt(p.closed_at.map(Timestamp::millis)),
                    Val::Int(p.updated_at.millis()),
                    Val::Int(p.version),
                ],
                guard: vec![Val::Int(p.id.get()), Val::Int(p.version - 1)],
            }
        })
        .collect();
    update_rows(
        conn,
        "payments",
        &[
            "status",
            "prepay_id",
            "prepay_expires_at",
            "transaction_id",
            "paid_at",
            "closed_at",
            "updated_at",
            "version",
        ],
        "id = ? AND version = ?",
        &rows,
    )
    .await
}

async fn update_orders(conn: &mut Conn, orders: &[&shop_core::order::OrderTransition]) -> bool {
    let rows: Vec<RowUpdate> = orders
        .iter()
        .map(|t| {
            let o = &t.order;
            RowUpdate {
                id: o.id.get(),
                set: vec![
                    Val::Text(o.status.as_str().to_string()),
                    Val::Int(o.paid.get()),
                    Val::Int(o.refunded.get()),
                    Val::Int(o.refund_pending.get()),
                    Val::OptInt(o.paid_at.map(Timestamp::millis)),
                    Val::OptText(o.shipment.as_ref().map(|s| s.carrier.as_str().to_string())),
                    Val::OptText(
                        o.shipment
                            .as_ref()
                            .map(|s| s.tracking_no.as_str().to_string()),
                    ),
                    Val::OptInt(o.shipped_at.map(Timestamp::millis)),
                    Val::OptInt(o.completed_at.map(Timestamp::millis)),
                    Val::OptInt(o.cancelled_at.map(Timestamp::millis)),
                    Val::OptText(o.cancel_reason.map(|r| r.as_str().to_string())),
                    Val::OptText(o.cancel_note.as_ref().map(|n| n.as_str().to_string())),
                    Val::Bool(o.late_payment),
                    Val::Int(o.updated_at.millis()),
                    Val::Int(o.version),
                ],
                guard: vec![
                    Val::Int(o.id.get()),
                    Val::Int(o.version - 1),
                    Val::Text(t.from.as_str().to_string()),
                ],
            }
        })
        .collect();
    update_rows(
        conn,
        "orders",
        &[
            "status",
            "paid_fen",
            "refunded_fen",
            "refund_pending_fen",
            "paid_at",
            "carrier",
            "tracking_no",
            "shipped_at",
            "completed_at",
            "cancelled_at",
            "cancel_reason",
            "cancel_note",
            "late_payment",
            "updated_at",
            "version",
        ],
        "id = ? AND version = ? AND status = ?",
        &rows,
    )
    .await
}

/// The paid units leave stock: on hand and reserved both drop by the summed quantity of each
/// SKU, which must still be reserved.
async fn commit_stock(conn: &mut Conn, orders: &[&shop_core::order::OrderTransition]) -> bool {
    let mut sold: BTreeMap<SkuId, i64> = BTreeMap::new();
    for t in orders {
        for (sku, q) in t.order.quantities() {
            *sold.entry(sku).or_default() += q;
        }
    }
    if sold.is_empty() {
        return true;
    }
    let at = orders
        .iter()
        .map(|t| t.order.updated_at.millis())
        .max()
        .unwrap_or_default();
    let cases = " WHEN ? THEN ?".repeat(sold.len());
    let sql = format!(
        "UPDATE inventory SET on_hand = on_hand - CASE sku_id{cases} END, \
         reserved = reserved - CASE sku_id{cases} END, updated_at = ? \
         WHERE sku_id IN ({}) AND reserved >= CASE sku_id{cases} END",
        in_list(sold.len())
    );
    let mut q = sqlx::query(&sql);
    for _ in 0..2 {
        for (sku, n) in &sold {
            q = q.bind(sku.get()).bind(*n);
        }
    }
    q = q.bind(at);
    for sku in sold.keys() {
        q = q.bind(sku.get());
    }
    for (sku, n) in &sold {
        q = q.bind(sku.get()).bind(*n);
    }
    matches!(q.execute(&mut *conn).await, Ok(done) if done.rows_affected() == sold.len() as u64)
}
