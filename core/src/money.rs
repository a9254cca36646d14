//! Money is integer fen (1 yuan = 100 fen). Yuan exists only at the edges (display, bill CSV),
//! and is converted by string arithmetic, never through floating point.

use crate::error::ValidationError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// An amount of money in fen. Any integer is a representable amount (bills carry negative fees);
/// constructors for prices and order amounts enforce their own ranges.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Fen(i64);

/// The largest unit price the shop accepts: 1,000,000 yuan. Anything above is a typo.
pub const MAX_PRICE: Fen = Fen(100_000_000);

impl Fen {
    pub const ZERO: Fen = Fen(0);

    pub const fn new(fen: i64) -> Self {
        Fen(fen)
    }

    pub const fn get(self) -> i64 {
        self.0
    }

    /// A unit price: at least 1 fen, at most [`MAX_PRICE`].
    pub fn price(fen: i64) -> Result<Self, ValidationError> {
        if !(1..=MAX_PRICE.0).contains(&fen) {
            return Err(ValidationError::new(
                "price_fen",
                "out_of_range",
                format!("price must be between 1 and {} fen", MAX_PRICE.0),
            ));
        }
        Ok(Fen(fen))
    }

    /// A non-negative amount (refund requests, shipping fees).
    pub fn non_negative(fen: i64) -> Result<Self, ValidationError> {
        if fen < 0 {
            return Err(ValidationError::new(
                "amount_fen",
                "negative",
                "amount must not be negative",
            ));
        }
        Ok(Fen(fen))
    }

    pub fn checked_add(self, other: Fen) -> Option<Fen> {
        self.0.checked_add(other.0).map(Fen)
    }

    pub fn checked_sub(self, other: Fen) -> Option<Fen> {
        self.0.checked_sub(other.0).map(Fen)
    }

    pub fn checked_mul(self, n: i64) -> Option<Fen> {
        self.0.checked_mul(n).map(Fen)
    }

    /// Saturating difference floored at zero: "what is left to refund".
    pub fn saturating_remaining(self, used: Fen) -> Fen {
        Fen(self.0.saturating_sub(used.0).max(0))
    }

    pub const fn is_positive(self) -> bool {
        self.0 > 0
    }

    /// `129.00`, `-0.26`: the yuan form used in CSV exports and bills.
    pub fn to_yuan(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        format!("{sign}{}.{:02}", abs / 100, abs % 100)
    }

    /// Parses a yuan amount with at most two decimals (`129`, `129.5`, `129.00`, `-0.26`)
    /// into fen exactly, by digits, never through a float.
    pub fn parse_yuan(s: &str) -> Result<Fen, ValidationError> {
        let bad =
            || ValidationError::new("amount", "not_yuan", format!("`{s}` is not a yuan amount"));
        let t = s.trim();
        let (neg, t) = match t.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, t),
        };
        let (int, frac) = match t.split_once('.') {
            Some((i, f)) => (i, f),
            None => (t, ""),
        };
        if int.is_empty() || int.len() > 15 || frac.len() > 2 {
            return Err(bad());
        }
        if !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let yuan: i64 = int.parse().map_err(|_| bad())?;
        let mut cents: i64 = if frac.is_empty() {
            0
        } else {
            frac.parse().map_err(|_| bad())?
        };
        if frac.len() == 1 {
            cents *= 10;
        }
        let fen = yuan
            .checked_mul(100)
            .and_then(|v| v.checked_add(cents))
            .ok_or_else(bad)?;
        Ok(Fen(if neg { -fen } else { fen }))
    }
}

impl fmt::Display for Fen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "¥{}", self.to_yuan())
    }
}

impl std::iter::Sum for Fen {
    fn sum<I: Iterator<Item = Fen>>(iter: I) -> Fen {
        Fen(iter.map(|f| f.0).sum())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn yuan_formatting() {
        assert_eq!(Fen::new(12900).to_yuan(), "129.00");
        assert_eq!(Fen::new(5).to_yuan(), "0.05");
        assert_eq!(Fen::new(-26).to_yuan(), "-0.26");
        assert_eq!(Fen::new(0).to_yuan(), "0.00");
    }

    #[test]
    fn yuan_parsing_is_exact() {
        assert_eq!(Fen::parse_yuan("129.00").unwrap(), Fen::new(12900));
        assert_eq!(Fen::parse_yuan("0.1").unwrap(), Fen::new(10));
        assert_eq!(Fen::parse_yuan("43").unwrap(), Fen::new(4300));
        assert_eq!(Fen::parse_yuan("-0.26").unwrap(), Fen::new(-26));
        // 0.29 * 100 is 28.999999999999996 in binary floating point.
        assert_eq!(Fen::parse_yuan("0.29").unwrap(), Fen::new(29));
        for bad in ["", ".5", "1.234", "1e3", "abc", "1.-2", "--1", "1,00"] {
            assert!(Fen::parse_yuan(bad).is_err(), "{bad} should not parse");
        }
    }

    #[test]
    fn price_range() {
        assert!(Fen::price(0).is_err());
        assert!(Fen::price(-1).is_err());
        assert!(Fen::price(MAX_PRICE.get() + 1).is_err());
        assert_eq!(Fen::price(1).unwrap().get(), 1);
    }

    proptest! {
        #[test]
        fn yuan_round_trips(fen in -10_000_000_000i64..10_000_000_000i64) {
            let f = Fen::new(fen);
            prop_assert_eq!(Fen::parse_yuan(&f.to_yuan()).unwrap(), f);
        }
    }
}
