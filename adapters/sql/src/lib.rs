//! # shop-sql
//!
//! The SQLite and MySQL adapters implement every store port with the **same source**: the
//! files in `adapters/sql/stores/` are compiled into each adapter crate with `#[path]`, where
//! `crate::Db` is that adapter's sqlx database type (`sqlx::Sqlite` or `sqlx::MySql`) and
//! `crate::DIALECT` says how the two dialects differ. So every query exists once, uses the
//! native driver (with its native types and errors), and the contract suite checks both.
//! See `docs/adr/0002-one-sql-source-two-databases.md`.
//!
//! This crate holds the backend-independent parts: error classification, dialect strings and
//! the migrator built from embedded migration files.

use shop_core::ports::StoreError;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use std::borrow::Cow;

/// Where MySQL and SQLite SQL differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    MySql,
    Sqlite,
}

impl Dialect {
    /// Row lock for read-then-write inside a transaction. SQLite has a single writer, so every
    /// write transaction already excludes the others.
    pub const fn for_update(self) -> &'static str {
        match self {
            Dialect::MySql => " FOR UPDATE",
            Dialect::Sqlite => "",
        }
    }

    /// Claims rows without waiting for other workers' claims.
    pub const fn skip_locked(self) -> &'static str {
        match self {
            Dialect::MySql => " FOR UPDATE SKIP LOCKED",
            Dialect::Sqlite => "",
        }
    }

    /// Integer division (`/` on MySQL gives a DECIMAL).
    pub const fn int_div(self) -> &'static str {
        match self {
            Dialect::MySql => " DIV ",
            Dialect::Sqlite => " / ",
        }
    }

    /// `SUM()` returns DECIMAL on MySQL, which is not an integer type for the driver.
    pub const fn sum_int_open(self) -> &'static str {
        match self {
            Dialect::MySql => "CAST(COALESCE(SUM(",
            Dialect::Sqlite => "(COALESCE(SUM(",
        }
    }

    pub const fn sum_int_close(self) -> &'static str {
        match self {
            Dialect::MySql => "), 0) AS SIGNED)",
            Dialect::Sqlite => "), 0))",
        }
    }
}

/// Why a store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("cannot connect to the database: {0}")]
    Connect(String),
    #[error("cannot migrate the database: {0}")]
    Migrate(String),
}

/// `?, ?, ?` for `n` parameters (both dialects use `?`).
pub fn placeholders(n: usize) -> String {
    let mut s = String::with_capacity(n * 3);
    for i in 0..n {
        if i > 0 {
            s.push_str(", ");
        }
        s.push('?');
    }
    s
}

/// Escapes `%`, `_` and `!` for `LIKE ? ESCAPE '!'`, and wraps in `%…%`.
pub fn like_contains(text: &str) -> String {
    let mut s = String::with_capacity(text.len() + 2);
    s.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '!') {
            s.push('!');
        }
        s.push(c);
    }
    s.push('%');
    s
}

/// The one place where driver errors become domain store errors.
pub fn db_err(e: sqlx::Error) -> StoreError {
    use sqlx::Error as E;
    match &e {
        E::Io(_)
        | E::Tls(_)
        | E::PoolTimedOut
        | E::PoolClosed
        | E::WorkerCrashed
        | E::Protocol(_) => StoreError::Unavailable(e.to_string()),
        E::ColumnDecode { .. } | E::ColumnNotFound(_) | E::Decode(_) | E::TypeNotFound { .. } => {
            StoreError::Corrupt(e.to_string())
        }
        E::Database(d) => {
            let code = d.code().map(|c| c.into_owned()).unwrap_or_default();
            let msg = d.message().to_string();
            if is_contention(&code, &msg) {
                StoreError::Contention(msg)
            } else if is_connection_loss(&code) {
                StoreError::Unavailable(msg)
            } else {
                StoreError::Other(format!("{code}: {msg}"))
            }
        }
        _ => StoreError::Other(e.to_string()),
    }
}

/// Deadlock, lock wait timeout (MySQL 40001 / 1213 / 1205 with HY000), busy or locked (SQLite 5, 6).
fn is_contention(code: &str, msg: &str) -> bool {
    matches!(code, "40001" | "5" | "6" | "517" | "261")
        || msg.contains("Deadlock found")
        || msg.contains("Lock wait timeout")
        || msg.contains("database is locked")
}

/// Server going away mid-statement (MySQL 08S01 / 2006 / 2013, 1053 shutdown in progress).
fn is_connection_loss(code: &str) -> bool {
    matches!(code, "08S01" | "08004" | "08003" | "70100")
}

/// The name of the unique or primary-key constraint this error violated, if it is one.
/// MySQL does not report the name structurally, so it is taken from the message.
pub fn unique_violation(e: &sqlx::Error) -> Option<String> {
    let sqlx::Error::Database(d) = e else {
        return None;
    };
    if !matches!(d.kind(), sqlx::error::ErrorKind::UniqueViolation) {
        return None;
    }
    if let Some(c) = d.constraint() {
        return Some(c.to_string());
    }
    let msg = d.message();
    // MySQL: "Duplicate entry 'x' for key 'uq_orders_order_no'" (or 'orders.uq_…' on 8.0).
    // SQLite: "UNIQUE constraint failed: orders.order_no".
    let name = msg
        .rsplit_once("for key '")
        .map(|(_, rest)| {
            rest.trim_end_matches('\'')
                .rsplit('.')
                .next()
                .unwrap_or(rest)
                .to_string()
        })
        .or_else(|| {
            msg.split_once("constraint failed: ")
                .map(|(_, rest)| rest.to_string())
        });
    Some(name.unwrap_or_default())
}

/// Builds a migrator from migrations embedded with `include_str!`, so binaries carry their
/// schema and need no files at run time.
pub fn migrator(migrations: &'static [(i64, &'static str, &'static str)]) -> Migrator {
    let list: Vec<Migration> = migrations
        .iter()
        .map(|(version, description, sql)| {
            Migration::new(
                *version,
                Cow::Borrowed(*description),
                MigrationType::Simple,
                Cow::Borrowed(*sql),
                false,
            )
        })
        .collect();
    Migrator {
        migrations: Cow::Owned(list),
        ..Migrator::DEFAULT
    }
}

/// Checks that a migration directory and the embedded list agree, so a new file cannot be
/// forgotten. Used by each adapter's tests.
pub fn embedded_matches_directory(
    migrations: &[(i64, &str, &str)],
    dir: &std::path::Path,
) -> Result<(), String> {
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|n| n.ends_with(".sql"))
        .collect();
    files.sort();
    let embedded: Vec<String> = migrations
        .iter()
        .map(|(v, d, _)| format!("{v:04}_{d}.sql"))
        .collect();
    if files != embedded {
        return Err(format!(
            "migrations on disk {files:?} differ from embedded {embedded:?}"
        ));
    }
    for ((_, _, sql), file) in migrations.iter().zip(&files) {
        let on_disk = std::fs::read_to_string(dir.join(file)).map_err(|e| e.to_string())?;
        if on_disk != *sql {
            return Err(format!("{file} differs from its embedded copy"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(placeholders(3), "?, ?, ?");
        assert_eq!(placeholders(0), "");
        assert_eq!(like_contains("50%_off!"), "%50!%!_off!!%");
    }
}
