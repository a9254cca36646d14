//! WeChat Pay and WeChat login, from configuration.
//! TRANSITIONAL: wired to the in-process fake until `shop-wechat-pay` lands (issue 5).

use crate::config::Config;
use shop_core::ports::{Clock, LoginError, PaymentGateway, WeChatLogin, WxSession};
use shop_core::text::OpenId;
use std::sync::Arc;

pub struct Payments {
    pub gateway: Arc<dyn PaymentGateway>,
    pub login: Arc<dyn WeChatLogin>,
    pub sandbox: Option<poem::Route>,
    pub mode: &'static str,
}

pub fn build(
    _config: &Config,
    _public_base: &str,
    _clock: Arc<dyn Clock>,
) -> anyhow::Result<Payments> {
    Ok(Payments {
        gateway: Arc::new(shop_memory::FakeGateway::new()),
        login: Arc::new(CodeLogin),
        sandbox: None,
        mode: "fake",
    })
}

struct CodeLogin;

#[async_trait::async_trait]
impl WeChatLogin for CodeLogin {
    async fn code_to_session(&self, code: &str) -> Result<WxSession, LoginError> {
        let openid: String = code
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .take(40)
            .collect();
        let openid =
            OpenId::parse(&format!("dev_{openid}")).map_err(|_| LoginError::InvalidCode)?;
        Ok(WxSession {
            openid,
            unionid: None,
            session_key: "dev".into(),
        })
    }
}
