//! # shop-contract-tests
//!
//! The harness: a fresh, migrated database per test on each backend (SQLite file, MySQL
//! database), a fresh key prefix on Redis, and the shop wired on top. The suites themselves
//! are in `tests/it/`: every test body runs on every adapter.
//!
//! Servers come from `SHOP_TEST_MYSQL_URL` (default `mysql://root@127.0.0.1:3306`) and
//! `SHOP_TEST_REDIS_URL` (default `redis://127.0.0.1:6379`). They must be running: a missing
//! server fails the tests rather than skipping them.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use shop_core::ports::*;
use shop_core::time::Timestamp;
use shop_core::Shop;
use shop_memory::{FakeGateway, ManualClock, MemoryGate, SnowflakeIds};
use sqlx::Connection as _;
use std::path::PathBuf;
use std::sync::Arc;

pub fn mysql_server_url() -> String {
    std::env::var("SHOP_TEST_MYSQL_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".into())
}

pub fn redis_url() -> String {
    std::env::var("SHOP_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// A short random lowercase suffix for database names and key prefixes.
pub fn unique_suffix() -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    (0..12)
        .map(|_| char::from(b'a' + rng.gen_range(0..26)))
        .collect()
}

/// Deletes what a test created when it ends, even when it panics.
#[derive(Debug)]
pub enum Cleanup {
    MySql { server: String, database: String },
    File(PathBuf),
    RedisPrefix(String),
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        match self {
            Cleanup::File(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::MySql { server, database } => {
                let (server, database) = (server.clone(), database.clone());
                // Drop may run inside a runtime: do the async work on a thread of its own.
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()?;
                    rt.block_on(async move {
                        let mut c = sqlx::MySqlConnection::connect(&server).await?;
                        sqlx::query(&format!("DROP DATABASE IF EXISTS `{database}`"))
                            .execute(&mut c)
                            .await?;
                        Ok::<_, sqlx::Error>(())
                    })
                    .map_err(|e| std::io::Error::other(e.to_string()))
                })
                .join();
            }
            Cleanup::RedisPrefix(prefix) => {
                let prefix = prefix.clone();
                let _ = std::thread::spawn(move || {
                    let client = redis::Client::open(redis_url())?;
                    let mut c = client.get_connection()?;
                    let keys: Vec<String> = redis::cmd("KEYS")
                        .arg(format!("*{prefix}*"))
                        .query(&mut c)?;
                    if !keys.is_empty() {
                        redis::cmd("DEL").arg(keys).query::<()>(&mut c)?;
                    }
                    Ok::<_, redis::RedisError>(())
                })
                .join();
            }
        }
    }
}

/// An empty MySQL database for a test, dropped when the returned guard is.
pub async fn fresh_mysql_database() -> (String, Cleanup) {
    let server = mysql_server_url();
    let database = format!("shop_ct_{}", unique_suffix());
    let mut c = sqlx::MySqlConnection::connect(&server)
        .await
        .expect("MySQL must be running (see DEVELOPERS.md)");
    sqlx::query(&format!(
        "CREATE DATABASE `{database}` CHARACTER SET utf8mb4"
    ))
    .execute(&mut c)
    .await
    .expect("create database");
    let url = format!("{}/{database}", server.trim_end_matches('/'));
    (url, Cleanup::MySql { server, database })
}

/// Every store port of one database, as trait objects.
#[derive(Clone)]
pub struct Stores {
    pub catalogue: Arc<dyn CatalogueStore>,
    pub users: Arc<dyn UserStore>,
    pub operators: Arc<dyn OperatorStore>,
    pub addresses: Arc<dyn AddressStore>,
    pub carts: Arc<dyn CartStore>,
    pub orders: Arc<dyn OrderStore>,
    pub payments: Arc<dyn PaymentStore>,
    pub refunds: Arc<dyn RefundStore>,
    pub idempotency: Arc<dyn IdempotencyStore>,
    pub outbox: Arc<dyn OutboxStore>,
    pub audit: Arc<dyn AuditLog>,
    pub leases: Arc<dyn JobLeases>,
    pub reports: Arc<dyn ReportStore>,
    pub recon: Arc<dyn ReconStore>,
}

macro_rules! stores_from {
    ($store:expr) => {{
        let s = Arc::new($store);
        Stores {
            catalogue: s.clone(),
            users: s.clone(),
            operators: s.clone(),
            addresses: s.clone(),
            carts: s.clone(),
            orders: s.clone(),
            payments: s.clone(),
            refunds: s.clone(),
            idempotency: s.clone(),
            outbox: s.clone(),
            audit: s.clone(),
            leases: s.clone(),
            reports: s.clone(),
            recon: s,
        }
    }};
}

/// A database of one backend, fresh and migrated, with a way to run raw SQL (for tests that
/// tamper with rows or check them directly).
pub struct TestDb {
    pub backend: &'static str,
    pub url: String,
    pub stores: Stores,
    pub _cleanup: Cleanup,
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let dir = std::env::temp_dir().join(format!("shop-ct-{}", unique_suffix()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let url = format!("sqlite://{}", dir.join("shop.db").display());
        let store = shop_sqlite::open(&url).await.expect("open sqlite");
        TestDb {
            backend: "sqlite",
            url,
            stores: stores_from!(store),
            _cleanup: Cleanup::File(dir),
        }
    }

    pub async fn mysql() -> TestDb {
        let server = mysql_server_url();
        let database = format!("shop_ct_{}", unique_suffix());
        let mut c = sqlx::MySqlConnection::connect(&server)
            .await
            .expect("MySQL must be running (see DEVELOPERS.md)");
        sqlx::query(&format!(
            "CREATE DATABASE `{database}` CHARACTER SET utf8mb4"
        ))
        .execute(&mut c)
        .await
        .expect("create database");
        let cleanup = Cleanup::MySql {
            server: server.clone(),
            database: database.clone(),
        };
        let url = format!("{}/{database}", server.trim_end_matches('/'));
        let store = shop_mysql::open(&url, 16).await.expect("open mysql");
        TestDb {
            backend: "mysql",
            url,
            stores: stores_from!(store),
            _cleanup: cleanup,
        }
    }

    /// Runs a statement directly on the database, outside the stores.
    pub async fn raw(&self, sql: &str) {
        if self.backend == "sqlite" {
            let mut c = sqlx::SqliteConnection::connect(&self.url)
                .await
                .expect("connect");
            sqlx::query(sql).execute(&mut c).await.expect("raw sql");
        } else {
            let mut c = sqlx::MySqlConnection::connect(&self.url)
                .await
                .expect("connect");
            sqlx::query(sql).execute(&mut c).await.expect("raw sql");
        }
    }

    /// Reads one integer with a raw query (counts, stock levels).
    pub async fn scalar(&self, sql: &str) -> i64 {
        if self.backend == "sqlite" {
            let mut c = sqlx::SqliteConnection::connect(&self.url)
                .await
                .expect("connect");
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(&mut c)
                .await
                .expect("scalar")
        } else {
            let mut c = sqlx::MySqlConnection::connect(&self.url)
                .await
                .expect("connect");
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(&mut c)
                .await
                .expect("scalar")
        }
    }
}

/// A stock gate of one kind, empty.
pub struct TestGate {
    pub gate: Arc<dyn StockGate>,
    pub redis: Option<shop_redis::RedisConn>,
    pub _cleanup: Option<Cleanup>,
}

impl TestGate {
    pub fn memory() -> TestGate {
        TestGate {
            gate: Arc::new(MemoryGate::new()),
            redis: None,
            _cleanup: None,
        }
    }

    pub fn redis() -> TestGate {
        let prefix = format!("shop-ct-{}", unique_suffix());
        let conn = shop_redis::RedisConn::open(&redis_url()).expect("redis url");
        TestGate {
            gate: Arc::new(shop_redis::RedisGate::new(conn.clone(), &prefix)),
            redis: Some(conn),
            _cleanup: Some(Cleanup::RedisPrefix(prefix)),
        }
    }

    /// A Redis gate pointing at a port where nothing listens: every call fails.
    pub fn redis_down() -> TestGate {
        let conn = shop_redis::RedisConn::open("redis://127.0.0.1:1").expect("redis url");
        TestGate {
            gate: Arc::new(shop_redis::RedisGate::new(conn.clone(), "down")),
            redis: Some(conn),
            _cleanup: None,
        }
    }
}

/// The whole shop on one database and one gate, with a manual clock and a fake gateway.
pub struct Env {
    pub db: TestDb,
    pub gate: TestGate,
    pub clock: Arc<ManualClock>,
    pub ids: Arc<SnowflakeIds>,
    pub gateway: Arc<FakeGateway>,
    pub shop: Shop,
}

/// 2026-11-24T10:00:00+08:00: tests start here and move the clock.
pub const T0: Timestamp = Timestamp::from_millis(1_795_485_600_000);

impl Env {
    pub fn new(db: TestDb, gate: TestGate) -> Env {
        let clock = Arc::new(ManualClock::new(T0));
        let ids = Arc::new(SnowflakeIds::new(0));
        let gateway = Arc::new(FakeGateway::new());
        let s = &db.stores;
        let shop = Shop {
            catalogue: s.catalogue.clone(),
            addresses: s.addresses.clone(),
            carts: s.carts.clone(),
            orders: s.orders.clone(),
            payments: s.payments.clone(),
            refunds: s.refunds.clone(),
            idempotency: s.idempotency.clone(),
            gate: gate.gate.clone(),
            gateway: gateway.clone(),
            clock: clock.clone(),
            ids: ids.clone(),
            policy: shop_core::order::OrderPolicy::default(),
        };
        Env {
            db,
            gate,
            clock,
            ids,
            gateway,
            shop,
        }
    }

    pub async fn sqlite_memory() -> Env {
        Env::new(TestDb::sqlite().await, TestGate::memory())
    }

    pub async fn mysql_redis() -> Env {
        Env::new(TestDb::mysql().await, TestGate::redis())
    }

    pub fn stores(&self) -> &Stores {
        &self.db.stores
    }
}

pub mod fixtures;
pub mod schemas;
