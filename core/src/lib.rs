//! # shop-core
//!
//! The domain of the Wuchang rice shop, with no I/O: money in fen, the catalogue, inventory
//! rules, the order / payment / refund state machines, the ports the world must provide, and
//! the use-cases written against them.
//!
//! Everything that crosses the edge is parsed into a type that cannot hold an invalid value
//! (`Fen`, `Quantity`, `Phone`, `OrderNo` …); past the edge nothing validates again.

pub mod address;
pub mod audit;
pub mod cart;
pub mod catalogue;
pub mod error;
pub mod events;
pub mod export;
pub mod idempotency;
pub mod ids;
pub mod inventory;
pub mod money;
pub mod order;
pub mod payment;
pub mod ports;
pub mod reconcile;
pub mod refund;
pub mod text;
pub mod time;
pub mod usecases;
pub mod user;

pub use error::{ErrorCode, ValidationError};
pub use money::Fen;
pub use time::{BizDate, Span, Timestamp};
pub use usecases::{Shop, ShopError};
