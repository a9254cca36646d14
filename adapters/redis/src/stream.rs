use crate::conn::RedisConn;
use async_trait::async_trait;
use shop_core::events::OutboxEvent;
use shop_core::ports::{EventPublisher, PublishError};

/// Publishes outbox events to a Redis Stream, one entry per event with the envelope as JSON.
/// A batch goes in one MULTI/EXEC, so it lands in order and whole.
#[derive(Debug, Clone)]
pub struct RedisStreamPublisher {
    conn: RedisConn,
    stream: String,
    max_len: u64,
}

impl RedisStreamPublisher {
    /// `stream` is the key (e.g. `shop:events`); the stream is trimmed to about `max_len` entries.
    pub fn new(conn: RedisConn, stream: &str, max_len: u64) -> Self {
        RedisStreamPublisher {
            conn,
            stream: stream.to_string(),
            max_len,
        }
    }
}

#[async_trait]
impl EventPublisher for RedisStreamPublisher {
    async fn publish(&self, events: &[OutboxEvent]) -> Result<(), PublishError> {
        if events.is_empty() {
            return Ok(());
        }
        let mut pipe = redis::pipe();
        pipe.atomic();
        for e in events {
            pipe.cmd("XADD")
                .arg(&self.stream)
                .arg("MAXLEN")
                .arg("~")
                .arg(self.max_len)
                .arg("*")
                .arg("event_id")
                .arg(e.event_id.get())
                .arg("type")
                .arg(&e.event_type)
                .arg("envelope")
                .arg(e.envelope().to_string())
                .ignore();
        }
        self.conn
            .call(|mut c| async move { pipe.query_async::<()>(&mut c).await })
            .await
            .map_err(PublishError::Unavailable)
    }
}
