//! # shop-api
//!
//! The HTTP API of the rice shop (poem + poem-openapi). [`app::Application::build`] wires the
//! adapters chosen by [`config::Config`] into the use-cases of `shop-core` and serves them.

pub mod api;
pub mod app;
pub mod auth;
pub mod error;
pub mod http;
pub mod metrics;
pub mod shelf;
pub mod state;

pub use app::Application;
pub use shop_runtime::Config;

/// The OpenAPI document of the API, as committed in `docs/openapi.json`.
pub fn openapi_json() -> String {
    api::spec_json()
}

pub use shop_runtime::init_tracing;
