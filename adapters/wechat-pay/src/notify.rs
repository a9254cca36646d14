//! Incoming callbacks (payment and refund notifications): size, signature and timestamp,
//! envelope, decryption, resource. A callback that fails any step is never acted on; the error
//! says which step, for the warning log and the rejection metric ([`NotifyError::reason`]).
//!
//! Matching the resource with the order (out_trade_no exists, `amount.total` equals what the
//! order asks) is the caller's job; [`Transaction::check_ours`] does the part that only needs
//! the configuration (mchid, appid, currency).

use crate::crypto::{
    ApiV3Key, DecryptError, PlatformKeys, VerifyError, WechatpayHeaders, AEAD_AES_256_GCM,
};
use serde::Deserialize;

/// Callbacks are a few hundred bytes; anything much bigger is refused before it is parsed.
pub const MAX_NOTIFY_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotifyError {
    #[error("body larger than 64 KiB")]
    TooLarge,
    #[error("missing header {0}")]
    MissingHeader(&'static str),
    #[error("unknown platform key serial `{0}`")]
    UnknownSerial(String),
    #[error("timestamp {0} is more than 300 s from now")]
    StaleTimestamp(i64),
    #[error("Wechatpay-Timestamp is not a number")]
    BadTimestamp,
    #[error("signature does not verify")]
    BadSignature,
    #[error("malformed notification: {0}")]
    Malformed(String),
    #[error("unsupported resource algorithm `{0}`")]
    UnsupportedAlgorithm(String),
    /// Ciphertext, associated data or nonce altered, or encrypted under another APIv3 key.
    #[error("resource does not decrypt: {0}")]
    Decrypt(DecryptError),
    #[error("notification is for mchid/appid {0}, not ours")]
    NotOurs(String),
    #[error("currency {0:?} is not CNY")]
    WrongCurrency(Option<String>),
}

impl From<VerifyError> for NotifyError {
    fn from(e: VerifyError) -> Self {
        match e {
            VerifyError::MissingHeader(h) => NotifyError::MissingHeader(h),
            VerifyError::UnknownSerial(s) => NotifyError::UnknownSerial(s),
            VerifyError::StaleTimestamp(t) => NotifyError::StaleTimestamp(t),
            VerifyError::BadTimestamp => NotifyError::BadTimestamp,
            VerifyError::BadSignature
            | VerifyError::MalformedAuthorization
            | VerifyError::WrongMerchant => NotifyError::BadSignature,
        }
    }
}

impl From<DecryptError> for NotifyError {
    fn from(e: DecryptError) -> Self {
        match e {
            DecryptError::Algorithm(a) => NotifyError::UnsupportedAlgorithm(a),
            other => NotifyError::Decrypt(other),
        }
    }
}

impl NotifyError {
    /// A short stable label for metrics and the rejection body.
    pub fn reason(&self) -> &'static str {
        match self {
            NotifyError::TooLarge => "too_large",
            NotifyError::MissingHeader(_) => "missing_header",
            NotifyError::UnknownSerial(_) => "unknown_serial",
            NotifyError::StaleTimestamp(_) | NotifyError::BadTimestamp => "stale_timestamp",
            NotifyError::BadSignature => "bad_signature",
            NotifyError::Malformed(_) => "malformed",
            NotifyError::UnsupportedAlgorithm(_) => "unsupported_algorithm",
            NotifyError::Decrypt(_) => "decrypt_failed",
            NotifyError::NotOurs(_) => "not_ours",
            NotifyError::WrongCurrency(_) => "wrong_currency",
        }
    }
}

#[derive(Debug, Deserialize)]
struct Envelope {
    id: String,
    event_type: String,
    resource: Resource,
}

#[derive(Debug, Deserialize)]
struct Resource {
    algorithm: String,
    ciphertext: String,
    #[serde(default)]
    associated_data: Option<String>,
    nonce: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Amount {
    /// What the order asked, in fen.
    pub total: i64,
    /// What the shopper paid, in fen (less than `total` with coupons).
    #[serde(default)]
    pub payer_total: Option<i64>,
    #[serde(default)]
    pub currency: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Payer {
    #[serde(default)]
    pub openid: Option<String>,
}

/// The decrypted `transaction` resource.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Transaction {
    pub mchid: String,
    pub appid: String,
    pub out_trade_no: String,
    #[serde(default)]
    pub transaction_id: Option<String>,
    /// `SUCCESS`, … as in the query answer.
    pub trade_state: String,
    /// RFC 3339 in China time.
    #[serde(default)]
    pub success_time: Option<String>,
    #[serde(default)]
    pub payer: Option<Payer>,
    pub amount: Amount,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RefundAmount {
    pub total: i64,
    pub refund: i64,
}

/// The decrypted `refund` resource.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RefundResource {
    pub mchid: String,
    pub out_trade_no: String,
    #[serde(default)]
    pub transaction_id: Option<String>,
    pub out_refund_no: String,
    pub refund_id: String,
    /// `SUCCESS`, `ABNORMAL` or `CLOSED`.
    pub refund_status: String,
    #[serde(default)]
    pub success_time: Option<String>,
    pub amount: RefundAmount,
}

/// A verified, decrypted callback. `raw` is the decrypted resource as received, for the inbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    Transaction {
        id: String,
        event_type: String,
        transaction: Transaction,
        raw: String,
    },
    Refund {
        id: String,
        event_type: String,
        refund: RefundResource,
        raw: String,
    },
}

impl Notice {
    /// The notification id (`EV-…`): the same for every redelivery of one notification.
    pub fn id(&self) -> &str {
        match self {
            Notice::Transaction { id, .. } | Notice::Refund { id, .. } => id,
        }
    }

    pub fn event_type(&self) -> &str {
        match self {
            Notice::Transaction { event_type, .. } | Notice::Refund { event_type, .. } => {
                event_type
            }
        }
    }
}

/// Verifies, decrypts and parses a callback. `body` must be the exact bytes received;
/// `now_secs` bounds the timestamp (±300 s).
pub fn parse(
    keys: &PlatformKeys,
    apiv3: &ApiV3Key,
    headers: &WechatpayHeaders,
    body: &[u8],
    now_secs: i64,
) -> Result<Notice, NotifyError> {
    if body.len() > MAX_NOTIFY_BYTES {
        return Err(NotifyError::TooLarge);
    }
    keys.verify(headers, body, now_secs)?;
    let env: Envelope =
        serde_json::from_slice(body).map_err(|e| NotifyError::Malformed(e.to_string()))?;
    let r = &env.resource;
    if r.algorithm != AEAD_AES_256_GCM {
        return Err(NotifyError::UnsupportedAlgorithm(r.algorithm.clone()));
    }
    let aad = r.associated_data.as_deref().unwrap_or("");
    let raw = apiv3.decrypt(&r.algorithm, &r.nonce, aad, &r.ciphertext)?;
    if env.event_type.starts_with("REFUND.") {
        let refund: RefundResource = serde_json::from_str(&raw)
            .map_err(|e| NotifyError::Malformed(format!("refund resource: {e}")))?;
        Ok(Notice::Refund {
            id: env.id,
            event_type: env.event_type,
            refund,
            raw,
        })
    } else if env.event_type.starts_with("TRANSACTION.") {
        let transaction: Transaction = serde_json::from_str(&raw)
            .map_err(|e| NotifyError::Malformed(format!("transaction resource: {e}")))?;
        Ok(Notice::Transaction {
            id: env.id,
            event_type: env.event_type,
            transaction,
            raw,
        })
    } else {
        Err(NotifyError::Malformed(format!(
            "unknown event type {}",
            env.event_type
        )))
    }
}

impl Transaction {
    /// The resource names our merchant and mini-program and is in CNY. Anything else is a
    /// security event for the caller to log, never a payment.
    pub fn check_ours(&self, mchid: &str, appid: &str) -> Result<(), NotifyError> {
        if self.mchid != mchid || self.appid != appid {
            return Err(NotifyError::NotOurs(format!(
                "{}/{}",
                self.mchid, self.appid
            )));
        }
        if self.amount.currency.as_deref() != Some("CNY") {
            return Err(NotifyError::WrongCurrency(self.amount.currency.clone()));
        }
        Ok(())
    }

    /// [`Transaction::check_ours`] against a configuration.
    pub fn check_config(&self, cfg: &crate::WechatPayConfig) -> Result<(), NotifyError> {
        self.check_ours(&cfg.mchid, &cfg.appid)
    }
}

impl RefundResource {
    /// Refund resources carry no appid or currency: the merchant id is what can be checked.
    pub fn check_ours(&self, mchid: &str) -> Result<(), NotifyError> {
        if self.mchid != mchid {
            return Err(NotifyError::NotOurs(self.mchid.clone()));
        }
        Ok(())
    }
}
