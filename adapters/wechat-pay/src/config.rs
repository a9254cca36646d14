//! Configuration from the environment, read through a lookup function so that tests need no
//! process environment. Sandbox mode, the default, fills every value with the test material in
//! `testdata/` (public, so worthless to anyone); live mode needs every value from the
//! environment and refuses to start with any of the test keys. The variables are documented in
//! this crate's README.md.

use crate::crypto::{PublicKey, Signer};
use std::path::Path;

pub const TEST_MCHID: &str = "1900000109";
pub const TEST_APPID: &str = "wx8888888888888888";
pub const TEST_MERCHANT_SERIAL: &str = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1";
pub const TEST_PLATFORM_SERIAL: &str = "PUB_KEY_ID_0119000001092026112400000000000001";
pub const TEST_APIV3_KEY: &str = "T3stOnlyApiV3Key0123456789abcdef";
pub const TEST_MERCHANT_PRIVATE_KEY: &str = include_str!("../testdata/merchant_private_key.pem");
pub const TEST_MERCHANT_PUBLIC_KEY: &str = include_str!("../testdata/merchant_public_key.pem");
pub const TEST_PLATFORM_PRIVATE_KEY: &str = include_str!("../testdata/platform_private_key.pem");
pub const TEST_PLATFORM_PUBLIC_KEY: &str = include_str!("../testdata/platform_public_key.pem");

pub const LIVE_BASE_URL: &str = "https://api.mch.weixin.qq.com";
pub const LIVE_LOGIN_BASE_URL: &str = "https://api.weixin.qq.com";

/// Where the callbacks land in `shop-api`, relative to its public base URL.
pub const NOTIFY_PATH: &str = "/api/v1/payments/wechat/notify";
pub const REFUND_NOTIFY_PATH: &str = "/api/v1/payments/wechat/refund-notify";

/// The sandbox's default callback retry time scale: WeChat's 15 s first retry becomes 15 ms.
pub const DEFAULT_TIME_SCALE: f64 = 0.001;
/// How long the sandbox leaves a refund PROCESSING before settling it SUCCESS by default.
pub const DEFAULT_REFUND_SETTLE_MS: u64 = 200;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("{0} is required in live mode")]
    Missing(&'static str),
    #[error("{name}: {problem}")]
    Invalid { name: &'static str, problem: String },
    #[error("{name}: cannot read {path}: {problem}")]
    Unreadable {
        name: &'static str,
        path: String,
        problem: String,
    },
    /// Live mode with material from `testdata/` would take real money against keys anyone has.
    #[error("{0} is the public test material; live mode refuses it")]
    TestMaterial(&'static str),
}

impl ConfigError {
    /// The variable at fault, for the start-up message.
    pub fn name(&self) -> &'static str {
        match self {
            ConfigError::Missing(n) | ConfigError::TestMaterial(n) => n,
            ConfigError::Invalid { name, .. } | ConfigError::Unreadable { name, .. } => name,
        }
    }
}

fn invalid(name: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        name,
        problem: problem.into(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The in-process simulator with the test keys: no money moves.
    Sandbox,
    /// api.mch.weixin.qq.com with the merchant's own keys.
    Live,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Sandbox => "sandbox",
            Mode::Live => "live",
        }
    }
}

/// What the client, the login and callback verification need.
#[derive(Clone)]
pub struct WechatPayConfig {
    pub mode: Mode,
    pub mchid: String,
    pub appid: String,
    /// For `jscode2session` (login); required in live mode.
    pub app_secret: Option<String>,
    /// Serial of the merchant API certificate, sent as `serial_no`.
    pub merchant_serial: String,
    /// PKCS#8 PEM (`apiclient_key.pem`).
    pub merchant_private_key: String,
    /// `(serial, PEM)`: platform certificate serials and/or `PUB_KEY_ID_…`.
    pub platform_keys: Vec<(String, String)>,
    pub apiv3_key: String,
    pub base_url: String,
    pub login_base_url: String,
    pub notify_url: String,
    pub refund_notify_url: String,
}

/// Secrets stay out of logs: only the identifiers are shown.
impl std::fmt::Debug for WechatPayConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WechatPayConfig")
            .field("mode", &self.mode)
            .field("mchid", &self.mchid)
            .field("appid", &self.appid)
            .field("merchant_serial", &self.merchant_serial)
            .field(
                "platform_serials",
                &self
                    .platform_keys
                    .iter()
                    .map(|(s, _)| s)
                    .collect::<Vec<_>>(),
            )
            .field("base_url", &self.base_url)
            .field("notify_url", &self.notify_url)
            .field("refund_notify_url", &self.refund_notify_url)
            .finish_non_exhaustive()
    }
}

/// The environment as given, with empty values treated as unset (as `FOO= cmd` is).
struct Env<F>(F);

impl<F: Fn(&str) -> Option<String>> Env<F> {
    fn get(&self, name: &str) -> Option<String> {
        (self.0)(name).filter(|v| !v.trim().is_empty())
    }

    /// A value given directly, or read from the file that `file_name` names.
    fn value_or_file(
        &self,
        name: &'static str,
        file_name: &'static str,
    ) -> Result<Option<String>, ConfigError> {
        if let Some(v) = self.get(name) {
            return Ok(Some(v));
        }
        match self.get(file_name) {
            Some(path) => read_file(file_name, &path).map(Some),
            None => Ok(None),
        }
    }

    /// `SHOP_WECHAT_PLATFORM_KEYS`: comma-separated `serial=path/to/public.pem`.
    fn platform_keys(&self) -> Result<Option<Vec<(String, String)>>, ConfigError> {
        const NAME: &str = "SHOP_WECHAT_PLATFORM_KEYS";
        let Some(list) = self.get(NAME) else {
            return Ok(None);
        };
        let mut out = vec![];
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (serial, path) = entry
                .split_once('=')
                .ok_or_else(|| invalid(NAME, format!("`{entry}` is not serial=path")))?;
            out.push((serial.trim().to_string(), read_file(NAME, path.trim())?));
        }
        Ok(Some(out))
    }

    fn mode(&self) -> Result<Mode, ConfigError> {
        match self.get("SHOP_WECHAT_MODE").as_deref().map(str::trim) {
            None | Some("sandbox") => Ok(Mode::Sandbox),
            Some("live") => Ok(Mode::Live),
            Some(other) => Err(invalid(
                "SHOP_WECHAT_MODE",
                format!("`{other}`: use sandbox or live"),
            )),
        }
    }
}

fn read_file(name: &'static str, path: &str) -> Result<String, ConfigError> {
    std::fs::read_to_string(Path::new(path))
        .map(|s| s.trim().to_string())
        .map_err(|e| ConfigError::Unreadable {
            name,
            path: path.to_string(),
            problem: e.to_string(),
        })
}

/// Whether `pem` holds one of the embedded test keys, whatever its line breaks.
fn is_test_key(pem: &str) -> bool {
    let body = |p: &str| -> String {
        p.lines()
            .filter(|l| !l.starts_with("-----"))
            .flat_map(|l| l.chars().filter(|c| !c.is_whitespace()))
            .collect()
    };
    let given = body(pem);
    [
        TEST_MERCHANT_PRIVATE_KEY,
        TEST_MERCHANT_PUBLIC_KEY,
        TEST_PLATFORM_PRIVATE_KEY,
        TEST_PLATFORM_PUBLIC_KEY,
    ]
    .iter()
    .any(|k| body(k) == given)
}

/// Whether a private key is one of the test pairs (also when re-encoded).
fn is_test_private_key(pem: &str) -> bool {
    if is_test_key(pem) {
        return true;
    }
    let Ok(key) = Signer::from_pem(pem) else {
        return false;
    };
    [TEST_MERCHANT_PUBLIC_KEY, TEST_PLATFORM_PUBLIC_KEY]
        .iter()
        .filter_map(|k| PublicKey::from_pem(k).ok())
        .any(|k| k == key.public_key())
}

fn is_test_public_key(pem: &str) -> bool {
    if is_test_key(pem) {
        return true;
    }
    let Ok(key) = PublicKey::from_pem(pem) else {
        return false;
    };
    [TEST_MERCHANT_PUBLIC_KEY, TEST_PLATFORM_PUBLIC_KEY]
        .iter()
        .filter_map(|k| PublicKey::from_pem(k).ok())
        .any(|k| k == key)
}

impl WechatPayConfig {
    /// Reads the `SHOP_WECHAT_*` variables through `get`. `public_base` is how WeChat reaches
    /// the API (`https://shop.example.com`); the notify URLs and, in sandbox mode, the base URL
    /// default to it.
    pub fn from_lookup(
        get: impl Fn(&str) -> Option<String>,
        public_base: &str,
    ) -> Result<WechatPayConfig, ConfigError> {
        let env = Env(get);
        let public_base = public_base.trim_end_matches('/');
        let mode = env.mode()?;
        let notify_url = env
            .get("SHOP_WECHAT_NOTIFY_URL")
            .unwrap_or_else(|| format!("{public_base}{NOTIFY_PATH}"));
        let refund_notify_url = env
            .get("SHOP_WECHAT_REFUND_NOTIFY_URL")
            .unwrap_or_else(|| format!("{public_base}{REFUND_NOTIFY_PATH}"));
        let merchant_key =
            env.value_or_file("SHOP_WECHAT_MERCHANT_KEY", "SHOP_WECHAT_MERCHANT_KEY_FILE")?;
        let apiv3 = env.value_or_file("SHOP_WECHAT_APIV3_KEY", "SHOP_WECHAT_APIV3_KEY_FILE")?;
        let platform = env.platform_keys()?;
        let cfg = match mode {
            Mode::Sandbox => WechatPayConfig {
                mode,
                mchid: env
                    .get("SHOP_WECHAT_MCHID")
                    .unwrap_or_else(|| TEST_MCHID.into()),
                appid: env
                    .get("SHOP_WECHAT_APPID")
                    .unwrap_or_else(|| TEST_APPID.into()),
                app_secret: env.get("SHOP_WECHAT_APP_SECRET"),
                merchant_serial: env
                    .get("SHOP_WECHAT_MERCHANT_SERIAL")
                    .unwrap_or_else(|| TEST_MERCHANT_SERIAL.into()),
                merchant_private_key: merchant_key
                    .unwrap_or_else(|| TEST_MERCHANT_PRIVATE_KEY.into()),
                platform_keys: platform.unwrap_or_else(|| {
                    vec![(TEST_PLATFORM_SERIAL.into(), TEST_PLATFORM_PUBLIC_KEY.into())]
                }),
                apiv3_key: apiv3.unwrap_or_else(|| TEST_APIV3_KEY.into()),
                base_url: env
                    .get("SHOP_WECHAT_BASE_URL")
                    .unwrap_or_else(|| format!("{public_base}/sandbox")),
                login_base_url: env
                    .get("SHOP_WECHAT_LOGIN_BASE_URL")
                    .unwrap_or_else(|| LIVE_LOGIN_BASE_URL.into()),
                notify_url,
                refund_notify_url,
            },
            Mode::Live => {
                let need = |name: &'static str| env.get(name).ok_or(ConfigError::Missing(name));
                let cfg = WechatPayConfig {
                    mode,
                    mchid: need("SHOP_WECHAT_MCHID")?,
                    appid: need("SHOP_WECHAT_APPID")?,
                    app_secret: Some(need("SHOP_WECHAT_APP_SECRET")?),
                    merchant_serial: need("SHOP_WECHAT_MERCHANT_SERIAL")?,
                    merchant_private_key: merchant_key
                        .ok_or(ConfigError::Missing("SHOP_WECHAT_MERCHANT_KEY_FILE"))?,
                    platform_keys: platform
                        .ok_or(ConfigError::Missing("SHOP_WECHAT_PLATFORM_KEYS"))?,
                    apiv3_key: apiv3.ok_or(ConfigError::Missing("SHOP_WECHAT_APIV3_KEY"))?,
                    base_url: env
                        .get("SHOP_WECHAT_BASE_URL")
                        .unwrap_or_else(|| LIVE_BASE_URL.into()),
                    login_base_url: env
                        .get("SHOP_WECHAT_LOGIN_BASE_URL")
                        .unwrap_or_else(|| LIVE_LOGIN_BASE_URL.into()),
                    notify_url,
                    refund_notify_url,
                };
                cfg.refuse_test_material()?;
                cfg
            }
        };
        cfg.check()?;
        Ok(cfg)
    }

    /// Reads the process environment.
    pub fn from_env(public_base: &str) -> Result<WechatPayConfig, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok(), public_base)
    }

    fn refuse_test_material(&self) -> Result<(), ConfigError> {
        if is_test_private_key(&self.merchant_private_key) {
            return Err(ConfigError::TestMaterial("SHOP_WECHAT_MERCHANT_KEY_FILE"));
        }
        if self
            .platform_keys
            .iter()
            .any(|(serial, k)| is_test_public_key(k) || serial == TEST_PLATFORM_SERIAL)
        {
            return Err(ConfigError::TestMaterial("SHOP_WECHAT_PLATFORM_KEYS"));
        }
        if self.apiv3_key == TEST_APIV3_KEY {
            return Err(ConfigError::TestMaterial("SHOP_WECHAT_APIV3_KEY"));
        }
        if self.mchid == TEST_MCHID {
            return Err(ConfigError::TestMaterial("SHOP_WECHAT_MCHID"));
        }
        if self.appid == TEST_APPID {
            return Err(ConfigError::TestMaterial("SHOP_WECHAT_APPID"));
        }
        if self.merchant_serial == TEST_MERCHANT_SERIAL {
            return Err(ConfigError::TestMaterial("SHOP_WECHAT_MERCHANT_SERIAL"));
        }
        for (name, url) in [
            ("SHOP_WECHAT_BASE_URL", &self.base_url),
            ("SHOP_WECHAT_NOTIFY_URL", &self.notify_url),
            ("SHOP_WECHAT_REFUND_NOTIFY_URL", &self.refund_notify_url),
        ] {
            if !url.starts_with("https://") {
                return Err(invalid(name, "live mode speaks https only"));
            }
        }
        Ok(())
    }

    fn check(&self) -> Result<(), ConfigError> {
        if self.apiv3_key.len() != 32 {
            return Err(invalid(
                "SHOP_WECHAT_APIV3_KEY",
                "must be 32 ASCII characters",
            ));
        }
        Signer::from_pem(&self.merchant_private_key)
            .map_err(|e| invalid("SHOP_WECHAT_MERCHANT_KEY_FILE", e.to_string()))?;
        if self.platform_keys.is_empty() {
            return Err(invalid(
                "SHOP_WECHAT_PLATFORM_KEYS",
                "at least one serial=path",
            ));
        }
        for (serial, pem) in &self.platform_keys {
            PublicKey::from_pem(pem)
                .map_err(|e| invalid("SHOP_WECHAT_PLATFORM_KEYS", format!("{serial}: {e}")))?;
        }
        for (name, url) in [
            ("SHOP_WECHAT_BASE_URL", &self.base_url),
            ("SHOP_WECHAT_LOGIN_BASE_URL", &self.login_base_url),
            ("SHOP_WECHAT_NOTIFY_URL", &self.notify_url),
            ("SHOP_WECHAT_REFUND_NOTIFY_URL", &self.refund_notify_url),
        ] {
            if reqwest::Url::parse(url).is_err() || !url.starts_with("http") {
                return Err(invalid(name, format!("`{url}` is not an http(s) URL")));
            }
        }
        Ok(())
    }
}

/// The sandbox's side of the keys: it signs as the platform and checks the merchant.
#[derive(Clone)]
pub struct SandboxConfig {
    pub mchid: String,
    pub appid: String,
    pub platform_serial: String,
    pub platform_private_key: String,
    pub merchant_public_key: String,
    pub apiv3_key: String,
    /// Multiplies WeChat's callback retry schedule (15 s, 15 s, 30 s, 3 min …): 0.001 makes the
    /// first retry come after 15 ms, so flows that need a retry still finish in a test.
    pub time_scale: f64,
    /// Refunds settle as SUCCESS by themselves after this many milliseconds; `None` leaves them
    /// PROCESSING until the control API settles them.
    pub auto_settle_refunds_ms: Option<u64>,
}

impl std::fmt::Debug for SandboxConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxConfig")
            .field("mchid", &self.mchid)
            .field("appid", &self.appid)
            .field("platform_serial", &self.platform_serial)
            .field("time_scale", &self.time_scale)
            .field("auto_settle_refunds_ms", &self.auto_settle_refunds_ms)
            .finish_non_exhaustive()
    }
}

impl Default for SandboxConfig {
    /// The test material, WeChat's schedule at 1/1000, refunds settled after 200 ms.
    fn default() -> Self {
        SandboxConfig {
            mchid: TEST_MCHID.into(),
            appid: TEST_APPID.into(),
            platform_serial: TEST_PLATFORM_SERIAL.into(),
            platform_private_key: TEST_PLATFORM_PRIVATE_KEY.into(),
            merchant_public_key: TEST_MERCHANT_PUBLIC_KEY.into(),
            apiv3_key: TEST_APIV3_KEY.into(),
            time_scale: DEFAULT_TIME_SCALE,
            auto_settle_refunds_ms: Some(DEFAULT_REFUND_SETTLE_MS),
        }
    }
}

impl SandboxConfig {
    /// Reads the `SHOP_SANDBOX_*` variables and the shared `SHOP_WECHAT_MCHID`,
    /// `SHOP_WECHAT_APPID` and `SHOP_WECHAT_APIV3_KEY(_FILE)` through `get`.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<SandboxConfig, ConfigError> {
        let env = Env(get);
        let d = SandboxConfig::default();
        let platform_key = env.value_or_file(
            "SHOP_SANDBOX_PLATFORM_KEY",
            "SHOP_SANDBOX_PLATFORM_KEY_FILE",
        )?;
        let merchant_pub = env.value_or_file(
            "SHOP_SANDBOX_MERCHANT_PUBLIC_KEY",
            "SHOP_SANDBOX_MERCHANT_PUBLIC_KEY_FILE",
        )?;
        let time_scale: f64 = match env.get("SHOP_SANDBOX_TIME_SCALE") {
            Some(v) => v.trim().parse().map_err(|_| {
                invalid("SHOP_SANDBOX_TIME_SCALE", format!("`{v}` is not a number"))
            })?,
            None => d.time_scale,
        };
        if !(0.0..=10.0).contains(&time_scale) {
            return Err(invalid("SHOP_SANDBOX_TIME_SCALE", "between 0 and 10"));
        }
        let auto_settle_refunds_ms = match env.get("SHOP_SANDBOX_REFUND_SETTLE_MS").as_deref() {
            None => d.auto_settle_refunds_ms,
            Some("manual") => None,
            Some(v) => Some(v.trim().parse().map_err(|_| {
                invalid("SHOP_SANDBOX_REFUND_SETTLE_MS", "milliseconds or `manual`")
            })?),
        };
        let cfg = SandboxConfig {
            mchid: env.get("SHOP_WECHAT_MCHID").unwrap_or(d.mchid),
            appid: env.get("SHOP_WECHAT_APPID").unwrap_or(d.appid),
            platform_serial: env
                .get("SHOP_SANDBOX_PLATFORM_SERIAL")
                .unwrap_or(d.platform_serial),
            platform_private_key: platform_key.unwrap_or(d.platform_private_key),
            merchant_public_key: merchant_pub.unwrap_or(d.merchant_public_key),
            apiv3_key: env
                .value_or_file("SHOP_WECHAT_APIV3_KEY", "SHOP_WECHAT_APIV3_KEY_FILE")?
                .unwrap_or(d.apiv3_key),
            time_scale,
            auto_settle_refunds_ms,
        };
        cfg.check()?;
        Ok(cfg)
    }

    /// Reads the process environment.
    pub fn from_env() -> Result<SandboxConfig, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    pub(crate) fn check(&self) -> Result<(), ConfigError> {
        Signer::from_pem(&self.platform_private_key)
            .map_err(|e| invalid("SHOP_SANDBOX_PLATFORM_KEY_FILE", e.to_string()))?;
        PublicKey::from_pem(&self.merchant_public_key)
            .map_err(|e| invalid("SHOP_SANDBOX_MERCHANT_PUBLIC_KEY_FILE", e.to_string()))?;
        if self.apiv3_key.len() != 32 {
            return Err(invalid(
                "SHOP_WECHAT_APIV3_KEY",
                "must be 32 ASCII characters",
            ));
        }
        if !(0.0..=10.0).contains(&self.time_scale) {
            return Err(invalid("SHOP_SANDBOX_TIME_SCALE", "between 0 and 10"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn sandbox_defaults_are_the_test_material() {
        let c = WechatPayConfig::from_lookup(lookup(&[]), "http://127.0.0.1:8080/").unwrap();
        assert_eq!(c.mode, Mode::Sandbox);
        assert_eq!(
            (c.mchid.as_str(), c.appid.as_str()),
            (TEST_MCHID, TEST_APPID)
        );
        assert_eq!(c.base_url, "http://127.0.0.1:8080/sandbox");
        assert_eq!(
            c.notify_url,
            "http://127.0.0.1:8080/api/v1/payments/wechat/notify"
        );
        assert_eq!(
            c.refund_notify_url,
            "http://127.0.0.1:8080/api/v1/payments/wechat/refund-notify"
        );
        assert_eq!(c.platform_keys[0].0, TEST_PLATFORM_SERIAL);
        assert_eq!(c.apiv3_key, TEST_APIV3_KEY);
        // Empty values count as unset.
        let c = WechatPayConfig::from_lookup(lookup(&[("SHOP_WECHAT_MCHID", " ")]), "http://h")
            .unwrap();
        assert_eq!(c.mchid, TEST_MCHID);
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("PRIVATE") && !shown.contains(TEST_APIV3_KEY),
            "{shown}"
        );
    }

    #[test]
    fn a_bad_mode_or_key_is_refused_in_any_mode() {
        let e = WechatPayConfig::from_lookup(lookup(&[("SHOP_WECHAT_MODE", "prod")]), "http://h")
            .unwrap_err();
        assert_eq!(e.name(), "SHOP_WECHAT_MODE");
        let e =
            WechatPayConfig::from_lookup(lookup(&[("SHOP_WECHAT_APIV3_KEY", "short")]), "http://h")
                .unwrap_err();
        assert_eq!(e.name(), "SHOP_WECHAT_APIV3_KEY");
        let e = WechatPayConfig::from_lookup(
            lookup(&[("SHOP_WECHAT_MERCHANT_KEY", TEST_PLATFORM_PUBLIC_KEY)]),
            "http://h",
        )
        .unwrap_err();
        assert_eq!(e.name(), "SHOP_WECHAT_MERCHANT_KEY_FILE");
        let e = WechatPayConfig::from_lookup(
            lookup(&[("SHOP_WECHAT_MERCHANT_KEY_FILE", "/nonexistent/key.pem")]),
            "http://h",
        )
        .unwrap_err();
        assert!(matches!(e, ConfigError::Unreadable { .. }), "{e}");
        let e = WechatPayConfig::from_lookup(
            lookup(&[("SHOP_WECHAT_PLATFORM_KEYS", "no-equals-sign")]),
            "http://h",
        )
        .unwrap_err();
        assert_eq!(e.name(), "SHOP_WECHAT_PLATFORM_KEYS");
    }

    #[test]
    fn recognises_test_keys_however_they_are_wrapped() {
        assert!(is_test_private_key(TEST_MERCHANT_PRIVATE_KEY));
        assert!(is_test_private_key(
            &TEST_PLATFORM_PRIVATE_KEY.replace('\n', "\r\n")
        ));
        assert!(is_test_public_key(&format!(
            "\n\n{TEST_PLATFORM_PUBLIC_KEY}  \n"
        )));
        assert!(!is_test_public_key(
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"
        ));
    }

    #[test]
    fn sandbox_config_from_the_environment() {
        let d = SandboxConfig::from_lookup(lookup(&[])).unwrap();
        assert_eq!(d.time_scale, DEFAULT_TIME_SCALE);
        assert_eq!(d.auto_settle_refunds_ms, Some(DEFAULT_REFUND_SETTLE_MS));
        assert_eq!(d.platform_serial, TEST_PLATFORM_SERIAL);
        let c = SandboxConfig::from_lookup(lookup(&[
            ("SHOP_SANDBOX_TIME_SCALE", "0.5"),
            ("SHOP_SANDBOX_REFUND_SETTLE_MS", "manual"),
            ("SHOP_WECHAT_MCHID", "1230000109"),
        ]))
        .unwrap();
        assert_eq!((c.time_scale, c.auto_settle_refunds_ms), (0.5, None));
        assert_eq!(c.mchid, "1230000109");
        for (k, v, name) in [
            ("SHOP_SANDBOX_TIME_SCALE", "fast", "SHOP_SANDBOX_TIME_SCALE"),
            ("SHOP_SANDBOX_TIME_SCALE", "-1", "SHOP_SANDBOX_TIME_SCALE"),
            (
                "SHOP_SANDBOX_REFUND_SETTLE_MS",
                "soon",
                "SHOP_SANDBOX_REFUND_SETTLE_MS",
            ),
            (
                "SHOP_SANDBOX_PLATFORM_KEY",
                "not a key",
                "SHOP_SANDBOX_PLATFORM_KEY_FILE",
            ),
        ] {
            let e = SandboxConfig::from_lookup(lookup(&[(k, v)])).unwrap_err();
            assert_eq!(e.name(), name, "{k}={v}");
        }
    }
}
