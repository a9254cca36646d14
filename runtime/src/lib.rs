//! # shop-runtime
//!
//! The API, the worker and the admin CLI run the same shop: this crate reads the one
//! [`Config`], opens the configured adapters (SQLite or MySQL, Redis or in process, WeChat Pay
//! or its sandbox) and builds the use-cases on them.

pub mod config;
pub mod seed;
pub mod wechat;

pub use config::{Config, ConfigError, Database};

use anyhow::Context as _;
use shop_core::order::OrderPolicy;
use shop_core::ports::*;
use shop_core::time::Span;
use shop_core::usecases::{Accounts, Backoffice, Operations};
use shop_core::Shop;
use shop_memory::{
    Argon2Hasher, JsonLinesPublisher, LocalDirStorage, MemoryGate, MemoryRateLimiter, RandomTokens,
    SnowflakeIds, SystemClock,
};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// A readiness probe of a dependency.
pub type Probe =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>> + Send + Sync>;

/// Every store port, from whichever database is configured.
pub trait AllStores:
    CatalogueStore
    + UserStore
    + OperatorStore
    + AddressStore
    + CartStore
    + OrderStore
    + PaymentStore
    + RefundStore
    + IdempotencyStore
    + OutboxStore
    + AuditLog
    + JobLeases
    + ReportStore
    + ReconStore
    + 'static
{
}

impl<T> AllStores for T where
    T: CatalogueStore
        + UserStore
        + OperatorStore
        + AddressStore
        + CartStore
        + OrderStore
        + PaymentStore
        + RefundStore
        + IdempotencyStore
        + OutboxStore
        + AuditLog
        + JobLeases
        + ReportStore
        + ReconStore
        + 'static
{
}

/// The store ports as trait objects, plus a readiness probe of the database.
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
    pub probe: Probe,
    /// `sqlite` or `mysql`, for the start-up log.
    pub kind: &'static str,
}

fn stores_of<S: AllStores>(s: Arc<S>, kind: &'static str, probe: Probe) -> Stores {
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
        probe,
        kind,
    }
}

/// Opens the configured database, creating the SQLite directory if needed, and migrates it.
pub async fn open_stores(db: &Database) -> anyhow::Result<Stores> {
    Ok(match db {
        Database::Sqlite(url) => {
            if let Some(path) = url
                .strip_prefix("sqlite://")
                .or_else(|| url.strip_prefix("sqlite:"))
            {
                let path = path.split('?').next().unwrap_or(path);
                if let Some(dir) = std::path::Path::new(path)
                    .parent()
                    .filter(|d| !d.as_os_str().is_empty())
                {
                    std::fs::create_dir_all(dir)
                        .with_context(|| format!("creating {}", dir.display()))?;
                }
            }
            let s = Arc::new(shop_sqlite::open(url).await?);
            let p = s.clone();
            let probe: Probe = Arc::new(move || {
                let p = p.clone();
                Box::pin(async move { p.ping().await.map_err(|e| e.to_string()) })
            });
            stores_of(s, "sqlite", probe)
        }
        Database::MySql {
            url,
            max_connections,
        } => {
            let s = Arc::new(shop_mysql::open(url, *max_connections).await?);
            let p = s.clone();
            let probe: Probe = Arc::new(move || {
                let p = p.clone();
                Box::pin(async move { p.ping().await.map_err(|e| e.to_string()) })
            });
            stores_of(s, "mysql", probe)
        }
    })
}

/// The whole shop for one process: adapters chosen by the configuration, and the use-cases.
pub struct Runtime {
    pub config: Config,
    pub stores: Stores,
    pub gate: Arc<dyn StockGate>,
    pub limiter: Arc<dyn RateLimiter>,
    pub redis: Option<shop_redis::RedisConn>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdGenerator>,
    pub payments: wechat::Payments,
    pub shop: Shop,
    pub accounts: Accounts,
    pub backoffice: Backoffice,
    pub operations: Arc<Operations>,
    /// Where the outbox relay publishes: `redis-stream:<key>` or `file:<path>`.
    pub event_sink: String,
    pub probes: Vec<(&'static str, Probe)>,
    /// How clients reach the API (`http://127.0.0.1:8080`): image and notify URLs.
    pub public_base: String,
}

impl Runtime {
    /// Opens and migrates the database and wires everything. `public_base` is where the API is
    /// reachable (the API knows it after binding; other processes take it from the config).
    pub async fn build(config: Config, public_base: &str) -> anyhow::Result<Runtime> {
        Self::build_with(config, public_base, false).await
    }

    /// As [`Runtime::build`]; `host_sandbox` makes this process host the WeChat Pay sandbox
    /// (the API does, in sandbox mode).
    pub async fn build_with(
        config: Config,
        public_base: &str,
        host_sandbox: bool,
    ) -> anyhow::Result<Runtime> {
        let stores = open_stores(&config.database).await?;
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let ids: Arc<dyn IdGenerator> = Arc::new(SnowflakeIds::new(config.node_id));
        let mut probes: Vec<(&'static str, Probe)> = vec![("database", stores.probe.clone())];

        let (gate, limiter, redis): (Arc<dyn StockGate>, Arc<dyn RateLimiter>, _) =
            match &config.redis_url {
                Some(url) => {
                    let conn = shop_redis::RedisConn::open(url)?;
                    let c = conn.clone();
                    probes.push((
                        "redis",
                        Arc::new(move || {
                            let c = c.clone();
                            Box::pin(async move { c.ping().await })
                        }),
                    ));
                    (
                        Arc::new(shop_redis::RedisGate::new(
                            conn.clone(),
                            &format!("{}:gate", config.redis_prefix),
                        )),
                        Arc::new(shop_redis::RedisRateLimiter::new(
                            conn.clone(),
                            &config.redis_prefix,
                        )),
                        Some(conn),
                    )
                }
                None => (
                    Arc::new(MemoryGate::new()),
                    Arc::new(MemoryRateLimiter::new()),
                    None,
                ),
            };

        let payments = wechat::build(&config, public_base, clock.clone(), host_sandbox)?;
        let policy = OrderPolicy {
            unpaid_timeout: Span::minutes(config.unpaid_timeout_minutes),
            auto_confirm_after: Span::days(config.auto_confirm_days),
            ..OrderPolicy::default()
        };
        let shop = Shop {
            catalogue: stores.catalogue.clone(),
            addresses: stores.addresses.clone(),
            carts: stores.carts.clone(),
            orders: stores.orders.clone(),
            payments: stores.payments.clone(),
            refunds: stores.refunds.clone(),
            idempotency: stores.idempotency.clone(),
            gate: gate.clone(),
            gateway: payments.gateway.clone(),
            clock: clock.clone(),
            ids: ids.clone(),
            policy,
        };
        let accounts = Accounts {
            users: stores.users.clone(),
            operators: stores.operators.clone(),
            login: payments.login.clone(),
            tokens: Arc::new(RandomTokens),
            hasher: Arc::new(Argon2Hasher),
            clock: clock.clone(),
            ids: ids.clone(),
            session_ttl: Span::days(config.session_days),
            operator_session_ttl: Span::hours(12),
        };
        let backoffice = Backoffice {
            shop: shop.clone(),
            audit: stores.audit.clone(),
            reports: stores.reports.clone(),
            storage: Arc::new(LocalDirStorage::new(&config.media_dir, "/media")),
        };
        let (publisher, event_sink): (Arc<dyn EventPublisher>, String) = match &redis {
            Some(conn) => {
                let key = format!("{}:events", config.redis_prefix);
                (
                    Arc::new(shop_redis::RedisStreamPublisher::new(
                        conn.clone(),
                        &key,
                        1_000_000,
                    )),
                    format!("redis-stream:{key}"),
                )
            }
            None => (
                Arc::new(JsonLinesPublisher::new(&config.events_file)),
                format!("file:{}", config.events_file.display()),
            ),
        };
        let operations = Arc::new(Operations::new(
            shop.clone(),
            stores.outbox.clone(),
            publisher,
            stores.recon.clone(),
            stores.users.clone(),
        ));
        Ok(Runtime {
            config,
            stores,
            gate,
            limiter,
            redis,
            clock,
            ids,
            payments,
            shop,
            accounts,
            backoffice,
            operations,
            event_sink,
            probes,
            public_base: public_base.to_string(),
        })
    }
}

/// Sets up logging: `RUST_LOG` filters (default `info`), `SHOP_LOG_FORMAT=json` for JSON lines.
pub fn init_tracing(json: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,poem=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
