//! A WeChat Pay v3 simulator for development and tests that speaks the real protocol with the
//! same crypto module as the client: it checks the merchant's signature on every `/v3` request
//! (401 SIGN_ERROR otherwise), signs every answer with its platform key, encrypts and signs its
//! callbacks and redelivers them on WeChat's schedule (time-scaled) until they are
//! acknowledged. A small unsigned control API (`/control/…`) plays the shopper and the bank:
//! pay, fail, settle refunds, inject faults, read the delivery log. The README lists it.
//!
//! `shop-api` nests it under `/sandbox` in the embedded default; `shop-wechat-sandbox` runs it
//! on its own.

mod delivery;
mod endpoint;
mod state;

pub use delivery::DeliveryRecord;
pub use endpoint::{ControlError, Sandbox};
pub use state::Faults;

use crate::config::{ConfigError, SandboxConfig};
use shop_core::ports::Clock;
use shop_core::time::Timestamp;
use std::future::Future;
use std::sync::Arc;

/// WeChat's callback retry schedule after the first attempt: 15 s, 15 s, 30 s, 3 min, 10 min,
/// 20 min, 30 min, 30 min, 30 min, 60 min, 3 h, 3 h, 3 h, 6 h, 6 h (about 24 hours in all).
pub const RETRY_SCHEDULE_SECS: [u64; 15] = [
    15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800, 21600, 21600,
];

/// The machine's clock, for the standalone sandbox (in the shop, the sandbox shares the
/// shop's clock instead).
#[derive(Debug, Clone, Copy, Default)]
pub struct WallClock;

impl Clock for WallClock {
    fn now(&self) -> Timestamp {
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        Timestamp::from_millis(ms)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("sandbox server: {0}")]
    Io(#[from] std::io::Error),
}

/// Serves `sandbox` at the root of `addr` (`127.0.0.1:8081`) until `shutdown` completes, then
/// stops its background deliveries.
pub async fn serve_until(
    sandbox: Sandbox,
    addr: &str,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), ServeError> {
    let listener = poem::listener::TcpListener::bind(addr.to_string());
    let result = poem::Server::new(listener)
        .run_with_graceful_shutdown(sandbox.clone(), shutdown, None)
        .await;
    sandbox.shutdown();
    result.map_err(ServeError::from)
}

/// The standalone sandbox: serves `config` at `addr` with the wall clock until Ctrl-C or
/// SIGTERM (what `docker stop` and systemd send).
pub async fn serve(config: SandboxConfig, addr: &str) -> Result<(), ServeError> {
    let sandbox = Sandbox::new(config, Arc::new(WallClock))?;
    serve_until(sandbox, addr, stop_signal()).await
}

async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
