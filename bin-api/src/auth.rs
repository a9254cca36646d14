//! Bearer-token security schemes: shoppers (a session from WeChat login) and operators (a
//! session from username + password), with role checks for operators.

use crate::error::ApiError;
use crate::state::AppState;
use poem::Request;
use poem_openapi::auth::Bearer;
use poem_openapi::SecurityScheme;
use shop_core::audit::Actor;
use shop_core::ids::UserId;
use shop_core::time::{Span, Timestamp};
use shop_core::user::{Operator, Permission};
use shop_core::ErrorCode;

fn state(req: &Request) -> poem::Result<&AppState> {
    req.data::<AppState>().ok_or_else(|| {
        poem::Error::from_string(
            "application state missing",
            poem::http::StatusCode::INTERNAL_SERVER_ERROR,
        )
    })
}

fn unauthenticated() -> poem::Error {
    poem::Error::from_response(poem::IntoResponse::into_response(ApiError::new(
        ErrorCode::Unauthenticated,
        "missing, invalid or expired session token; log in again",
    )))
}

fn failed(e: shop_core::ShopError) -> poem::Error {
    poem::Error::from_response(poem::IntoResponse::into_response(ApiError::from(e)))
}

/// A shopper's session token from `POST /auth/wechat-login`.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", checker = "shopper_checker")]
pub struct ShopperAuth(pub UserId);

async fn shopper_checker(req: &Request, bearer: Bearer) -> poem::Result<UserId> {
    let state = state(req)?;
    let now = state.shop.clock.now();
    if let Some(user) = state.sessions.get(&bearer.token, now) {
        return Ok(user);
    }
    match state.accounts.shopper(&bearer.token).await {
        Ok(Some(user)) => {
            state.sessions.put(&bearer.token, user, now);
            Ok(user)
        }
        Ok(None) => Err(unauthenticated()),
        Err(e) => Err(failed(e)),
    }
}

/// Live shopper sessions seen in the last [`SESSION_CACHE`]: every shopper request needs its
/// session, and reading it from the database each time was one round trip in eleven of an
/// order. Shopper sessions end only by expiry (there is no shopper logout), so a cached entry
/// can outlive its session by at most this long. Operators are never cached: a disabled
/// operator or a changed role must apply at once.
#[derive(Debug, Default)]
pub struct SessionCache(std::sync::Mutex<std::collections::HashMap<String, (UserId, Timestamp)>>);

const SESSION_CACHE: Span = Span::seconds(30);
const SESSION_CACHE_ENTRIES: usize = 100_000;

impl SessionCache {
    pub fn get(&self, token: &str, now: Timestamp) -> Option<UserId> {
        let m = self.0.lock().ok()?;
        m.get(token)
            .filter(|(_, until)| now < *until)
            .map(|(u, _)| *u)
    }

    pub fn put(&self, token: &str, user: UserId, now: Timestamp) {
        if let Ok(mut m) = self.0.lock() {
            if m.len() >= SESSION_CACHE_ENTRIES {
                m.retain(|_, (_, until)| now < *until);
                if m.len() >= SESSION_CACHE_ENTRIES {
                    m.clear();
                }
            }
            m.insert(token.to_string(), (user, now.plus(SESSION_CACHE)));
        }
    }
}

/// An operator's session token from `POST /admin/auth/login`.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", checker = "operator_checker")]
pub struct OperatorAuth(pub Operator);

async fn operator_checker(req: &Request, bearer: Bearer) -> poem::Result<Operator> {
    match state(req)?.accounts.operator(&bearer.token).await {
        Ok(Some(op)) => Ok(op),
        Ok(None) => Err(unauthenticated()),
        Err(e) => Err(failed(e)),
    }
}

impl OperatorAuth {
    /// The operator as an audit actor, if their role allows `p`.
    pub fn allowed(&self, p: Permission) -> Result<Actor, ApiError> {
        if !self.0.role.allows(p) {
            return Err(ApiError::new(
                ErrorCode::Forbidden,
                format!("the {} role may not do this", self.0.role),
            ));
        }
        Ok(Actor::Operator {
            id: self.0.id,
            username: self.0.username.to_string(),
        })
    }
}
