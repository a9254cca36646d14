//! `Application::build(config)` wires adapters, use-cases and routes and binds the listener,
//! so tests start the real server exactly as `main` does (on port 0 for a free port).

use crate::metrics::Metrics;
use crate::state::{AppState, Inner};
use crate::{api, http};
use anyhow::Context as _;
use poem::endpoint::StaticFilesEndpoint;
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::{EndpointExt, IntoEndpoint, Route, Server};
use shop_runtime::{seed, Config, Runtime};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// The running server's address and its serving future.
pub struct Application {
    addr: SocketAddr,
    server: std::pin::Pin<Box<dyn std::future::Future<Output = std::io::Result<()>> + Send>>,
    stop: Arc<tokio::sync::Notify>,
    pub state: AppState,
}

/// Stops a running [`Application`] as SIGTERM would: no new connections, requests in flight
/// finish, the embedded worker and the sandbox's deliveries stop.
#[derive(Clone, Debug)]
pub struct Stopper(Arc<tokio::sync::Notify>);

impl Stopper {
    pub fn stop(&self) {
        self.0.notify_one();
    }
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

        let rt = Runtime::build_with(config.clone(), &public_base, true).await?;
        let sandbox = rt.payments.sandbox.clone();
        let (stores, gate, payments) = (&rt.stores, &rt.gate, &rt.payments);
        let (shop, accounts, backoffice) =
            (rt.shop.clone(), rt.accounts.clone(), rt.backoffice.clone());

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
        let shelf = Arc::new(crate::shelf::Shelf::new(shop_core::time::Span::millis(
            config.catalogue_cache_ms,
        )));
        let state = AppState(Arc::new(Inner {
            shop,
            accounts,
            backoffice,
            audit: stores.audit.clone(),
            outbox: stores.outbox.clone(),
            limiter: rt.limiter.clone(),
            metrics: metrics.clone(),
            config: config.clone(),
            public_base: public_base.clone(),
            probes: rt.probes.clone(),
            users: rt.stores.users.clone(),
            notify: rt.payments.notify.clone(),
            recon: rt.stores.recon.clone(),
            shelf: shelf.clone(),
            sessions: Default::default(),
            operations: rt.operations.clone(),
        }));

        // Without Redis the stock gate lives in this process, so the jobs that release stock
        // must run here too (a separate worker would release its own copy of the gate).
        let (stop_jobs, jobs_stopped) = tokio::sync::watch::channel(false);
        if config.embedded_worker {
            let worker = Arc::new(shop_worker::worker_for(&rt, metrics.registry())?);
            tracing::info!(events = %rt.event_sink, "running the worker's jobs in this process");
            tokio::spawn(worker.run(shop_worker::Job::ALL.to_vec(), jobs_stopped));
        }

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
        if let Some(sandbox) = sandbox.clone() {
            routes = routes.nest("/sandbox", sandbox);
        }
        if let Some(dir) = &config.admin_web_dir {
            // Only the console itself: index.html, css/ and js/ — never its tests, screenshots,
            // node_modules or package files that live in the same folder during development.
            let index = dir.join("index.html");
            routes = routes
                .at(
                    "/admin",
                    poem::endpoint::make_sync(|_| {
                        poem::Response::builder()
                            .status(poem::http::StatusCode::MOVED_PERMANENTLY)
                            .header("location", "/admin/")
                            .finish()
                    }),
                )
                .at("/admin/", poem::endpoint::StaticFileEndpoint::new(index))
                .nest("/admin/css", StaticFilesEndpoint::new(dir.join("css")))
                .nest("/admin/js", StaticFilesEndpoint::new(dir.join("js")));
        }
        let routes = routes.nest("/", api.into_endpoint());
        let app = routes
            .data(state.clone())
            .around(move |ep, req| http::around(ep, req, metrics.clone(), shelf.clone()));

        let stop = Arc::new(tokio::sync::Notify::new());
        let stopped = stop.clone();
        let server = Server::new_with_acceptor(acceptor).run_with_graceful_shutdown(
            app,
            async move {
                tokio::select! {
                    () = shutdown_signal() => {}
                    () = stopped.notified() => {}
                }
                let _ = stop_jobs.send(true);
                if let Some(s) = sandbox {
                    s.shutdown();
                }
            },
            Some(Duration::from_secs(10)),
        );
        Ok(Application {
            addr,
            server: Box::pin(server),
            stop,
            state,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// A handle that stops the server from elsewhere (tests, embedding).
    pub fn stopper(&self) -> Stopper {
        Stopper(self.stop.clone())
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
