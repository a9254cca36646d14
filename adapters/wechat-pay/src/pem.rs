//! PEM and the little DER the keys need. ring takes private keys as PKCS#8 (what a
//! `BEGIN PRIVATE KEY` PEM holds) but RSA public keys only as PKCS#1 `RSAPublicKey`, which sits
//! inside the `SubjectPublicKeyInfo` of a `BEGIN PUBLIC KEY` PEM; a few lines of DER walking
//! spare us an ASN.1 dependency (and the `rsa` crate, RUSTSEC-2023-0071).

use base64::Engine as _;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("not a PEM block labelled {0}")]
    NotPem(&'static str),
    #[error("bad base64 in PEM: {0}")]
    Base64(String),
    #[error("malformed DER: {0}")]
    Der(&'static str),
    #[error("key rejected: {0}")]
    Rejected(String),
}

/// The DER bytes of the first PEM block labelled `label` (armor lines stripped, base64 decoded).
pub fn decode(pem: &str, label: &'static str) -> Result<Vec<u8>, KeyError> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = pem.find(&begin).ok_or(KeyError::NotPem(label))? + begin.len();
    let stop = pem[start..].find(&end).ok_or(KeyError::NotPem(label))? + start;
    let b64: String = pem[start..stop]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|e| KeyError::Base64(e.to_string()))
}

/// One DER element: (tag, content, rest). Only definite lengths, as DER requires.
fn tlv(input: &[u8]) -> Result<(u8, &[u8], &[u8]), KeyError> {
    let (&tag, rest) = input.split_first().ok_or(KeyError::Der("empty"))?;
    let (&first, rest) = rest.split_first().ok_or(KeyError::Der("no length"))?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return Err(KeyError::Der("bad length"));
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return Err(KeyError::Der("truncated"));
    }
    Ok((tag, &rest[..len], &rest[len..]))
}

/// DER of OBJECT IDENTIFIER 1.2.840.113549.1.1.1 (rsaEncryption).
const RSA_ENCRYPTION_OID: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];

/// The PKCS#1 `RSAPublicKey` inside an SPKI
/// `SEQUENCE { SEQUENCE { OID rsaEncryption, NULL }, BIT STRING }`.
pub fn spki_to_pkcs1(spki: &[u8]) -> Result<Vec<u8>, KeyError> {
    let (tag, body, trailing) = tlv(spki)?;
    if tag != 0x30 || !trailing.is_empty() {
        return Err(KeyError::Der("SubjectPublicKeyInfo is not one SEQUENCE"));
    }
    let (alg_tag, alg, rest) = tlv(body)?;
    if alg_tag != 0x30 {
        return Err(KeyError::Der("algorithm is not a SEQUENCE"));
    }
    let (oid_tag, oid, _) = tlv(alg)?;
    if oid_tag != 0x06 || oid != RSA_ENCRYPTION_OID {
        return Err(KeyError::Der("not an RSA key"));
    }
    let (bits_tag, bits, _) = tlv(rest)?;
    if bits_tag != 0x03 {
        return Err(KeyError::Der("subjectPublicKey is not a BIT STRING"));
    }
    match bits.split_first() {
        Some((0, key)) if !key.is_empty() => Ok(key.to_vec()),
        _ => Err(KeyError::Der("BIT STRING with unused bits")),
    }
}

/// Checks that `pkcs1` is `SEQUENCE { INTEGER modulus, INTEGER exponent }` with a modulus of
/// 2048 to 8192 bits, the sizes ring verifies with: ring itself only parses a public key when it
/// verifies, too late to refuse a broken configuration.
pub fn check_rsa_public_key(pkcs1: &[u8]) -> Result<(), KeyError> {
    let (tag, body, trailing) = tlv(pkcs1)?;
    if tag != 0x30 || !trailing.is_empty() {
        return Err(KeyError::Der("RSAPublicKey is not one SEQUENCE"));
    }
    let (n_tag, n, rest) = tlv(body)?;
    let (e_tag, e, rest) = tlv(rest)?;
    if n_tag != 0x02 || e_tag != 0x02 || !rest.is_empty() || e.is_empty() {
        return Err(KeyError::Der("RSAPublicKey is not two INTEGERs"));
    }
    let n = match n.split_first() {
        Some((0, tail)) => tail,
        _ => n,
    };
    let bits = n.len() * 8;
    if !(2048..=8192).contains(&bits) {
        return Err(KeyError::Rejected(format!(
            "RSA modulus of {bits} bits; 2048 to 8192 expected"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PUBLIC: &str = include_str!("../testdata/platform_public_key.pem");

    #[test]
    fn extracts_the_rsa_public_key() {
        let spki = decode(PUBLIC, "PUBLIC KEY").unwrap();
        let pkcs1 = spki_to_pkcs1(&spki).unwrap();
        // RSAPublicKey is a SEQUENCE of modulus and exponent, and the tail of the SPKI.
        assert_eq!(pkcs1[0], 0x30);
        assert!(spki.ends_with(&pkcs1));
        assert_eq!(pkcs1.len(), 270, "a 2048-bit key");
        check_rsa_public_key(&pkcs1).unwrap();
        assert!(check_rsa_public_key(&pkcs1[..200]).is_err());
        assert!(check_rsa_public_key(&[0x30, 0x06, 0x02, 0x01, 0x05, 0x02, 0x01, 0x03]).is_err());
    }

    #[test]
    fn broken_der_is_an_error_never_a_panic() {
        let spki = decode(PUBLIC, "PUBLIC KEY").unwrap();
        for cut in 0..spki.len() {
            assert!(spki_to_pkcs1(&spki[..cut]).is_err(), "cut at {cut}");
        }
        let mut wrong_oid = spki.clone();
        wrong_oid[8] ^= 1;
        assert_eq!(
            spki_to_pkcs1(&wrong_oid),
            Err(KeyError::Der("not an RSA key"))
        );
        assert!(spki_to_pkcs1(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]).is_err());
        assert!(spki_to_pkcs1(&[0x30, 0x85, 1, 1, 1, 1, 1]).is_err());
    }

    #[test]
    fn pem_armor_and_base64() {
        assert_eq!(
            decode("hello", "PUBLIC KEY"),
            Err(KeyError::NotPem("PUBLIC KEY"))
        );
        assert_eq!(
            decode(PUBLIC, "PRIVATE KEY"),
            Err(KeyError::NotPem("PRIVATE KEY"))
        );
        let broken = "-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----\n";
        assert!(matches!(
            decode(broken, "PUBLIC KEY"),
            Err(KeyError::Base64(_))
        ));
        // Windows line endings and indentation do not matter.
        let crlf = PUBLIC.replace('\n', "\r\n  ");
        assert_eq!(
            decode(&crlf, "PUBLIC KEY").unwrap(),
            decode(PUBLIC, "PUBLIC KEY").unwrap()
        );
    }
}
