//! The two reads every order placement makes — the SKUs' prices and the shopper's address —
//! batched like the writes (see `batch.rs`): the requests waiting at the same moment share
//! one `IN (…)` query, and each gets only its own rows. Nothing is cached; every answer is
//! read after its request arrived.

use super::batch::Batched;
use super::rows::{self, ADDRESS_COLS, COVER_SUBQUERY};
use super::tx::{in_list, padded};
use super::DbResultExt;
use crate::Db;
use shop_core::address::Address;
use shop_core::catalogue::SkuForSale;
use shop_core::ids::{AddressId, SkuId, UserId};
use shop_core::ports::{AddressError, CatalogueError, StoreError};
use shop_core::time::Timestamp;
use shop_core::user::Session;
use sqlx::Pool;
use std::collections::BTreeSet;

pub(crate) type SkusFound = Result<Vec<SkuForSale>, CatalogueError>;
pub(crate) type AddressFound = Result<Option<Address>, AddressError>;

/// `SkuForSale` rows for every id any waiting request asked for.
pub(crate) async fn skus_for_sale(
    pool: &Pool<Db>,
    ids: &BTreeSet<i64>,
) -> Result<Vec<SkuForSale>, StoreError> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let ids = padded(ids.iter().copied());
    let sql = format!(
        "SELECT s.id, s.product_id, p.title, s.spec, s.price_fen, s.enabled, p.status, {COVER_SUBQUERY} AS cover_url \
         FROM skus s JOIN products p ON p.id = s.product_id WHERE s.id IN ({})",
        in_list(ids.len())
    );
    let mut q = sqlx::query(&sql);
    for id in ids {
        q = q.bind(id);
    }
    let rows = q.fetch_all(pool).await.db()?;
    rows.iter().map(rows::sku_for_sale).collect()
}

/// The skus reader's batch function (a [`super::batch::RunBatch`]).
pub(crate) fn skus_batch(pool: Pool<Db>, jobs: Vec<Vec<SkuId>>) -> Batched<SkusFound> {
    Box::pin(async move {
        let ids: BTreeSet<i64> = jobs.iter().flatten().map(|s| s.get()).collect();
        match skus_for_sale(&pool, &ids).await {
            Ok(found) => jobs
                .iter()
                .map(|wanted| {
                    Ok(found
                        .iter()
                        .filter(|s| wanted.contains(&s.sku_id))
                        .cloned()
                        .collect())
                })
                .collect(),
            Err(e) => jobs.iter().map(|_| Err(e.clone().into())).collect(),
        }
    })
}

/// The addresses reader's batch function: one query by id, then each request keeps its
/// address only if it belongs to its shopper (another's is the same as a missing one).
pub(crate) fn addresses_batch(
    pool: Pool<Db>,
    jobs: Vec<(UserId, AddressId)>,
) -> Batched<AddressFound> {
    Box::pin(async move {
        let ids: BTreeSet<i64> = jobs.iter().map(|(_, a)| a.get()).collect();
        let ids = padded(ids);
        let sql = format!(
            "SELECT {ADDRESS_COLS} FROM addresses WHERE id IN ({})",
            in_list(ids.len())
        );
        let mut q = sqlx::query(&sql);
        for id in &ids {
            q = q.bind(*id);
        }
        let found: Result<Vec<Address>, StoreError> = match q.fetch_all(&pool).await.db() {
            Ok(rows) => rows.iter().map(rows::address).collect(),
            Err(e) => Err(e),
        };
        match found {
            Ok(found) => jobs
                .iter()
                .map(|(user, id)| {
                    Ok(found
                        .iter()
                        .find(|a| a.id == *id && a.user_id == *user)
                        .cloned())
                })
                .collect(),
            Err(e) => jobs.iter().map(|_| Err(e.clone().into())).collect(),
        }
    })
}

/// A key to look up: scope, key.
pub(crate) type KeyRef = (String, String);
pub(crate) type KeyCreated = Result<Option<i64>, StoreError>;

/// The key reader's batch function: when each waiting request's idempotency key was created,
/// if it exists (every new order asks this before the stock gate; in a flash sale, every buyer).
pub(crate) fn keys_batch(pool: Pool<Db>, jobs: Vec<KeyRef>) -> Batched<KeyCreated> {
    Box::pin(async move {
        let asked = padded(jobs.iter());
        let which = vec!["(scope = ? AND idem_key = ?)"; asked.len()].join(" OR ");
        let sql = format!("SELECT scope, idem_key, created_at FROM idempotency_keys WHERE {which}");
        let mut q = sqlx::query(&sql);
        for (scope, key) in asked {
            q = q.bind(scope.as_str()).bind(key.as_str());
        }
        let found: Result<Vec<(String, String, i64)>, StoreError> =
            match q.fetch_all(&pool).await.db() {
                Ok(rows) => rows
                    .iter()
                    .map(|r| {
                        Ok((
                            rows::string(r, "scope")?,
                            rows::string(r, "idem_key")?,
                            rows::get::<i64>(r, "created_at")?,
                        ))
                    })
                    .collect(),
                Err(e) => Err(e),
            };
        match found {
            Ok(found) => jobs
                .iter()
                .map(|(scope, key)| {
                    Ok(found
                        .iter()
                        .find(|(s, k, _)| s == scope && k == key)
                        .map(|(_, _, c)| *c))
                })
                .collect(),
            Err(e) => jobs.iter().map(|_| Err(e.clone())).collect(),
        }
    })
}

pub(crate) type SessionFound = Result<Option<Session>, StoreError>;

/// The session reader's batch function: every waiting request's bearer token in one query.
/// A shopper's first request on this server misses the session cache; in a flash sale that is
/// every buyer at once.
pub(crate) fn sessions_batch(
    pool: Pool<Db>,
    jobs: Vec<(String, Timestamp)>,
) -> Batched<SessionFound> {
    Box::pin(async move {
        let hashes: BTreeSet<&str> = jobs.iter().map(|(h, _)| h.as_str()).collect();
        let hashes = padded(hashes);
        let sql = format!(
            "SELECT token_hash, user_id, wx_session_key, created_at, expires_at FROM sessions WHERE token_hash IN ({})",
            in_list(hashes.len())
        );
        let mut q = sqlx::query(&sql);
        for h in &hashes {
            q = q.bind(*h);
        }
        let found: Result<Vec<Session>, StoreError> = match q.fetch_all(&pool).await.db() {
            Ok(rows) => rows.iter().map(rows::session).collect(),
            Err(e) => Err(e),
        };
        match found {
            Ok(found) => jobs
                .iter()
                .map(|(hash, now)| {
                    Ok(found
                        .iter()
                        .find(|s| s.token_hash == *hash && s.expires_at > *now)
                        .cloned())
                })
                .collect(),
            Err(e) => jobs.iter().map(|_| Err(e.clone())).collect(),
        }
    })
}
