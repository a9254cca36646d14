//! Live mode takes only real-looking material: every test key and every missing value is a
//! start-up error naming the variable.

use crate::support::testdata;
use shop_wechat_pay::{ConfigError, Mode, WechatPayConfig};
use std::collections::HashMap;
use std::path::PathBuf;

/// A directory of key files for one test, removed at the end.
struct Keys(PathBuf);

impl Keys {
    fn new(tag: &str) -> Keys {
        let dir = std::env::temp_dir().join(format!("wx-cfg-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for name in [
            "other_private_key.pem",
            "other_public_key.pem",
            "platform_public_key.pem",
            "merchant_private_key.pem",
        ] {
            std::fs::write(dir.join(name), testdata(name)).unwrap();
        }
        std::fs::write(dir.join("apiv3.txt"), "a-real-looking-32-byte-apiv3-key\n").unwrap();
        Keys(dir)
    }

    fn path(&self, name: &str) -> String {
        self.0.join(name).display().to_string()
    }
}

impl Drop for Keys {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn live_env(k: &Keys) -> HashMap<&'static str, String> {
    [
        ("SHOP_WECHAT_MODE", "live".to_string()),
        ("SHOP_WECHAT_MCHID", "1230000109".into()),
        ("SHOP_WECHAT_APPID", "wx1234567890abcdef".into()),
        (
            "SHOP_WECHAT_APP_SECRET",
            "0123456789abcdef0123456789abcdef".into(),
        ),
        (
            "SHOP_WECHAT_MERCHANT_SERIAL",
            "444F4864EA9B34415A8D7D7F2D8E9D1B2C3A4F56".into(),
        ),
        (
            "SHOP_WECHAT_MERCHANT_KEY_FILE",
            k.path("other_private_key.pem"),
        ),
        (
            "SHOP_WECHAT_PLATFORM_KEYS",
            format!(
                "PUB_KEY_ID_0112300001092026010100000000000001={}",
                k.path("other_public_key.pem")
            ),
        ),
        ("SHOP_WECHAT_APIV3_KEY_FILE", k.path("apiv3.txt")),
    ]
    .into_iter()
    .collect()
}

fn load(env: &HashMap<&'static str, String>) -> Result<WechatPayConfig, ConfigError> {
    WechatPayConfig::from_lookup(|k| env.get(k).cloned(), "https://shop.example.com")
}

#[test]
fn a_complete_live_configuration_loads() {
    let k = Keys::new("ok");
    let c = load(&live_env(&k)).unwrap();
    assert_eq!(c.mode, Mode::Live);
    assert_eq!(c.base_url, "https://api.mch.weixin.qq.com");
    assert_eq!(c.login_base_url, "https://api.weixin.qq.com");
    assert_eq!(
        c.notify_url,
        "https://shop.example.com/api/v1/payments/wechat/notify"
    );
    assert_eq!(
        c.refund_notify_url,
        "https://shop.example.com/api/v1/payments/wechat/refund-notify"
    );
    assert_eq!(
        c.apiv3_key, "a-real-looking-32-byte-apiv3-key",
        "read from the file, trimmed"
    );
    assert_eq!(
        c.app_secret.as_deref(),
        Some("0123456789abcdef0123456789abcdef")
    );
    // Two platform keys during a migration: certificate serial and public key id.
    let mut env = live_env(&k);
    env.insert(
        "SHOP_WECHAT_PLATFORM_KEYS",
        format!("5157F09EFDC096DE15EBE81A47057A7232F1B8E2={p}, PUB_KEY_ID_0112300001092026010100000000000001={p}", p = k.path("other_public_key.pem")),
    );
    assert_eq!(load(&env).unwrap().platform_keys.len(), 2);
    // Nothing secret in Debug.
    let shown = format!("{c:?}");
    assert!(
        !shown.contains("PRIVATE")
            && !shown.contains("apiv3-key")
            && !shown.contains("0123456789abcdef0123"),
        "{shown}"
    );
}

#[test]
fn live_mode_refuses_every_missing_value() {
    let k = Keys::new("missing");
    for name in [
        "SHOP_WECHAT_MCHID",
        "SHOP_WECHAT_APPID",
        "SHOP_WECHAT_APP_SECRET",
        "SHOP_WECHAT_MERCHANT_SERIAL",
        "SHOP_WECHAT_MERCHANT_KEY_FILE",
        "SHOP_WECHAT_PLATFORM_KEYS",
        "SHOP_WECHAT_APIV3_KEY_FILE",
    ] {
        let mut env = live_env(&k);
        env.remove(name);
        let e = load(&env).unwrap_err();
        assert!(matches!(e, ConfigError::Missing(_)), "{name}: {e}");
        assert_eq!(
            e.name().trim_end_matches("_FILE"),
            name.trim_end_matches("_FILE"),
            "{name}"
        );
        // An empty value is a missing one.
        let mut env = live_env(&k);
        env.insert(name, String::new());
        assert!(
            matches!(load(&env), Err(ConfigError::Missing(_))),
            "{name} empty"
        );
    }
}

#[test]
fn live_mode_refuses_the_test_material() {
    let k = Keys::new("test-material");
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "SHOP_WECHAT_MERCHANT_KEY_FILE",
            k.path("merchant_private_key.pem"),
            "SHOP_WECHAT_MERCHANT_KEY_FILE",
        ),
        (
            "SHOP_WECHAT_MERCHANT_KEY",
            testdata("platform_private_key.pem"),
            "SHOP_WECHAT_MERCHANT_KEY_FILE",
        ),
        // Re-wrapped lines do not hide a test key.
        (
            "SHOP_WECHAT_MERCHANT_KEY",
            testdata("merchant_private_key.pem").replace('\n', "\r\n"),
            "SHOP_WECHAT_MERCHANT_KEY_FILE",
        ),
        (
            "SHOP_WECHAT_PLATFORM_KEYS",
            format!("PUB_KEY_ID_X={}", k.path("platform_public_key.pem")),
            "SHOP_WECHAT_PLATFORM_KEYS",
        ),
        (
            "SHOP_WECHAT_APIV3_KEY",
            "T3stOnlyApiV3Key0123456789abcdef".into(),
            "SHOP_WECHAT_APIV3_KEY",
        ),
        (
            "SHOP_WECHAT_MCHID",
            "1900000109".into(),
            "SHOP_WECHAT_MCHID",
        ),
        (
            "SHOP_WECHAT_APPID",
            "wx8888888888888888".into(),
            "SHOP_WECHAT_APPID",
        ),
        (
            "SHOP_WECHAT_MERCHANT_SERIAL",
            "5157F09EFDC096DE15EBE81A47057A7232F1B8E1".into(),
            "SHOP_WECHAT_MERCHANT_SERIAL",
        ),
    ];
    for (var, value, named) in cases {
        let mut env = live_env(&k);
        env.insert(var, value);
        let e = load(&env).unwrap_err();
        assert!(matches!(e, ConfigError::TestMaterial(_)), "{var}: {e}");
        assert_eq!(e.name(), named, "{var}");
    }
}

#[test]
fn live_mode_speaks_https_only() {
    let k = Keys::new("https");
    for var in [
        "SHOP_WECHAT_BASE_URL",
        "SHOP_WECHAT_NOTIFY_URL",
        "SHOP_WECHAT_REFUND_NOTIFY_URL",
    ] {
        let mut env = live_env(&k);
        env.insert(var, "http://shop.example.com/x".into());
        assert_eq!(load(&env).unwrap_err().name(), var);
    }
    let mut env = live_env(&k);
    env.insert(
        "SHOP_WECHAT_NOTIFY_URL",
        "https://shop.example.com/custom/notify".into(),
    );
    assert_eq!(
        load(&env).unwrap().notify_url,
        "https://shop.example.com/custom/notify"
    );
}
