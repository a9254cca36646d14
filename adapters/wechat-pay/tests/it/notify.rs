//! Forged or broken callbacks: each is refused with its own reason and nothing to act on.

use crate::support::{platform_keys, testdata, vectors};
use serde_json::{json, Value};
use shop_wechat_pay::config::{TEST_APIV3_KEY, TEST_APPID, TEST_MCHID};
use shop_wechat_pay::crypto::*;
use shop_wechat_pay::notify::{parse, Notice, NotifyError, MAX_NOTIFY_BYTES};

fn apiv3() -> ApiV3Key {
    ApiV3Key::new(TEST_APIV3_KEY).unwrap()
}

fn vector(name: &str) -> (WechatpayHeaders, String, i64) {
    let v = &vectors()["vectors"][name];
    let h = WechatpayHeaders::read(|k| v["headers"][k].as_str().map(String::from));
    let now = h.timestamp.as_deref().unwrap().parse().unwrap();
    (h, v["body"].as_str().unwrap().to_string(), now)
}

/// Re-signs an altered body as the platform would, so that only the alteration is wrong.
fn resign(h: &WechatpayHeaders, body: &str) -> WechatpayHeaders {
    let platform = Signer::from_pem(&testdata("platform_private_key.pem")).unwrap();
    WechatpayHeaders::sign(
        &platform,
        h.serial.as_deref().unwrap(),
        h.timestamp.as_deref().unwrap(),
        h.nonce.as_deref().unwrap(),
        body.as_bytes(),
    )
    .unwrap()
}

fn reject(h: &WechatpayHeaders, body: &str, now: i64) -> NotifyError {
    parse(&platform_keys(), &apiv3(), h, body.as_bytes(), now).unwrap_err()
}

/// The payment vector with one resource field changed, properly signed.
fn with_resource(field: &str, value: Value) -> (WechatpayHeaders, String, i64) {
    let (h, body, now) = vector("payment_notification");
    let mut env: Value = serde_json::from_str(&body).unwrap();
    env["resource"][field] = value;
    let body = env.to_string();
    (resign(&h, &body), body, now)
}

#[test]
fn the_genuine_callbacks_parse() {
    for name in ["payment_notification", "payment_notification_empty_aad"] {
        let (h, body, now) = vector(name);
        let n = parse(&platform_keys(), &apiv3(), &h, body.as_bytes(), now).unwrap();
        assert_eq!(n.event_type(), "TRANSACTION.SUCCESS");
        let Notice::Transaction {
            transaction: t,
            raw,
            ..
        } = n
        else {
            panic!("{name}: not a transaction");
        };
        assert_eq!(
            raw,
            vectors()["vectors"][name]["resource_plaintext"]
                .as_str()
                .unwrap()
        );
        assert_eq!(
            (t.out_trade_no.as_str(), t.trade_state.as_str()),
            ("R20261124000001", "SUCCESS")
        );
        assert_eq!(
            t.transaction_id.as_deref(),
            Some("4200002026112412345678901234")
        );
        assert_eq!(
            (t.amount.total, t.amount.currency.as_deref()),
            (12900, Some("CNY"))
        );
        assert_eq!(t.success_time.as_deref(), Some("2026-11-24T10:05:33+08:00"));
        assert_eq!(
            t.payer.unwrap().openid.as_deref(),
            Some("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o")
        );
    }
    let (h, body, now) = vector("refund_notification");
    let n = parse(&platform_keys(), &apiv3(), &h, body.as_bytes(), now).unwrap();
    assert_eq!(n.id(), "EV-2026112509001200001");
    let Notice::Refund {
        refund: r,
        event_type,
        ..
    } = n
    else {
        panic!("not a refund");
    };
    assert_eq!(event_type, "REFUND.SUCCESS");
    assert_eq!(
        (r.refund_status.as_str(), r.amount.refund, r.amount.total),
        ("SUCCESS", 4300, 12900)
    );
    assert_eq!(
        (r.out_refund_no.as_str(), r.refund_id.as_str()),
        ("RF20261125000001", "50300002026112512345678901")
    );
    r.check_ours(TEST_MCHID).unwrap();
    assert_eq!(r.check_ours("1230000109").unwrap_err().reason(), "not_ours");
}

#[test]
fn mchid_appid_and_currency_are_checked_against_ours() {
    let (h, body, now) = vector("payment_notification");
    let Notice::Transaction { transaction: t, .. } =
        parse(&platform_keys(), &apiv3(), &h, body.as_bytes(), now).unwrap()
    else {
        panic!("not a transaction");
    };
    t.check_ours(TEST_MCHID, TEST_APPID).unwrap();
    let cfg = shop_wechat_pay::WechatPayConfig::from_lookup(|_| None, "http://h").unwrap();
    t.check_config(&cfg).unwrap();
    assert_eq!(
        t.check_ours(TEST_MCHID, "wx0000000000000000")
            .unwrap_err()
            .reason(),
        "not_ours"
    );
    assert_eq!(
        t.check_ours("1230000109", TEST_APPID).unwrap_err().reason(),
        "not_ours"
    );
    let mut usd = t.clone();
    usd.amount.currency = Some("USD".into());
    assert_eq!(
        usd.check_ours(TEST_MCHID, TEST_APPID).unwrap_err().reason(),
        "wrong_currency"
    );
    usd.amount.currency = None;
    assert_eq!(
        usd.check_ours(TEST_MCHID, TEST_APPID).unwrap_err().reason(),
        "wrong_currency"
    );
}

#[test]
fn signature_serial_and_headers() {
    let (h, body, now) = vector("payment_notification");
    // An altered body, an altered signature, a body signed by someone else's key.
    assert_eq!(
        reject(&h, &body.replace("支付成功", "支付失败"), now),
        NotifyError::BadSignature
    );
    let mut forged = h.clone();
    forged.signature = Some(forged.signature.unwrap().replacen('7', "8", 1));
    assert_eq!(reject(&forged, &body, now), NotifyError::BadSignature);
    let mut by_merchant = h.clone();
    let merchant = Signer::from_pem(&testdata("merchant_private_key.pem")).unwrap();
    by_merchant.signature = WechatpayHeaders::sign(
        &merchant,
        "x",
        "1764123999",
        "fdasflkja484w",
        body.as_bytes(),
    )
    .unwrap()
    .signature;
    assert_eq!(reject(&by_merchant, &body, now), NotifyError::BadSignature);
    // The nonce and timestamp are covered by the signature too.
    let mut other_nonce = h.clone();
    other_nonce.nonce = Some("someothernonce".into());
    assert_eq!(reject(&other_nonce, &body, now), NotifyError::BadSignature);

    let mut unknown = h.clone();
    unknown.serial = Some("PUB_KEY_ID_SOMEONE_ELSE".into());
    assert_eq!(
        reject(&unknown, &body, now),
        NotifyError::UnknownSerial("PUB_KEY_ID_SOMEONE_ELSE".into())
    );
    assert_eq!(reject(&unknown, &body, now).reason(), "unknown_serial");

    for missing in [
        "Wechatpay-Timestamp",
        "Wechatpay-Nonce",
        "Wechatpay-Signature",
        "Wechatpay-Serial",
    ] {
        let v = &vectors()["vectors"]["payment_notification"]["headers"];
        let h = WechatpayHeaders::read(|k| {
            if k == missing {
                None
            } else {
                v[k].as_str().map(String::from)
            }
        });
        let e = reject(&h, &body, now);
        assert_eq!(e, NotifyError::MissingHeader(missing));
        assert_eq!(e.reason(), "missing_header");
    }
}

#[test]
fn replays_and_callbacks_from_the_future_are_refused() {
    let (h, body, now) = vector("payment_notification");
    assert_eq!(
        reject(&h, &body, now + 301),
        NotifyError::StaleTimestamp(now)
    );
    assert_eq!(
        reject(&h, &body, now - 301),
        NotifyError::StaleTimestamp(now)
    );
    assert_eq!(reject(&h, &body, now + 301).reason(), "stale_timestamp");
    for ok in [now - 300, now + 300] {
        assert!(parse(&platform_keys(), &apiv3(), &h, body.as_bytes(), ok).is_ok());
    }
}

#[test]
fn tampered_ciphertext_aad_and_nonce_do_not_decrypt() {
    let env: Value = serde_json::from_str(&vector("payment_notification").1).unwrap();
    let ct = env["resource"]["ciphertext"].as_str().unwrap();
    let flipped = format!(
        "{}{}{}",
        &ct[..10],
        if &ct[10..11] == "A" { "B" } else { "A" },
        &ct[11..]
    );
    let (h, body, now) = with_resource("ciphertext", json!(flipped));
    let e = reject(&h, &body, now);
    assert_eq!(e, NotifyError::Decrypt(DecryptError::Tampered));
    assert_eq!(e.reason(), "decrypt_failed");
    // The tag is the last 16 bytes: cutting it off is tampering too.
    let short = &ct[..ct.len() - 24];
    let (h, body, now) = with_resource("ciphertext", json!(short));
    assert_eq!(reject(&h, &body, now).reason(), "decrypt_failed");

    let (h, body, now) = with_resource("associated_data", json!("refund"));
    assert_eq!(
        reject(&h, &body, now),
        NotifyError::Decrypt(DecryptError::Tampered)
    );
    let (h, body, now) = with_resource("associated_data", json!(""));
    assert_eq!(
        reject(&h, &body, now),
        NotifyError::Decrypt(DecryptError::Tampered)
    );

    let (h, body, now) = with_resource("nonce", json!("fdasfwer8x2y"));
    assert_eq!(
        reject(&h, &body, now),
        NotifyError::Decrypt(DecryptError::Tampered)
    );
    let (h, body, now) = with_resource("nonce", json!("short"));
    assert_eq!(
        reject(&h, &body, now),
        NotifyError::Decrypt(DecryptError::Nonce)
    );

    let (h, body, now) = with_resource("algorithm", json!("AEAD_AES_128_GCM"));
    let e = reject(&h, &body, now);
    assert_eq!(
        e,
        NotifyError::UnsupportedAlgorithm("AEAD_AES_128_GCM".into())
    );
    assert_eq!(e.reason(), "unsupported_algorithm");
}

#[test]
fn malformed_and_oversized_bodies() {
    let (h, _, now) = vector("payment_notification");
    for junk in [
        "{\"id\": 1",
        "[]",
        "{\"id\":\"EV-1\",\"event_type\":\"TRANSACTION.SUCCESS\"}",
        "",
    ] {
        let e = reject(&resign(&h, junk), junk, now);
        assert!(matches!(e, NotifyError::Malformed(_)), "{junk}: {e:?}");
        assert_eq!(e.reason(), "malformed");
    }
    // A resource that decrypts but is not a transaction.
    let key = ApiV3Key::new(TEST_APIV3_KEY).unwrap();
    let (h2, body, now2) = with_resource(
        "ciphertext",
        json!(key
            .encrypt("fdasfwer8x2z", "transaction", "{\"hello\":1}")
            .unwrap()),
    );
    assert!(
        matches!(reject(&h2, &body, now2), NotifyError::Malformed(m) if m.contains("transaction resource"))
    );
    let mut env: Value = serde_json::from_str(&vector("payment_notification").1).unwrap();
    env["event_type"] = json!("PAYSCORE.USER_OPEN");
    let other = env.to_string();
    assert!(
        matches!(reject(&resign(&h, &other), &other, now), NotifyError::Malformed(m) if m.contains("unknown event type"))
    );

    // Oversized: refused before anything else, even a valid signature.
    let big = format!("{{\"pad\": \"{}\"}}", "x".repeat(MAX_NOTIFY_BYTES));
    assert_eq!(reject(&resign(&h, &big), &big, now), NotifyError::TooLarge);
    assert_eq!(
        reject(&WechatpayHeaders::default(), &big, now).reason(),
        "too_large"
    );
}
