use async_trait::async_trait;
use shop_core::events::OutboxEvent;
use shop_core::ports::{EventPublisher, PublishError};
use std::path::PathBuf;
use tokio::io::AsyncWriteExt as _;

/// Appends event envelopes as JSON lines to a file: the event stream of the embedded shop,
/// where there is no Redis. `tail -f data/events.jsonl` shows the shop's life.
#[derive(Debug, Clone)]
pub struct JsonLinesPublisher {
    path: PathBuf,
}

impl JsonLinesPublisher {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        JsonLinesPublisher { path: path.into() }
    }
}

#[async_trait]
impl EventPublisher for JsonLinesPublisher {
    async fn publish(&self, events: &[OutboxEvent]) -> Result<(), PublishError> {
        let mut buf = String::new();
        for e in events {
            buf.push_str(&e.envelope().to_string());
            buf.push('\n');
        }
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(|e| PublishError::Unavailable(e.to_string()))?;
        }
        let mut f = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .await
            .map_err(|e| PublishError::Unavailable(e.to_string()))?;
        f.write_all(buf.as_bytes())
            .await
            .map_err(|e| PublishError::Unavailable(e.to_string()))?;
        f.flush()
            .await
            .map_err(|e| PublishError::Unavailable(e.to_string()))
    }
}
