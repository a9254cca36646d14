use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::Argon2;
use base64::Engine as _;
use rand::RngCore as _;
use shop_core::ports::{PasswordHasher, TokenSource};

/// 256-bit random bearer tokens from the operating system, base64url without padding.
#[derive(Debug, Default, Clone, Copy)]
pub struct RandomTokens;

impl TokenSource for RandomTokens {
    fn new_token(&self) -> String {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }
}

/// argon2id with the crate's defaults (19 MiB, 2 passes): OWASP's recommended minimum.
#[derive(Debug, Default, Clone, Copy)]
pub struct Argon2Hasher;

impl PasswordHasher for Argon2Hasher {
    fn hash(&self, password: &str) -> Result<String, String> {
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| e.to_string())
    }

    fn verify(&self, password: &str, hash: &str) -> bool {
        PasswordHash::new(hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_and_distinct() {
        let a = RandomTokens.new_token();
        let b = RandomTokens.new_token();
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
        assert!(a
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
    }

    #[test]
    fn passwords_verify_only_themselves() {
        let h = Argon2Hasher.hash("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(Argon2Hasher.verify("correct horse battery", &h));
        assert!(!Argon2Hasher.verify("correct horse batterY", &h));
        assert!(!Argon2Hasher.verify("anything", "not a hash"));
        assert_ne!(
            h,
            Argon2Hasher.hash("correct horse battery").unwrap(),
            "salted"
        );
    }
}
