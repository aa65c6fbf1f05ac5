//! Partial dates (year, year-month, or full date) as FtM and OFAC give them.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PartialDate {
    pub year: u16,
    pub month: Option<u8>,
    pub day: Option<u8>,
}

impl PartialDate {
    /// Parses ISO prefixes: `YYYY`, `YYYY-MM`, `YYYY-MM-DD`, optionally
    /// followed by a time (`T…`), which is ignored.
    pub fn parse_iso(s: &str) -> Option<PartialDate> {
        let s = s.trim();
        let s = s.split(['T', ' ']).next().unwrap_or("");
        let mut parts = s.split('-');
        let year: u16 = parts.next()?.parse().ok()?;
        if !(1000..=2999).contains(&year) {
            return None;
        }
        let month = match parts.next() {
            Some(m) => Some(m.parse::<u8>().ok().filter(|m| (1..=12).contains(m))?),
            None => None,
        };
        let day = match (month, parts.next()) {
            (Some(_), Some(d)) => Some(d.parse::<u8>().ok().filter(|d| (1..=31).contains(d))?),
            (_, None) => None,
            (None, Some(_)) => return None,
        };
        if parts.next().is_some() {
            return None;
        }
        Some(PartialDate { year, month, day })
    }

    pub fn is_full(&self) -> bool {
        self.day.is_some()
    }
}

impl fmt::Display for PartialDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}", self.year)?;
        if let Some(m) = self.month {
            write!(f, "-{m:02}")?;
            if let Some(d) = self.day {
                write!(f, "-{d:02}")?;
            }
        }
        Ok(())
    }
}

/// Spec §7.5 item 4: exact date, or year-only on either side with the same
/// year → 100; same year but a different month/day → 50; otherwise −100.
pub fn dob_score(subject: &PartialDate, candidates: &[PartialDate]) -> Option<f64> {
    candidates
        .iter()
        .map(|c| {
            if c.year != subject.year {
                return -100.0;
            }
            match (subject.month, c.month) {
                (Some(a), Some(b)) if a != b => 50.0,
                (Some(_), Some(_)) => match (subject.day, c.day) {
                    (Some(a), Some(b)) if a != b => 50.0,
                    _ => 100.0,
                },
                _ => 100.0,
            }
        })
        .reduce(f64::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> PartialDate {
        PartialDate::parse_iso(s).unwrap()
    }

    #[test]
    fn parse_prefixes() {
        assert_eq!(d("1960").to_string(), "1960");
        assert_eq!(d("1960-03").to_string(), "1960-03");
        assert_eq!(d("1960-03-05T00:00:00").to_string(), "1960-03-05");
        assert!(PartialDate::parse_iso("1960-13-01").is_none());
        assert!(PartialDate::parse_iso("abc").is_none());
        assert!(PartialDate::parse_iso("").is_none());
    }

    #[test]
    fn dob_scoring() {
        assert_eq!(dob_score(&d("1960-03-05"), &[d("1960-03-05")]), Some(100.0));
        assert_eq!(dob_score(&d("1960-03-05"), &[d("1960")]), Some(100.0));
        assert_eq!(dob_score(&d("1960-03-05"), &[d("1960-04-05")]), Some(50.0));
        assert_eq!(
            dob_score(&d("1960-03-05"), &[d("1961-03-05")]),
            Some(-100.0)
        );
        assert_eq!(
            dob_score(&d("1960-03-05"), &[d("1958"), d("1960-03-05")]),
            Some(100.0)
        );
        assert_eq!(dob_score(&d("1960-03-05"), &[]), None);
    }
}
