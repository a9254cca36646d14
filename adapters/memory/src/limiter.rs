use async_trait::async_trait;
use shop_core::ports::RateLimiter;
use shop_core::time::{Span, Timestamp};
use std::collections::HashMap;
use std::sync::Mutex;

/// Fixed-window counters for a single process. Old windows are dropped as new ones start, so
/// memory stays bounded by the keys active in the current window.
#[derive(Debug, Default)]
pub struct MemoryRateLimiter {
    windows: Mutex<HashMap<String, (i64, u32)>>,
}

impl MemoryRateLimiter {
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl RateLimiter for MemoryRateLimiter {
    async fn allow(&self, key: &str, limit: u32, window: Span, now: Timestamp) -> bool {
        let Ok(mut w) = self.windows.lock() else {
            return true;
        };
        let slot = now.millis() / window.as_millis().max(1);
        if w.len() > 100_000 {
            w.retain(|_, (s, _)| *s == slot);
        }
        let entry = w.entry(key.to_string()).or_insert((slot, 0));
        if entry.0 != slot {
            *entry = (slot, 0);
        }
        entry.1 += 1;
        entry.1 <= limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn counts_per_window() {
        let l = MemoryRateLimiter::new();
        let t = Timestamp::from_millis(60_000);
        for _ in 0..3 {
            assert!(l.allow("login:1", 3, Span::minutes(1), t).await);
        }
        assert!(!l.allow("login:1", 3, Span::minutes(1), t).await);
        assert!(l.allow("login:2", 3, Span::minutes(1), t).await);
        assert!(
            l.allow("login:1", 3, Span::minutes(1), t.plus(Span::minutes(1)))
                .await
        );
    }
}
