//! Idempotency keys: a client sends the same `Idempotency-Key` when it retries a POST, and gets
//! the same result instead of a second order. Keys are scoped per user and kept 24 hours.
//!
//! Only successes are remembered: a request that failed changed nothing, so its key is released
//! and a retry runs again (and may succeed once stock is back). A success stores the id of the
//! resource it created; a replay returns that resource as it is now.

use crate::text::IdempotencyKey;
use crate::time::{Span, Timestamp};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// How long a key is remembered.
pub const KEY_TTL: Span = Span::hours(24);
/// How long an unfinished request holds its key before another attempt may take it over
/// (the first one crashed).
pub const IN_PROGRESS_LEASE: Span = Span::seconds(60);

/// SHA-256 of the canonical JSON of a command: two requests are "the same" when this matches.
pub fn fingerprint<T: Serialize>(command: &T) -> String {
    let json = serde_json::to_vec(command).unwrap_or_default();
    hex::encode(Sha256::digest(&json))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdemClaim {
    /// `orders:u7`, `refunds:u7`: what the key is unique within.
    pub scope: String,
    pub key: IdempotencyKey,
    pub fingerprint: String,
    pub now: Timestamp,
}

impl IdemClaim {
    pub fn new<T: Serialize>(
        scope: String,
        key: IdempotencyKey,
        command: &T,
        now: Timestamp,
    ) -> Self {
        IdemClaim {
            scope,
            key,
            fingerprint: fingerprint(command),
            now,
        }
    }

    /// What completes this claim once its resource exists (the id is set when it is written).
    pub fn completion(&self) -> IdemCompletion {
        IdemCompletion {
            scope: self.scope.clone(),
            key: self.key.clone(),
            resource_id: 0,
        }
    }
}

/// What `begin` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdemBegin {
    /// First time (or the earlier attempt was released or expired): go ahead.
    Started,
    /// Done before: this is the id of what it created.
    Replay { resource_id: i64 },
    /// Another request with this key is still running.
    InProgress,
    /// The key was used with a different request.
    Mismatch,
}

/// Marks a claimed key as done, inside the transaction that creates the resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdemCompletion {
    pub scope: String,
    pub key: IdempotencyKey,
    pub resource_id: i64,
}
