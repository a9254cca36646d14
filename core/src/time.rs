//! Instants and business dates. An instant is milliseconds since the Unix epoch (UTC), which
//! every database stores as a plain BIGINT; business dates are China Standard Time (UTC+8, no
//! daylight saving), the calendar WeChat's bills and the shop's reports use.

use crate::error::ValidationError;
use serde::{Deserialize, Serialize};
use std::fmt;
use time::{format_description::well_known::Rfc3339, Date, Month, OffsetDateTime, UtcOffset};

const MS_PER_DAY: i64 = 86_400_000;
const CN_OFFSET_MS: i64 = 8 * 3_600_000;

fn cn_offset() -> UtcOffset {
    // 8 hours is always a valid offset; the fallback only satisfies the type.
    UtcOffset::from_hms(8, 0, 0).unwrap_or(UtcOffset::UTC)
}

/// An instant, in milliseconds since 1970-01-01T00:00:00Z.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Timestamp(i64);

impl Timestamp {
    pub const fn from_millis(ms: i64) -> Self {
        Timestamp(ms)
    }

    pub const fn millis(self) -> i64 {
        self.0
    }

    pub const fn seconds(self) -> i64 {
        self.0.div_euclid(1000)
    }

    #[must_use]
    pub const fn plus(self, d: Span) -> Self {
        Timestamp(self.0.saturating_add(d.0))
    }

    #[must_use]
    pub const fn minus(self, d: Span) -> Self {
        Timestamp(self.0.saturating_sub(d.0))
    }

    /// How long from `earlier` to `self`; negative when `earlier` is later.
    pub const fn since(self, earlier: Timestamp) -> Span {
        Span(self.0 - earlier.0)
    }

    fn to_offset_datetime(self, offset: UtcOffset) -> Option<OffsetDateTime> {
        let nanos = i128::from(self.0) * 1_000_000;
        OffsetDateTime::from_unix_timestamp_nanos(nanos)
            .ok()
            .map(|t| t.to_offset(offset))
    }

    /// RFC 3339 in China time with second precision, e.g. `2026-11-24T10:15:00+08:00`:
    /// the form WeChat Pay expects for `time_expire`.
    pub fn to_rfc3339_cn(self) -> String {
        let Some(t) = self.to_offset_datetime(cn_offset()) else {
            return String::from("invalid-time");
        };
        let t = t.replace_nanosecond(0).unwrap_or(t);
        t.format(&Rfc3339)
            .unwrap_or_else(|_| String::from("invalid-time"))
    }

    /// `2026-11-24 10:05:33` in China time: for exports and operators.
    pub fn to_cn_datetime(self) -> String {
        let Some(t) = self.to_offset_datetime(cn_offset()) else {
            return String::from("invalid-time");
        };
        let fmt =
            time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
        t.format(&fmt)
            .unwrap_or_else(|_| String::from("invalid-time"))
    }

    /// RFC 3339 in UTC with millisecond precision, for APIs and events.
    pub fn to_rfc3339(self) -> String {
        let Some(t) = self.to_offset_datetime(UtcOffset::UTC) else {
            return String::from("invalid-time");
        };
        let fmt = time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        );
        t.format(&fmt)
            .unwrap_or_else(|_| String::from("invalid-time"))
    }

    pub fn parse_rfc3339(s: &str) -> Result<Self, ValidationError> {
        let t = OffsetDateTime::parse(s, &Rfc3339).map_err(|_| {
            ValidationError::new(
                "time",
                "not_rfc3339",
                format!("`{s}` is not an RFC 3339 time"),
            )
        })?;
        let ms = t.unix_timestamp_nanos() / 1_000_000;
        i64::try_from(ms)
            .map(Timestamp)
            .map_err(|_| ValidationError::new("time", "out_of_range", "time out of range"))
    }

    /// The China calendar date this instant falls on.
    pub fn cn_date(self) -> BizDate {
        BizDate((self.0 + CN_OFFSET_MS).div_euclid(MS_PER_DAY))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

/// A signed length of time in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Span(i64);

impl Span {
    pub const fn millis(ms: i64) -> Self {
        Span(ms)
    }
    pub const fn seconds(s: i64) -> Self {
        Span(s * 1000)
    }
    pub const fn minutes(m: i64) -> Self {
        Span(m * 60_000)
    }
    pub const fn hours(h: i64) -> Self {
        Span(h * 3_600_000)
    }
    pub const fn days(d: i64) -> Self {
        Span(d * MS_PER_DAY)
    }
    pub const fn as_millis(self) -> i64 {
        self.0
    }
    pub const fn as_seconds(self) -> i64 {
        self.0 / 1000
    }
}

/// A calendar date in China Standard Time, stored as days since 1970-01-01.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BizDate(i64);

impl BizDate {
    /// Parses `YYYY-MM-DD`.
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let bad = || {
            ValidationError::new(
                "date",
                "not_a_date",
                format!("`{s}` is not a YYYY-MM-DD date"),
            )
        };
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return Err(bad());
        }
        let y: i32 = s[0..4].parse().map_err(|_| bad())?;
        let m: u8 = s[5..7].parse().map_err(|_| bad())?;
        let d: u8 = s[8..10].parse().map_err(|_| bad())?;
        let month = Month::try_from(m).map_err(|_| bad())?;
        let date = Date::from_calendar_date(y, month, d).map_err(|_| bad())?;
        let epoch = Date::from_calendar_date(1970, Month::January, 1).map_err(|_| bad())?;
        Ok(BizDate((date - epoch).whole_days()))
    }

    /// Days since 1970-01-01 (China calendar): what the stores group by.
    pub const fn from_days(days: i64) -> Self {
        BizDate(days)
    }

    pub const fn days(self) -> i64 {
        self.0
    }

    fn to_date(self) -> Option<Date> {
        let epoch = Date::from_calendar_date(1970, Month::January, 1).ok()?;
        epoch.checked_add(time::Duration::days(self.0))
    }

    /// The first instant of this date in China.
    pub const fn start(self) -> Timestamp {
        Timestamp(self.0 * MS_PER_DAY - CN_OFFSET_MS)
    }

    /// The first instant of the next date (exclusive end).
    pub const fn end(self) -> Timestamp {
        Timestamp((self.0 + 1) * MS_PER_DAY - CN_OFFSET_MS)
    }

    #[must_use]
    pub const fn next(self) -> Self {
        BizDate(self.0 + 1)
    }

    #[must_use]
    pub const fn prev(self) -> Self {
        BizDate(self.0 - 1)
    }

    /// `YYYYMMDD`, used inside order numbers.
    pub fn compact(self) -> String {
        match self.to_date() {
            Some(d) => format!("{:04}{:02}{:02}", d.year(), u8::from(d.month()), d.day()),
            None => String::from("00000000"),
        }
    }
}

impl fmt::Display for BizDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to_date() {
            Some(d) => write!(
                f,
                "{:04}-{:02}-{:02}",
                d.year(),
                u8::from(d.month()),
                d.day()
            ),
            None => f.write_str("invalid-date"),
        }
    }
}

impl TryFrom<String> for BizDate {
    type Error = ValidationError;
    fn try_from(v: String) -> Result<Self, Self::Error> {
        Self::parse(&v)
    }
}

impl From<BizDate> for String {
    fn from(v: BizDate) -> String {
        v.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn china_dates() {
        // 2026-11-24T10:05:33+08:00
        let t = Timestamp::parse_rfc3339("2026-11-24T10:05:33+08:00").unwrap();
        assert_eq!(t.cn_date().to_string(), "2026-11-24");
        assert_eq!(t.to_rfc3339_cn(), "2026-11-24T10:05:33+08:00");
        assert_eq!(t.to_rfc3339(), "2026-11-24T02:05:33.000Z");
        // 23:59 UTC on the 23rd is already the 24th in China.
        let late = Timestamp::parse_rfc3339("2026-11-23T16:30:00Z").unwrap();
        assert_eq!(late.cn_date().to_string(), "2026-11-24");
        let d = BizDate::parse("2026-11-24").unwrap();
        assert_eq!(d.start().to_rfc3339_cn(), "2026-11-24T00:00:00+08:00");
        assert_eq!(d.end().to_rfc3339_cn(), "2026-11-25T00:00:00+08:00");
        assert_eq!(d.compact(), "20261124");
        assert!(t >= d.start() && t < d.end());
        assert!(BizDate::parse("2026-02-30").is_err());
        assert!(BizDate::parse("2026-1-1").is_err());
    }

    #[test]
    fn rfc3339_drops_subseconds_for_wechat() {
        let t = Timestamp::from_millis(1_764_123_456_789);
        assert!(!t.to_rfc3339_cn().contains('.'));
        assert!(t.to_rfc3339().ends_with(".789Z"));
    }
}
