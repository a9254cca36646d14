use crate::error::{ErrorCode, ValidationError};
use crate::ids::SkuId;
use crate::money::Fen;
use crate::order::OrderError;
use crate::payment::PaymentError;
use crate::ports::{
    AddressError, AuditError, CartError, CatalogueError, GatewayError, IdempotencyError,
    LoginError, OrderStoreError, PaymentStoreError, RefundStoreError, ReportError, StorageError,
    StoreError, UserError,
};
use crate::refund::RefundError;

/// What a use-case can fail with. Each variant has one stable [`ErrorCode`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShopError {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("SKU {sku_id} is not on sale")]
    NotOnSale { sku_id: SkuId },
    #[error("SKU {sku_id} is out of stock")]
    OutOfStock { sku_id: SkuId },
    #[error("{0}")]
    IllegalState(String),
    #[error("the Idempotency-Key was used with a different request")]
    KeyReused,
    #[error("a request with this Idempotency-Key is still in progress")]
    InProgress,
    #[error("{0}")]
    LimitReached(String),
    #[error("only {remaining} can still be refunded")]
    RefundExceedsPaid { remaining: Fen },
    #[error("not allowed")]
    Forbidden,
    #[error("not logged in, or the session expired")]
    Unauthenticated,
    #[error("wrong credentials")]
    InvalidCredentials,
    #[error("too many requests; retry later")]
    RateLimited,
    /// A payment report that does not match the order: a security event, never applied.
    #[error("payment does not match the order: {0}")]
    PaymentMismatch(String),
    #[error("payment provider: {0}")]
    Provider(String),
    #[error("concurrent change, retry: {0}")]
    Conflict(String),
    #[error("unavailable: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ShopError {
    pub const fn code(&self) -> ErrorCode {
        match self {
            Self::Invalid(_) => ErrorCode::ValidationFailed,
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::NotOnSale { .. } => ErrorCode::NotOnSale,
            Self::OutOfStock { .. } => ErrorCode::OutOfStock,
            Self::IllegalState(_) => ErrorCode::IllegalState,
            Self::KeyReused => ErrorCode::IdempotencyKeyReused,
            Self::InProgress => ErrorCode::RequestInProgress,
            Self::LimitReached(_) => ErrorCode::LimitReached,
            Self::RefundExceedsPaid { .. } => ErrorCode::RefundExceedsPaid,
            Self::Forbidden => ErrorCode::Forbidden,
            Self::Unauthenticated => ErrorCode::Unauthenticated,
            Self::InvalidCredentials => ErrorCode::InvalidCredentials,
            Self::RateLimited => ErrorCode::RateLimited,
            Self::PaymentMismatch(_) => ErrorCode::InvalidNotification,
            Self::Provider(_) => ErrorCode::PaymentProviderError,
            Self::Conflict(_) => ErrorCode::Conflict,
            Self::Unavailable(_) => ErrorCode::Unavailable,
            Self::Internal(_) => ErrorCode::Internal,
        }
    }
}

impl From<StoreError> for ShopError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(m) => ShopError::Unavailable(m),
            StoreError::Contention(m) => ShopError::Conflict(m),
            StoreError::Corrupt(m) | StoreError::Other(m) => ShopError::Internal(m),
        }
    }
}

impl From<OrderStoreError> for ShopError {
    fn from(e: OrderStoreError) -> Self {
        match e {
            OrderStoreError::NotFound => ShopError::NotFound("order"),
            OrderStoreError::Stale => ShopError::Conflict("the order changed, retry".into()),
            OrderStoreError::OutOfStock { sku_id } => ShopError::OutOfStock { sku_id },
            OrderStoreError::Duplicate => ShopError::Conflict("order already exists".into()),
            OrderStoreError::Store(s) => s.into(),
        }
    }
}

impl From<PaymentStoreError> for ShopError {
    fn from(e: PaymentStoreError) -> Self {
        match e {
            PaymentStoreError::NotFound => ShopError::NotFound("payment"),
            PaymentStoreError::AlreadyRecorded => {
                ShopError::Conflict("payment already recorded".into())
            }
            PaymentStoreError::Stale => ShopError::Conflict("the payment changed, retry".into()),
            PaymentStoreError::OutOfStock { sku_id } => ShopError::OutOfStock { sku_id },
            PaymentStoreError::Store(s) => s.into(),
        }
    }
}

impl From<RefundStoreError> for ShopError {
    fn from(e: RefundStoreError) -> Self {
        match e {
            RefundStoreError::NotFound => ShopError::NotFound("refund"),
            RefundStoreError::Stale => ShopError::Conflict("the refund changed, retry".into()),
            RefundStoreError::ExceedsRefundable { remaining } => {
                ShopError::RefundExceedsPaid { remaining }
            }
            RefundStoreError::NotRefundable => {
                ShopError::IllegalState("the order cannot be refunded in its state".into())
            }
            RefundStoreError::Store(s) => s.into(),
        }
    }
}

impl From<CatalogueError> for ShopError {
    fn from(e: CatalogueError) -> Self {
        match e {
            CatalogueError::NotFound => ShopError::NotFound("product"),
            CatalogueError::Inventory(i) => ShopError::IllegalState(i.to_string()),
            CatalogueError::Store(s) => s.into(),
        }
    }
}

impl From<AddressError> for ShopError {
    fn from(e: AddressError) -> Self {
        match e {
            AddressError::NotFound => ShopError::NotFound("address"),
            AddressError::LimitReached(n) => {
                ShopError::LimitReached(format!("at most {n} addresses"))
            }
            AddressError::Store(s) => s.into(),
        }
    }
}

impl From<CartError> for ShopError {
    fn from(e: CartError) -> Self {
        match e {
            CartError::LimitReached(n) => {
                ShopError::LimitReached(format!("at most {n} cart lines"))
            }
            CartError::Store(s) => s.into(),
        }
    }
}

impl From<UserError> for ShopError {
    fn from(e: UserError) -> Self {
        match e {
            UserError::NotFound => ShopError::NotFound("user"),
            UserError::Duplicate => ShopError::Conflict("already exists".into()),
            UserError::Store(s) => s.into(),
        }
    }
}

impl From<IdempotencyError> for ShopError {
    fn from(e: IdempotencyError) -> Self {
        match e {
            IdempotencyError::Store(s) => s.into(),
        }
    }
}

impl From<GatewayError> for ShopError {
    fn from(e: GatewayError) -> Self {
        match e {
            GatewayError::Unavailable(m) => {
                ShopError::Unavailable(format!("payment provider: {m}"))
            }
            other => ShopError::Provider(other.to_string()),
        }
    }
}

impl From<OrderError> for ShopError {
    fn from(e: OrderError) -> Self {
        match e {
            OrderError::RefundExceedsPaid { remaining, .. } => {
                ShopError::RefundExceedsPaid { remaining }
            }
            OrderError::AmountMismatch { .. } => ShopError::PaymentMismatch(e.to_string()),
            other => ShopError::IllegalState(other.to_string()),
        }
    }
}

impl From<PaymentError> for ShopError {
    fn from(e: PaymentError) -> Self {
        match e {
            PaymentError::AmountMismatch { .. } => ShopError::PaymentMismatch(e.to_string()),
            other => ShopError::IllegalState(other.to_string()),
        }
    }
}

impl From<RefundError> for ShopError {
    fn from(e: RefundError) -> Self {
        ShopError::IllegalState(e.to_string())
    }
}

impl From<LoginError> for ShopError {
    fn from(e: LoginError) -> Self {
        match e {
            LoginError::InvalidCode => ShopError::InvalidCredentials,
            LoginError::RateLimited => ShopError::RateLimited,
            LoginError::Refused => ShopError::Forbidden,
            LoginError::Unavailable(m) => ShopError::Unavailable(format!("WeChat login: {m}")),
        }
    }
}

impl From<StorageError> for ShopError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::Rejected(m) => {
                ShopError::Invalid(ValidationError::new("file", "rejected", m))
            }
            StorageError::Unavailable(m) => ShopError::Unavailable(m),
        }
    }
}

impl From<ReportError> for ShopError {
    fn from(e: ReportError) -> Self {
        match e {
            ReportError::Store(s) => s.into(),
        }
    }
}

impl From<AuditError> for ShopError {
    fn from(e: AuditError) -> Self {
        match e {
            AuditError::Store(s) => s.into(),
        }
    }
}
