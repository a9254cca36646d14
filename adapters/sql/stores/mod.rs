//! Every store port on SQL. This source is compiled into both `shop-sqlite` and `shop-mysql`
//! (see `shop_sql`'s crate docs): `crate::Db` is the adapter's sqlx database type and
//! `crate::DIALECT` the dialect. Each port method is one transaction.

mod catalogue;
mod customers;
mod orders;
mod payments;
mod records;
mod reports;
mod rows;
mod tx;

use crate::Db;
use shop_core::ports::StoreError;
use sqlx::Pool;

/// All store ports over one database. `write` is where transactions run; `read` serves plain
/// reads. On MySQL both are the same pool; on SQLite `write` holds the single writer
/// connection, so writes queue in the pool instead of failing with `SQLITE_BUSY`.
#[derive(Debug, Clone)]
pub struct SqlStore {
    pub(crate) read: Pool<Db>,
    pub(crate) write: Pool<Db>,
}

impl SqlStore {
    pub fn new(read: Pool<Db>, write: Pool<Db>) -> Self {
        SqlStore { read, write }
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
