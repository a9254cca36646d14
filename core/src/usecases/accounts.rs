//! Who is calling: shopper login through WeChat, operator login with a password, sessions, and
//! operator accounts (audited).

use super::ShopError;
use crate::audit::{Actor, AuditEntry};
use crate::error::ValidationError;
use crate::ids::{OperatorId, UserId};
use crate::ports::{
    Clock, IdGenerator, OperatorStore, PasswordHasher, TokenSource, UserStore, WeChatLogin,
};
use crate::text::Username;
use crate::time::{Span, Timestamp};
use crate::user::{token_hash, Operator, OperatorSession, Role, Session, User};
use std::sync::Arc;

/// Operators' passwords: at least this many characters.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// A hash that never matches, verified when the username is unknown so that a login takes the
/// same time whether or not the account exists.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$TxpspmKl8gAvWqevGrWS+Q$3cceIjrKk971mLNM8MljLHLuSGKHEV/nBwre68EBAfM";

#[derive(Clone)]
pub struct Accounts {
    pub users: Arc<dyn UserStore>,
    pub operators: Arc<dyn OperatorStore>,
    pub login: Arc<dyn WeChatLogin>,
    pub tokens: Arc<dyn TokenSource>,
    pub hasher: Arc<dyn PasswordHasher>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdGenerator>,
    /// How long a shopper stays logged in (default 7 days).
    pub session_ttl: Span,
    /// How long an operator stays logged in (default 12 hours).
    pub operator_session_ttl: Span,
}

impl std::fmt::Debug for Accounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Accounts")
            .field("session_ttl", &self.session_ttl)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedIn {
    pub token: String,
    pub expires_at: Timestamp,
    pub user: User,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorLoggedIn {
    pub token: String,
    pub expires_at: Timestamp,
    pub operator: Operator,
}

fn check_password(password: &str) -> Result<(), ShopError> {
    if password.chars().count() < MIN_PASSWORD_CHARS || password.chars().count() > 128 {
        return Err(ValidationError::new(
            "password",
            "weak",
            format!("passwords have {MIN_PASSWORD_CHARS} to 128 characters"),
        )
        .into());
    }
    Ok(())
}

impl Accounts {
    fn id<T: TryFrom<i64, Error = ValidationError>>(&self) -> Result<T, ShopError> {
        T::try_from(self.ids.next_id()).map_err(|e| ShopError::Internal(e.to_string()))
    }

    /// `wx.login` code → WeChat `jscode2session` → our user and a session token. WeChat's
    /// `session_key` is kept with the session on the server and never returned.
    pub async fn wechat_login(&self, code: &str) -> Result<LoggedIn, ShopError> {
        let code = code.trim();
        if code.is_empty() || code.len() > 128 {
            return Err(ValidationError::new(
                "code",
                "malformed",
                "the login code is empty or too long",
            )
            .into());
        }
        let wx = self.login.code_to_session(code).await?;
        let now = self.clock.now();
        let user = self
            .users
            .find_or_create(&User {
                id: self.id()?,
                openid: wx.openid,
                unionid: wx.unionid,
                nickname: None,
                created_at: now,
            })
            .await?;
        let token = self.tokens.new_token();
        let expires_at = now.plus(self.session_ttl);
        self.users
            .create_session(&Session {
                token_hash: token_hash(&token),
                user_id: user.id,
                wx_session_key: Some(wx.session_key),
                created_at: now,
                expires_at,
            })
            .await?;
        Ok(LoggedIn {
            token,
            expires_at,
            user,
        })
    }

    /// The shopper a bearer token belongs to, if the session is live.
    pub async fn shopper(&self, token: &str) -> Result<Option<UserId>, ShopError> {
        Ok(self
            .users
            .session(&token_hash(token), self.clock.now())
            .await?
            .map(|s| s.user_id))
    }

    pub async fn logout(&self, token: &str) -> Result<(), ShopError> {
        Ok(self.users.delete_session(&token_hash(token)).await?)
    }

    pub async fn operator_login(
        &self,
        username: &str,
        password: &str,
    ) -> Result<OperatorLoggedIn, ShopError> {
        let found = match Username::parse(username) {
            Ok(u) => self.operators.by_username(&u).await?,
            Err(_) => None,
        };
        let Some(op) = found else {
            self.hasher.verify(password, DUMMY_HASH);
            return Err(ShopError::InvalidCredentials);
        };
        if !self.hasher.verify(password, &op.password_hash) || op.disabled {
            return Err(ShopError::InvalidCredentials);
        }
        let now = self.clock.now();
        let token = self.tokens.new_token();
        let expires_at = now.plus(self.operator_session_ttl);
        self.operators
            .create_session(&OperatorSession {
                token_hash: token_hash(&token),
                operator_id: op.id,
                created_at: now,
                expires_at,
            })
            .await?;
        Ok(OperatorLoggedIn {
            token,
            expires_at,
            operator: op,
        })
    }

    /// The operator a bearer token belongs to, if the session is live and the account enabled.
    pub async fn operator(&self, token: &str) -> Result<Option<Operator>, ShopError> {
        let Some(s) = self
            .operators
            .session(&token_hash(token), self.clock.now())
            .await?
        else {
            return Ok(None);
        };
        Ok(self
            .operators
            .get(s.operator_id)
            .await?
            .filter(|o| !o.disabled))
    }

    pub async fn operator_logout(&self, token: &str) -> Result<(), ShopError> {
        Ok(self.operators.delete_session(&token_hash(token)).await?)
    }

    /// On a shop with no operator, creates `admin` with `password`, or with a random password
    /// that is returned so the caller can show it once.
    pub async fn ensure_first_admin(
        &self,
        password: Option<&str>,
    ) -> Result<Option<String>, ShopError> {
        if self.operators.count().await? > 0 {
            return Ok(None);
        }
        let generated = password.is_none();
        let password = match password {
            Some(p) => p.to_string(),
            None => self
                .tokens
                .new_token()
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .take(20)
                .collect(),
        };
        let admin = Username::parse("admin")?;
        match self
            .create_operator(
                &Actor::system("first-start"),
                &admin,
                &password,
                Role::Admin,
            )
            .await
        {
            Ok(_) => Ok(generated.then_some(password)),
            // Another replica created it at the same moment.
            Err(ShopError::Conflict(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub async fn create_operator(
        &self,
        by: &Actor,
        username: &Username,
        password: &str,
        role: Role,
    ) -> Result<Operator, ShopError> {
        check_password(password)?;
        let now = self.clock.now();
        let op = Operator {
            id: self.id()?,
            username: username.clone(),
            password_hash: self.hasher.hash(password).map_err(ShopError::Internal)?,
            role,
            disabled: false,
            created_at: now,
            updated_at: now,
        };
        let audit = operator_audit(
            by,
            now,
            "operator.create",
            op.id,
            serde_json::Value::Null,
            serde_json::json!({
                "username": username.as_str(), "role": role.as_str()
            }),
        );
        self.operators.create(&op, &audit).await?;
        Ok(op)
    }

    pub async fn set_role(
        &self,
        by: &Actor,
        id: OperatorId,
        role: Role,
    ) -> Result<Operator, ShopError> {
        let op = self
            .operators
            .get(id)
            .await?
            .ok_or(ShopError::NotFound("operator"))?;
        let now = self.clock.now();
        let audit = operator_audit(
            by,
            now,
            "operator.role",
            id,
            serde_json::json!({"role": op.role.as_str()}),
            serde_json::json!({"role": role.as_str()}),
        );
        self.operators.set_role(id, role, &audit).await?;
        Ok(Operator {
            role,
            updated_at: now,
            ..op
        })
    }

    pub async fn reset_password(
        &self,
        by: &Actor,
        id: OperatorId,
        password: &str,
    ) -> Result<(), ShopError> {
        check_password(password)?;
        let hash = self.hasher.hash(password).map_err(ShopError::Internal)?;
        let audit = operator_audit(
            by,
            self.clock.now(),
            "operator.password",
            id,
            serde_json::Value::Null,
            serde_json::json!({"reset": true}),
        );
        Ok(self.operators.set_password(id, &hash, &audit).await?)
    }

    pub async fn set_disabled(
        &self,
        by: &Actor,
        id: OperatorId,
        disabled: bool,
    ) -> Result<(), ShopError> {
        let audit = operator_audit(
            by,
            self.clock.now(),
            "operator.disable",
            id,
            serde_json::json!({"disabled": !disabled}),
            serde_json::json!({"disabled": disabled}),
        );
        Ok(self.operators.set_disabled(id, disabled, &audit).await?)
    }
}

fn operator_audit(
    by: &Actor,
    at: Timestamp,
    action: &str,
    id: OperatorId,
    before: serde_json::Value,
    after: serde_json::Value,
) -> AuditEntry {
    AuditEntry {
        at,
        actor: by.clone(),
        action: action.into(),
        target_type: "operator".into(),
        target_id: id.to_string(),
        before,
        after,
    }
}
