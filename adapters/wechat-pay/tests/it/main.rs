//! shop-wechat-pay: the fixture vectors byte for byte, forged callbacks, the bill, the
//! configuration, and the client against the sandbox and scripted servers over real HTTP on
//! 127.0.0.1 (nothing here needs the internet).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bill;
mod client;
mod config;
mod delivery;
mod login;
mod notify;
mod retry;
mod support;
mod vectors;
