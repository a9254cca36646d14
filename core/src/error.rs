//! Stable error codes and the validation error every constructor at the edge returns.

use std::fmt;

/// The one list of stable error codes. Frontends show them to clients and scripts match on them,
/// so a code is never renamed or reused; new codes are only ever added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    /// A field failed to parse; the message names the field.
    ValidationFailed,
    /// The request body or a header is malformed (not JSON, unknown field).
    BadRequest,
    /// The request body is larger than the endpoint accepts.
    PayloadTooLarge,
    /// No session, or the session expired.
    Unauthenticated,
    /// The caller is known but lacks the role for this action.
    Forbidden,
    /// The resource does not exist or is not the caller's.
    NotFound,
    /// One of the SKUs has not enough available stock.
    OutOfStock,
    /// The product or SKU is not for sale.
    NotOnSale,
    /// The order is in a state where this action is not allowed.
    IllegalState,
    /// The `Idempotency-Key` header is missing or malformed.
    IdempotencyKeyRequired,
    /// The same `Idempotency-Key` was used with a different request body.
    IdempotencyKeyReused,
    /// A request with the same `Idempotency-Key` is still being processed.
    RequestInProgress,
    /// The record was changed concurrently; retrying is safe.
    Conflict,
    /// A per-user limit was reached (addresses, cart lines).
    LimitReached,
    /// Too many requests; retry later.
    RateLimited,
    /// The refund amount exceeds what was paid and not yet refunded.
    RefundExceedsPaid,
    /// The payment provider refused or failed the call.
    PaymentProviderError,
    /// A payment notification failed verification.
    InvalidNotification,
    /// A dependency (database, Redis, WeChat) is unavailable; retry later.
    Unavailable,
    /// Wrong username or password.
    InvalidCredentials,
    /// Anything else; the request id identifies the log lines.
    Internal,
}

impl ErrorCode {
    /// Every code, in the order of the contract. Used to document the list.
    pub const ALL: [ErrorCode; 21] = [
        Self::ValidationFailed,
        Self::BadRequest,
        Self::PayloadTooLarge,
        Self::Unauthenticated,
        Self::Forbidden,
        Self::NotFound,
        Self::OutOfStock,
        Self::NotOnSale,
        Self::IllegalState,
        Self::IdempotencyKeyRequired,
        Self::IdempotencyKeyReused,
        Self::RequestInProgress,
        Self::Conflict,
        Self::LimitReached,
        Self::RateLimited,
        Self::RefundExceedsPaid,
        Self::PaymentProviderError,
        Self::InvalidNotification,
        Self::Unavailable,
        Self::InvalidCredentials,
        Self::Internal,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ValidationFailed => "VALIDATION_FAILED",
            Self::BadRequest => "BAD_REQUEST",
            Self::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::Forbidden => "FORBIDDEN",
            Self::NotFound => "NOT_FOUND",
            Self::OutOfStock => "OUT_OF_STOCK",
            Self::NotOnSale => "NOT_ON_SALE",
            Self::IllegalState => "ILLEGAL_STATE",
            Self::IdempotencyKeyRequired => "IDEMPOTENCY_KEY_REQUIRED",
            Self::IdempotencyKeyReused => "IDEMPOTENCY_KEY_REUSED",
            Self::RequestInProgress => "REQUEST_IN_PROGRESS",
            Self::Conflict => "CONFLICT",
            Self::LimitReached => "LIMIT_REACHED",
            Self::RateLimited => "RATE_LIMITED",
            Self::RefundExceedsPaid => "REFUND_EXCEEDS_PAID",
            Self::PaymentProviderError => "PAYMENT_PROVIDER_ERROR",
            Self::InvalidNotification => "INVALID_NOTIFICATION",
            Self::Unavailable => "UNAVAILABLE",
            Self::InvalidCredentials => "INVALID_CREDENTIALS",
            Self::Internal => "INTERNAL",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A value that failed to parse at the edge. `field` names the input (`items[0].quantity`),
/// `reason` is a short stable token (`too_long`, `out_of_range`) and `message` is for humans.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ValidationError {
    pub field: String,
    pub reason: &'static str,
    pub message: String,
}

impl ValidationError {
    pub fn new(field: impl Into<String>, reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason,
            message: message.into(),
        }
    }

    /// Re-homes the error under the field name the caller used, e.g. `address.phone`.
    #[must_use]
    pub fn at(mut self, field: impl Into<String>) -> Self {
        self.field = field.into();
        self
    }
}
