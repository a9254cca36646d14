use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum RedisSetupError {
    #[error("invalid Redis URL: {0}")]
    Url(String),
}

/// Opens after a failure and lets calls through again after `cool_down`: while Redis is down,
/// requests do not each wait for a connection timeout.
#[derive(Debug)]
pub struct Breaker {
    started: Instant,
    open_until_ms: AtomicI64,
    cool_down: Duration,
    trips: AtomicU64,
}

impl Breaker {
    pub fn new(cool_down: Duration) -> Self {
        Breaker {
            started: Instant::now(),
            open_until_ms: AtomicI64::new(0),
            cool_down,
            trips: AtomicU64::new(0),
        }
    }

    fn elapsed_ms(&self) -> i64 {
        i64::try_from(self.started.elapsed().as_millis()).unwrap_or(i64::MAX)
    }

    /// Whether calls may go to Redis now.
    pub fn closed(&self) -> bool {
        self.elapsed_ms() >= self.open_until_ms.load(Ordering::Relaxed)
    }

    pub fn trip(&self) {
        let until =
            self.elapsed_ms() + i64::try_from(self.cool_down.as_millis()).unwrap_or(i64::MAX);
        self.open_until_ms.store(until, Ordering::Relaxed);
        self.trips.fetch_add(1, Ordering::Relaxed);
    }

    /// How many times Redis calls failed and the breaker opened since start.
    pub fn trips(&self) -> u64 {
        self.trips.load(Ordering::Relaxed)
    }
}

/// One multiplexed, self-reconnecting connection shared by the gate, the stream and the
/// limiter, with short timeouts and a breaker.
#[derive(Clone)]
pub struct RedisConn {
    pub(crate) manager: ConnectionManager,
    pub(crate) breaker: Arc<Breaker>,
}

impl std::fmt::Debug for RedisConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisConn")
            .field("breaker", &self.breaker)
            .finish_non_exhaustive()
    }
}

impl RedisConn {
    /// Prepares a connection to `url` without connecting: the shop starts even when Redis is down.
    pub fn open(url: &str) -> Result<Self, RedisSetupError> {
        let client = redis::Client::open(url).map_err(|e| RedisSetupError::Url(e.to_string()))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_millis(500)))
            .set_response_timeout(Some(Duration::from_millis(1000)))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(200));
        let manager = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|e| RedisSetupError::Url(e.to_string()))?;
        Ok(RedisConn {
            manager,
            breaker: Arc::new(Breaker::new(Duration::from_secs(3))),
        })
    }

    pub fn breaker(&self) -> &Breaker {
        &self.breaker
    }

    /// Runs `f` on the connection unless the breaker is open; a failure opens it.
    pub(crate) async fn call<T, F, Fut>(&self, f: F) -> Result<T, String>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: std::future::Future<Output = redis::RedisResult<T>>,
    {
        if !self.breaker.closed() {
            return Err("Redis breaker open after a recent failure".into());
        }
        match f(self.manager.clone()).await {
            Ok(v) => Ok(v),
            Err(e) => {
                // A script error is our bug, not an outage: do not hide Redis for it.
                if !matches!(e.kind(), redis::ErrorKind::Server(_))
                    || e.is_io_error()
                    || e.is_timeout()
                {
                    if self.breaker.closed() {
                        tracing::warn!(error = %e, "Redis call failed; calls stop for the breaker's cool-down");
                    }
                    self.breaker.trip();
                }
                Err(e.to_string())
            }
        }
    }

    /// `PING`, for readiness checks (ignores the breaker).
    pub async fn ping(&self) -> Result<(), String> {
        let mut c = self.manager.clone();
        redis::cmd("PING")
            .query_async::<String>(&mut c)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}
