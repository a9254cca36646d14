//! Callback delivery: encrypt, sign, POST, and retry on WeChat's schedule until a 2xx, with
//! the faults a shop must survive (duplicates, delay, reordering, wrong amount, bad signature).

use super::endpoint::Inner;
use super::RETRY_SCHEDULE_SECS;
use crate::crypto::{nonce, WechatpayHeaders, AEAD_AES_256_GCM};
use base64::Engine as _;
use serde::Serialize;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// How long out-of-order callbacks are held back so that later ones can overtake them.
const REORDER_WINDOW: Duration = Duration::from_millis(100);

/// One attempt to deliver a callback, for `GET /control/deliveries`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DeliveryRecord {
    pub notification_id: String,
    pub event_type: String,
    /// out_trade_no, or out_refund_no for refund callbacks.
    pub key: String,
    pub url: String,
    /// 1 for the first attempt of a copy.
    pub attempt: u32,
    /// HTTP status, or 0 when the receiver could not be reached.
    pub status: u16,
    /// The sandbox clock's time of the attempt.
    pub at_ms: i64,
}

/// A callback to deliver.
#[derive(Debug, Clone)]
pub struct Notice {
    pub id: String,
    pub event_type: String,
    pub summary: String,
    pub original_type: &'static str,
    pub key: String,
    pub url: String,
    pub resource: serde_json::Value,
    pub bad_signature: bool,
}

/// Flips one bit of the signature: still base64 of the right length, never valid.
fn corrupt(signature: &str) -> String {
    let b64 = base64::engine::general_purpose::STANDARD;
    match b64.decode(signature) {
        Ok(mut raw) if !raw.is_empty() => {
            raw[0] ^= 0x01;
            b64.encode(raw)
        }
        _ => String::from("AAAA"),
    }
}

impl Inner {
    /// The signed, encrypted body and headers of a notice, as WeChat would send them now: each
    /// attempt has its own nonce and timestamp, like WeChat's.
    fn render(&self, n: &Notice) -> Option<(String, Vec<(&'static str, String)>)> {
        let aead_nonce = nonce(12);
        let ciphertext = self
            .apiv3
            .encrypt(&aead_nonce, n.original_type, &n.resource.to_string())
            .ok()?;
        let now = self.clock.now();
        let body = json!({
            "id": n.id,
            "create_time": now.to_rfc3339_cn(),
            "resource_type": "encrypt-resource",
            "event_type": n.event_type,
            "summary": n.summary,
            "resource": {
                "original_type": n.original_type,
                "algorithm": AEAD_AES_256_GCM,
                "ciphertext": ciphertext,
                "associated_data": n.original_type,
                "nonce": aead_nonce,
            }
        })
        .to_string();
        let mut signed = WechatpayHeaders::sign(
            &self.platform,
            &self.cfg.platform_serial,
            &now.seconds().to_string(),
            &nonce(32),
            body.as_bytes(),
        )
        .ok()?;
        if n.bad_signature {
            signed.signature = signed.signature.as_deref().map(corrupt);
        }
        let mut headers = signed.pairs();
        headers.push(("Content-Type", "application/json".to_string()));
        Some((body, headers))
    }

    async fn attempt(&self, n: &Notice, attempt: u32) -> bool {
        let status = match self.render(n) {
            Some((body, headers)) => {
                let mut req = self.http.post(&n.url).body(body);
                for (k, v) in headers {
                    req = req.header(k, v);
                }
                match req.send().await {
                    Ok(r) => r.status().as_u16(),
                    Err(_) => 0,
                }
            }
            None => 0,
        };
        if let Ok(mut log) = self.deliveries.lock() {
            log.push(DeliveryRecord {
                notification_id: n.id.clone(),
                event_type: n.event_type.clone(),
                key: n.key.clone(),
                url: n.url.clone(),
                attempt,
                status,
                at_ms: self.clock.now().millis(),
            });
        }
        (200..300).contains(&status)
    }

    /// Delivers until acknowledged or the schedule runs out; the caller stops it on shutdown.
    async fn deliver(self: Arc<Self>, n: Notice, initial_delay: Duration) {
        if !initial_delay.is_zero() {
            tokio::time::sleep(initial_delay).await;
        }
        if !self.attempt(&n, 1).await {
            self.redeliver(n).await;
        }
    }

    /// The retries after a failed first attempt, until acknowledged or the schedule runs out.
    async fn redeliver(self: Arc<Self>, n: Notice) {
        for (i, secs) in RETRY_SCHEDULE_SECS.iter().enumerate() {
            let pause = Duration::from_secs_f64(*secs as f64 * self.cfg.time_scale);
            tokio::time::sleep(pause).await;
            if self.attempt(&n, i as u32 + 2).await {
                return;
            }
        }
        tracing::warn!(notification = %n.id, "sandbox gave up on a callback after the full schedule");
    }

    /// Sends a notice with the faults in force for `trade_key` (its out_trade_no).
    pub(crate) fn dispatch(self: &Arc<Self>, mut n: Notice, trade_key: &str) {
        let faults = self
            .state
            .lock()
            .map(|mut s| s.take_faults(trade_key))
            .unwrap_or_default();
        if faults.wrong_amount {
            let field = if n.original_type == "refund" {
                "/amount/refund"
            } else {
                "/amount/total"
            };
            if let Some(t) = n.resource.pointer_mut(field) {
                *t = json!(t.as_i64().unwrap_or(0) + 1);
            }
        }
        n.bad_signature = faults.bad_signature;
        let delay = Duration::from_millis(faults.delay_ms);
        let copies = faults.duplicates.saturating_add(1);
        if faults.out_of_order {
            let first_held = match self.held.lock() {
                Ok(mut held) => {
                    held.push((n, delay, copies));
                    held.len() == 1
                }
                Err(_) => false,
            };
            if first_held {
                let me = self.clone();
                self.spawn(async move {
                    tokio::time::sleep(REORDER_WINDOW).await;
                    let batch: Vec<_> = me
                        .held
                        .lock()
                        .map(|mut h| h.drain(..).rev().collect())
                        .unwrap_or_default();
                    // First attempts one after another, so that the receiver sees them in
                    // exactly this order whatever the load; retries go on in the background.
                    for (n, delay, copies) in batch {
                        if !delay.is_zero() {
                            tokio::time::sleep(delay).await;
                        }
                        for _ in 0..copies {
                            if !me.attempt(&n, 1).await {
                                me.spawn(me.clone().redeliver(n.clone()));
                            }
                        }
                    }
                });
            }
            return;
        }
        for _ in 0..copies {
            self.spawn(self.clone().deliver(n.clone(), delay));
        }
    }
}
