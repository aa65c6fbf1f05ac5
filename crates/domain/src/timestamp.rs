//! Timestamps are stored as microseconds since the Unix epoch (one integer column that sorts and
//! compares the same on SQLite and PostgreSQL) and shown as ISO-8601 UTC with microseconds, the
//! form Didit's payloads use (`2024-07-28T06:46:39.354573Z`).

use serde::{Serialize, Serializer};
use time::{format_description::well_known::Rfc3339, Date, OffsetDateTime, UtcOffset};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    pub fn now() -> Self {
        Self::from_datetime(OffsetDateTime::now_utc())
    }

    pub fn from_micros(micros: i64) -> Self {
        Self(micros)
    }

    pub fn micros(self) -> i64 {
        self.0
    }

    pub fn unix_seconds(self) -> i64 {
        self.0.div_euclid(1_000_000)
    }

    pub fn plus_micros(self, micros: i64) -> Self {
        Self(self.0.saturating_add(micros))
    }

    pub fn plus_seconds(self, seconds: i64) -> Self {
        Self(self.0.saturating_add(seconds.saturating_mul(1_000_000)))
    }

    fn from_datetime(datetime: OffsetDateTime) -> Self {
        Self((datetime.unix_timestamp_nanos() / 1_000) as i64)
    }

    fn to_datetime(self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    /// `2024-07-28T06:46:39.354573Z`.
    pub fn to_iso(self) -> String {
        let dt = self.to_datetime();
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
            dt.year(),
            u8::from(dt.month()),
            dt.day(),
            dt.hour(),
            dt.minute(),
            dt.second(),
            dt.microsecond()
        )
    }

    /// Accepts an RFC 3339 datetime or a bare `YYYY-MM-DD` date (midnight UTC), as the list
    /// filters `date_from` / `date_to` do.
    pub fn parse_iso(text: &str) -> Option<Self> {
        let text = text.trim();
        if let Ok(datetime) = OffsetDateTime::parse(text, &Rfc3339) {
            return Some(Self::from_datetime(datetime));
        }
        parse_date(text)
            .map(|date| Self::from_datetime(date.midnight().assume_offset(UtcOffset::UTC)))
    }
}

/// Parses a strict `YYYY-MM-DD` calendar date.
pub fn parse_date(text: &str) -> Option<Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(text, &format).ok()
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_iso())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_form_matches_didit_payloads() {
        let ts = Timestamp::parse_iso("2024-07-28T06:46:39.354573Z").unwrap();
        assert_eq!(ts.to_iso(), "2024-07-28T06:46:39.354573Z");
        assert_eq!(ts.unix_seconds(), 1_722_149_199);
    }

    #[test]
    fn bare_dates_mean_midnight_utc() {
        let ts = Timestamp::parse_iso("2024-01-02").unwrap();
        assert_eq!(ts.to_iso(), "2024-01-02T00:00:00.000000Z");
        assert!(Timestamp::parse_iso("2024-13-02").is_none());
        assert!(Timestamp::parse_iso("yesterday").is_none());
    }
}
