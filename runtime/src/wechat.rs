//! WeChat Pay and WeChat login, from configuration: the sandbox (default; the API serves it
//! under `/sandbox`) or the live service (keys from the environment; test keys refused).

use crate::config::Config;
use shop_core::ports::{Clock, PaymentGateway, WeChatLogin};
use shop_wechat_pay::crypto::{ApiV3Key, PlatformKeys};
use shop_wechat_pay::{
    Mode, Sandbox, SandboxConfig, SandboxLogin, WechatLoginClient, WechatPayClient, WechatPayConfig,
};
use std::sync::Arc;

/// What the API needs to verify and decrypt WeChat's callbacks.
#[derive(Clone, Debug)]
pub struct NotifyKeys {
    pub platform: PlatformKeys,
    pub apiv3: ApiV3Key,
    pub mchid: String,
    pub appid: String,
}

pub struct Payments {
    pub gateway: Arc<dyn PaymentGateway>,
    pub login: Arc<dyn WeChatLogin>,
    pub notify: NotifyKeys,
    /// The sandbox, when this process hosts it (the API in sandbox mode).
    pub sandbox: Option<Sandbox>,
    /// `sandbox` or `live`, for the start-up log.
    pub mode: &'static str,
}

/// Builds the gateway and login. `host_sandbox` is true in the API process, which serves the
/// sandbox at `<public_base>/sandbox`; workers and the CLI talk to that one over HTTP.
pub fn build(
    config: &Config,
    public_base: &str,
    clock: Arc<dyn Clock>,
    host_sandbox: bool,
) -> anyhow::Result<Payments> {
    let env = |k: &str| config.wechat_env.0.get(k).cloned();
    let wx = WechatPayConfig::from_lookup(env, public_base)?;
    let platform = PlatformKeys::from_pems(&wx.platform_keys)?;
    let apiv3 = ApiV3Key::new(&wx.apiv3_key)
        .ok_or_else(|| anyhow::anyhow!("SHOP_WECHAT_APIV3_KEY must be 32 bytes"))?;
    let notify = NotifyKeys {
        platform,
        apiv3,
        mchid: wx.mchid.clone(),
        appid: wx.appid.clone(),
    };
    let (login, sandbox, mode): (Arc<dyn WeChatLogin>, _, _) = match wx.mode {
        Mode::Sandbox => {
            let sandbox = if host_sandbox {
                Some(Sandbox::new(
                    SandboxConfig::from_lookup(env)?,
                    clock.clone(),
                )?)
            } else {
                None
            };
            (Arc::new(SandboxLogin), sandbox, "sandbox")
        }
        Mode::Live => {
            let login = WechatLoginClient::from_config(&wx)?;
            (Arc::new(login), None, "live")
        }
    };
    let gateway = Arc::new(WechatPayClient::new(wx, clock)?);
    Ok(Payments {
        gateway,
        login,
        notify,
        sandbox,
        mode,
    })
}
