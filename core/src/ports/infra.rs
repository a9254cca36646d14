//! Time and identity: the two things the domain must never take from the machine directly.

use crate::time::Timestamp;

/// Where "now" comes from. Tests move a manual clock instead of sleeping.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

/// Hands out unique positive ids below 2^53, so they survive JSON numbers in JavaScript.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait IdGenerator: Send + Sync {
    fn next_id(&self) -> i64;
}

/// Counts requests per key in fixed windows: login attempts and order creation per user.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait::async_trait]
pub trait RateLimiter: Send + Sync {
    /// Records one request for `key` and says whether it is within `limit` per `window`.
    /// A limiter that cannot be reached allows the request (availability over strictness).
    async fn allow(&self, key: &str, limit: u32, window: crate::time::Span, now: Timestamp)
        -> bool;
}

/// Unguessable bearer tokens for sessions (at least 128 bits of entropy).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait TokenSource: Send + Sync {
    fn new_token(&self) -> String;
}

/// Slow, salted password hashing for operator accounts (argon2id in production).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait PasswordHasher: Send + Sync {
    fn hash(&self, password: &str) -> Result<String, String>;
    /// Constant-time with respect to the password; false for a malformed hash.
    fn verify(&self, password: &str, hash: &str) -> bool;
}
