//! # shop-redis
//!
//! Redis adapters: the stock gate (atomic Lua scripts: all SKUs of an order or none), the
//! event stream the outbox relay publishes to, and fixed-window rate limiting.
//!
//! Every key of the gate carries the same hash tag (`{prefix}`), so the multi-key scripts stay
//! valid on Redis Cluster (all gate keys live in one slot). Redis is never the authority: when
//! it is down the [`Breaker`] opens and calls fail fast for a few seconds, and the shop sells
//! on the database alone until it is back.

mod conn;
mod gate;
mod limiter;
mod stream;

pub use conn::{Breaker, RedisConn, RedisSetupError};
pub use gate::RedisGate;
pub use limiter::RedisRateLimiter;
pub use stream::RedisStreamPublisher;
