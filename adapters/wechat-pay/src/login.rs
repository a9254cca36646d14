//! WeChat login: `wx.login()` code → `jscode2session` → openid and `session_key`.

use crate::config::{ConfigError, WechatPayConfig};
use crate::crypto::sha256_hex;
use async_trait::async_trait;
use serde::Deserialize;
use shop_core::ports::{LoginError, WeChatLogin, WxSession};
use shop_core::text::OpenId;
use std::time::Duration;

/// Real codes are 32 characters; anything far longer is not worth sending to WeChat.
const MAX_CODE_BYTES: usize = 128;

fn check_code(code: &str) -> Result<(), LoginError> {
    if code.is_empty() || code.len() > MAX_CODE_BYTES || !code.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(LoginError::InvalidCode);
    }
    Ok(())
}

/// The sandbox: any code is a shopper, the same code always the same one (`sbx_` + 24 hex of
/// its SHA-256), so tests and the demo can log in as many shoppers as they choose codes.
#[derive(Debug, Default, Clone, Copy)]
pub struct SandboxLogin;

#[async_trait]
impl WeChatLogin for SandboxLogin {
    async fn code_to_session(&self, code: &str) -> Result<WxSession, LoginError> {
        check_code(code)?;
        let h = sha256_hex(code.as_bytes());
        let openid =
            OpenId::parse(&format!("sbx_{}", &h[..24])).map_err(|_| LoginError::InvalidCode)?;
        Ok(WxSession {
            openid,
            unionid: None,
            session_key: h[24..48].to_string(),
        })
    }
}

/// The real `jscode2session`. WeChat answers HTTP 200 with an `errcode` on failure.
#[derive(Clone)]
pub struct WechatLoginClient {
    appid: String,
    secret: String,
    base_url: String,
    http: reqwest::Client,
}

/// The app secret stays out of logs.
impl std::fmt::Debug for WechatLoginClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WechatLoginClient")
            .field("appid", &self.appid)
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Deserialize)]
struct Answer {
    #[serde(default)]
    openid: Option<String>,
    #[serde(default)]
    unionid: Option<String>,
    #[serde(default)]
    session_key: Option<String>,
    #[serde(default)]
    errcode: Option<i64>,
    #[serde(default)]
    errmsg: Option<String>,
}

impl WechatLoginClient {
    /// `base_url` is `https://api.weixin.qq.com` in production.
    pub fn new(
        appid: &str,
        secret: &str,
        base_url: &str,
    ) -> Result<WechatLoginClient, ConfigError> {
        if secret.is_empty() {
            return Err(ConfigError::Missing("SHOP_WECHAT_APP_SECRET"));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| ConfigError::Invalid {
                name: "SHOP_WECHAT_LOGIN_BASE_URL",
                problem: e.to_string(),
            })?;
        Ok(WechatLoginClient {
            appid: appid.into(),
            secret: secret.into(),
            base_url: base_url.trim_end_matches('/').into(),
            http,
        })
    }

    pub fn from_config(cfg: &WechatPayConfig) -> Result<WechatLoginClient, ConfigError> {
        let secret = cfg
            .app_secret
            .as_deref()
            .ok_or(ConfigError::Missing("SHOP_WECHAT_APP_SECRET"))?;
        Self::new(&cfg.appid, secret, &cfg.login_base_url)
    }
}

#[async_trait]
impl WeChatLogin for WechatLoginClient {
    async fn code_to_session(&self, code: &str) -> Result<WxSession, LoginError> {
        check_code(code)?;
        let url = format!("{}/sns/jscode2session", self.base_url);
        // The URL carries the app secret: errors are reported without it.
        let unavailable = |e: reqwest::Error| LoginError::Unavailable(e.without_url().to_string());
        let resp = self
            .http
            .get(url)
            .query(&[
                ("appid", self.appid.as_str()),
                ("secret", self.secret.as_str()),
                ("js_code", code),
                ("grant_type", "authorization_code"),
            ])
            .send()
            .await
            .map_err(unavailable)?;
        if !resp.status().is_success() {
            return Err(LoginError::Unavailable(format!("HTTP {}", resp.status())));
        }
        let a: Answer = resp.json().await.map_err(unavailable)?;
        match a.errcode.unwrap_or(0) {
            0 => {}
            -1 => return Err(LoginError::Unavailable("WeChat is busy (-1)".into())),
            40029 | 40163 => return Err(LoginError::InvalidCode),
            45011 => return Err(LoginError::RateLimited),
            40226 => return Err(LoginError::Refused),
            other => {
                return Err(LoginError::Unavailable(format!(
                    "errcode {other}: {}",
                    a.errmsg.unwrap_or_default()
                )))
            }
        }
        let openid = OpenId::parse(a.openid.as_deref().unwrap_or(""))
            .map_err(|e| LoginError::Unavailable(format!("openid: {e}")))?;
        let session_key = a
            .session_key
            .filter(|k| !k.is_empty())
            .ok_or_else(|| LoginError::Unavailable("no session_key".into()))?;
        Ok(WxSession {
            openid,
            unionid: a.unionid.filter(|u| !u.is_empty()),
            session_key,
        })
    }
}
