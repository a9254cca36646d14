//! # shop-memory
//!
//! In-process adapters: the clock (system and manual), id generation, the stock gate and the
//! rate limiter for a single process, and a fake payment gateway for tests that do not need
//! the HTTP sandbox.

mod clock;
mod gate;
mod gateway;
mod ids;
mod limiter;

pub use clock::{ManualClock, SystemClock};
pub use gate::MemoryGate;
pub use gateway::FakeGateway;
pub use ids::SnowflakeIds;
pub use limiter::MemoryRateLimiter;
