use super::batch::WriterGone;
use super::rows::{self, PAYMENT_COLS, REFUND_COLS};
use super::tx::{
    append_audit, apply_order_change, complete_idempotency, hold_refund, insert_events,
    release_refund, Conn,
};
use super::{DbResultExt, SqlStore};
use crate::Db;
use async_trait::async_trait;
use shop_core::events::OutboxEvent;
use shop_core::idempotency::IdemCompletion;
use shop_core::ids::{OrderId, RefundId};
use shop_core::money::Fen;
use shop_core::order::OrderStatus;
use shop_core::payment::{Payment, PaymentStatus};
use shop_core::ports::*;
use shop_core::refund::{Refund, RefundEffect, RefundStatus};
use shop_core::text::{OrderNo, RefundNo};
use shop_core::time::Timestamp;
use shop_sql::unique_violation;
use sqlx::Pool;
use sqlx::Row as _;

async fn write_payment(
    conn: &mut Conn,
    p: &Payment,
    is_new: bool,
) -> Result<(), PaymentStoreError> {
    let result = if is_new {
        sqlx::query(
            "INSERT INTO payments (id, order_id, out_trade_no, amount_fen, status, prepay_id, prepay_expires_at, \
             transaction_id, paid_at, closed_at, created_at, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(p.id.get())
        .bind(p.order_id.get())
        .bind(p.out_trade_no.as_str())
        .bind(p.amount.get())
        .bind(p.status.as_str())
        .bind(p.prepay_id.as_deref())
        .bind(p.prepay_expires_at.map(Timestamp::millis))
        .bind(p.transaction_id.as_ref().map(|t| t.as_str().to_string()))
        .bind(p.paid_at.map(Timestamp::millis))
        .bind(p.closed_at.map(Timestamp::millis))
        .bind(p.created_at.millis())
        .bind(p.updated_at.millis())
        .bind(p.version)
        .execute(&mut *conn)
        .await
    } else {
        sqlx::query(
            "UPDATE payments SET status = ?, prepay_id = ?, prepay_expires_at = ?, transaction_id = ?, paid_at = ?, \
             closed_at = ?, updated_at = ?, version = ? WHERE id = ? AND version = ?",
        )
        .bind(p.status.as_str())
        .bind(p.prepay_id.as_deref())
        .bind(p.prepay_expires_at.map(Timestamp::millis))
        .bind(p.transaction_id.as_ref().map(|t| t.as_str().to_string()))
        .bind(p.paid_at.map(Timestamp::millis))
        .bind(p.closed_at.map(Timestamp::millis))
        .bind(p.updated_at.millis())
        .bind(p.version)
        .bind(p.id.get())
        .bind(p.version - 1)
        .execute(&mut *conn)
        .await
    };
    match result {
        Ok(done) if done.rows_affected() == 1 => Ok(()),
        Ok(_) => Err(PaymentStoreError::Stale),
        // Another request created the payment of this order first.
        Err(e) if unique_violation(&e).is_some() => Err(PaymentStoreError::Stale),
        Err(e) => Err(shop_sql::db_err(e).into()),
    }
}

async fn insert_refund(conn: &mut Conn, r: &Refund) -> Result<(), StoreError> {
    sqlx::query(&format!(
        "INSERT INTO refunds ({REFUND_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    ))
    .bind(r.id.get())
    .bind(r.order_id.get())
    .bind(r.user_id.get())
    .bind(r.out_refund_no.as_str())
    .bind(r.amount.get())
    .bind(r.reason.as_str())
    .bind(r.status.as_str())
    .bind(r.requested_by.encode())
    .bind(r.requested_at.millis())
    .bind(r.decided_by.as_ref().map(|a| a.encode()))
    .bind(r.decided_at.map(Timestamp::millis))
    .bind(r.decision_note.as_ref().map(|n| n.as_str().to_string()))
    .bind(r.provider_refund_id.as_deref())
    .bind(r.succeeded_at.map(Timestamp::millis))
    .bind(r.failure.as_deref())
    .bind(r.updated_at.millis())
    .bind(r.version)
    .execute(&mut *conn)
    .await
    .db()?;
    Ok(())
}

fn order_error(e: OrderStoreError) -> PaymentStoreError {
    match e {
        OrderStoreError::Stale | OrderStoreError::NotFound | OrderStoreError::Duplicate => {
            PaymentStoreError::Stale
        }
        OrderStoreError::OutOfStock { sku_id } => PaymentStoreError::OutOfStock { sku_id },
        OrderStoreError::Store(s) => PaymentStoreError::Store(s),
    }
}

#[async_trait]
impl PaymentStore for SqlStore {
    async fn get_by_order(&self, order: OrderId) -> Result<Option<Payment>, PaymentStoreError> {
        Ok(self
            .batches
            .payments_by_order
            .submit(&self.read, order)
            .await
            .unwrap_or_else(|WriterGone| {
                Err(StoreError::Unavailable(
                    "the payment reader has stopped".into(),
                ))
            })?)
    }

    async fn get_by_out_trade_no(
        &self,
        no: &OrderNo,
    ) -> Result<Option<Payment>, PaymentStoreError> {
        let row = sqlx::query(&format!(
            "SELECT {PAYMENT_COLS} FROM payments WHERE out_trade_no = ?"
        ))
        .bind(no.as_str())
        .fetch_optional(&self.read)
        .await
        .db()?;
        Ok(row.as_ref().map(rows::payment).transpose()?)
    }

    async fn save(&self, payment: &Payment, is_new: bool) -> Result<(), PaymentStoreError> {
        let mut tx = self.write.begin().await.db()?;
        write_payment(&mut tx, payment, is_new).await?;
        tx.commit().await.db()?;
        Ok(())
    }

    async fn record_success(&self, s: &PaymentSuccess) -> Result<(), PaymentStoreError> {
        self.batches
            .settles
            .submit(&self.write, s.clone())
            .await
            .unwrap_or_else(|WriterGone| {
                Err(StoreError::Unavailable("the payment writer has stopped".into()).into())
            })
    }

    async fn pending_before(
        &self,
        created_before: Timestamp,
        limit: u32,
    ) -> Result<Vec<Payment>, PaymentStoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {PAYMENT_COLS} FROM payments WHERE status = ? AND created_at < ? ORDER BY created_at, id LIMIT ?"
        ))
        .bind(PaymentStatus::PrepayIssued.as_str())
        .bind(created_before.millis())
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await
        .db()?;
        Ok(rows.iter().map(rows::payment).collect::<Result<_, _>>()?)
    }

    async fn claim_pending(
        &self,
        created_before: Timestamp,
        owner: &str,
        now: Timestamp,
        until: Timestamp,
        limit: u32,
    ) -> Result<Vec<Payment>, PaymentStoreError> {
        let ids = super::tx::claim_rows(
            &self.write,
            "payments",
            "SELECT id FROM payments WHERE status = 'PREPAY_ISSUED' AND created_at < ? \
             AND (claimed_until IS NULL OR claimed_until <= ?) ORDER BY created_at, id",
            &[created_before.millis(), now.millis()],
            limit,
            owner,
            until.millis(),
        )
        .await?;
        self.payments_by_ids(&ids).await
    }

    async fn succeeded_between(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<Payment>, PaymentStoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {PAYMENT_COLS} FROM payments WHERE status = ? AND paid_at >= ? AND paid_at < ? ORDER BY paid_at, id"
        ))
        .bind(PaymentStatus::Succeeded.as_str())
        .bind(from.millis())
        .bind(to.millis())
        .fetch_all(&self.read)
        .await
        .db()?;
        Ok(rows.iter().map(rows::payment).collect::<Result<_, _>>()?)
    }
}

impl SqlStore {
    async fn payments_by_ids(&self, ids: &[i64]) -> Result<Vec<Payment>, PaymentStoreError> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let sql = format!(
            "SELECT {PAYMENT_COLS} FROM payments WHERE id IN ({}) ORDER BY created_at, id",
            super::tx::in_list(ids.len())
        );
        let mut q = sqlx::query(&sql);
        for id in ids {
            q = q.bind(*id);
        }
        let rows = q.fetch_all(&self.write).await.db()?;
        Ok(rows.iter().map(rows::payment).collect::<Result<_, _>>()?)
    }

    async fn refunds_by_ids(&self, ids: &[i64]) -> Result<Vec<Refund>, RefundStoreError> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let sql = format!(
            "SELECT {REFUND_COLS} FROM refunds WHERE id IN ({}) ORDER BY updated_at, id",
            super::tx::in_list(ids.len())
        );
        let mut q = sqlx::query(&sql);
        for id in ids {
            q = q.bind(*id);
        }
        let rows = q.fetch_all(&self.write).await.db()?;
        Ok(rows.iter().map(rows::refund).collect::<Result<_, _>>()?)
    }

    /// Why a hold was refused: the order is missing, not refundable, or has too little left.
    async fn hold_refused(
        &self,
        conn: &mut Conn,
        order: OrderId,
    ) -> Result<RefundStoreError, StoreError> {
        let row = sqlx::query(
            "SELECT status, paid_fen, refunded_fen, refund_pending_fen FROM orders WHERE id = ?",
        )
        .bind(order.get())
        .fetch_optional(&mut *conn)
        .await
        .db()?;
        let Some(row) = row else {
            return Ok(RefundStoreError::NotFound);
        };
        let status = rows::string(&row, "status")?;
        let paid: i64 = row.try_get("paid_fen").db()?;
        let late = status == OrderStatus::Cancelled.as_str() && paid > 0;
        if !(late || OrderStatus::parse(&status).is_ok_and(OrderStatus::is_refundable)) {
            return Ok(RefundStoreError::NotRefundable);
        }
        let refunded: i64 = row.try_get("refunded_fen").db()?;
        let pending: i64 = row.try_get("refund_pending_fen").db()?;
        Ok(RefundStoreError::ExceedsRefundable {
            remaining: Fen::new((paid - refunded - pending).max(0)),
        })
    }
}

#[async_trait]
impl RefundStore for SqlStore {
    async fn create(
        &self,
        refund: &Refund,
        events: &[OutboxEvent],
        idem: Option<IdemCompletion>,
    ) -> Result<(), RefundStoreError> {
        let mut tx = self.write.begin().await.db()?;
        let at = refund.requested_at.millis();
        if refund.status.holds_amount()
            && !hold_refund(&mut tx, refund.order_id.get(), refund.amount.get(), at).await?
        {
            let why = self.hold_refused(&mut tx, refund.order_id).await?;
            return Err(why);
        }
        insert_refund(&mut tx, refund).await?;
        insert_events(&mut tx, events).await?;
        if let Some(idem) = &idem {
            complete_idempotency(&mut tx, idem, refund.requested_at).await?;
        }
        tx.commit().await.db()?;
        Ok(())
    }

    async fn get(&self, id: RefundId) -> Result<Option<Refund>, RefundStoreError> {
        let row = sqlx::query(&format!("SELECT {REFUND_COLS} FROM refunds WHERE id = ?"))
            .bind(id.get())
            .fetch_optional(&self.read)
            .await
            .db()?;
        Ok(row.as_ref().map(rows::refund).transpose()?)
    }

    async fn get_by_no(&self, no: &RefundNo) -> Result<Option<Refund>, RefundStoreError> {
        let row = sqlx::query(&format!(
            "SELECT {REFUND_COLS} FROM refunds WHERE out_refund_no = ?"
        ))
        .bind(no.as_str())
        .fetch_optional(&self.read)
        .await
        .db()?;
        Ok(row.as_ref().map(rows::refund).transpose()?)
    }

    async fn list_for_order(&self, order: OrderId) -> Result<Vec<Refund>, RefundStoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {REFUND_COLS} FROM refunds WHERE order_id = ? ORDER BY requested_at, id"
        ))
        .bind(order.get())
        .fetch_all(&self.read)
        .await
        .db()?;
        Ok(rows.iter().map(rows::refund).collect::<Result<_, _>>()?)
    }

    async fn list(
        &self,
        status: Option<RefundStatus>,
        page: Page,
    ) -> Result<Paged<Refund>, RefundStoreError> {
        let (where_sql, bind) = match status {
            Some(s) => ("status = ?", Some(s.as_str())),
            None => ("1 = 1", None),
        };
        let count_sql = format!("SELECT COUNT(*) FROM refunds WHERE {where_sql}");
        let mut cq = sqlx::query_scalar::<_, i64>(&count_sql);
        if let Some(b) = bind {
            cq = cq.bind(b);
        }
        let total = cq.fetch_one(&self.read).await.db()?;
        let sql = format!("SELECT {REFUND_COLS} FROM refunds WHERE {where_sql} ORDER BY requested_at DESC, id DESC LIMIT ? OFFSET ?");
        let mut q = sqlx::query(&sql);
        if let Some(b) = bind {
            q = q.bind(b);
        }
        let rows = q
            .bind(page.limit())
            .bind(page.offset())
            .fetch_all(&self.read)
            .await
            .db()?;
        let items = rows.iter().map(rows::refund).collect::<Result<_, _>>()?;
        Ok(Paged { items, total, page })
    }

    async fn apply(&self, change: &RefundChange) -> Result<(), RefundStoreError> {
        let t = &change.transition;
        let r = &t.refund;
        let mut tx = self.write.begin().await.db()?;
        let done = sqlx::query(
            "UPDATE refunds SET status = ?, decided_by = ?, decided_at = ?, decision_note = ?, provider_refund_id = ?, \
             succeeded_at = ?, failure = ?, updated_at = ?, version = ? WHERE id = ? AND version = ? AND status = ?",
        )
        .bind(r.status.as_str())
        .bind(r.decided_by.as_ref().map(|a| a.encode()))
        .bind(r.decided_at.map(Timestamp::millis))
        .bind(r.decision_note.as_ref().map(|n| n.as_str().to_string()))
        .bind(r.provider_refund_id.as_deref())
        .bind(r.succeeded_at.map(Timestamp::millis))
        .bind(r.failure.as_deref())
        .bind(r.updated_at.millis())
        .bind(r.version)
        .bind(r.id.get())
        .bind(r.version - 1)
        .bind(t.from.as_str())
        .execute(&mut *tx)
        .await
        .db()?;
        if done.rows_affected() != 1 {
            return Err(RefundStoreError::Stale);
        }
        let at = r.updated_at.millis();
        for effect in &t.effects {
            match effect {
                RefundEffect::HoldOnOrder => {
                    if !hold_refund(&mut tx, r.order_id.get(), r.amount.get(), at).await? {
                        let why = self.hold_refused(&mut tx, r.order_id).await?;
                        return Err(why);
                    }
                }
                RefundEffect::ReleaseHold => {
                    release_refund(&mut tx, r.order_id.get(), r.amount.get(), at).await?
                }
                RefundEffect::RecordOnOrder => {
                    let Some(oc) = &change.order_change else {
                        return Err(StoreError::Other(
                            "a successful refund needs its order change".into(),
                        )
                        .into());
                    };
                    apply_order_change(&mut tx, oc).await.map_err(|e| match e {
                        OrderStoreError::Store(s) => RefundStoreError::Store(s),
                        OrderStoreError::NotFound => RefundStoreError::NotFound,
                        _ => RefundStoreError::Stale,
                    })?;
                }
                RefundEffect::SendToProvider => {}
            }
        }
        insert_events(&mut tx, &change.events).await?;
        if let Some(a) = &change.audit {
            append_audit(&mut tx, a).await?;
        }
        tx.commit().await.db()?;
        Ok(())
    }

    async fn claim_in_flight(
        &self,
        owner: &str,
        now: Timestamp,
        until: Timestamp,
        limit: u32,
    ) -> Result<Vec<Refund>, RefundStoreError> {
        let ids = super::tx::claim_rows(
            &self.write,
            "refunds",
            "SELECT id FROM refunds WHERE status IN ('APPROVED', 'PROCESSING') \
             AND (claimed_until IS NULL OR claimed_until <= ?) ORDER BY updated_at, id",
            &[now.millis()],
            limit,
            owner,
            until.millis(),
        )
        .await?;
        self.refunds_by_ids(&ids).await
    }

    async fn succeeded_between(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<Refund>, RefundStoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {REFUND_COLS} FROM refunds WHERE status = 'SUCCEEDED' AND succeeded_at >= ? AND succeeded_at < ? ORDER BY succeeded_at, id"
        ))
        .bind(from.millis())
        .bind(to.millis())
        .fetch_all(&self.read)
        .await
        .db()?;
        Ok(rows.iter().map(rows::refund).collect::<Result<_, _>>()?)
    }

    async fn in_flight(&self, limit: u32) -> Result<Vec<Refund>, RefundStoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {REFUND_COLS} FROM refunds WHERE status IN (?, ?) ORDER BY updated_at, id LIMIT ?"
        ))
        .bind(RefundStatus::Approved.as_str())
        .bind(RefundStatus::Processing.as_str())
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await
        .db()?;
        Ok(rows.iter().map(rows::refund).collect::<Result<_, _>>()?)
    }
}

/// One confirmed payment in its own transaction (the batch writer's fallback and odd cases).
pub(crate) async fn settle_one(
    pool: &Pool<Db>,
    s: &PaymentSuccess,
) -> Result<(), PaymentStoreError> {
    let mut tx = pool.begin().await.db()?;
    let r = &s.receipt;
    // The inbox insert goes first: a repeat stops here, before anything else is touched.
    let inbox = sqlx::query(
        "INSERT INTO payment_notifications (transaction_id, out_trade_no, amount_fen, source, notification_id, received_at, payload) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(r.transaction_id.as_str())
    .bind(r.out_trade_no.as_str())
    .bind(r.amount.get())
    .bind(r.source.as_str())
    .bind(r.notification_id.as_deref())
    .bind(r.received_at.millis())
    .bind(r.payload.as_str())
    .execute(&mut *tx)
    .await;
    match inbox {
        Ok(_) => {}
        Err(e) if unique_violation(&e).is_some() => return Err(PaymentStoreError::AlreadyRecorded),
        Err(e) => return Err(shop_sql::db_err(e).into()),
    }
    write_payment(&mut tx, &s.payment, s.payment_is_new).await?;
    if let Some(change) = &s.order_change {
        apply_order_change(&mut tx, change)
            .await
            .map_err(order_error)?;
    }
    if let Some(refund) = &s.refund {
        insert_refund(&mut tx, refund).await?;
    }
    insert_events(&mut tx, &s.events).await?;
    tx.commit().await.db()?;
    Ok(())
}
