//! # shop-memory
//!
//! In-process adapters: the clock (system and manual), id generation, the stock gate and the
//! rate limiter for a single process, session tokens, argon2id password hashing, product images
//! in a local directory, and a fake payment gateway for tests that do not need the HTTP sandbox.

mod clock;
mod events;
mod gate;
mod gateway;
mod ids;
mod limiter;
mod secrets;
mod storage;

pub use clock::{ManualClock, SystemClock};
pub use events::JsonLinesPublisher;
pub use gate::MemoryGate;
pub use gateway::FakeGateway;
pub use ids::SnowflakeIds;
pub use limiter::MemoryRateLimiter;
pub use secrets::{Argon2Hasher, RandomTokens};
pub use storage::LocalDirStorage;
