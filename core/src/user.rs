//! Shoppers (WeChat users), back-office operators, and their sessions.

use crate::error::ValidationError;
use crate::ids::{OperatorId, UserId};
use crate::text::{Nickname, OpenId, Username};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub openid: OpenId,
    pub unionid: Option<String>,
    pub nickname: Option<Nickname>,
    pub created_at: Timestamp,
}

/// A logged-in shopper. The token itself is only ever shown to the client; the store keeps its
/// SHA-256 ([`token_hash`]) so a copy of the database does not hand out sessions.
/// `session_key` from WeChat stays on the server for decrypting data the mini-program sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub token_hash: String,
    pub user_id: UserId,
    pub wx_session_key: Option<String>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// The hash under which a bearer token is stored and looked up.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything, including operator accounts.
    Admin,
    /// Catalogue, orders, shipping; cannot decide refunds.
    Operator,
    /// Refund decisions, reports, reconciliation; cannot edit the catalogue.
    Finance,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Operator, Role::Finance];

    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Operator => "operator",
            Role::Finance => "finance",
        }
    }

    pub fn parse(s: &str) -> Result<Role, ValidationError> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                ValidationError::new("role", "unknown", "role must be admin, operator or finance")
            })
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an operator may do. One table, so the API, the CLI and the web console agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    ManageCatalogue,
    ViewOrders,
    ManageOrders,
    DecideRefunds,
    ViewReports,
    ManageOperators,
    ViewAudit,
}

impl Role {
    pub const fn allows(self, p: Permission) -> bool {
        use Permission as P;
        match self {
            Role::Admin => true,
            Role::Operator => matches!(p, P::ManageCatalogue | P::ViewOrders | P::ManageOrders),
            Role::Finance => matches!(
                p,
                P::ViewOrders | P::DecideRefunds | P::ViewReports | P::ViewAudit
            ),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    pub id: OperatorId,
    pub username: Username,
    /// PHC string (argon2id); never leaves the server.
    pub password_hash: String,
    pub role: Role,
    pub disabled: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorSession {
    pub token_hash: String,
    pub operator_id: OperatorId,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles() {
        assert!(Role::Admin.allows(Permission::ManageOperators));
        assert!(!Role::Operator.allows(Permission::DecideRefunds));
        assert!(Role::Finance.allows(Permission::DecideRefunds));
        assert!(!Role::Finance.allows(Permission::ManageCatalogue));
        assert_eq!(Role::parse("finance").unwrap(), Role::Finance);
        assert!(Role::parse("root").is_err());
    }

    #[test]
    fn token_hash_is_stable_hex() {
        assert_eq!(token_hash("abc").len(), 64);
        assert_eq!(token_hash("abc"), token_hash("abc"));
        assert_ne!(token_hash("abc"), token_hash("abd"));
    }
}
