use async_trait::async_trait;
use shop_core::ports::{ImageStorage, StorageError};
use std::path::PathBuf;

/// Largest accepted picture.
pub const MAX_IMAGE_BYTES: usize = 5 * 1024 * 1024;

/// Product pictures in a local directory, served by the API under `url_prefix`
/// (`/media/<file>`). Only JPEG, PNG and WebP whose content matches the declared type are
/// accepted, under a name the store chooses, so an upload can never be served as HTML.
#[derive(Debug, Clone)]
pub struct LocalDirStorage {
    dir: PathBuf,
    url_prefix: String,
}

impl LocalDirStorage {
    pub fn new(dir: impl Into<PathBuf>, url_prefix: &str) -> Self {
        LocalDirStorage {
            dir: dir.into(),
            url_prefix: url_prefix.trim_end_matches('/').to_string(),
        }
    }

    pub fn dir(&self) -> &PathBuf {
        &self.dir
    }
}

/// The extension for a content type, if the bytes really are that kind of image.
fn sniff(content_type: &str, bytes: &[u8]) -> Option<&'static str> {
    let ct = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match ct.as_str() {
        "image/jpeg" | "image/jpg" if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) => Some("jpg"),
        "image/png" if bytes.starts_with(b"\x89PNG\r\n\x1a\n") => Some("png"),
        "image/webp" if bytes.len() > 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" => {
            Some("webp")
        }
        _ => None,
    }
}

#[async_trait]
impl ImageStorage for LocalDirStorage {
    async fn put(
        &self,
        name: &str,
        content_type: &str,
        bytes: Vec<u8>,
    ) -> Result<String, StorageError> {
        if bytes.is_empty() || bytes.len() > MAX_IMAGE_BYTES {
            return Err(StorageError::Rejected(format!(
                "images must be 1 byte to {} MiB",
                MAX_IMAGE_BYTES / 1024 / 1024
            )));
        }
        let ext = sniff(content_type, &bytes).ok_or_else(|| {
            StorageError::Rejected(
                "only JPEG, PNG or WebP files whose content matches their type".into(),
            )
        })?;
        // Keep only safe characters of the suggested name; the store decides the extension.
        let stem: String = name
            .rsplit_once('.')
            .map_or(name, |(s, _)| s)
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .take(80)
            .collect();
        let stem = if stem.is_empty() {
            "image".to_string()
        } else {
            stem
        };
        let file = format!("{stem}.{ext}");
        tokio::fs::create_dir_all(&self.dir)
            .await
            .map_err(|e| StorageError::Unavailable(e.to_string()))?;
        let tmp = self.dir.join(format!(".{file}.part"));
        tokio::fs::write(&tmp, &bytes)
            .await
            .map_err(|e| StorageError::Unavailable(e.to_string()))?;
        tokio::fs::rename(&tmp, self.dir.join(&file))
            .await
            .map_err(|e| StorageError::Unavailable(e.to_string()))?;
        Ok(format!("{}/{file}", self.url_prefix))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn stores_real_images_under_safe_names() {
        let dir = std::env::temp_dir().join(format!("shop-media-{}", std::process::id()));
        let s = LocalDirStorage::new(&dir, "/media/");
        let png = b"\x89PNG\r\n\x1a\n rest of the file".to_vec();
        let url = s
            .put("../../etc/passwd<script>.png", "image/png", png.clone())
            .await
            .unwrap();
        assert_eq!(url, "/media/etcpasswdscript.png");
        assert_eq!(std::fs::read(dir.join("etcpasswdscript.png")).unwrap(), png);
        assert!(
            s.put("x.png", "image/png", b"<html>".to_vec())
                .await
                .is_err(),
            "content must match the type"
        );
        assert!(
            s.put("x.svg", "image/svg+xml", b"<svg/>".to_vec())
                .await
                .is_err(),
            "SVG can carry scripts"
        );
        assert!(s.put("x.png", "image/png", vec![]).await.is_err());
        let _ = std::fs::remove_dir_all(dir);
    }
}
