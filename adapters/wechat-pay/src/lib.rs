//! # shop-wechat-pay
//!
//! WeChat Pay API v3 for the shop, and WeChat login:
//! - [`crypto`]: request signing, response and callback verification (platform keys by serial,
//!   ±300 s), AES-256-GCM, `paySign`, all on ring and shared by the client and the sandbox, so
//!   that the sandbox cannot drift from what the client speaks;
//! - [`client::WechatPayClient`]: the `PaymentGateway` port over HTTP, every answer verified;
//! - [`notify`]: verifying, decrypting and parsing callbacks;
//! - [`bill`]: the trade bill CSV, yuan to fen exactly;
//! - [`login`]: `jscode2session`, and the sandbox login;
//! - [`sandbox::Sandbox`]: a simulator speaking the same protocol, for development and tests;
//! - [`config`]: all of the above from `SHOP_WECHAT_*` / `SHOP_SANDBOX_*` (see README.md).

pub mod bill;
pub mod client;
pub mod config;
pub mod crypto;
pub mod login;
pub mod notify;
pub mod pem;
pub mod sandbox;

pub use client::{RetryPolicy, WechatPayClient};
pub use config::{ConfigError, Mode, SandboxConfig, WechatPayConfig};
pub use login::{SandboxLogin, WechatLoginClient};
pub use sandbox::Sandbox;
