//! The one HTTP error type: `{"code", "message", "request_id", "field"?}` with a stable code
//! from [`shop_core::ErrorCode`] and the status that goes with it.

use poem::http::StatusCode;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object};
use shop_core::{ErrorCode, ShopError};

tokio::task_local! {
    /// The id of the request being served, set by the request middleware for the whole task.
    pub static REQUEST_ID: String;
}

pub fn current_request_id() -> String {
    REQUEST_ID.try_with(Clone::clone).unwrap_or_default()
}

/// The stable error codes (the same list as `shop_core::ErrorCode`; a test keeps them equal).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ApiErrorCode {
    ValidationFailed,
    BadRequest,
    PayloadTooLarge,
    Unauthenticated,
    Forbidden,
    NotFound,
    OutOfStock,
    NotOnSale,
    IllegalState,
    IdempotencyKeyRequired,
    IdempotencyKeyReused,
    RequestInProgress,
    Conflict,
    LimitReached,
    RateLimited,
    RefundExceedsPaid,
    PaymentProviderError,
    InvalidNotification,
    Unavailable,
    InvalidCredentials,
    Internal,
}

impl From<ErrorCode> for ApiErrorCode {
    fn from(c: ErrorCode) -> Self {
        match c {
            ErrorCode::ValidationFailed => Self::ValidationFailed,
            ErrorCode::BadRequest => Self::BadRequest,
            ErrorCode::PayloadTooLarge => Self::PayloadTooLarge,
            ErrorCode::Unauthenticated => Self::Unauthenticated,
            ErrorCode::Forbidden => Self::Forbidden,
            ErrorCode::NotFound => Self::NotFound,
            ErrorCode::OutOfStock => Self::OutOfStock,
            ErrorCode::NotOnSale => Self::NotOnSale,
            ErrorCode::IllegalState => Self::IllegalState,
            ErrorCode::IdempotencyKeyRequired => Self::IdempotencyKeyRequired,
            ErrorCode::IdempotencyKeyReused => Self::IdempotencyKeyReused,
            ErrorCode::RequestInProgress => Self::RequestInProgress,
            ErrorCode::Conflict => Self::Conflict,
            ErrorCode::LimitReached => Self::LimitReached,
            ErrorCode::RateLimited => Self::RateLimited,
            ErrorCode::RefundExceedsPaid => Self::RefundExceedsPaid,
            ErrorCode::PaymentProviderError => Self::PaymentProviderError,
            ErrorCode::InvalidNotification => Self::InvalidNotification,
            ErrorCode::Unavailable => Self::Unavailable,
            ErrorCode::InvalidCredentials => Self::InvalidCredentials,
            ErrorCode::Internal => Self::Internal,
        }
    }
}

/// An error answer.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ErrorBody {
    /// Stable, machine-readable; see the list in the schema.
    pub code: ApiErrorCode,
    /// For people; may change wording.
    pub message: String,
    /// The `x-request-id` of this request, to find its log lines.
    pub request_id: String,
    /// The input that failed, for validation errors (`items[0].quantity`).
    pub field: Option<String>,
}

/// Every error status the API uses.
#[derive(Debug, ApiResponse)]
#[oai(bad_request_handler = "bad_request")]
pub enum ApiError {
    /// Malformed or invalid input.
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    /// No valid session, or wrong credentials.
    #[oai(status = 401)]
    Unauthenticated(Json<ErrorBody>),
    /// The caller's role does not allow this.
    #[oai(status = 403)]
    Forbidden(Json<ErrorBody>),
    /// Not found, or not the caller's.
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    /// Not possible in the current state (out of stock, illegal transition, in progress).
    #[oai(status = 409)]
    Conflict(Json<ErrorBody>),
    /// The body is larger than this endpoint accepts.
    #[oai(status = 413)]
    TooLarge(Json<ErrorBody>),
    /// The Idempotency-Key was used with a different request.
    #[oai(status = 422)]
    Unprocessable(Json<ErrorBody>),
    /// Too many requests.
    #[oai(status = 429)]
    TooManyRequests(Json<ErrorBody>),
    /// A bug; the request id finds the log lines.
    #[oai(status = 500)]
    Internal(Json<ErrorBody>),
    /// WeChat Pay refused or failed.
    #[oai(status = 502)]
    BadGateway(Json<ErrorBody>),
    /// A dependency is unavailable; retry later.
    #[oai(status = 503)]
    Unavailable(Json<ErrorBody>),
}

pub fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::ValidationFailed
        | ErrorCode::BadRequest
        | ErrorCode::IdempotencyKeyRequired
        | ErrorCode::InvalidNotification => StatusCode::BAD_REQUEST,
        ErrorCode::Unauthenticated | ErrorCode::InvalidCredentials => StatusCode::UNAUTHORIZED,
        ErrorCode::Forbidden => StatusCode::FORBIDDEN,
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::OutOfStock
        | ErrorCode::NotOnSale
        | ErrorCode::IllegalState
        | ErrorCode::RequestInProgress
        | ErrorCode::Conflict
        | ErrorCode::LimitReached
        | ErrorCode::RefundExceedsPaid => StatusCode::CONFLICT,
        ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        ErrorCode::PaymentProviderError => StatusCode::BAD_GATEWAY,
        ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
    }
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        Self::with_field(code, None, message)
    }

    pub fn with_field(
        code: ErrorCode,
        field: Option<String>,
        message: impl Into<String>,
    ) -> ApiError {
        let body = Json(ErrorBody {
            code: code.into(),
            message: message.into(),
            request_id: current_request_id(),
            field,
        });
        match status_of(code) {
            StatusCode::BAD_REQUEST => ApiError::BadRequest(body),
            StatusCode::UNAUTHORIZED => ApiError::Unauthenticated(body),
            StatusCode::FORBIDDEN => ApiError::Forbidden(body),
            StatusCode::NOT_FOUND => ApiError::NotFound(body),
            StatusCode::CONFLICT => ApiError::Conflict(body),
            StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge(body),
            StatusCode::UNPROCESSABLE_ENTITY => ApiError::Unprocessable(body),
            StatusCode::TOO_MANY_REQUESTS => ApiError::TooManyRequests(body),
            StatusCode::BAD_GATEWAY => ApiError::BadGateway(body),
            StatusCode::SERVICE_UNAVAILABLE => ApiError::Unavailable(body),
            _ => ApiError::Internal(body),
        }
    }

    pub fn body(&self) -> &ErrorBody {
        match self {
            ApiError::BadRequest(b)
            | ApiError::Unauthenticated(b)
            | ApiError::Forbidden(b)
            | ApiError::NotFound(b)
            | ApiError::Conflict(b)
            | ApiError::TooLarge(b)
            | ApiError::Unprocessable(b)
            | ApiError::TooManyRequests(b)
            | ApiError::Internal(b)
            | ApiError::BadGateway(b)
            | ApiError::Unavailable(b) => &b.0,
        }
    }
}

impl From<ShopError> for ApiError {
    fn from(e: ShopError) -> Self {
        let code = e.code();
        match &e {
            ShopError::Invalid(v) => {
                ApiError::with_field(code, Some(v.field.clone()), v.to_string())
            }
            ShopError::Internal(detail) => {
                tracing::error!(error = %detail, "internal error");
                ApiError::new(code, "internal error")
            }
            ShopError::Unavailable(detail) => {
                tracing::warn!(error = %detail, "dependency unavailable");
                ApiError::new(code, "temporarily unavailable, please retry")
            }
            _ => ApiError::new(code, e.to_string()),
        }
    }
}

impl From<shop_core::ValidationError> for ApiError {
    fn from(e: shop_core::ValidationError) -> Self {
        ShopError::Invalid(e).into()
    }
}

/// poem-openapi calls this for parameters and bodies it cannot parse.
fn bad_request(err: poem::Error) -> ApiError {
    ApiError::new(ErrorCode::BadRequest, err.to_string())
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_core_code_has_a_status_and_an_api_code() {
        for code in ErrorCode::ALL {
            let api: ApiErrorCode = code.into();
            let name = serde_json::to_value(code).unwrap();
            assert_eq!(
                poem_openapi::types::ToJSON::to_json(&api).unwrap(),
                name,
                "API code and core code spell the same"
            );
            let _ = status_of(code);
        }
    }
}
