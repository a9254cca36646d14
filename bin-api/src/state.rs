//! What handlers share: the use-cases, the ports they read directly, metrics and settings.

use crate::metrics::Metrics;
use shop_core::ports::{AuditLog, OutboxStore, RateLimiter, ReconStore, UserStore};
use shop_core::usecases::{Accounts, Backoffice};
use shop_core::Shop;
use shop_runtime::{Config, Probe};
use std::sync::Arc;

pub struct Inner {
    pub shop: Shop,
    pub accounts: Accounts,
    pub backoffice: Backoffice,
    pub audit: Arc<dyn AuditLog>,
    pub outbox: Arc<dyn OutboxStore>,
    pub limiter: Arc<dyn RateLimiter>,
    pub metrics: Metrics,
    pub config: Config,
    /// How clients reach this server (`http://127.0.0.1:8080`).
    pub public_base: String,
    pub probes: Vec<(&'static str, Probe)>,
    pub users: Arc<dyn UserStore>,
    /// Keys to verify and decrypt WeChat's callbacks.
    pub notify: shop_runtime::wechat::NotifyKeys,
    pub recon: Arc<dyn ReconStore>,
    /// What shoppers browse, kept for `SHOP_CATALOGUE_CACHE_MS`.
    pub shelf: Arc<crate::shelf::Shelf>,
    pub sessions: crate::auth::SessionCache,
    /// Reconciliation on demand (the worker runs it daily).
    pub operations: Arc<shop_core::usecases::Operations>,
}

/// Cheap to clone; handed to every API object and to the auth checkers as request data.
#[derive(Clone)]
pub struct AppState(pub Arc<Inner>);

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("public_base", &self.public_base)
            .finish_non_exhaustive()
    }
}
