//! `Application::build(config)` wires adapters, use-cases and routes and binds the listener,
//! so tests start the real server exactly as `main` does (on port 0 for a free port).

use crate::config::{Config, Database};
use crate::metrics::Metrics;
use crate::state::{AppState, Inner, Probe};
use crate::{api, http, seed, wechat};
use anyhow::Context as _;
use poem::endpoint::StaticFilesEndpoint;
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::{EndpointExt, IntoEndpoint, Route, Server};
use shop_core::order::OrderPolicy;
use shop_core::ports::*;
use shop_core::time::Span;
use shop_core::usecases::{Accounts, Backoffice};
use shop_core::Shop;
use shop_memory::{
    Argon2Hasher, LocalDirStorage, MemoryGate, MemoryRateLimiter, RandomTokens, SnowflakeIds,
    SystemClock,
};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

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
        reports: s,
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

/// The running server's address and its serving future.
pub struct Application {
    addr: SocketAddr,
    server: std::pin::Pin<Box<dyn std::future::Future<Output = std::io::Result<()>> + Send>>,
    pub state: AppState,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Application {
    /// Binds `config.listen`, opens and migrates the database, wires everything. Nothing is
    /// served until [`Application::run`].
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        let acceptor = TcpListener::bind(config.listen)
            .into_acceptor()
            .await
            .with_context(|| format!("binding {}", config.listen))?;
        let addr = acceptor
            .local_addr()
            .first()
            .and_then(|a| a.as_socket_addr().copied())
            .context("the listener has no address")?;
        let public_base = config.public_base(addr);

        let stores = open_stores(&config.database).await?;
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let ids: Arc<dyn IdGenerator> = Arc::new(SnowflakeIds::new(config.node_id));
        let mut probes: Vec<(&'static str, Probe)> = vec![("database", stores.probe.clone())];

        let (gate, limiter): (Arc<dyn StockGate>, Arc<dyn RateLimiter>) = match &config.redis_url {
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
                        conn,
                        &config.redis_prefix,
                    )),
                )
            }
            None => (
                Arc::new(MemoryGate::new()),
                Arc::new(MemoryRateLimiter::new()),
            ),
        };

        let payments = wechat::build(&config, &public_base, clock.clone())?;
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
        let storage = LocalDirStorage::new(&config.media_dir, "/media");
        let backoffice = Backoffice {
            shop: shop.clone(),
            audit: stores.audit.clone(),
            reports: stores.reports.clone(),
            storage: Arc::new(storage),
        };

        tracing::info!(
            listen = %addr,
            database = stores.kind,
            stock_gate = gate.kind(),
            wechat = payments.mode,
            "rice shop starting: {} database, {} stock gate, WeChat Pay {}",
            stores.kind,
            gate.kind(),
            payments.mode
        );
        if let Some(password) = accounts
            .ensure_first_admin(config.admin_password.as_deref())
            .await?
        {
            tracing::warn!("created the first operator `admin` with password {password} — log in and change it; it is not shown again");
        }
        if config.seed_demo {
            let n = seed::seed_demo(&backoffice).await?;
            if n > 0 {
                tracing::info!(products = n, "seeded the demo catalogue of Wuchang rice");
            }
        }

        let metrics = Metrics::new()?;
        let state = AppState(Arc::new(Inner {
            shop,
            accounts,
            backoffice,
            audit: stores.audit.clone(),
            outbox: stores.outbox.clone(),
            limiter,
            metrics: metrics.clone(),
            config: config.clone(),
            public_base: public_base.clone(),
            probes,
        }));

        let api = api::service("/");
        let docs = api.swagger_ui();
        std::fs::create_dir_all(&config.media_dir)
            .with_context(|| format!("creating {}", config.media_dir.display()))?;
        let mut routes = Route::new()
            .nest("/docs", docs)
            .nest("/media", StaticFilesEndpoint::new(&config.media_dir))
            .at(
                "/openapi.json",
                poem::endpoint::make_sync({
                    let spec = api.spec();
                    move |_| {
                        poem::Response::builder()
                            .content_type("application/json")
                            .body(spec.clone())
                    }
                }),
            );
        if let Some(sandbox) = payments.sandbox {
            routes = routes.nest("/sandbox", sandbox);
        }
        if let Some(dir) = &config.admin_web_dir {
            routes = routes.nest(
                "/admin",
                StaticFilesEndpoint::new(dir).index_file("index.html"),
            );
        }
        let routes = routes.nest("/", api.into_endpoint());
        let app = routes
            .data(state.clone())
            .around(move |ep, req| http::around(ep, req, metrics.clone()));

        let server = Server::new_with_acceptor(acceptor).run_with_graceful_shutdown(
            app,
            shutdown_signal(),
            Some(Duration::from_secs(10)),
        );
        Ok(Application {
            addr,
            server: Box::pin(server),
            state,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Serves until SIGTERM or Ctrl-C, then lets requests in flight finish (10 s at most).
    pub async fn run(self) -> std::io::Result<()> {
        self.server.await
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
