//! # shop-mysql
//!
//! Every store port on MySQL / MariaDB, for production. The store implementation is shared
//! with `shop-sqlite` (see `shop_sql`); this crate supplies the backend type, the dialect, the
//! connection setup and the migrations. The SQL stays portable to MySQL-compatible distributed
//! databases (TiDB): no `RETURNING`, no stored procedures, no triggers.

use shop_sql::{Dialect, SetupError};
use sqlx::mysql::{MySqlConnectOptions, MySqlPoolOptions};
use sqlx::Executor as _;
use std::str::FromStr;
use std::time::Duration;

/// The backend the shared store source is compiled for.
pub type Db = sqlx::MySql;
pub(crate) const DIALECT: Dialect = Dialect::MySql;

#[path = "../../sql/stores/mod.rs"]
mod stores;

pub use stores::SqlStore;

/// The schema, embedded so the binary needs no files at run time.
pub const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "init",
        include_str!("../../../migrations/mysql/0001_init.sql"),
    ),
    (
        2,
        "worker_claims_and_reconciliation",
        include_str!("../../../migrations/mysql/0002_worker_claims_and_reconciliation.sql"),
    ),
];

/// Connects to `url` (`mysql://user:pass@host:3306/shop`), applies the migrations and returns
/// the store. Sessions use READ COMMITTED (no gap locks between concurrent orders) and a short
/// lock wait, so contention surfaces as a retryable error instead of a stalled request.
pub async fn open(url: &str, max_connections: u32) -> Result<SqlStore, SetupError> {
    let options = MySqlConnectOptions::from_str(url)
        .map_err(|e| SetupError::Connect(e.to_string()))?
        .charset("utf8mb4")
        // Batched statements (see shop_sql's stores/batch.rs) come in one text per batch size:
        // keep them all prepared. 200 per connection stays under MariaDB's default
        // max_prepared_stmt_count (16,382) up to 80 connections.
        .statement_cache_capacity(200);
    let pool = MySqlPoolOptions::new()
        .max_connections(max_connections.max(1))
        .acquire_timeout(Duration::from_secs(5))
        .after_connect(|conn, _meta| {
            Box::pin(async move {
                conn.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
                    .await?;
                conn.execute("SET SESSION innodb_lock_wait_timeout = 10")
                    .await?;
                Ok(())
            })
        })
        .connect_with(options)
        .await
        .map_err(|e| SetupError::Connect(e.to_string()))?;
    shop_sql::migrator(MIGRATIONS)
        .run(&pool)
        .await
        .map_err(|e| SetupError::Migrate(e.to_string()))?;
    Ok(SqlStore::new(pool.clone(), pool))
}

#[cfg(test)]
mod tests {
    #[test]
    fn embedded_migrations_match_the_directory() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations/mysql");
        shop_sql::embedded_matches_directory(super::MIGRATIONS, &dir).unwrap();
    }
}
