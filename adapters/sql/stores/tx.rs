//! Steps that several store methods perform inside their own transaction: writing events,
//! appending to the audit chain, completing an idempotency key, and applying an order
//! transition with its stock effect.

use super::DbResultExt;
use crate::{Db, DIALECT};
use shop_core::audit::{chain_hash, AuditEntry, AuditRecord};
use shop_core::events::OutboxEvent;
use shop_core::idempotency::{IdemCompletion, IN_PROGRESS_LEASE};
use shop_core::order::StockEffect;
use shop_core::ports::{OrderChange, OrderStoreError, StoreError};
use shop_core::time::Timestamp;
use shop_sql::placeholders;
use sqlx::Row as _;

pub(crate) type Conn = <Db as sqlx::Database>::Connection;

/// Inserts events in one statement.
pub(crate) async fn insert_events(
    conn: &mut Conn,
    events: &[OutboxEvent],
) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
    }
    let rows = vec!["(?, ?, ?, ?, ?, ?)"; events.len()].join(", ");
    let sql = format!(
        "INSERT INTO outbox_events (id, event_type, version, aggregate_id, occurred_at, payload) VALUES {rows}"
    );
    let mut q = sqlx::query(&sql);
    for e in events {
        q = q
            .bind(e.event_id.get())
            .bind(e.event_type.as_str())
            .bind(i64::from(e.version))
            .bind(e.aggregate_id.as_str())
            .bind(e.occurred_at.millis())
            .bind(e.data.to_string());
    }
    q.execute(&mut *conn).await.db()?;
    Ok(())
}

/// Appends to the audit chain. The head row is locked first, so appends from concurrent
/// transactions line up one after the other and the chain never forks.
pub(crate) async fn append_audit(
    conn: &mut Conn,
    entry: &AuditEntry,
) -> Result<AuditRecord, StoreError> {
    let sql = format!(
        "SELECT seq, hash FROM audit_head WHERE id = 1{}",
        DIALECT.for_update()
    );
    let head = sqlx::query(&sql).fetch_one(&mut *conn).await.db()?;
    let prev_seq: i64 = head.try_get("seq").db()?;
    let prev_hash = super::rows::string(&head, "hash")?;
    let seq = prev_seq + 1;
    let hash = chain_hash(&prev_hash, seq, entry);
    sqlx::query(
        "INSERT INTO audit_log (seq, at, actor, action, target_type, target_id, before_json, after_json, prev_hash, hash) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(seq)
    .bind(entry.at.millis())
    .bind(entry.actor.encode())
    .bind(entry.action.as_str())
    .bind(entry.target_type.as_str())
    .bind(entry.target_id.as_str())
    .bind(entry.before.to_string())
    .bind(entry.after.to_string())
    .bind(prev_hash.as_str())
    .bind(hash.as_str())
    .execute(&mut *conn)
    .await
    .db()?;
    sqlx::query("UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1 AND seq = ?")
        .bind(seq)
        .bind(hash.as_str())
        .bind(prev_seq)
        .execute(&mut *conn)
        .await
        .db()?;
    Ok(AuditRecord {
        seq,
        entry: entry.clone(),
        prev_hash,
        hash,
    })
}

/// Marks a claimed idempotency key as done with the id of what it created. Fails if the claim
/// was lost (its lease ran out and another request took the key over).
pub(crate) async fn complete_idempotency(
    conn: &mut Conn,
    idem: &IdemCompletion,
    now: Timestamp,
) -> Result<(), StoreError> {
    let done = sqlx::query(
        "UPDATE idempotency_keys SET resource_id = ?, locked_until = ? \
         WHERE scope = ? AND idem_key = ? AND resource_id IS NULL",
    )
    .bind(idem.resource_id)
    .bind(now.minus(IN_PROGRESS_LEASE).millis())
    .bind(idem.scope.as_str())
    .bind(idem.key.as_str())
    .execute(&mut *conn)
    .await
    .db()?;
    if done.rows_affected() != 1 {
        return Err(StoreError::Contention(
            "the idempotency key was taken over by another request".into(),
        ));
    }
    Ok(())
}

/// Writes an order transition under its version and applies its stock effect to every SKU of
/// the order, then its events and audit row.
pub(crate) async fn apply_order_change(
    conn: &mut Conn,
    change: &OrderChange,
) -> Result<(), OrderStoreError> {
    let t = &change.transition;
    let o = &t.order;
    let updated = sqlx::query(
        "UPDATE orders SET status = ?, paid_fen = ?, refunded_fen = ?, refund_pending_fen = ?, paid_at = ?, \
         carrier = ?, tracking_no = ?, shipped_at = ?, completed_at = ?, cancelled_at = ?, cancel_reason = ?, \
         cancel_note = ?, late_payment = ?, updated_at = ?, version = ? \
         WHERE id = ? AND version = ? AND status = ?",
    )
    .bind(o.status.as_str())
    .bind(o.paid.get())
    .bind(o.refunded.get())
    .bind(o.refund_pending.get())
    .bind(o.paid_at.map(Timestamp::millis))
    .bind(o.shipment.as_ref().map(|s| s.carrier.as_str().to_string()))
    .bind(o.shipment.as_ref().map(|s| s.tracking_no.as_str().to_string()))
    .bind(o.shipped_at.map(Timestamp::millis))
    .bind(o.completed_at.map(Timestamp::millis))
    .bind(o.cancelled_at.map(Timestamp::millis))
    .bind(o.cancel_reason.map(|r| r.as_str()))
    .bind(o.cancel_note.as_ref().map(|n| n.as_str().to_string()))
    .bind(o.late_payment)
    .bind(o.updated_at.millis())
    .bind(o.version)
    .bind(o.id.get())
    .bind(o.version - 1)
    .bind(t.from.as_str())
    .execute(&mut *conn)
    .await
    .db()?;
    if updated.rows_affected() != 1 {
        return Err(OrderStoreError::Stale);
    }
    if let Some(effect) = t.stock {
        let at = o.updated_at.millis();
        for (sku, q) in o.quantities() {
            let (sql, short) = match effect {
                StockEffect::Release => (
                    "UPDATE inventory SET reserved = reserved - ?, updated_at = ? WHERE sku_id = ? AND reserved >= ?",
                    false,
                ),
                StockEffect::Commit => (
                    "UPDATE inventory SET on_hand = on_hand - ?, reserved = reserved - ?, updated_at = ? \
                     WHERE sku_id = ? AND reserved >= ?",
                    false,
                ),
                StockEffect::SellDirect => (
                    "UPDATE inventory SET on_hand = on_hand - ?, updated_at = ? WHERE sku_id = ? AND on_hand - reserved >= ?",
                    true,
                ),
                StockEffect::Restock => (
                    "UPDATE inventory SET on_hand = on_hand + ?, updated_at = ? WHERE sku_id = ? AND ? > 0",
                    false,
                ),
            };
            let mut q_ = sqlx::query(sql).bind(q);
            if effect == StockEffect::Commit {
                q_ = q_.bind(q);
            }
            let done = q_
                .bind(at)
                .bind(sku.get())
                .bind(q)
                .execute(&mut *conn)
                .await
                .db()?;
            if done.rows_affected() != 1 {
                if short {
                    return Err(OrderStoreError::OutOfStock { sku_id: sku });
                }
                return Err(StoreError::Corrupt(format!(
                    "inventory of SKU {sku} does not hold the {q} units order {} expects ({effect:?})",
                    o.id
                ))
                .into());
            }
        }
    }
    insert_events(conn, &change.events).await?;
    if let Some(a) = &change.audit {
        append_audit(conn, a).await?;
    }
    Ok(())
}

/// Holds `amount` of an order's paid money for a refund, if the order was paid and enough is
/// left (a cancelled order qualifies only with a late payment on it). Returns whether it was held.
pub(crate) async fn hold_refund(
    conn: &mut Conn,
    order: i64,
    amount: i64,
    at: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE orders SET refund_pending_fen = refund_pending_fen + ?, updated_at = ?, version = version + 1 \
         WHERE id = ? AND status IN ('PAID', 'SHIPPED', 'COMPLETED', 'CANCELLED') AND paid_fen - refunded_fen - refund_pending_fen >= ?",
    )
    .bind(amount)
    .bind(at)
    .bind(order)
    .bind(amount)
    .execute(&mut *conn)
    .await
    .db()?;
    Ok(done.rows_affected() == 1)
}

/// Gives back a hold when a refund ends without money moving.
pub(crate) async fn release_refund(
    conn: &mut Conn,
    order: i64,
    amount: i64,
    at: i64,
) -> Result<(), StoreError> {
    let done = sqlx::query(
        "UPDATE orders SET refund_pending_fen = refund_pending_fen - ?, updated_at = ?, version = version + 1 \
         WHERE id = ? AND refund_pending_fen >= ?",
    )
    .bind(amount)
    .bind(at)
    .bind(order)
    .bind(amount)
    .execute(&mut *conn)
    .await
    .db()?;
    if done.rows_affected() != 1 {
        return Err(StoreError::Corrupt(format!(
            "order {order} does not hold {amount} fen for refunds"
        )));
    }
    Ok(())
}

/// Claims rows of `table` chosen by `select` (which must select `id` and take the binds given,
/// then `limit`): locks them skipping rows other transactions hold, marks them claimed by
/// `owner` until `until`, and returns their ids — one transaction.
pub(crate) async fn claim_rows(
    pool: &sqlx::Pool<Db>,
    table: &str,
    select: &str,
    binds: &[i64],
    limit: u32,
    owner: &str,
    until: i64,
) -> Result<Vec<i64>, StoreError> {
    let mut tx = pool.begin().await.db()?;
    let sql = format!("{select} LIMIT ?{}", DIALECT.skip_locked());
    let mut q = sqlx::query(&sql);
    for b in binds {
        q = q.bind(*b);
    }
    let rows = q.bind(i64::from(limit)).fetch_all(&mut *tx).await.db()?;
    let ids: Vec<i64> = rows
        .iter()
        .map(|r| super::rows::get::<i64>(r, "id"))
        .collect::<Result<_, _>>()?;
    if !ids.is_empty() {
        let sql = format!(
            "UPDATE {table} SET claimed_by = ?, claimed_until = ? WHERE id IN ({})",
            in_list(ids.len())
        );
        let mut q = sqlx::query(&sql).bind(owner).bind(until);
        for id in &ids {
            q = q.bind(*id);
        }
        q.execute(&mut *tx).await.db()?;
    }
    tx.commit().await.db()?;
    Ok(ids)
}

/// Builds `?, ?, …` and binds i64 ids: the IN list helper.
pub(crate) fn in_list(n: usize) -> String {
    placeholders(n)
}

/// The values of a batched `IN (…)` read, padded to the next power of two by repeating the
/// last one. A batch of any size then uses one of a handful of statement shapes (1, 2, 4, …,
/// 32 values) instead of one per size, so every connection's prepared-statement cache holds
/// them all and the database stops re-preparing (measured: a quarter of the statements sent
/// during an order load were re-prepares). A value repeated in `IN` changes no result.
pub(crate) fn padded<T: Clone>(values: impl IntoIterator<Item = T>) -> Vec<T> {
    let mut v: Vec<T> = values.into_iter().collect();
    if let Some(last) = v.last().cloned() {
        v.resize(v.len().next_power_of_two(), last);
    }
    v
}

#[cfg(test)]
mod padding_tests {
    use super::padded;

    #[test]
    fn reads_are_padded_to_a_power_of_two_with_the_last_value() {
        assert!(padded(Vec::<i64>::new()).is_empty());
        assert_eq!(padded([7]), vec![7]);
        assert_eq!(padded([1, 2, 3]), vec![1, 2, 3, 3]);
        assert_eq!(padded(1..=5).len(), 8);
        assert_eq!(padded(1..=32).len(), 32);
        assert_eq!(padded(1..=33).len(), 64);
        assert_eq!(padded(1..=5)[4..], [5, 5, 5, 5]);
    }
}
