use super::StoreError;
use crate::address::Address;
use crate::audit::AuditEntry;
use crate::cart::CartLine;
use crate::ids::{AddressId, OperatorId, SkuId, UserId};
use crate::order::Quantity;
use crate::text::{OpenId, Username};
use crate::time::Timestamp;
use crate::user::{Operator, OperatorSession, Role, Session, User};
use async_trait::async_trait;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserError {
    #[error("not found")]
    NotFound,
    /// The username is taken.
    #[error("already exists")]
    Duplicate,
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Returns the user with this openid, creating `new` when there is none. Two concurrent
    /// first logins of the same openid return the same user.
    async fn find_or_create(&self, new: &User) -> Result<User, UserError>;
    async fn get(&self, id: UserId) -> Result<Option<User>, UserError>;
    async fn by_openid(&self, openid: &OpenId) -> Result<Option<User>, UserError>;
    async fn create_session(&self, session: &Session) -> Result<(), UserError>;
    /// The session with this token hash, if it has not expired at `now`.
    async fn session(&self, token_hash: &str, now: Timestamp)
        -> Result<Option<Session>, UserError>;
    async fn delete_session(&self, token_hash: &str) -> Result<(), UserError>;
    /// Deletes sessions that expired before `now`; returns how many.
    async fn purge_sessions(&self, now: Timestamp) -> Result<u64, UserError>;
}

#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait OperatorStore: Send + Sync {
    async fn create(&self, op: &Operator, audit: &AuditEntry) -> Result<(), UserError>;
    async fn get(&self, id: OperatorId) -> Result<Option<Operator>, UserError>;
    async fn by_username(&self, username: &Username) -> Result<Option<Operator>, UserError>;
    async fn list(&self) -> Result<Vec<Operator>, UserError>;
    async fn count(&self) -> Result<i64, UserError>;
    async fn set_role(
        &self,
        id: OperatorId,
        role: Role,
        audit: &AuditEntry,
    ) -> Result<(), UserError>;
    async fn set_password(
        &self,
        id: OperatorId,
        password_hash: &str,
        audit: &AuditEntry,
    ) -> Result<(), UserError>;
    async fn set_disabled(
        &self,
        id: OperatorId,
        disabled: bool,
        audit: &AuditEntry,
    ) -> Result<(), UserError>;
    async fn create_session(&self, session: &OperatorSession) -> Result<(), UserError>;
    async fn session(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<OperatorSession>, UserError>;
    async fn delete_session(&self, token_hash: &str) -> Result<(), UserError>;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("not found")]
    NotFound,
    #[error("at most {0} addresses per user")]
    LimitReached(usize),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Addresses of a shopper. Every method is scoped by user: another user's address is
/// indistinguishable from a missing one. Exactly one address is the default as soon as there
/// is one: the first becomes it, and deleting it promotes the most recently updated.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait AddressStore: Send + Sync {
    /// Default first, then most recently updated.
    async fn list(&self, user: UserId) -> Result<Vec<Address>, AddressError>;
    async fn get(&self, user: UserId, id: AddressId) -> Result<Option<Address>, AddressError>;
    /// Inserts; fails with `LimitReached` at [`crate::address::MAX_ADDRESSES_PER_USER`]. When
    /// `is_default` is set the others lose the flag. Returns the stored address.
    async fn create(&self, address: &Address) -> Result<Address, AddressError>;
    async fn update(&self, address: &Address) -> Result<Address, AddressError>;
    async fn delete(&self, user: UserId, id: AddressId) -> Result<(), AddressError>;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CartError {
    #[error("at most {0} lines in a cart")]
    LimitReached(usize),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait CartStore: Send + Sync {
    /// Lines in the order they were first added.
    async fn lines(&self, user: UserId) -> Result<Vec<CartLine>, CartError>;
    /// Sets the quantity of a SKU, adding the line if needed.
    async fn set(
        &self,
        user: UserId,
        sku: SkuId,
        quantity: Quantity,
        at: Timestamp,
    ) -> Result<(), CartError>;
    /// Removes the given SKUs; returns how many lines went.
    async fn remove(&self, user: UserId, skus: &[SkuId]) -> Result<u64, CartError>;
}
