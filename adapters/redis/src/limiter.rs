use crate::conn::RedisConn;
use async_trait::async_trait;
use redis::Script;
use shop_core::ports::RateLimiter;
use shop_core::time::{Span, Timestamp};

const INCR_WINDOW: &str = r"
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n
";

/// Fixed-window counters shared by every API replica.
#[derive(Debug, Clone)]
pub struct RedisRateLimiter {
    conn: RedisConn,
    prefix: String,
    script: Script,
}

impl RedisRateLimiter {
    pub fn new(conn: RedisConn, prefix: &str) -> Self {
        RedisRateLimiter {
            conn,
            prefix: prefix.to_string(),
            script: Script::new(INCR_WINDOW),
        }
    }
}

#[async_trait]
impl RateLimiter for RedisRateLimiter {
    async fn allow(&self, key: &str, limit: u32, window: Span, now: Timestamp) -> bool {
        let width = window.as_millis().max(1);
        let slot = now.millis() / width;
        let mut inv = self.script.prepare_invoke();
        inv.key(format!("{}:rl:{key}:{slot}", self.prefix))
            .arg(width);
        match self
            .conn
            .call(|mut c| async move { inv.invoke_async::<i64>(&mut c).await })
            .await
        {
            Ok(n) => n <= i64::from(limit),
            Err(e) => {
                tracing::warn!(error = %e, "rate limiter unavailable; allowing the request");
                true
            }
        }
    }
}
