//! # shop-api
//!
//! The HTTP API of the rice shop (poem + poem-openapi). [`app::Application::build`] wires the
//! adapters chosen by [`config::Config`] into the use-cases of `shop-core` and serves them.

// poem-openapi API and response types carry bodies and endpoints without useful Debug output.
#![allow(missing_debug_implementations)]

pub mod api;
pub mod app;
pub mod auth;
pub mod config;
pub mod error;
pub mod http;
pub mod metrics;
pub mod seed;
pub mod state;
pub mod wechat;

pub use app::Application;
pub use config::Config;

/// The OpenAPI document of the API, as committed in `docs/openapi.json`.
pub fn openapi_json() -> String {
    api::spec_json()
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
