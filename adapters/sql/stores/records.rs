use super::batch::{Batched, WriterGone};
use super::lookups::KeyRef;
use super::rows::{self, AUDIT_COLS, EVENT_COLS};
use super::tx::{append_audit, in_list};
use super::{DbResultExt, SqlStore};
use crate::Db;
use async_trait::async_trait;
use shop_core::audit::{AuditEntry, AuditRecord};
use shop_core::events::OutboxEvent;
use shop_core::idempotency::{IdemBegin, IdemClaim, IN_PROGRESS_LEASE, KEY_TTL};
use shop_core::ids::EventId;
use shop_core::ports::*;
use shop_core::text::IdempotencyKey;
use shop_core::time::{Span, Timestamp};
use shop_sql::unique_violation;
use sqlx::Pool;
use sqlx::Row as _;

#[async_trait]
impl IdempotencyStore for SqlStore {
    async fn begin(&self, claim: &IdemClaim) -> Result<IdemBegin, IdempotencyError> {
        self.batches
            .claims
            .submit(&self.write, claim.clone())
            .await
            .unwrap_or_else(|WriterGone| {
                Err(StoreError::Unavailable("the idempotency writer has stopped".into()).into())
            })
    }

    async fn is_live(
        &self,
        scope: &str,
        key: &IdempotencyKey,
        now: Timestamp,
    ) -> Result<bool, IdempotencyError> {
        let created = self
            .batches
            .keys
            .submit(&self.read, (scope.to_string(), key.as_str().to_string()))
            .await
            .unwrap_or_else(|WriterGone| {
                Err(StoreError::Unavailable("the key reader has stopped".into()))
            })?;
        Ok(created.is_some_and(|c| Timestamp::from_millis(c).plus(KEY_TTL) > now))
    }

    async fn release(&self, scope: &str, key: &IdempotencyKey) -> Result<(), IdempotencyError> {
        self.batches
            .releases
            .submit(&self.write, (scope.to_string(), key.as_str().to_string()))
            .await
            .unwrap_or_else(|WriterGone| {
                Err(StoreError::Unavailable(
                    "the idempotency writer has stopped".into(),
                ))
            })?;
        Ok(())
    }

    async fn purge(&self, before: Timestamp) -> Result<u64, IdempotencyError> {
        let done = sqlx::query("DELETE FROM idempotency_keys WHERE created_at < ?")
            .bind(before.millis())
            .execute(&self.write)
            .await
            .db()?;
        Ok(done.rows_affected())
    }
}

#[async_trait]
impl OutboxStore for SqlStore {
    async fn unpublished(&self, limit: u32) -> Result<Vec<OutboxEvent>, OutboxError> {
        let rows = sqlx::query(&format!(
            "SELECT {EVENT_COLS} FROM outbox_events WHERE published_at IS NULL ORDER BY id LIMIT ?"
        ))
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await
        .db()?;
        Ok(rows.iter().map(rows::event).collect::<Result<_, _>>()?)
    }

    async fn mark_published(&self, ids: &[EventId], at: Timestamp) -> Result<(), OutboxError> {
        if ids.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "UPDATE outbox_events SET published_at = ? WHERE published_at IS NULL AND id IN ({})",
            in_list(ids.len())
        );
        let mut q = sqlx::query(&sql).bind(at.millis());
        for id in ids {
            q = q.bind(id.get());
        }
        q.execute(&self.write).await.db()?;
        Ok(())
    }

    async fn lag(&self) -> Result<OutboxLag, OutboxError> {
        let row = sqlx::query("SELECT COUNT(*) AS n, MIN(occurred_at) AS oldest FROM outbox_events WHERE published_at IS NULL")
            .fetch_one(&self.read)
            .await
            .db()?;
        let pending: i64 = row.try_get("n").db()?;
        let oldest: Option<i64> = row.try_get("oldest").db()?;
        Ok(OutboxLag {
            pending,
            oldest: oldest.map(Timestamp::from_millis),
        })
    }

    async fn for_aggregate(&self, aggregate_id: &str) -> Result<Vec<OutboxEvent>, OutboxError> {
        let rows = sqlx::query(&format!(
            "SELECT {EVENT_COLS} FROM outbox_events WHERE aggregate_id = ? ORDER BY id"
        ))
        .bind(aggregate_id)
        .fetch_all(&self.read)
        .await
        .db()?;
        Ok(rows.iter().map(rows::event).collect::<Result<_, _>>()?)
    }
}

#[async_trait]
impl AuditLog for SqlStore {
    async fn append(&self, entry: &AuditEntry) -> Result<AuditRecord, AuditError> {
        let mut tx = self.write.begin().await.db()?;
        let record = append_audit(&mut tx, entry).await?;
        tx.commit().await.db()?;
        Ok(record)
    }

    async fn after(&self, after: i64, limit: u32) -> Result<Vec<AuditRecord>, AuditError> {
        let rows = sqlx::query(&format!(
            "SELECT {AUDIT_COLS} FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?"
        ))
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await
        .db()?;
        Ok(rows.iter().map(rows::audit).collect::<Result<_, _>>()?)
    }

    async fn search(
        &self,
        query: &AuditQuery,
        page: Page,
    ) -> Result<Paged<AuditRecord>, AuditError> {
        let mut clauses = vec!["1 = 1"];
        let mut texts: Vec<(&str, String)> = Vec::new();
        let mut ints: Vec<i64> = Vec::new();
        if let Some(a) = &query.action {
            clauses.push("action = ?");
            texts.push(("action", a.clone()));
        }
        if let Some(t) = &query.target_type {
            clauses.push("target_type = ?");
            texts.push(("target_type", t.clone()));
        }
        if let Some(t) = &query.target_id {
            clauses.push("target_id = ?");
            texts.push(("target_id", t.clone()));
        }
        if let Some(t) = query.from {
            clauses.push("at >= ?");
            ints.push(t.millis());
        }
        if let Some(t) = query.to {
            clauses.push("at < ?");
            ints.push(t.millis());
        }
        let where_sql = clauses.join(" AND ");
        let count_sql = format!("SELECT COUNT(*) AS n FROM audit_log WHERE {where_sql}");
        let mut cq = sqlx::query(&count_sql);
        for (_, t) in &texts {
            cq = cq.bind(t.as_str());
        }
        for i in &ints {
            cq = cq.bind(*i);
        }
        let total: i64 = cq.fetch_one(&self.read).await.db()?.try_get("n").db()?;
        let sql = format!("SELECT {AUDIT_COLS} FROM audit_log WHERE {where_sql} ORDER BY seq DESC LIMIT ? OFFSET ?");
        let mut q = sqlx::query(&sql);
        for (_, t) in &texts {
            q = q.bind(t.as_str());
        }
        for i in &ints {
            q = q.bind(*i);
        }
        let rows = q
            .bind(page.limit())
            .bind(page.offset())
            .fetch_all(&self.read)
            .await
            .db()?;
        let items = rows.iter().map(rows::audit).collect::<Result<_, _>>()?;
        Ok(Paged { items, total, page })
    }
}

#[async_trait]
impl JobLeases for SqlStore {
    async fn acquire(
        &self,
        job: &str,
        owner: &str,
        now: Timestamp,
        lease: Span,
    ) -> Result<bool, LeaseError> {
        let until = now.plus(lease).millis();
        let taken = sqlx::query(
            "UPDATE job_leases SET owner = ?, lease_until = ?, last_started_at = ? \
             WHERE job = ? AND (owner IS NULL OR lease_until IS NULL OR lease_until <= ? OR owner = ?)",
        )
        .bind(owner)
        .bind(until)
        .bind(now.millis())
        .bind(job)
        .bind(now.millis())
        .bind(owner)
        .execute(&self.write)
        .await
        .db()?;
        if taken.rows_affected() == 1 {
            return Ok(true);
        }
        let inserted = sqlx::query(
            "INSERT INTO job_leases (job, owner, lease_until, last_started_at) VALUES (?, ?, ?, ?)",
        )
        .bind(job)
        .bind(owner)
        .bind(until)
        .bind(now.millis())
        .execute(&self.write)
        .await;
        match inserted {
            Ok(_) => Ok(true),
            // The row exists and another owner holds a live lease.
            Err(e) if unique_violation(&e).is_some() => Ok(false),
            Err(e) => Err(shop_sql::db_err(e).into()),
        }
    }

    async fn finish(
        &self,
        job: &str,
        owner: &str,
        now: Timestamp,
        ok: bool,
        note: &str,
    ) -> Result<(), LeaseError> {
        let note: String = note.chars().take(1000).collect();
        sqlx::query(
            "UPDATE job_leases SET owner = NULL, lease_until = NULL, last_finished_at = ?, last_ok = ?, last_note = ? \
             WHERE job = ? AND owner = ?",
        )
        .bind(now.millis())
        .bind(ok)
        .bind(note)
        .bind(job)
        .bind(owner)
        .execute(&self.write)
        .await
        .db()?;
        Ok(())
    }

    async fn status(&self) -> Result<Vec<JobStatus>, LeaseError> {
        let rows = sqlx::query(
            "SELECT job, owner, lease_until, last_started_at, last_finished_at, last_ok, last_note FROM job_leases ORDER BY job",
        )
        .fetch_all(&self.read)
        .await
        .db()?;
        Ok(rows
            .iter()
            .map(rows::job_status)
            .collect::<Result<_, _>>()?)
    }
}

type Begun = Result<IdemBegin, IdempotencyError>;

/// The claims writer's batch function (a [`super::batch::RunBatch`]): every new key in one
/// multi-row insert and one commit. One key already present fails the whole statement (it is
/// atomic on both databases), and then each claim runs alone to get its own answer.
pub(crate) fn claim_batch(pool: Pool<Db>, claims: Vec<IdemClaim>) -> Batched<Begun> {
    Box::pin(async move {
        if claims.len() > 1 && insert_claims(&pool, &claims).await.is_ok() {
            return claims.iter().map(|_| Ok(IdemBegin::Started)).collect();
        }
        let mut results = Vec::with_capacity(claims.len());
        for claim in &claims {
            results.push(begin_one(&pool, claim).await);
        }
        results
    })
}

async fn insert_claims(pool: &Pool<Db>, claims: &[IdemClaim]) -> Result<(), sqlx::Error> {
    let sql = format!(
        "INSERT INTO idempotency_keys (scope, idem_key, fingerprint, resource_id, created_at, locked_until) VALUES {}",
        vec!["(?, ?, ?, NULL, ?, ?)"; claims.len()].join(", ")
    );
    let mut q = sqlx::query(&sql);
    for c in claims {
        q = q
            .bind(c.scope.as_str())
            .bind(c.key.as_str())
            .bind(c.fingerprint.as_str())
            .bind(c.now.millis())
            .bind(c.now.plus(IN_PROGRESS_LEASE).millis());
    }
    q.execute(pool).await?;
    Ok(())
}

/// One claim: insert the key, or read it and decide (replay, mismatch, in progress, or take
/// over an expired or abandoned one).
async fn begin_one(pool: &Pool<Db>, claim: &IdemClaim) -> Begun {
    let now = claim.now;
    let lease = now.plus(IN_PROGRESS_LEASE).millis();
    for _ in 0..3 {
        let inserted = sqlx::query(
                "INSERT INTO idempotency_keys (scope, idem_key, fingerprint, resource_id, created_at, locked_until) \
                 VALUES (?, ?, ?, NULL, ?, ?)",
            )
            .bind(claim.scope.as_str())
            .bind(claim.key.as_str())
            .bind(claim.fingerprint.as_str())
            .bind(now.millis())
            .bind(lease)
            .execute(pool)
            .await;
        match inserted {
            Ok(_) => return Ok(IdemBegin::Started),
            Err(e) if unique_violation(&e).is_some() => {}
            Err(e) => return Err(shop_sql::db_err(e).into()),
        }
        let row = sqlx::query(
                "SELECT fingerprint, resource_id, created_at, locked_until FROM idempotency_keys WHERE scope = ? AND idem_key = ?",
            )
            .bind(claim.scope.as_str())
            .bind(claim.key.as_str())
            .fetch_optional(pool)
            .await
            .db()?;
        let Some(row) = row else { continue };
        let fingerprint = rows::string(&row, "fingerprint")?;
        let resource_id: Option<i64> = row.try_get("resource_id").db()?;
        let created_at: i64 = row.try_get("created_at").db()?;
        let locked_until: i64 = row.try_get("locked_until").db()?;
        let expired = Timestamp::from_millis(created_at).plus(KEY_TTL) <= now;
        let abandoned = resource_id.is_none() && locked_until <= now.millis();
        if !expired {
            if fingerprint != claim.fingerprint {
                return Ok(IdemBegin::Mismatch);
            }
            if let Some(resource_id) = resource_id {
                return Ok(IdemBegin::Replay { resource_id });
            }
            if !abandoned {
                return Ok(IdemBegin::InProgress);
            }
        }
        // Expired or abandoned: take the key over, unless someone else just did.
        let taken = sqlx::query(
                "UPDATE idempotency_keys SET fingerprint = ?, resource_id = NULL, created_at = ?, locked_until = ? \
                 WHERE scope = ? AND idem_key = ? AND created_at = ? AND locked_until = ?",
            )
            .bind(claim.fingerprint.as_str())
            .bind(now.millis())
            .bind(lease)
            .bind(claim.scope.as_str())
            .bind(claim.key.as_str())
            .bind(created_at)
            .bind(locked_until)
            .execute(pool)
            .await
            .db()?;
        if taken.rows_affected() == 1 {
            return Ok(IdemBegin::Started);
        }
    }
    Ok(IdemBegin::InProgress)
}

/// The releases writer's batch function: frees every waiting request's unfinished claim in
/// one statement (a flash sale refuses hundreds of buyers whose keys were claimed at once).
pub(crate) fn release_batch(pool: Pool<Db>, keys: Vec<KeyRef>) -> Batched<Result<(), StoreError>> {
    Box::pin(async move {
        let which = vec!["(scope = ? AND idem_key = ?)"; keys.len()].join(" OR ");
        let sql = format!("DELETE FROM idempotency_keys WHERE resource_id IS NULL AND ({which})");
        let mut q = sqlx::query(&sql);
        for (scope, key) in &keys {
            q = q.bind(scope.as_str()).bind(key.as_str());
        }
        let done = q.execute(&pool).await.db().map(|_| ());
        keys.iter().map(|_| done.clone()).collect()
    })
}
