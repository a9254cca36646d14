//! The cryptography of WeChat Pay v3, shared by the client and the sandbox so that both speak
//! exactly the same protocol: RSA-SHA256 (PKCS#1 v1.5) request signatures and their
//! `Authorization` header, verification of responses and callbacks against platform keys chosen
//! by serial, AES-256-GCM for callback resources, and the mini-program's `paySign`.
//! Everything is on ring; nothing here reads a clock (callers pass `now`).

use crate::pem::{self, KeyError};
use base64::Engine as _;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use ring::rand::SystemRandom;
use ring::signature::{
    KeyPair as _, RsaKeyPair, UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256,
};
use std::collections::HashMap;
use std::fmt;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// How far a signed timestamp may be from now, in seconds: anything older is treated as a
/// replay, anything newer as forged.
pub const MAX_CLOCK_SKEW_SECS: i64 = 300;

/// The scheme name at the start of every `Authorization` header.
pub const AUTH_SCHEME: &str = "WECHATPAY2-SHA256-RSA2048";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("missing header {0}")]
    MissingHeader(&'static str),
    #[error("unknown platform key serial `{0}`")]
    UnknownSerial(String),
    #[error("timestamp {0} is more than 300 s from now")]
    StaleTimestamp(i64),
    #[error("timestamp is not a number of seconds")]
    BadTimestamp,
    #[error("signature does not verify")]
    BadSignature,
    /// Only for requests: the `Authorization` header is absent, of another scheme, or lacks a
    /// field.
    #[error("malformed Authorization header")]
    MalformedAuthorization,
    /// Only for requests: signed for another merchant.
    #[error("Authorization names another merchant")]
    WrongMerchant,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecryptError {
    #[error("unsupported algorithm `{0}`")]
    Algorithm(String),
    #[error("nonce must be 12 bytes")]
    Nonce,
    #[error("ciphertext is not base64")]
    Base64,
    #[error("ciphertext, nonce or associated data was tampered with, or the key is wrong")]
    Tampered,
    #[error("decrypted resource is not UTF-8")]
    Utf8,
}

/// ring signs with PKCS#1 v1.5 only into a buffer of the modulus size; failing is a bug, but
/// it is reported rather than turned into an empty signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("RSA signing failed")]
pub struct SignError;

/// The message a merchant signs: `METHOD\nPATH_WITH_QUERY\nTIMESTAMP\nNONCE\nBODY\n`
/// (a request without a body still has its empty line).
pub fn request_message(
    method: &str,
    path_with_query: &str,
    timestamp: &str,
    nonce: &str,
    body: &str,
) -> String {
    format!("{method}\n{path_with_query}\n{timestamp}\n{nonce}\n{body}\n")
}

/// The message of responses and callbacks: `TIMESTAMP\nNONCE\nBODY\n`, over the body's exact
/// bytes (which is why callers must never re-serialise a body before verifying it).
pub fn response_message(timestamp: &str, nonce: &str, body: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(body.len() + timestamp.len() + nonce.len() + 3);
    m.extend_from_slice(timestamp.as_bytes());
    m.push(b'\n');
    m.extend_from_slice(nonce.as_bytes());
    m.push(b'\n');
    m.extend_from_slice(body);
    m.push(b'\n');
    m
}

/// An RSA private key that signs: the merchant's, or in the sandbox the platform's.
pub struct Signer {
    key: RsaKeyPair,
    rng: SystemRandom,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Signer(<private key>)")
    }
}

impl Signer {
    /// From a PKCS#8 `BEGIN PRIVATE KEY` PEM (what WeChat's merchant tool writes as
    /// `apiclient_key.pem`).
    pub fn from_pem(pem_text: &str) -> Result<Signer, KeyError> {
        let der = pem::decode(pem_text, "PRIVATE KEY")?;
        let key = RsaKeyPair::from_pkcs8(&der).map_err(|e| KeyError::Rejected(e.to_string()))?;
        Ok(Signer {
            key,
            rng: SystemRandom::new(),
        })
    }

    /// RSA-SHA256 PKCS#1 v1.5, base64: deterministic for a key and a message, which is what
    /// lets the tests compare with the vectors byte for byte.
    pub fn sign(&self, message: &[u8]) -> Result<String, SignError> {
        let mut sig = vec![0u8; self.key.public().modulus_len()];
        self.key
            .sign(&RSA_PKCS1_SHA256, &self.rng, message, &mut sig)
            .map_err(|_| SignError)?;
        Ok(B64.encode(sig))
    }

    /// The matching public key (to recognise a key pair, e.g. the embedded test keys).
    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.key.public_key().as_ref().to_vec())
    }
}

/// An RSA public key that verifies (PKCS#1 `RSAPublicKey` DER inside).
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey(Vec<u8>);

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({} bytes)", self.0.len())
    }
}

impl PublicKey {
    /// From a `BEGIN PUBLIC KEY` (SubjectPublicKeyInfo) PEM, as WeChat hands out platform
    /// public keys.
    pub fn from_pem(pem_text: &str) -> Result<PublicKey, KeyError> {
        let spki = pem::decode(pem_text, "PUBLIC KEY")?;
        let pkcs1 = pem::spki_to_pkcs1(&spki)?;
        // Checked now so that a broken key fails at start-up, not at the first callback.
        pem::check_rsa_public_key(&pkcs1)?;
        Ok(PublicKey(pkcs1))
    }

    pub fn verify(&self, message: &[u8], signature_b64: &str) -> bool {
        let Ok(sig) = B64.decode(signature_b64.trim()) else {
            return false;
        };
        UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &self.0)
            .verify(message, &sig)
            .is_ok()
    }
}

/// The `Wechatpay-*` headers of a response or callback.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WechatpayHeaders {
    pub timestamp: Option<String>,
    pub nonce: Option<String>,
    pub signature: Option<String>,
    pub serial: Option<String>,
}

impl WechatpayHeaders {
    pub const TIMESTAMP: &'static str = "Wechatpay-Timestamp";
    pub const NONCE: &'static str = "Wechatpay-Nonce";
    pub const SIGNATURE: &'static str = "Wechatpay-Signature";
    pub const SERIAL: &'static str = "Wechatpay-Serial";

    /// Reads them through any header lookup (HTTP header names are case-insensitive; the
    /// lookup is given the canonical spelling).
    pub fn read(get: impl Fn(&str) -> Option<String>) -> WechatpayHeaders {
        WechatpayHeaders {
            timestamp: get(Self::TIMESTAMP),
            nonce: get(Self::NONCE),
            signature: get(Self::SIGNATURE),
            serial: get(Self::SERIAL),
        }
    }

    /// What WeChat (or the sandbox) sends with `body`, signed with the platform key.
    pub fn sign(
        signer: &Signer,
        serial: &str,
        timestamp: &str,
        nonce: &str,
        body: &[u8],
    ) -> Result<WechatpayHeaders, SignError> {
        let signature = signer.sign(&response_message(timestamp, nonce, body))?;
        Ok(WechatpayHeaders {
            timestamp: Some(timestamp.to_string()),
            nonce: Some(nonce.to_string()),
            signature: Some(signature),
            serial: Some(serial.to_string()),
        })
    }

    /// The present headers as (name, value) pairs, to put on a response or request.
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        [
            (Self::TIMESTAMP, &self.timestamp),
            (Self::NONCE, &self.nonce),
            (Self::SIGNATURE, &self.signature),
            (Self::SERIAL, &self.serial),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.clone().map(|v| (k, v)))
        .collect()
    }
}

/// Whether a signed `timestamp` (seconds) is within [`MAX_CLOCK_SKEW_SECS`] of `now_secs`.
fn check_window(timestamp: &str, now_secs: i64) -> Result<i64, VerifyError> {
    let t: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| VerifyError::BadTimestamp)?;
    if now_secs.abs_diff(t) > MAX_CLOCK_SKEW_SECS.unsigned_abs() {
        return Err(VerifyError::StaleTimestamp(t));
    }
    Ok(t)
}

/// WeChat's platform public keys by serial. During a migration from platform certificates to
/// the platform public key both the old certificate serial and the `PUB_KEY_ID_…` are in use,
/// so both are accepted; an unknown serial is rejected, never guessed.
#[derive(Debug, Clone, Default)]
pub struct PlatformKeys {
    keys: HashMap<String, PublicKey>,
}

impl PlatformKeys {
    pub fn new(keys: Vec<(String, PublicKey)>) -> PlatformKeys {
        PlatformKeys {
            keys: keys.into_iter().collect(),
        }
    }

    /// From `(serial, PEM)` pairs, as [`crate::WechatPayConfig::platform_keys`] holds them.
    pub fn from_pems(pems: &[(String, String)]) -> Result<PlatformKeys, KeyError> {
        let keys = pems
            .iter()
            .map(|(serial, pem)| PublicKey::from_pem(pem).map(|k| (serial.clone(), k)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(PlatformKeys::new(keys))
    }

    pub fn serials(&self) -> impl Iterator<Item = &str> {
        self.keys.keys().map(String::as_str)
    }

    /// Checks the signature of `body` and that its timestamp is within 300 s of `now_secs`.
    pub fn verify(
        &self,
        h: &WechatpayHeaders,
        body: &[u8],
        now_secs: i64,
    ) -> Result<(), VerifyError> {
        let need = |v: &Option<String>, name| v.clone().ok_or(VerifyError::MissingHeader(name));
        let ts = need(&h.timestamp, WechatpayHeaders::TIMESTAMP)?;
        let nonce = need(&h.nonce, WechatpayHeaders::NONCE)?;
        let sig = need(&h.signature, WechatpayHeaders::SIGNATURE)?;
        let serial = need(&h.serial, WechatpayHeaders::SERIAL)?;
        let key = self
            .keys
            .get(serial.trim())
            .ok_or_else(|| VerifyError::UnknownSerial(serial.clone()))?;
        check_window(&ts, now_secs)?;
        if key.verify(&response_message(&ts, &nonce, body), &sig) {
            Ok(())
        } else {
            Err(VerifyError::BadSignature)
        }
    }
}

/// The fields of an `Authorization` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationFields {
    pub mchid: String,
    pub nonce: String,
    pub signature: String,
    pub timestamp: String,
    pub serial_no: String,
}

/// `WECHATPAY2-SHA256-RSA2048 mchid="…",nonce_str="…",signature="…",timestamp="…",serial_no="…"`
pub fn authorization(
    mchid: &str,
    serial_no: &str,
    nonce: &str,
    timestamp: &str,
    signature: &str,
) -> String {
    format!(
        "{AUTH_SCHEME} mchid=\"{mchid}\",nonce_str=\"{nonce}\",signature=\"{signature}\",timestamp=\"{timestamp}\",serial_no=\"{serial_no}\""
    )
}

/// What a merchant needs to sign requests: its id, certificate serial and private key.
#[derive(Debug)]
pub struct MerchantSigner {
    pub mchid: String,
    pub serial_no: String,
    pub key: Signer,
}

impl MerchantSigner {
    /// The `Authorization` header of one request. A retry is signed again (new nonce and
    /// timestamp) over the same body.
    pub fn authorization(
        &self,
        method: &str,
        path_with_query: &str,
        body: &str,
        timestamp: &str,
        nonce: &str,
    ) -> Result<String, SignError> {
        let message = request_message(method, path_with_query, timestamp, nonce, body);
        let signature = self.key.sign(message.as_bytes())?;
        Ok(authorization(
            &self.mchid,
            &self.serial_no,
            nonce,
            timestamp,
            &signature,
        ))
    }
}

pub fn parse_authorization(header: &str) -> Option<AuthorizationFields> {
    let rest = header.trim().strip_prefix(AUTH_SCHEME)?.trim_start();
    let mut fields: HashMap<&str, &str> = HashMap::new();
    for part in rest.split(',') {
        // Base64 signatures end in `=`, so split at the first one only.
        let (k, v) = part.trim().split_once('=')?;
        let v = v.strip_prefix('"')?.strip_suffix('"')?;
        fields.insert(k, v);
    }
    let get = |k: &str| fields.get(k).map(|v| v.to_string());
    Some(AuthorizationFields {
        mchid: get("mchid")?,
        nonce: get("nonce_str")?,
        signature: get("signature")?,
        timestamp: get("timestamp")?,
        serial_no: get("serial_no")?,
    })
}

/// What WeChat checks on every request (and the sandbox with it): the header parses, names
/// `mchid`, is within 300 s of `now_secs`, and the merchant key signed exactly this method,
/// path, query and body.
pub fn verify_request(
    merchant: &PublicKey,
    mchid: &str,
    method: &str,
    path_with_query: &str,
    body: &str,
    header: Option<&str>,
    now_secs: i64,
) -> Result<AuthorizationFields, VerifyError> {
    let fields = header
        .and_then(parse_authorization)
        .ok_or(VerifyError::MalformedAuthorization)?;
    if fields.mchid != mchid {
        return Err(VerifyError::WrongMerchant);
    }
    check_window(&fields.timestamp, now_secs)?;
    let message = request_message(
        method,
        path_with_query,
        &fields.timestamp,
        &fields.nonce,
        body,
    );
    if !merchant.verify(message.as_bytes(), &fields.signature) {
        return Err(VerifyError::BadSignature);
    }
    Ok(fields)
}

/// The AEAD algorithm of every callback resource.
pub const AEAD_AES_256_GCM: &str = "AEAD_AES_256_GCM";

/// AES-256-GCM with the APIv3 key, as callbacks use it.
#[derive(Clone)]
pub struct ApiV3Key([u8; 32]);

impl fmt::Debug for ApiV3Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiV3Key(<secret>)")
    }
}

impl ApiV3Key {
    /// The key is the 32 ASCII bytes of the configured string (not hex, not base64).
    pub fn new(key: &str) -> Option<ApiV3Key> {
        <[u8; 32]>::try_from(key.as_bytes()).ok().map(ApiV3Key)
    }

    fn cipher(&self) -> Result<LessSafeKey, DecryptError> {
        UnboundKey::new(&AES_256_GCM, &self.0)
            .map(LessSafeKey::new)
            .map_err(|_| DecryptError::Tampered)
    }

    /// Opens a callback resource: `nonce` is 12 ASCII bytes, `aad` the `associated_data`
    /// (possibly empty), `ciphertext_b64` the ciphertext with its 16-byte tag appended.
    pub fn decrypt(
        &self,
        algorithm: &str,
        nonce: &str,
        aad: &str,
        ciphertext_b64: &str,
    ) -> Result<String, DecryptError> {
        if algorithm != AEAD_AES_256_GCM {
            return Err(DecryptError::Algorithm(algorithm.to_string()));
        }
        let nonce =
            Nonce::try_assume_unique_for_key(nonce.as_bytes()).map_err(|_| DecryptError::Nonce)?;
        let mut data = B64
            .decode(ciphertext_b64)
            .map_err(|_| DecryptError::Base64)?;
        let plain = self
            .cipher()?
            .open_in_place(nonce, Aad::from(aad.as_bytes()), &mut data)
            .map_err(|_| DecryptError::Tampered)?;
        String::from_utf8(plain.to_vec()).map_err(|_| DecryptError::Utf8)
    }

    /// What WeChat does to a callback resource; the sandbox uses it. The caller must never
    /// reuse a nonce with the same key.
    pub fn encrypt(&self, nonce: &str, aad: &str, plaintext: &str) -> Result<String, DecryptError> {
        let nonce =
            Nonce::try_assume_unique_for_key(nonce.as_bytes()).map_err(|_| DecryptError::Nonce)?;
        let mut data = plaintext.as_bytes().to_vec();
        self.cipher()?
            .seal_in_place_append_tag(nonce, Aad::from(aad.as_bytes()), &mut data)
            .map_err(|_| DecryptError::Tampered)?;
        Ok(B64.encode(data))
    }
}

/// `paySign` for `wx.requestPayment`: the merchant signs `appId\ntimeStamp\nnonceStr\npackage\n`.
pub fn pay_sign(
    signer: &Signer,
    app_id: &str,
    time_stamp: &str,
    nonce_str: &str,
    package: &str,
) -> Result<String, SignError> {
    signer.sign(format!("{app_id}\n{time_stamp}\n{nonce_str}\n{package}\n").as_bytes())
}

/// A random nonce of `n` characters from `[A-Z0-9]`: the same alphabet as WeChat's examples,
/// and safe inside headers and AEAD nonces alike.
pub fn nonce(n: usize) -> String {
    use rand::Rng;
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut rng = rand::thread_rng();
    (0..n)
        .map(|_| char::from(CHARS[rng.gen_range(0..CHARS.len())]))
        .collect()
}

/// SHA-1 of the bill file, as `hash_value` carries it (lower-case hex). SHA-1 is WeChat's
/// choice for a transfer check, not ours for security: the bill request itself is signed.
pub fn sha1_hex(bytes: &[u8]) -> String {
    hex::encode(ring::digest::digest(
        &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
        bytes,
    ))
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLATFORM_PRIVATE: &str = include_str!("../testdata/platform_private_key.pem");
    const PLATFORM_PUBLIC: &str = include_str!("../testdata/platform_public_key.pem");
    const MERCHANT_PRIVATE: &str = include_str!("../testdata/merchant_private_key.pem");
    const MERCHANT_PUBLIC: &str = include_str!("../testdata/merchant_public_key.pem");

    fn signed(now: i64) -> (WechatpayHeaders, &'static [u8]) {
        let signer = Signer::from_pem(PLATFORM_PRIVATE).unwrap();
        let body: &[u8] = b"{\"ok\":true}";
        let h = WechatpayHeaders::sign(&signer, "PUB_KEY_ID_NEW", &now.to_string(), "N1", body)
            .unwrap();
        (h, body)
    }

    #[test]
    fn a_key_pair_recognises_itself() {
        let s = Signer::from_pem(PLATFORM_PRIVATE).unwrap();
        assert_eq!(
            s.public_key(),
            PublicKey::from_pem(PLATFORM_PUBLIC).unwrap()
        );
        assert_ne!(
            s.public_key(),
            PublicKey::from_pem(MERCHANT_PUBLIC).unwrap()
        );
    }

    #[test]
    fn both_serials_are_accepted_during_a_key_migration() {
        let key = PublicKey::from_pem(PLATFORM_PUBLIC).unwrap();
        let keys = PlatformKeys::new(vec![
            (
                "5157F09EFDC096DE15EBE81A47057A7232F1B8E1".into(),
                key.clone(),
            ),
            ("PUB_KEY_ID_NEW".into(), key),
        ]);
        let (mut h, body) = signed(1_000_000);
        keys.verify(&h, body, 1_000_000).unwrap();
        h.serial = Some("5157F09EFDC096DE15EBE81A47057A7232F1B8E1".into());
        keys.verify(&h, body, 1_000_000).unwrap();
        h.serial = Some("PUB_KEY_ID_OTHER".into());
        assert_eq!(
            keys.verify(&h, body, 1_000_000),
            Err(VerifyError::UnknownSerial("PUB_KEY_ID_OTHER".into()))
        );
    }

    #[test]
    fn the_replay_window_is_300_seconds_either_way() {
        let keys = PlatformKeys::new(vec![(
            "PUB_KEY_ID_NEW".into(),
            PublicKey::from_pem(PLATFORM_PUBLIC).unwrap(),
        )]);
        let (h, body) = signed(1_000_000);
        for now in [1_000_000 - 300, 1_000_000 + 300] {
            keys.verify(&h, body, now).unwrap();
        }
        for now in [1_000_000 - 301, 1_000_000 + 301, i64::MIN, i64::MAX] {
            assert_eq!(
                keys.verify(&h, body, now),
                Err(VerifyError::StaleTimestamp(1_000_000))
            );
        }
        let mut odd = h.clone();
        odd.timestamp = Some(i64::MIN.to_string());
        // Not a panic on overflow: just out of the window (and then the signature fails).
        assert!(keys.verify(&odd, body, i64::MAX).is_err());
        odd.timestamp = Some("soon".into());
        assert_eq!(keys.verify(&odd, body, 0), Err(VerifyError::BadTimestamp));
    }

    #[test]
    fn request_signatures_round_trip_and_bind_every_part() {
        let m = MerchantSigner {
            mchid: "1900000109".into(),
            serial_no: "SERIAL".into(),
            key: Signer::from_pem(MERCHANT_PRIVATE).unwrap(),
        };
        let public = PublicKey::from_pem(MERCHANT_PUBLIC).unwrap();
        let path = "/v3/pay/transactions/out-trade-no/R1?mchid=1900000109";
        let auth = m.authorization("GET", path, "", "1000", "NONCE").unwrap();
        let ok = verify_request(&public, "1900000109", "GET", path, "", Some(&auth), 1000);
        assert_eq!(ok.unwrap().serial_no, "SERIAL");
        let check = |mchid, method, p: &str, body, header: Option<&str>, now| {
            verify_request(&public, mchid, method, p, body, header, now).unwrap_err()
        };
        assert_eq!(
            check("1900000109", "POST", path, "", Some(&auth), 1000),
            VerifyError::BadSignature
        );
        assert_eq!(
            check(
                "1900000109",
                "GET",
                "/v3/pay/transactions/out-trade-no/R2?mchid=1900000109",
                "",
                Some(&auth),
                1000
            ),
            VerifyError::BadSignature
        );
        assert_eq!(
            check("1900000109", "GET", path, "{}", Some(&auth), 1000),
            VerifyError::BadSignature
        );
        assert_eq!(
            check("1900000110", "GET", path, "", Some(&auth), 1000),
            VerifyError::WrongMerchant
        );
        assert_eq!(
            check("1900000109", "GET", path, "", Some(&auth), 1301),
            VerifyError::StaleTimestamp(1000)
        );
        assert_eq!(
            check("1900000109", "GET", path, "", None, 1000),
            VerifyError::MalformedAuthorization
        );
        let other_scheme = auth.replacen(AUTH_SCHEME, "Bearer", 1);
        assert_eq!(
            check("1900000109", "GET", path, "", Some(&other_scheme), 1000),
            VerifyError::MalformedAuthorization
        );
    }

    #[test]
    fn aead_rejects_wrong_nonce_sizes_and_garbage() {
        let key = ApiV3Key::new("T3stOnlyApiV3Key0123456789abcdef").unwrap();
        let ct = key.encrypt("123456789012", "transaction", "{}").unwrap();
        assert_eq!(
            key.decrypt(AEAD_AES_256_GCM, "123456789012", "transaction", &ct)
                .unwrap(),
            "{}"
        );
        assert_eq!(
            key.decrypt(AEAD_AES_256_GCM, "short", "transaction", &ct),
            Err(DecryptError::Nonce)
        );
        assert_eq!(
            key.decrypt(AEAD_AES_256_GCM, "123456789012", "transaction", "%%"),
            Err(DecryptError::Base64)
        );
        assert_eq!(
            key.decrypt(AEAD_AES_256_GCM, "123456789012", "transaction", ""),
            Err(DecryptError::Tampered)
        );
        let other = ApiV3Key::new("AnotherApiV3Key0123456789abcdef!").unwrap();
        assert_eq!(
            other.decrypt(AEAD_AES_256_GCM, "123456789012", "transaction", &ct),
            Err(DecryptError::Tampered)
        );
        assert!(ApiV3Key::new("T3stOnlyApiV3Key0123456789abcde").is_none());
        assert_eq!(format!("{key:?}"), "ApiV3Key(<secret>)");
    }

    #[test]
    fn nonces_are_fresh() {
        let a = nonce(32);
        assert_eq!(a.len(), 32);
        assert!(a
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()));
        assert_ne!(a, nonce(32));
    }

    #[test]
    fn sha1_of_the_empty_file() {
        assert_eq!(sha1_hex(b""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    }
}
