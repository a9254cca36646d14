//! Text values with limits. Each type trims, counts characters (not bytes, since most text is
//! Chinese), and refuses control characters, so nothing past the edge needs to check again.

use crate::error::ValidationError;
use crate::ids::{OrderId, RefundId};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;

fn check_text(
    field: &'static str,
    raw: &str,
    min: usize,
    max: usize,
    multiline: bool,
) -> Result<String, ValidationError> {
    let s = raw.trim();
    let n = s.chars().count();
    if n < min {
        let msg = if min == 1 {
            "must not be empty".to_string()
        } else {
            format!("must be at least {min} characters")
        };
        return Err(ValidationError::new(field, "too_short", msg));
    }
    if n > max {
        return Err(ValidationError::new(
            field,
            "too_long",
            format!("must be at most {max} characters"),
        ));
    }
    if s.chars()
        .any(|c| c.is_control() && !(multiline && (c == '\n' || c == '\r' || c == '\t')))
    {
        return Err(ValidationError::new(
            field,
            "control_character",
            "must not contain control characters",
        ));
    }
    Ok(s.to_string())
}

macro_rules! text_type {
    ($(#[$doc:meta])* $name:ident, $field:literal, $min:expr, $max:expr, $multiline:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub const MAX_CHARS: usize = $max;

            pub fn parse(raw: &str) -> Result<Self, ValidationError> {
                check_text($field, raw, $min, $max, $multiline).map(Self)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = ValidationError;
            fn try_from(v: String) -> Result<Self, Self::Error> {
                Self::parse(&v)
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

text_type!(
    /// Product title, e.g. "五常大米 稻花香2号".
    Title, "title", 1, 60, false);
text_type!(
    /// Product description; may span lines.
    Description, "description", 0, 5000, true);
text_type!(
    /// SKU specification, e.g. "5kg 真空装".
    SkuSpec, "spec", 1, 40, false);
text_type!(
    /// Shopper's note on an order.
    Remark, "remark", 0, 200, false);
text_type!(
    /// Name of the person who receives the parcel.
    ReceiverName, "receiver", 1, 20, false);
text_type!(
    /// Province, city or district.
    RegionPart, "region", 1, 20, false);
text_type!(
    /// Street, building and room.
    AddressDetail, "detail", 1, 120, false);
text_type!(
    /// Why a refund is asked for, or why it was rejected.
    Reason, "reason", 1, 200, false);
text_type!(
    /// Carrier name, e.g. "顺丰速运".
    Carrier, "carrier", 1, 30, false);
text_type!(
    /// Parcel tracking number.
    TrackingNo, "tracking_no", 4, 40, false);
text_type!(
    /// Shopper nickname.
    Nickname, "nickname", 1, 32, false);

/// A mainland China mobile number: 11 digits starting with 1 and a second digit 3–9.
/// A leading `+86` or `86` and spaces or dashes are accepted and removed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Phone(String);

impl Phone {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let digits: String = raw.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        let digits = digits
            .strip_prefix("+86")
            .or_else(|| digits.strip_prefix("0086"))
            .or_else(|| {
                if digits.len() == 13 {
                    digits.strip_prefix("86")
                } else {
                    None
                }
            })
            .unwrap_or(&digits);
        let b = digits.as_bytes();
        let ok = b.len() == 11
            && b.iter().all(u8::is_ascii_digit)
            && b[0] == b'1'
            && (b'3'..=b'9').contains(&b[1]);
        if !ok {
            return Err(ValidationError::new(
                "phone",
                "not_a_mobile_number",
                "must be an 11-digit mainland China mobile number",
            ));
        }
        Ok(Self(digits.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `138****5678`, for logs and lists.
    pub fn masked(&self) -> String {
        format!("{}****{}", &self.0[..3], &self.0[7..])
    }
}

impl TryFrom<String> for Phone {
    type Error = ValidationError;
    fn try_from(v: String) -> Result<Self, Self::Error> {
        Self::parse(&v)
    }
}

impl From<Phone> for String {
    fn from(v: Phone) -> String {
        v.0
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn is_token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b':' | b'.')
}

macro_rules! token_type {
    ($(#[$doc:meta])* $name:ident, $field:literal, $min:expr, $max:expr, $allowed:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn parse(raw: &str) -> Result<Self, ValidationError> {
                let allowed: fn(u8) -> bool = $allowed;
                let len = raw.len();
                if !($min..=$max).contains(&len) || !raw.bytes().all(allowed) {
                    return Err(ValidationError::new(
                        $field,
                        "malformed",
                        format!(
                            "must be {}–{} characters of the allowed set",
                            $min, $max
                        ),
                    ));
                }
                Ok(Self(raw.to_string()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = ValidationError;
            fn try_from(v: String) -> Result<Self, Self::Error> {
                Self::parse(&v)
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

token_type!(
    /// Client-chosen key that makes a POST safe to retry: 8–64 of `A-Z a-z 0-9 - _ : .`
    /// (a UUID fits).
    IdempotencyKey, "Idempotency-Key", 8, 64, is_token_char);
token_type!(
    /// A WeChat user id within our app id.
    OpenId, "openid", 6, 64, is_token_char);
token_type!(
    /// Operator login name: 3–32 of `a-z A-Z 0-9 - _ .`.
    Username, "username", 3, 32, |b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));

/// Characters WeChat accepts in `out_trade_no` and `out_refund_no`.
fn is_wechat_no_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'|' | b'*')
}

token_type!(
    /// The order number shown to shoppers and sent to WeChat as `out_trade_no` (≤ 32 chars).
    OrderNo, "order_no", 6, 32, is_wechat_no_char);
token_type!(
    /// The merchant refund number sent to WeChat as `out_refund_no`; stable across retries.
    RefundNo, "out_refund_no", 6, 64, is_wechat_no_char);

impl OrderNo {
    /// `R` + the order's China date + the order id: unique because the id is, readable by
    /// operators, and at most 1 + 8 + 19 = 28 characters.
    pub fn for_order(id: OrderId, created_at: Timestamp) -> OrderNo {
        OrderNo(format!("R{}{}", created_at.cn_date().compact(), id.get()))
    }
}

impl RefundNo {
    /// `F` + the refund's China date + the refund id.
    pub fn for_refund(id: RefundId, created_at: Timestamp) -> RefundNo {
        RefundNo(format!("F{}{}", created_at.cn_date().compact(), id.get()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_limits_count_characters_not_bytes() {
        let twenty = "五".repeat(20);
        assert!(ReceiverName::parse(&twenty).is_ok());
        let e = ReceiverName::parse(&"五".repeat(21)).unwrap_err();
        assert_eq!(e.reason, "too_long");
        assert_eq!(e.field, "receiver");
        assert_eq!(ReceiverName::parse("  张三 ").unwrap().as_str(), "张三");
        assert_eq!(ReceiverName::parse("   ").unwrap_err().reason, "too_short");
        assert_eq!(Remark::parse("").unwrap().as_str(), "");
        assert_eq!(
            Remark::parse("a\u{0}b").unwrap_err().reason,
            "control_character"
        );
        assert!(Description::parse("第一行\n第二行").is_ok());
    }

    #[test]
    fn phones() {
        assert_eq!(Phone::parse("13812345678").unwrap().as_str(), "13812345678");
        assert_eq!(
            Phone::parse("+86 138-1234-5678").unwrap().as_str(),
            "13812345678"
        );
        assert_eq!(
            Phone::parse("8613812345678").unwrap().as_str(),
            "13812345678"
        );
        assert_eq!(Phone::parse("13812345678").unwrap().masked(), "138****5678");
        for bad in [
            "",
            "1381234567",
            "23812345678",
            "12812345678",
            "138123456789",
            "1381234567a",
        ] {
            assert!(Phone::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn tokens() {
        assert!(IdempotencyKey::parse("550e8400-e29b-41d4-a716-446655440000").is_ok());
        assert!(IdempotencyKey::parse("short").is_err());
        assert!(IdempotencyKey::parse(&"a".repeat(65)).is_err());
        assert!(IdempotencyKey::parse("has space here").is_err());
        assert!(OrderNo::parse("R20261124000001").is_ok());
        assert!(OrderNo::parse(&"R".repeat(33)).is_err());
        assert!(Username::parse("admin").is_ok());
        assert!(Username::parse("ad").is_err());
    }

    #[test]
    fn order_numbers_fit_wechat() {
        let id = OrderId::new(i64::MAX).unwrap();
        let no = OrderNo::for_order(id, Timestamp::from_millis(1_764_123_456_000));
        assert!(no.as_str().len() <= 32, "{no}");
        assert!(no.as_str().starts_with("R20251126"), "{no}");
        assert!(OrderNo::parse(no.as_str()).is_ok());
    }
}

token_type!(
    /// WeChat's own id of a successful payment (`transaction_id`); unique per payment, so it is
    /// the key that makes callbacks exactly-once.
    TransactionId, "transaction_id", 6, 64, |b| b.is_ascii_alphanumeric());
