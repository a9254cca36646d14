//! # shop-sqlite
//!
//! Every store port on SQLite, the embedded default: `cargo run -p shop-api` needs no server.
//! The store implementation is shared with `shop-mysql` (see `shop_sql`); this crate supplies
//! the backend type, the dialect, the connection setup and the migrations.
//!
//! SQLite allows one writer at a time. Rather than let writers collide and retry on
//! `SQLITE_BUSY`, all transactions go through a pool of exactly one connection, where they
//! queue; reads use a separate pool and, in WAL mode, never wait for the writer.

use shop_sql::{Dialect, SetupError};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::str::FromStr;
use std::time::Duration;

/// The backend the shared store source is compiled for.
pub type Db = sqlx::Sqlite;
pub(crate) const DIALECT: Dialect = Dialect::Sqlite;

#[path = "../../sql/stores/mod.rs"]
mod stores;

pub use stores::SqlStore;

/// The schema, embedded so the binary needs no files at run time.
pub const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "init",
        include_str!("../../../migrations/sqlite/0001_init.sql"),
    ),
    (
        2,
        "worker_claims_and_reconciliation",
        include_str!("../../../migrations/sqlite/0002_worker_claims_and_reconciliation.sql"),
    ),
];

/// Opens (creating if needed) the database at `url` (`sqlite://data/shop.db`), applies the
/// migrations and returns the store.
pub async fn open(url: &str) -> Result<SqlStore, SetupError> {
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|e| SetupError::Connect(e.to_string()))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // In WAL mode NORMAL loses at most the last transactions on power loss, never corrupts.
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(10))
        .foreign_keys(true);
    let write = SqlitePoolOptions::new()
        .max_connections(1)
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(30))
        .connect_with(options.clone())
        .await
        .map_err(|e| SetupError::Connect(e.to_string()))?;
    shop_sql::migrator(MIGRATIONS)
        .run(&write)
        .await
        .map_err(|e| SetupError::Migrate(e.to_string()))?;
    let read = SqlitePoolOptions::new()
        .max_connections(4)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options.read_only(true))
        .await
        .map_err(|e| SetupError::Connect(e.to_string()))?;
    Ok(SqlStore::new(read, write))
}

#[cfg(test)]
mod tests {
    #[test]
    fn embedded_migrations_match_the_directory() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations/sqlite");
        shop_sql::embedded_matches_directory(super::MIGRATIONS, &dir).unwrap();
    }
}
