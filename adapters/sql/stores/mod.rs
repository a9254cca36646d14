//! Every store port on SQL. This source is compiled into both `shop-sqlite` and `shop-mysql`
//! (see `shop_sql`'s crate docs): `crate::Db` is the adapter's sqlx database type and
//! `crate::DIALECT` the dialect. Each port method is one transaction.

mod batch;
mod catalogue;
mod customers;
mod lookups;
mod orders;
mod payments;
mod placing;
mod records;
mod reports;
mod rows;
mod settling;
mod tx;

use crate::{Db, DIALECT};
use batch::Combiner;
use lookups::{AddressFound, KeyCreated, KeyRef, SessionFound, SkusFound};
use placing::NewOrder;
use settling::{OrderFound, PaymentFound, Settled};
use shop_core::idempotency::{IdemBegin, IdemClaim};
use shop_core::ids::{AddressId, OrderId, SkuId, UserId};
use shop_core::ports::PaymentSuccess;
use shop_core::ports::{IdempotencyError, OrderStoreError, StoreError};
use shop_core::text::OrderNo;
use shop_core::time::Timestamp;
use shop_sql::Dialect;
use sqlx::Pool;
use std::sync::Arc;

/// All store ports over one database. `write` is where transactions run; `read` serves plain
/// reads. On MySQL both are the same pool; on SQLite `write` holds the single writer
/// connection, so writes queue in the pool instead of failing with `SQLITE_BUSY`.
/// `batches` group the hottest writes of concurrent requests into shared transactions.
#[derive(Debug, Clone)]
pub struct SqlStore {
    pub(crate) read: Pool<Db>,
    pub(crate) write: Pool<Db>,
    pub(crate) batches: Arc<Batches>,
}

/// The group-commit writers (see `batch.rs`).
#[derive(Debug)]
pub(crate) struct Batches {
    pub(crate) orders: Combiner<NewOrder, Result<(), OrderStoreError>>,
    pub(crate) claims: Combiner<IdemClaim, Result<IdemBegin, IdempotencyError>>,
    pub(crate) skus: Combiner<Vec<SkuId>, SkusFound>,
    pub(crate) addresses: Combiner<(UserId, AddressId), AddressFound>,
    pub(crate) keys: Combiner<KeyRef, KeyCreated>,
    pub(crate) sessions: Combiner<(String, Timestamp), SessionFound>,
    pub(crate) releases: Combiner<KeyRef, Result<(), StoreError>>,
    pub(crate) settles: Combiner<PaymentSuccess, Settled>,
    pub(crate) orders_by_no: Combiner<OrderNo, OrderFound>,
    pub(crate) payments_by_order: Combiner<OrderId, PaymentFound>,
}

impl SqlStore {
    pub fn new(read: Pool<Db>, write: Pool<Db>) -> Self {
        // One task per kind of write: while it runs a batch the next one forms, so batches
        // grow with the load. Measured on MySQL (spread, docs/benchmarks.md): 1 order writer
        // 3,572 orders/s, 2 writers 3,374/s, 4 writers 2,782/s — more writers only split the
        // batches. Reads are cheap and SQLite reads run beside its one writer: two readers.
        let (order_writers, claim_writers, readers) = match DIALECT {
            Dialect::Sqlite => (1, 1, 2),
            Dialect::MySql => (1, 1, 1),
        };
        SqlStore {
            read,
            write,
            batches: Arc::new(Batches {
                orders: Combiner::new(order_writers, placing::create_batch),
                claims: Combiner::new(claim_writers, records::claim_batch),
                skus: Combiner::new(readers, lookups::skus_batch),
                addresses: Combiner::new(readers, lookups::addresses_batch),
                keys: Combiner::new(readers, lookups::keys_batch),
                sessions: Combiner::new(readers, lookups::sessions_batch),
                releases: Combiner::new(claim_writers, records::release_batch),
                settles: Combiner::new(order_writers, settling::settle_batch),
                orders_by_no: Combiner::new(readers, settling::orders_by_no_batch),
                payments_by_order: Combiner::new(readers, settling::payments_by_order_batch),
            }),
        }
    }

    /// Closes both pools, waiting for connections in use to be returned.
    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
    }

    /// `SELECT 1` on both pools: the readiness check.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.read).await.db()?;
        sqlx::query("SELECT 1").execute(&self.write).await.db()?;
        Ok(())
    }
}

/// `.db()?` turns a driver error into a [`StoreError`] at the call site.
pub(crate) trait DbResultExt<T> {
    fn db(self) -> Result<T, StoreError>;
}

impl<T> DbResultExt<T> for Result<T, sqlx::Error> {
    fn db(self) -> Result<T, StoreError> {
        self.map_err(shop_sql::db_err)
    }
}
